--[[ Reconciler: before stopping a live pool task that has no record (an orphan: its launch record
  was lost), write a `draining` record for it, so a bridge that registers it now is refused
  (register-7+.lua) and can never hand it to a claim that is then stopped under its user.
  Input:  KEYS[1] task:<taskId>  KEYS[2] tasks (set)  KEYS[3] epoch (the lease's fencing token)
          ARGV[1] taskId  ARGV[2] taskArn  ARGV[3] the caller's lease epoch, or "" (not fenced)
  Output: 1  draining record written (or one was already draining): safe to stop
          0  a record exists (the bridge registered meanwhile): must NOT be stopped by this path
          error "FENCED: ..." ARGV[3] is not the current epoch: nothing changed ]]
-- Fencing: a reconciler passes its lease epoch; once a newer term began it changes nothing.
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  return redis.error_reply('FENCED: the lease epoch is ' .. (redis.call('GET', KEYS[3]) or 'none') ..
    ', this caller holds epoch ' .. ARGV[3])
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'draining' then return 1 end
if state then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'state', 'draining', 'drainReason', 'orphan', 'taskArn', ARGV[2], 'createdAt', now)
redis.call('SADD', KEYS[2], ARGV[1])
return 1
