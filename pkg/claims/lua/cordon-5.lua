--[[ Take a task out of the pool before stopping it: starting|warm → draining, only if not claimed.
  Atomic with claim-6.lua, so a claim and a stop can never both win.
  Input:  KEYS[1] task:<taskId>  KEYS[2] warm (zset)  KEYS[3] events (stream)  KEYS[4] task:<taskId>:inbox
          KEYS[5] epoch (the leader lease's fencing token)
          ARGV[1] taskId  ARGV[2] reason  ARGV[3] the caller's lease epoch, or "" (a bridge: not fenced)
  Output: 1  draining now (or already): safe to stop
          0  claimed, or no record: must NOT be stopped by this path
          error "FENCED: ..." ARGV[3] is not the current epoch: nothing changed ]]
-- Fencing: a reconciler passes its lease epoch; once a newer term began it changes nothing.
if ARGV[3] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[3] then
  return redis.error_reply('FENCED: the lease epoch is ' .. (redis.call('GET', KEYS[5]) or 'none') ..
    ', this caller holds epoch ' .. ARGV[3])
end
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
