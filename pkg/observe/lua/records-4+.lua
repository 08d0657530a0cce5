--[[ The pool's task records for the reconciler's record cache: all of them, or only those changed
  since a position of the `events` stream, read atomically with that position.
  Input:  KEYS[1] tasks (set)  KEYS[2] claims (zset)  KEYS[3] waiting (list)  KEYS[4] events (stream)
          ARGV[1] "" = read every record; else the stream id the caller's cache is consistent with
          ARGV[2] most stream entries to follow before a full read is the cheaper way
          Declared extra keys (extra-keys.lua): task of every id read. On a read by change the caller
          declares the ids it wrote itself (no entry names them): they are read too.
  Output: {kind, lastId, waiting, nowMs, expired, nextLease, {taskId, {field, value, ...}}, ...}
          kind "full": every record in `tasks` (ids without a hash skipped); lastId = the stream's last id
                       ("0-0" when empty)
          kind "delta": the records the entries after ARGV[1] name (field `taskId`) and the declared
                       ids; an empty field list = no record (forgotten)
          kind "reset": ARGV[1] is no longer in the stream (trimmed, or the stream was lost) or more than
                       ARGV[2] entries follow it: nothing else returned, read in full instead
          A claimed record carries `leaseExpiresAt` from `claims` (as snapshot-3).
          expired = {claimId, leaseMs, ...}: leases already past (Redis TIME), at most 1000
          nextLease = the earliest lease still to come (ms), or ""
          {-100, kind, id, ...} declare these keys and call again ]]
local x = extraKeys(4, 2)
local since = ARGV[1]
local ids = {}
local lastId

if since == '' then
  ids = redis.call('SMEMBERS', KEYS[1])
  local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
  lastId = last[1] and last[1][1] or '0-0'
else
  if since ~= '0-0' and #redis.call('XRANGE', KEYS[4], since, since) == 0 then return {'reset'} end
  local max = tonumber(ARGV[2])
  local entries = redis.call('XRANGE', KEYS[4], '(' .. since, '+', 'COUNT', max + 1)
  if #entries > max then return {'reset'} end
  lastId = since
  local seen = {}
  for _, e in ipairs(entries) do
    lastId = e[1]
    local f = e[2]
    for i = 1, #f, 2 do
      if f[i] == 'taskId' and f[i + 1] ~= '' and not seen[f[i + 1]] then
        seen[f[i + 1]] = true
        ids[#ids + 1] = f[i + 1]
      end
    end
  end
  for id in pairs(x.task) do
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
end
for _, taskId in ipairs(ids) do want(x, 'task', taskId) end
if missing(x) then return x.need end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1000)
local nextLease = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local out = {since == '' and 'full' or 'delta', lastId, redis.call('LLEN', KEYS[3]), now, expired,
  nextLease[2] or ''}
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
  elseif since ~= '' then
    out[#out + 1] = {taskId, {}}
  end
end
return out
