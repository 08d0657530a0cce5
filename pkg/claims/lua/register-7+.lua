--[[ A bridge registers its task: starting → warm, or straight to the oldest waiting claim.
  Input:  KEYS[1] task:<taskId>  KEYS[2] tasks (set)  KEYS[3] warm (zset)  KEYS[4] waiting (list)
          KEYS[5] claims (zset)  KEYS[6] events (stream)  KEYS[7] task:<taskId>:inbox (list)
          ARGV[1] taskId  ARGV[2] taskArn  ARGV[3] revision ("" = unknown)  ARGV[4] endpoint
          ARGV[5] token  ARGV[6] waiting claims to ask for at once  ARGV[7] retention ms of an ended claim record
          Declared extra keys (extra-keys.lua): claim of the claims at the head of `waiting`, key
          of their Idempotency-Keys.
  Output: {0}                       warm, waiting for a claim
          {1, claimId, userId}      handed at once to the oldest waiting claim (init_user is in the inbox)
          {-1}                      the task was cordoned before it registered: the bridge exits
          {-2, state}               already registered (warm/claimed): refused, nothing changed
          {-100, kind, id, ...}     declare these keys and call again (nothing changed)
  A task with no record yet is accepted: the bridge may win the race against the reconciler. ]]
local x = extraKeys(7, 7)
local taskId = ARGV[1]
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'draining' then return {-1} end
if state and state ~= 'starting' then return {-2, state} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Every waiting claim this registration may look at, and their Idempotency-Keys, are declared
-- before anything is written: the queue from its head up to the first claim still waiting in time.
local heads, batch, from, found = {}, tonumber(ARGV[6]), 0, false
while not found do
  local ids = redis.call('LRANGE', KEYS[4], from, from + batch - 1)
  if #ids == 0 then break end
  for _, claimId in ipairs(ids) do
    heads[#heads + 1] = claimId
    local ci = want(x, 'claim', claimId)
    if ci then
      local c = redis.call('HMGET', KEYS[ci], 'state', 'waitUntil', 'idem')
      if c[1] == 'waiting' and tonumber(c[2] or '0') >= now then
        found = true
        break
      end
      if c[1] == 'waiting' and c[3] then want(x, 'key', c[3]) end
    end
  end
  if missing(x) then return x.need end
  from = from + batch
end

redis.call('HSET', KEYS[1], 'taskArn', ARGV[2], 'endpoint', ARGV[4], 'token', ARGV[5], 'warmAt', now)
redis.call('HSETNX', KEYS[1], 'createdAt', now)
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], 'revision', ARGV[3]) end
redis.call('SADD', KEYS[2], taskId)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', '10000', '*', 'type', 'register', 'taskId', taskId)

for _, claimId in ipairs(heads) do
  redis.call('LPOP', KEYS[4])
  local ci = x.claim[claimId]
  -- A waiter that timed out or was released is skipped (its entry is normally removed already);
  -- one past its wait deadline is ended here, in case its gateway died before cancelling it.
  local c = redis.call('HMGET', KEYS[ci], 'userId', 'leaseMs', 'state', 'waitUntil', 'idem')
  if c[3] == 'waiting' and tonumber(c[4] or '0') < now then
    redis.call('HSET', KEYS[ci], 'state', 'timeout', 'endedAt', now)
    redis.call('PEXPIRE', KEYS[ci], ARGV[7])
    -- Its Idempotency-Key is freed, as release-4+ does for a timeout.
    if c[5] then
      local ii = x.key[c[5]]
      if redis.call('GET', KEYS[ii]) == claimId .. ':' .. c[1] then redis.call('DEL', KEYS[ii]) end
    end
  elseif c[3] == 'waiting' then
    local userId = c[1]
    redis.call('HSET', KEYS[1], 'state', 'claimed', 'claimId', claimId, 'userId', userId, 'claimedAt', now)
    redis.call('HSET', KEYS[ci], 'state', 'assigned', 'taskId', taskId, 'assignedAt', now)
    redis.call('ZADD', KEYS[5], now + tonumber(c[2]), claimId)
    redis.call('RPUSH', KEYS[7], cjson.encode({type = 'init_user', claimId = claimId, userId = userId}))
    redis.call('XADD', KEYS[6], 'MAXLEN', '~', '10000', '*', 'type', 'claim', 'taskId', taskId, 'claimId', claimId)
    return {1, claimId, userId}
  end
end

redis.call('HSET', KEYS[1], 'state', 'warm')
redis.call('ZADD', KEYS[3], now, taskId)
return {0}
