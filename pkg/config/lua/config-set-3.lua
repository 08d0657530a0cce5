--[[ Compare-and-set of the desired state, with its history entry and a wake-up event, atomically:
  a change made by someone else since the caller read the key is refused, never overwritten.
  Input:  KEYS[1] config (string)  KEYS[2] config:history (stream)  KEYS[3] events (stream)
          ARGV[1] "1" a value is expected, "0" the key must be absent
          ARGV[2] the expected raw value (when ARGV[1] == "1")
          ARGV[3] the new raw value (validated by the caller)
          ARGV[4] who  ARGV[5] why  ARGV[6] history MAXLEN (approximate)  ARGV[7] events MAXLEN
  Output: {1, historyId}    written, history and event appended
          {0}               the key already holds exactly the new value: nothing written
          {-1, currentRaw}  refused: the key changed since it was read (currentRaw nil when absent) ]]
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur ~= ARGV[2] then return {-1, cur} end
elseif cur then
  return {-1, cur}
end
if cur == ARGV[3] then return {0} end
redis.call('SET', KEYS[1], ARGV[3])
local fields = {'result', 'accepted', 'after', ARGV[3], 'who', ARGV[4], 'why', ARGV[5]}
if cur then
  fields[#fields + 1] = 'before'
  fields[#fields + 1] = cur
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', unpack(fields))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'type', 'config', 'historyId', id)
return {1, id}
