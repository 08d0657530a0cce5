--[[ Take or keep the reconciler lease of one pool.
  Input:  KEYS[1] leader  KEYS[2] epoch   ARGV[1] holder id  ARGV[2] ttl ms
  Output: {1, epoch} acquired (epoch INCRed: the new fencing token)
          {2, epoch} already ours, TTL renewed (epoch unchanged)
          {0, pttl, holder} held by another holder for pttl more ms ]]
local holder = redis.call("GET", KEYS[1])
if holder == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return {2, tonumber(redis.call("GET", KEYS[2]) or "0")}
end
if holder then
  return {0, redis.call("PTTL", KEYS[1]), holder}
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return {1, redis.call("INCR", KEYS[2])}
