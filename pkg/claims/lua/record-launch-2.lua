--[[ Reconciler: record a task RunTask returned as `starting`, never overwriting an existing record
  (the bridge may have registered first: then only missing fields are filled in).
  Input:  KEYS[1] task:<taskId>  KEYS[2] tasks (set)
          ARGV[1] taskId  ARGV[2] taskArn  ARGV[3] revision
  Output: 1 recorded  0 a record existed (fields filled only where absent) ]]
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
