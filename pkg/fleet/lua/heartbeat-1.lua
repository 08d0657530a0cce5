--[[ A reconciler replica says it is alive, and learns which replicas are.
  Input:  KEYS[1] replicas zset (replica id → expiry, ms on Redis TIME)
          ARGV[1] replica id  ARGV[2] ttl ms  ARGV[3] "1" to leave instead (shutdown)
  Output: the live replica ids, sorted ]]
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
if ARGV[3] == "1" then
  redis.call("ZREM", KEYS[1], ARGV[1])
else
  redis.call("ZADD", KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
end
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
table.sort(ids)
return ids
