-- Whether users hold a claim, for the answers that say "no" without claiming (the sold-out flag,
-- the closed window). KEYS[1] claims, KEYS[2] revoked, KEYS[3] pending, KEYS[4] timeline.
-- ARGV[1] ms within which every request is answered, ARGV[2..] user ids (one call answers every
-- request that arrived together). Returns, per user: -1 held, 0 none, -3 the sets await a
-- rebuild, -4 a request of this user is being decided, 1 none once a stranded claim was released
-- here (with its tombstone), as a claim would: its user is told "no" and holds nothing, which the
-- caller makes durable before saying so.
local out = {}
if not on_timeline(KEYS[4]) then
  for i = 2, #ARGV do
    out[i - 1] = -3
  end
  return out
end
local decided = tonumber(ARGV[1])
for i = 2, #ARGV do
  local user = ARGV[i]
  if redis.call('SISMEMBER', KEYS[1], user) == 0 then
    out[i - 1] = 0
  else
    local state = claim_state(KEYS[3], user, decided)
    if state == 'held' then
      out[i - 1] = -1
    elseif state == 'in-flight' then
      out[i - 1] = -4
    else
      release(KEYS[1], KEYS[2], KEYS[3], user)
      out[i - 1] = 1
    end
  end
end
return out
