-- Whether a user holds a claim, for the answers that say "no" without claiming (the sold-out flag,
-- the closed window). KEYS[1] claims, KEYS[2] revoked, KEYS[3] pending, KEYS[4] timeline.
-- ARGV[1] user id, ARGV[2] ms within which every request is answered. Returns -1 held, 0 none,
-- -3 the sets await a rebuild, -4 a request of this user is being decided, 1 none once a stranded
-- claim was released here (with its tombstone), as a claim would: its user is told "no" and holds
-- nothing, which the caller makes durable before saying so.
if not on_timeline(KEYS[4]) then
  return -3
end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local state = claim_state(KEYS[3], ARGV[1], tonumber(ARGV[2]))
if state == 'held' then
  return -1
end
if state == 'in-flight' then
  return -4
end
release(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
return 1
