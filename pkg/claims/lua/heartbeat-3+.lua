--[[ Extend a served claim's lease from Redis TIME. A lease already past due is expired on the spot.
  Input:  KEYS[1] claim:<claimId>  KEYS[2] claims (zset)  KEYS[3] events (stream)
          ARGV[1] claimId  ARGV[2] lease ms ("" = the claim's own leaseMs)  ARGV[3] (unused)
          ARGV[4] ready channel  ARGV[5] retention ms of an ended claim record
          Declared extra keys (extra-keys.lua): key of the claim's quota zsets; task and inbox of
          its task when the lease has run out.
  The claim's quota entries (claim-8+.lua) follow its lease: moved on renewal, removed on expiry.
  Output: {1, leaseExpiresAtMs}   renewed
          {-1}                    unknown claim
          {-2, state}             the claim has ended (released, expired, failed, ...)
          {-3}                    the lease had run out: now expired, its task draining
          {-5}                    still waiting for a task: nothing to renew yet
          {-100, kind, id, ...}   declare these keys and call again (nothing changed) ]]
local x = extraKeys(3, 5)
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
for _, q in ipairs(quotas) do want(x, 'key', q) end
if lease < now and taskId then
  want(x, 'task', taskId)
  want(x, 'inbox', taskId)
end
if missing(x) then return x.need end
if lease < now then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'endedAt', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZREM', KEYS[2], claimId)
  for _, q in ipairs(quotas) do redis.call('ZREM', KEYS[x.key[q]], claimId) end
  local ti = x.task[taskId or '']
  if ti and redis.call('HGET', KEYS[ti], 'claimId') == claimId and redis.call('HGET', KEYS[ti], 'state') == 'claimed' then
    redis.call('HSET', KEYS[ti], 'state', 'draining', 'drainReason', 'lease-expired')
    redis.call('RPUSH', KEYS[x.inbox[taskId]], cjson.encode({type = 'release', claimId = claimId, reason = 'lease-expired'}))
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
  local qi = x.key[q]
  redis.call('ZADD', KEYS[qi], 'XX', now + leaseMs, claimId)
  -- Only ever lengthened (PEXPIRE … GT, spelled out for Redis < 7).
  if redis.call('PTTL', KEYS[qi]) < leaseMs + 60000 then redis.call('PEXPIRE', KEYS[qi], leaseMs + 60000) end
end
return {1, now + leaseMs}
