--[[ The bridge reports the outcome of init_user: the session is ready, or preparing it failed.
  Input:  KEYS[1] task:<taskId>  KEYS[2] claim:<claimId>  KEYS[3] claims (zset)  KEYS[4] events (stream)
          ARGV[1] taskId  ARGV[2] claimId  ARGV[3] "ready" | "failed"  ARGV[4] detail (failure reason)
          ARGV[5] ready channel  ARGV[6] retention ms of an ended claim record
  Output: {1, leaseExpiresAtMs}   ready; the claimant is told on the channel
          {0}                     failed: claim failed, task draining, claimant told
          {-1}                    this task does not hold that claim (wrong task or forged message)
          {-2, state}             the claim is no longer assigned (released, timed out, expired) ]]
local taskId, claimId = ARGV[1], ARGV[2]
local task = redis.call('HMGET', KEYS[1], 'state', 'claimId', 'endpoint', 'token')
if task[1] ~= 'claimed' or task[2] ~= claimId then return {-1} end
local cstate = redis.call('HGET', KEYS[2], 'state')
if cstate ~= 'assigned' then return {-2, cstate or ''} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == 'ready' then
  redis.call('HSET', KEYS[2], 'state', 'ready', 'readyAt', now)
  local lease = tonumber(redis.call('ZSCORE', KEYS[3], claimId) or '0')
  redis.call('PUBLISH', ARGV[5], cjson.encode({claimId = claimId, state = 'ready', taskId = taskId,
    endpoint = task[3], token = task[4], leaseExpiresAtMs = lease,
    warm = redis.call('HGET', KEYS[2], 'warm') == '1'}))
  return {1, lease}
end

redis.call('HSET', KEYS[2], 'state', 'failed', 'detail', ARGV[4], 'endedAt', now)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('ZREM', KEYS[3], claimId)
redis.call('HSET', KEYS[1], 'state', 'draining', 'drainReason', 'init-failed')
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'release', 'taskId', taskId, 'claimId', claimId,
  'reason', 'init-failed')
redis.call('PUBLISH', ARGV[5], cjson.encode({claimId = claimId, state = 'failed', detail = ARGV[4]}))
return {0}
