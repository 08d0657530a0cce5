--[[ Take a task out of the pool before stopping it: starting|warm → draining, only if not claimed.
  Atomic with claim-6.lua, so a claim and a stop can never both win.
  Input:  KEYS[1] task:<taskId>  KEYS[2] warm (zset)  KEYS[3] events (stream)  KEYS[4] task:<taskId>:inbox
          ARGV[1] taskId  ARGV[2] reason
  Output: 1  draining now (or already): safe to stop
          0  claimed, or no record: must NOT be stopped by this path ]]
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'draining' then return 1 end
if state ~= 'starting' and state ~= 'warm' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'draining', 'drainReason', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
-- A registered bridge is blocked on its inbox: tell it to exit so the task ends promptly.
redis.call('RPUSH', KEYS[4], cjson.encode({type = 'drain', reason = ARGV[2]}))
redis.call('PEXPIRE', KEYS[4], 3600000)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '10000', '*', 'type', 'cordon', 'taskId', ARGV[1], 'reason', ARGV[2])
return 1
