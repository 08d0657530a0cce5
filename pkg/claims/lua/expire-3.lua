--[[ Reconciler: every claim whose lease is past due (Redis TIME) → claim expired, task draining.
  Input:  KEYS[1] claims (zset)  KEYS[2] events (stream)  KEYS[3] epoch (the lease's fencing token)
          ARGV[1] claim key prefix  ARGV[2] task key prefix  ARGV[3] max claims per call
          ARGV[4] ready channel  ARGV[5] retention ms of an ended claim record
          ARGV[6] the caller's lease epoch, or "" (not fenced)
  Output: {taskId, ...} of the tasks now draining (a claim without a task is expired and not listed)
          error "FENCED: ..." ARGV[6] is not the current epoch: nothing changed ]]
-- Fencing: a reconciler passes its lease epoch; once a newer term began it changes nothing.
if ARGV[6] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[6] then
  return redis.error_reply('FENCED: the lease epoch is ' .. (redis.call('GET', KEYS[3]) or 'none') ..
    ', this caller holds epoch ' .. ARGV[6])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))
local drained = {}
for _, claimId in ipairs(due) do
  local claimKey = ARGV[1] .. claimId
  local taskId = redis.call('HGET', claimKey, 'taskId')
  redis.call('ZREM', KEYS[1], claimId)
  if redis.call('EXISTS', claimKey) == 1 then
    redis.call('HSET', claimKey, 'state', 'expired', 'endedAt', now)
    redis.call('PEXPIRE', claimKey, ARGV[5])
  end
  if taskId then
    local taskKey = ARGV[2] .. taskId
    if redis.call('HGET', taskKey, 'claimId') == claimId and redis.call('HGET', taskKey, 'state') == 'claimed' then
      redis.call('HSET', taskKey, 'state', 'draining', 'drainReason', 'lease-expired')
      redis.call('RPUSH', taskKey .. ':inbox', cjson.encode({type = 'release', claimId = claimId, reason = 'lease-expired'}))
      drained[#drained + 1] = taskId
    end
  end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'type', 'expire', 'taskId', taskId or '', 'claimId', claimId)
  redis.call('PUBLISH', ARGV[4], cjson.encode({claimId = claimId, state = 'expired'}))
end
return drained
