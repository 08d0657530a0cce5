--[[ Declared extra keys (prepended to every `<name>-<n>+.lua` script).
  Redis Cluster routes a script by the keys it declares, so a script may touch only KEYS. Some keys
  are known only from data (a task id in a set, a claim id in a list, a key name stored in a
  hash): for those the script answers {-100, kind, id, kind, id, ...}, "declare these and call
  again", before it changes anything, and the caller repeats the call with them declared after its
  fixed keys. Kinds: task, inbox, claim (by id: the caller builds the key with ClaimKeys) and key
  (a full key name stored in a record of the pool, declared as it is).
  Layout: ARGV[nargs + 1] = pair count p; ARGV[nargs + 2 ..] = p pairs kind, id;
          KEYS[nkeys + i] is the key of pair i. ]]
local function extraKeys(nkeys, nargs)
  local x = {task = {}, inbox = {}, claim = {}, key = {}, need = {-100}, asked = {}}
  local n = tonumber(ARGV[nargs + 1] or '0')
  if not n then error('extra keys: ARGV[' .. (nargs + 1) .. '] must be the pair count') end
  for i = 1, n do
    x[ARGV[nargs + 2 * i]][ARGV[nargs + 2 * i + 1]] = nkeys + i
  end
  return x
end

-- The KEYS index of (kind, id) when declared; otherwise nil, and the pair is asked for.
local function want(x, kind, id)
  local i = x[kind][id]
  if i then return i end
  local tag = kind .. ' ' .. id
  if not x.asked[tag] then
    x.asked[tag] = true
    x.need[#x.need + 1] = kind
    x.need[#x.need + 1] = id
  end
  return nil
end

-- True when some key was asked for: return x.need then, having changed nothing.
local function missing(x)
  return #x.need > 1
end

