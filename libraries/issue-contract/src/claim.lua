-- One atomic FCFS claim. KEYS[1] claims, KEYS[2] revoked, KEYS[3] pending, KEYS[4] timeline,
-- KEYS[5] the waiting room's passes out (zset user -> expiry ms).
-- ARGV[1] user id, ARGV[2] total quantity (-1 = unlimited), ARGV[3] claim id (its event's id),
-- ARGV[4] ms within which every request is answered, ARGV[5] the expiry of the user's waiting-room
-- pass for a queued coupon (0: a direct coupon, no pass). Returns 1 accepted, -1 already issued,
-- -2 sold out, -3 the sets await a rebuild, -4 another request of this user is being decided,
-- -5 the pass is not out for this user with this expiry (used, lapsed or replaced).
-- Order matters: the holder check comes before every "no"; a pass is spent only by a claim that stands.
if not on_timeline(KEYS[4]) then
  return -3
end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  local state = claim_state(KEYS[3], ARGV[1], tonumber(ARGV[4]))
  if state == 'held' then
    return -1
  end
  if state == 'in-flight' then
    return -4
  end
  -- Stranded: the request that made it ended without a 202, so its user holds nothing yet.
  release(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
end
local pass = tonumber(ARGV[5])
if pass > 0 then
  local out = redis.call('ZSCORE', KEYS[5], ARGV[1])
  if not out or tonumber(out) ~= pass or pass <= now_ms() then
    return -5
  end
end
local total = tonumber(ARGV[2])
if total >= 0 and redis.call('SCARD', KEYS[1]) >= total then
  return -2
end
if pass > 0 then
  redis.call('ZREM', KEYS[5], ARGV[1])
end
redis.call('SADD', KEYS[1], ARGV[1])
-- A fresh claim supersedes an earlier revoked one of the same user.
redis.call('SREM', KEYS[2], ARGV[1])
-- Pending until its event is confirmed or the claim revoked; the time (the server's, in ms) lets
-- a sweep find claims whose process died before publishing them.
redis.call('HSET', KEYS[3], ARGV[1], now_ms() .. ' ' .. ARGV[3])
return 1
