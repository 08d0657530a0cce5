--[[ Take `cost` calls from an AWS call budget shared by every pool and every reconciler replica
  of one account and region (GCRA), fairly between the pools asking for it.
  The whole budget is one GCRA bucket (rate R, burst B). Each pool asking within the active
  window also has its own bucket of rate R/n and burst max(1, floor(B/(n+1))), n = active pools:
  together the pools can spend at most R, and a busy pool can never hold more than its share of
  the burst, so the budget always keeps room for a pool that was quiet until now.
  Input:  KEYS[1] tat hash (field "_" = the budget's theoretical arrival time, ms; field <pool> = that pool's)
          KEYS[2] active zset (pool → last time it asked, ms)
          ARGV[1] pool  ARGV[2] rate (calls/s)  ARGV[3] burst (calls)  ARGV[4] cost (calls)
          ARGV[5] active window (ms)
  Output: {1, n}          taken; n = pools active
          {0, waitMs, n}  not now: ask again in waitMs (nothing was taken) ]]
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local pool = ARGV[1]
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local window = tonumber(ARGV[5])

local gone = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now - window)
if #gone > 0 then
  redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now - window)
  for _, p in ipairs(gone) do
    if p ~= pool then redis.call("HDEL", KEYS[1], p) end
  end
end
redis.call("ZADD", KEYS[2], now, pool)
local n = redis.call("ZCARD", KEYS[2])

local interval = 1000 / rate
local gtat = math.max(tonumber(redis.call("HGET", KEYS[1], "_") or "0"), now)
local gnext = gtat + cost * interval
-- (tat - now) first: now is ~1.8e12 ms, and `now + x - now` loses x's low bits, which made an
-- exactly-allowed take (cost = burst) fail by a rounding error forever.
local gwait = (gtat - now) + (cost - burst) * interval

local pinterval = interval * n
local pburst = math.max(1, math.floor(burst / (n + 1)))
local ptat = math.max(tonumber(redis.call("HGET", KEYS[1], pool) or "0"), now)
local pnext = ptat + cost * pinterval
local pwait = (ptat - now) + (cost - pburst) * pinterval

local keep = math.ceil(math.max(window, (burst + cost) * pinterval) + 1000)
redis.call("PEXPIRE", KEYS[2], keep)
if gwait > 0 or pwait > 0 then
  redis.call("PEXPIRE", KEYS[1], keep)
  return {0, math.ceil(math.max(gwait, pwait)), n}
end
redis.call("HSET", KEYS[1], "_", string.format("%.3f", gnext), pool, string.format("%.3f", pnext))
redis.call("PEXPIRE", KEYS[1], keep)
return {1, n}
