--[[ Extend a served claim's lease from Redis TIME. A lease already past due is expired on the spot.
  Input:  KEYS[1] claim:<claimId>  KEYS[2] claims (zset)  KEYS[3] events (stream)
          ARGV[1] claimId  ARGV[2] lease ms ("" = the claim's own leaseMs)  ARGV[3] task key prefix
          ARGV[4] ready channel  ARGV[5] retention ms of an ended claim record
  The claim's quota entries (claim-8.lua) follow its lease: moved on renewal, removed on expiry.
  Output: {1, leaseExpiresAtMs}   renewed
          {-1}                    unknown claim
          {-2, state}             the claim has ended (released, expired, failed, ...)
          {-3}                    the lease had run out: now expired, its task draining
          {-5}                    still waiting for a task: nothing to renew yet ]]
local claimId = ARGV[1]
local c = redis.call('HMGET', KEYS[1], 'state', 'taskId', 'leaseMs', 'userQuota', 'clientQuota')
local state, taskId = c[1], c[2]
local quotas = {}
if c[4] then quotas[#quotas + 1] = c[4] end
if c[5] then quotas[#quotas + 1] = c[5] end
if not state then return {-1} end
if state == 'waiting' then return {-5} end
if state ~= 'assigned' and state ~= 'ready' then return {-2, state} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(redis.call('ZSCORE', KEYS[2], claimId) or '0')
if lease < now then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'endedAt', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZREM', KEYS[2], claimId)
  for _, q in ipairs(quotas) do redis.call('ZREM', q, claimId) end
  local taskKey = ARGV[3] .. taskId
  if redis.call('HGET', taskKey, 'claimId') == claimId and redis.call('HGET', taskKey, 'state') == 'claimed' then
    redis.call('HSET', taskKey, 'state', 'draining', 'drainReason', 'lease-expired')
    redis.call('RPUSH', taskKey .. ':inbox', cjson.encode({type = 'release', claimId = claimId, reason = 'lease-expired'}))
  end
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', '10000', '*', 'type', 'expire', 'taskId', taskId, 'claimId', claimId)
  redis.call('PUBLISH', ARGV[4], cjson.encode({claimId = claimId, state = 'expired'}))
  return {-3}
end

local leaseMs = tonumber(c[3])
if ARGV[2] ~= '' then
  leaseMs = tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'leaseMs', leaseMs)
end
redis.call('ZADD', KEYS[2], 'XX', now + leaseMs, claimId)
for _, q in ipairs(quotas) do
  redis.call('ZADD', q, 'XX', now + leaseMs, claimId)
  -- Only ever lengthened (PEXPIRE … GT, spelled out for Redis < 7).
  if redis.call('PTTL', q) < leaseMs + 60000 then redis.call('PEXPIRE', q, leaseMs + 60000) end
end
return {1, now + leaseMs}
