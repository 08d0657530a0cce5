--[[ The birth time of the pool's state in this Redis: written once, read every pass.
  Input:  KEYS[1] born
  Output: the Redis TIME (ms) at which the first pass found no marker — now, if it is this one.
  A Redis restarted without persistence, or a failover to an empty replica, loses the marker with
  the records, so a task ECS started before the birth cannot have a record here (DESIGN §3). ]]
local born = redis.call('GET', KEYS[1])
if born then return born end
local t = redis.call('TIME')
local ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('SET', KEYS[1], ms)
return ms
