--[[ End a claim: released by its user, timed out by the gateway, or ended by the bridge.
  A served claim's task goes to `draining` (the reconciler stops it): it never returns to the pool.
  Input:  KEYS[1] claim:<claimId>  KEYS[2] claims (zset)  KEYS[3] waiting (list)  KEYS[4] events (stream)
          ARGV[1] claimId  ARGV[2] (unused)  ARGV[3] final claim state: released | timeout | ended
          ARGV[4] drain reason  ARGV[5] "1" = keep a claim that is already ready (gateway wait timeout)
          ARGV[6] ready channel  ARGV[7] retention ms of an ended claim record
          ARGV[8] taskId that must hold the claim ("" = any)
          ARGV[9] "1" = also drop the claim from its quota zsets (gateway / library callers; a
                  bridge passes nothing: its Redis user has no access to them, and claim-8+.lua
                  skips ended claims anyway)
          ARGV[10] "1" = free the claim's Idempotency-Key whatever its state (its caller went away
                  before the answer: a retry with the key must make a new claim, not find this one)
          Declared extra keys (extra-keys.lua): task and inbox of a served claim's task; key of its
          quota zsets (ARGV[9]) and of its Idempotency-Key when it is to be freed.
  Output: {2, taskId}   a served claim ended; its task is draining and its bridge told
          {1}           a waiting claim ended (left the queue; on timeout its Idempotency-Key, if any, is freed)
          {3}           kept: the claim is ready (only with ARGV[5] == "1")
          {0, state}    already ended (idempotent)
          {-1}          unknown claim
          {-4}          the claim is held by another task than ARGV[8]
          {-100, kind, id, ...}  declare these keys and call again (nothing changed) ]]
local x = extraKeys(4, 10)
local claimId = ARGV[1]
local c = redis.call('HMGET', KEYS[1], 'state', 'taskId')
local state, taskId = c[1], c[2]
if not state then return {-1} end
if ARGV[8] ~= '' and taskId ~= ARGV[8] then return {-4} end
if state ~= 'waiting' and state ~= 'assigned' and state ~= 'ready' then return {0, state} end
if state == 'ready' and ARGV[5] == '1' then return {3} end

local extra = redis.call('HMGET', KEYS[1], 'userQuota', 'clientQuota', 'idem')
local quotas = {}
if ARGV[9] == '1' then
  for i = 1, 2 do
    if extra[i] then
      quotas[#quotas + 1] = extra[i]
      want(x, 'key', extra[i])
    end
  end
end
local idem = extra[3]
local freeingIdem = ARGV[10] == '1' or (state == 'waiting' and ARGV[3] == 'timeout')
if idem and freeingIdem then want(x, 'key', idem) end
if state ~= 'waiting' then
  want(x, 'task', taskId)
  want(x, 'inbox', taskId)
end
if missing(x) then return x.need end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'endedAt', now)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZREM', KEYS[2], claimId)
redis.call('PUBLISH', ARGV[6], cjson.encode({claimId = claimId, state = ARGV[3]}))
for _, q in ipairs(quotas) do redis.call('ZREM', KEYS[x.key[q]], claimId) end
local function freeIdem()
  if not idem then return end
  local v = redis.call('GET', KEYS[x.key[idem]])
  if v and string.sub(v, 1, #claimId + 1) == claimId .. ':' then redis.call('DEL', KEYS[x.key[idem]]) end
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

local ti = x.task[taskId]
if redis.call('HGET', KEYS[ti], 'claimId') == claimId and redis.call('HGET', KEYS[ti], 'state') == 'claimed' then
  redis.call('HSET', KEYS[ti], 'state', 'draining', 'drainReason', ARGV[4])
  redis.call('RPUSH', KEYS[x.inbox[taskId]], cjson.encode({type = 'release', claimId = claimId, reason = ARGV[4]}))
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'release', 'taskId', taskId, 'claimId', claimId,
  'reason', ARGV[4])
return {2, taskId}
