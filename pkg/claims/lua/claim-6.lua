--[[ Claim the oldest warm task for a user, or queue the claim when the pool is empty.
  Input:  KEYS[1] warm (zset)  KEYS[2] claims (zset)  KEYS[3] waiting (list)  KEYS[4] events (stream)
          KEYS[5] claim:<claimId> (hash)  KEYS[6] idem:<key> (string; ignored unless ARGV[6] == "1")
          ARGV[1] claimId  ARGV[2] userId  ARGV[3] leaseMs  ARGV[4] "1" = queue when empty
          ARGV[5] task key prefix  ARGV[6] "1" = idempotency key given  ARGV[7] idempotency TTL ms
          ARGV[8] waitMs (a queued claim not served by then is skipped by register-7.lua)
  Output: {1, claimId, taskId, endpoint, token, leaseExpiresAtMs}  a warm task, now claimed
          {0, claimId}                                          queued FIFO in waiting
          {-1}                                                  pool empty, not queued
          {2, claimId}                                          idempotent replay of an earlier claim
          {-3, userId}                                          idempotency key belongs to another user
  A task leaves `warm` here and never returns to it: its record goes to `claimed`. ]]
local claimId, userId, leaseMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

if ARGV[6] == '1' then
  local prev = redis.call('GET', KEYS[6])
  if prev then
    local sep = string.find(prev, ':', 1, true)
    local prevClaim, prevUser = string.sub(prev, 1, sep - 1), string.sub(prev, sep + 1)
    if prevUser ~= userId then return {-3, prevUser} end
    return {2, prevClaim}
  end
end

local function remember()
  if ARGV[6] == '1' then
    redis.call('SET', KEYS[6], claimId .. ':' .. userId, 'PX', ARGV[7])
    -- So that a claim that times out unserved frees its key (release-4, register-7): a retry
    -- of the 503 with the same key is then a new claim, not the dead one.
    redis.call('HSET', KEYS[5], 'idem', KEYS[6])
  end
end

while true do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then break end
  local taskId = popped[1]
  local taskKey = ARGV[5] .. taskId
  -- Only a record still `warm` is claimable; anything else in the set is a stale entry.
  if redis.call('HGET', taskKey, 'state') == 'warm' then
    local lease = now + leaseMs
    redis.call('HSET', taskKey, 'state', 'claimed', 'claimId', claimId, 'userId', userId, 'claimedAt', now)
    redis.call('HSET', KEYS[5], 'userId', userId, 'taskId', taskId, 'createdAt', now, 'assignedAt', now,
      'state', 'assigned', 'leaseMs', leaseMs, 'warm', '1')
    redis.call('ZADD', KEYS[2], lease, claimId)
    redis.call('RPUSH', taskKey .. ':inbox',
      cjson.encode({type = 'init_user', claimId = claimId, userId = userId}))
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'claim', 'taskId', taskId, 'claimId', claimId)
    remember()
    local rec = redis.call('HMGET', taskKey, 'endpoint', 'token')
    return {1, claimId, taskId, rec[1] or '', rec[2] or '', lease}
  end
end

redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'miss', 'claimId', claimId)
if ARGV[4] ~= '1' then return {-1} end
redis.call('HSET', KEYS[5], 'userId', userId, 'createdAt', now, 'state', 'waiting', 'leaseMs', leaseMs, 'warm', '0',
  'waitUntil', now + tonumber(ARGV[8]))
redis.call('RPUSH', KEYS[3], claimId)
remember()
return {0, claimId}
