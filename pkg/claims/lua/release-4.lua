--[[ End a claim: released by its user, timed out by the gateway, or ended by the bridge.
  A served claim's task goes to `draining` (the reconciler stops it): it never returns to the pool.
  Input:  KEYS[1] claim:<claimId>  KEYS[2] claims (zset)  KEYS[3] waiting (list)  KEYS[4] events (stream)
          ARGV[1] claimId  ARGV[2] task key prefix  ARGV[3] final claim state: released | timeout | ended
          ARGV[4] drain reason  ARGV[5] "1" = keep a claim that is already ready (gateway wait timeout)
          ARGV[6] ready channel  ARGV[7] retention ms of an ended claim record
          ARGV[8] taskId that must hold the claim ("" = any)
          ARGV[9] "1" = also drop the claim from its quota zsets (gateway / library callers; a
                  bridge passes nothing: its Redis user has no access to them, and claim-8.lua
                  skips ended claims anyway)
          ARGV[10] "1" = free the claim's Idempotency-Key whatever its state (its caller went away
                  before the answer: a retry with the key must make a new claim, not find this one)
  Output: {2, taskId}   a served claim ended; its task is draining and its bridge told
          {1}           a waiting claim ended (left the queue; on timeout its Idempotency-Key, if any, is freed)
          {3}           kept: the claim is ready (only with ARGV[5] == "1")
          {0, state}    already ended (idempotent)
          {-1}          unknown claim
          {-4}          the claim is held by another task than ARGV[8] ]]
local claimId = ARGV[1]
local c = redis.call('HMGET', KEYS[1], 'state', 'taskId')
local state, taskId = c[1], c[2]
if not state then return {-1} end
if ARGV[8] ~= '' and taskId ~= ARGV[8] then return {-4} end
if state ~= 'waiting' and state ~= 'assigned' and state ~= 'ready' then return {0, state} end
if state == 'ready' and ARGV[5] == '1' then return {3} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'endedAt', now)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZREM', KEYS[2], claimId)
redis.call('PUBLISH', ARGV[6], cjson.encode({claimId = claimId, state = ARGV[3]}))
if ARGV[9] == '1' then
  for _, q in ipairs(redis.call('HMGET', KEYS[1], 'userQuota', 'clientQuota')) do
    if q then redis.call('ZREM', q, claimId) end
  end
end
local function freeIdem()
  local idem = redis.call('HGET', KEYS[1], 'idem')
  if not idem then return end
  local v = redis.call('GET', idem)
  if v and string.sub(v, 1, #claimId + 1) == claimId .. ':' then redis.call('DEL', idem) end
end
if ARGV[10] == '1' then freeIdem() end
if state == 'waiting' then
  redis.call('LREM', KEYS[3], 0, claimId)
  -- A claim that timed out unserved frees its Idempotency-Key: a retry is a new claim.
  if ARGV[3] == 'timeout' then freeIdem() end
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'release', 'claimId', claimId,
    'reason', ARGV[4])
  return {1}
end

local taskKey = ARGV[2] .. taskId
if redis.call('HGET', taskKey, 'claimId') == claimId and redis.call('HGET', taskKey, 'state') == 'claimed' then
  redis.call('HSET', taskKey, 'state', 'draining', 'drainReason', ARGV[4])
  redis.call('RPUSH', taskKey .. ':inbox', cjson.encode({type = 'release', claimId = claimId, reason = ARGV[4]}))
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'release', 'taskId', taskId, 'claimId', claimId,
  'reason', ARGV[4])
return {2, taskId}
