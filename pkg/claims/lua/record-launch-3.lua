--[[ Reconciler: record a task RunTask returned as `starting`, never overwriting an existing record
  (the bridge may have registered first: then only missing fields are filled in).
  Input:  KEYS[1] task:<taskId>  KEYS[2] tasks (set)  KEYS[3] epoch (the lease's fencing token)
          ARGV[1] taskId  ARGV[2] taskArn  ARGV[3] revision  ARGV[4] the caller's lease epoch, or "" (not fenced)
  Output: 1 recorded  0 a record existed (fields filled only where absent)
          error "FENCED: ..." ARGV[4] is not the current epoch: nothing changed ]]
-- Fencing: a reconciler passes its lease epoch; once a newer term began it changes nothing.
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return redis.error_reply('FENCED: the lease epoch is ' .. (redis.call('GET', KEYS[3]) or 'none') ..
    ', this caller holds epoch ' .. ARGV[4])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'starting', 'taskArn', ARGV[2], 'revision', ARGV[3], 'createdAt', now)
  return 1
end
redis.call('HSETNX', KEYS[1], 'taskArn', ARGV[2])
redis.call('HSETNX', KEYS[1], 'revision', ARGV[3])
redis.call('HSETNX', KEYS[1], 'createdAt', now)
return 0
