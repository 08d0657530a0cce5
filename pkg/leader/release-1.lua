--[[ Give the lease up on shutdown, only if this holder still has it (compare-and-delete).
  Input:  KEYS[1] leader   ARGV[1] holder id
  Output: 1 released, 0 it was not ours ]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
