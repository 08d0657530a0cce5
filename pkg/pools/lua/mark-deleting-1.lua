--[[ Mark a registered pool as being deleted (drain to zero, then remove).
  Input:  KEYS[1] registry hash (pool → entry JSON)  ARGV[1] pool  ARGV[2] who
  Output: {1, entryJson} marked (or already deleting: unchanged)
          {-1} the pool is not registered ]]
local raw = redis.call("HGET", KEYS[1], ARGV[1])
if not raw then return {-1} end
local e = cjson.decode(raw)
if e.state ~= "deleting" then
  local t = redis.call("TIME")
  e.state = "deleting"
  e.deletingSince = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  e.deletingBy = ARGV[2]
  raw = cjson.encode(e)
  redis.call("HSET", KEYS[1], ARGV[1], raw)
end
return {1, raw}
