--[[ Extend the lease only if this holder still has it at the same epoch (compare-and-renew).
  Input:  KEYS[1] leader  KEYS[2] epoch   ARGV[1] holder id  ARGV[2] ttl ms  ARGV[3] epoch
  Output: 1 renewed, 0 lost (another holder, or the lease expired and was re-taken) ]]
if redis.call("GET", KEYS[1]) == ARGV[1] and redis.call("GET", KEYS[2]) == ARGV[3] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0
