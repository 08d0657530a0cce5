--[[ Reconciler: remove the record of a task ECS no longer has. A claim it still served is ended as
  `lost` (its user's session died with the task) and the claimant is told.
  Input:  KEYS[1] task:<taskId>  KEYS[2] tasks (set)  KEYS[3] warm (zset)  KEYS[4] claims (zset)
          KEYS[5] task:<taskId>:inbox  KEYS[6] epoch (the lease's fencing token)
          ARGV[1] taskId  ARGV[2] (unused)  ARGV[3] ready channel  ARGV[4] retention ms of an ended claim
          ARGV[5] the caller's lease epoch, or "" (not fenced)
          Declared extra keys (extra-keys.lua): claim of the claim the task holds.
  Output: 1 a record was removed, 0 there was none
          {-100, kind, id, ...} declare these keys and call again (nothing changed)
          error "FENCED: ..." ARGV[5] is not the current epoch: nothing changed ]]
-- Fencing: a reconciler passes its lease epoch; once a newer term began it changes nothing.
if ARGV[5] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[5] then
  return redis.error_reply('FENCED: the lease epoch is ' .. (redis.call('GET', KEYS[6]) or 'none') ..
    ', this caller holds epoch ' .. ARGV[5])
end
local x = extraKeys(6, 5)
local claimId = redis.call('HGET', KEYS[1], 'claimId')
if claimId then
  local ci = want(x, 'claim', claimId)
  if not ci then return x.need end
  local cstate = redis.call('HGET', KEYS[ci], 'state')
  if cstate == 'assigned' or cstate == 'ready' then
    redis.call('HSET', KEYS[ci], 'state', 'lost')
    redis.call('PEXPIRE', KEYS[ci], ARGV[4])
    redis.call('ZREM', KEYS[4], claimId)
    redis.call('PUBLISH', ARGV[3], cjson.encode({claimId = claimId, state = 'lost'}))
  end
end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[5])
return redis.call('DEL', KEYS[1])
