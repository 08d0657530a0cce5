--[[ Reconciler: every claim whose lease is past due (Redis TIME) → claim expired, task draining.
  Input:  KEYS[1] claims (zset)  KEYS[2] events (stream)  KEYS[3] epoch (the lease's fencing token)
          ARGV[1] (unused)  ARGV[2] (unused)  ARGV[3] max claims per call
          ARGV[4] ready channel  ARGV[5] retention ms of an ended claim record
          ARGV[6] the caller's lease epoch, or "" (not fenced)
          Declared extra keys (extra-keys.lua): claim of every due claim; task and inbox of its task.
  Output: {taskId, ...} of the tasks now draining (a claim without a task is expired and not listed)
          {-100, kind, id, ...} declare these keys and call again (nothing changed)
          error "FENCED: ..." ARGV[6] is not the current epoch: nothing changed ]]
-- Fencing: a reconciler passes its lease epoch; once a newer term began it changes nothing.
if ARGV[6] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[6] then
  return redis.error_reply('FENCED: the lease epoch is ' .. (redis.call('GET', KEYS[3]) or 'none') ..
    ', this caller holds epoch ' .. ARGV[6])
end
local x = extraKeys(3, 6)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, claimId in ipairs(due) do
  local ci = want(x, 'claim', claimId)
  if ci then
    local taskId = redis.call('HGET', KEYS[ci], 'taskId')
    if taskId then
      want(x, 'task', taskId)
      want(x, 'inbox', taskId)
    end
  end
end
if missing(x) then return x.need end
local drained = {}
for _, claimId in ipairs(due) do
  local ci = x.claim[claimId]
  local taskId = redis.call('HGET', KEYS[ci], 'taskId')
  redis.call('ZREM', KEYS[1], claimId)
  if redis.call('EXISTS', KEYS[ci]) == 1 then
    redis.call('HSET', KEYS[ci], 'state', 'expired', 'endedAt', now)
    redis.call('PEXPIRE', KEYS[ci], ARGV[5])
  end
  if taskId then
    local ti = x.task[taskId]
    if redis.call('HGET', KEYS[ti], 'claimId') == claimId and redis.call('HGET', KEYS[ti], 'state') == 'claimed' then
      redis.call('HSET', KEYS[ti], 'state', 'draining', 'drainReason', 'lease-expired')
      redis.call('RPUSH', KEYS[x.inbox[taskId]], cjson.encode({type = 'release', claimId = claimId, reason = 'lease-expired'}))
      drained[#drained + 1] = taskId
    end
  end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'type', 'expire', 'taskId', taskId or '', 'claimId', claimId)
  redis.call('PUBLISH', ARGV[4], cjson.encode({claimId = claimId, state = 'expired'}))
end
return drained
