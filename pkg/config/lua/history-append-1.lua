--[[ Appends a desired-state history entry unless the newest entry already says the same thing
  (same result for the same value): the reconciler meets one bad value on every pass, a standby
  that takes over meets it again, and `ctl config set` has already recorded what it wrote.
  Input:  KEYS[1] config:history (stream)
          ARGV[1] MAXLEN (approximate)  ARGV[2] result: accepted | rejected  ARGV[3] the raw value
          ARGV[4..] further field, value pairs (who, why, before, errors)
  Output: the new entry id, or nil when the newest entry already records this result and value ]]
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then
  local f = last[1][2]
  local result, after
  for i = 1, #f, 2 do
    if f[i] == 'result' then result = f[i + 1] elseif f[i] == 'after' then after = f[i + 1] end
  end
  if result == ARGV[2] and after == ARGV[3] then return nil end
end
local fields = {'result', ARGV[2], 'after', ARGV[3]}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
