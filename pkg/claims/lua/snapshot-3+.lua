--[[ One consistent read of the pool for the planner and `GET /v1/pool`.
  Input:  KEYS[1] tasks (set)  KEYS[2] claims (zset)  KEYS[3] waiting (list)  ARGV[1] (unused)
          Declared extra keys (extra-keys.lua): task of every id in `tasks`.
  Output: {waiting, nowMs, {taskId, {field, value, ...}}, ...}; a claimed task's fields carry
          `leaseExpiresAt` from the claims zset. Ids in `tasks` without a record are skipped.
          {-100, kind, id, ...} declare these keys and call again ]]
local x = extraKeys(3, 1)
local ids = redis.call('SMEMBERS', KEYS[1])
for _, taskId in ipairs(ids) do want(x, 'task', taskId) end
if missing(x) then return x.need end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {redis.call('LLEN', KEYS[3]), now}
for _, taskId in ipairs(ids) do
  local fields = redis.call('HGETALL', KEYS[x.task[taskId]])
  if #fields > 0 then
    local claimId, state
    for i = 1, #fields, 2 do
      if fields[i] == 'claimId' then claimId = fields[i + 1] end
      if fields[i] == 'state' then state = fields[i + 1] end
    end
    if claimId and state == 'claimed' then
      local lease = redis.call('ZSCORE', KEYS[2], claimId)
      if lease then
        fields[#fields + 1] = 'leaseExpiresAt'
        fields[#fields + 1] = lease
      end
    end
    out[#out + 1] = {taskId, fields}
  end
end
return out
