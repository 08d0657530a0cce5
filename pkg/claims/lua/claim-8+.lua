--[[ Claim the oldest warm task for a user, or queue the claim when the pool is empty; within the
  per-user and per-client concurrent-claim quotas and the bound on the waiting queue.
  Input:  KEYS[1] warm (zset)  KEYS[2] claims (zset)  KEYS[3] waiting (list)  KEYS[4] events (stream)
          KEYS[5] claim:<claimId> (hash)  KEYS[6] idem:<key> (string; ignored unless ARGV[6] == "1")
          KEYS[7] quota:user:<userId> (zset)  KEYS[8] quota:client:<clientId> (zset)
          ARGV[1] claimId  ARGV[2] userId  ARGV[3] leaseMs  ARGV[4] "1" = queue when empty
          ARGV[5] warm tasks to ask for at once  ARGV[6] "1" = idempotency key given
          ARGV[7] idempotency TTL ms
          ARGV[8] waitMs (a queued claim not served by then is skipped by register-7+.lua)
          ARGV[9] (unused)  ARGV[10] live claims per user (0 = no quota)
          ARGV[11] live claims per client (0 = no quota)  ARGV[12] longest waiting queue (0 = unbounded)
          Declared extra keys (extra-keys.lua): task and inbox of the warm tasks at the head of
          `warm`, claim of the quota entries checked at the limit.
  Output: {1, claimId, taskId, endpoint, token, leaseExpiresAtMs}  a warm task, now claimed
          {0, claimId}                                          queued FIFO in waiting
          {-1}                                                  pool empty, not queued
          {2, claimId}                                          idempotent replay of an earlier claim
          {-3, userId}                                          idempotency key belongs to another user
          {-4, "user" | "client", limit}                        over that quota: nothing changed
          {-5, length}                                          pool empty and the waiting queue full
          {-100, kind, id, ...}                                 declare these keys and call again
  A task leaves `warm` here and never returns to it: its record goes to `claimed`. The oldest warm
  task is taken when it is declared, else the oldest declared one still warm (contention).
  Quota zsets hold claimId → the time after which the claim cannot be live unless renewed (lease
  end; heartbeat-3+ moves it, release-4+ removes it). Entries past that time are dropped here; at the
  limit every entry's claim state is checked, so claims ended elsewhere (bridge, reconciler) never
  count. The zsets expire a minute after their last entry could. ]]
local x = extraKeys(8, 12)
local claimId, userId, leaseMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local userLimit, clientLimit, maxWaiting = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
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

-- True when the quota zset KEYS[q] already holds `limit` live claims; nil when it is at the limit
-- and some entry's claim record is not declared yet.
local function full(q, limit)
  if limit <= 0 then return false end
  redis.call('ZREMRANGEBYSCORE', KEYS[q], '-inf', '(' .. now)
  if redis.call('ZCARD', KEYS[q]) < limit then return false end
  local ids = redis.call('ZRANGE', KEYS[q], 0, -1)
  for _, id in ipairs(ids) do want(x, 'claim', id) end
  if missing(x) then return nil end
  for _, id in ipairs(ids) do
    local st = redis.call('HGET', KEYS[x.claim[id]], 'state')
    if st ~= 'waiting' and st ~= 'assigned' and st ~= 'ready' then redis.call('ZREM', KEYS[q], id) end
  end
  return redis.call('ZCARD', KEYS[q]) >= limit
end

local userFull = full(7, userLimit)
if userFull == nil then return x.need end
if userFull then return {-4, 'user', userLimit} end
local clientFull = full(8, clientLimit)
if clientFull == nil then return x.need end
if clientFull then return {-4, 'client', clientLimit} end

-- Counts the claim against the quotas; `liveUntil` = when it stops being live unless renewed.
local function track(liveUntil)
  local function add(q, limit, field)
    if limit <= 0 then return end
    redis.call('ZADD', KEYS[q], liveUntil, claimId)
    local last = redis.call('ZRANGE', KEYS[q], -1, -1, 'WITHSCORES')
    redis.call('PEXPIREAT', KEYS[q], tonumber(last[2]) + 60000)
    redis.call('HSET', KEYS[5], field, KEYS[q])
  end
  add(7, userLimit, 'userQuota')
  add(8, clientLimit, 'clientQuota')
end

local function remember()
  if ARGV[6] == '1' then
    redis.call('SET', KEYS[6], claimId .. ':' .. userId, 'PX', ARGV[7])
    -- So that a claim that times out unserved frees its key (release-4+, register-7+): a retry
    -- of the 503 with the same key is then a new claim, not the dead one.
    redis.call('HSET', KEYS[5], 'idem', KEYS[6])
  end
end

while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #head == 0 then break end
  local taskId = head[1]
  if not (x.task[taskId] and x.inbox[taskId]) then
    -- The oldest warm task is not declared (concurrent claims took the ones this call knew of):
    -- take the oldest declared one still warm, so a claim always progresses under contention;
    -- none left: ask for a few at once, sampled at random (ZRANDMEMBER, distinct), so claims of
    -- different processes (gateway replicas) learn different tasks instead of all racing for the
    -- same oldest heads, a lost race costing another round trip.
    local best, bestScore
    for id in pairs(x.task) do
      if x.inbox[id] then
        local sc = tonumber(redis.call('ZSCORE', KEYS[1], id) or '')
        if sc and (not bestScore or sc < bestScore) then best, bestScore = id, sc end
      end
    end
    if not best then
      for _, id in ipairs(redis.call('ZRANDMEMBER', KEYS[1], tonumber(ARGV[5]))) do
        want(x, 'task', id)
        want(x, 'inbox', id)
      end
      return x.need
    end
    taskId = best
  end
  redis.call('ZREM', KEYS[1], taskId)
  local ti = x.task[taskId]
  -- Only a record still `warm` is claimable; anything else in the set is a stale entry.
  if redis.call('HGET', KEYS[ti], 'state') == 'warm' then
    local lease = now + leaseMs
    redis.call('HSET', KEYS[ti], 'state', 'claimed', 'claimId', claimId, 'userId', userId, 'claimedAt', now)
    redis.call('HSET', KEYS[5], 'userId', userId, 'taskId', taskId, 'createdAt', now, 'assignedAt', now,
      'state', 'assigned', 'leaseMs', leaseMs, 'warm', '1')
    redis.call('ZADD', KEYS[2], lease, claimId)
    redis.call('RPUSH', KEYS[x.inbox[taskId]],
      cjson.encode({type = 'init_user', claimId = claimId, userId = userId}))
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'claim', 'taskId', taskId, 'claimId', claimId)
    remember()
    track(lease)
    local rec = redis.call('HMGET', KEYS[ti], 'endpoint', 'token')
    return {1, claimId, taskId, rec[1] or '', rec[2] or '', lease}
  end
end

redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'miss', 'claimId', claimId)
if ARGV[4] ~= '1' then return {-1} end
if maxWaiting > 0 then
  local queued = redis.call('LLEN', KEYS[3])
  if queued >= maxWaiting then return {-5, queued} end
end
redis.call('HSET', KEYS[5], 'userId', userId, 'createdAt', now, 'state', 'waiting', 'leaseMs', leaseMs, 'warm', '0',
  'waitUntil', now + tonumber(ARGV[8]))
redis.call('RPUSH', KEYS[3], claimId)
remember()
-- A waiter is served by register-7+ by waitUntil at the latest; its lease then runs from there.
track(now + tonumber(ARGV[8]) + leaseMs)
return {0, claimId}
