-- One atomic FCFS claim. KEYS[1] claims set, KEYS[2] revoked set, KEYS[3] pending hash.
-- ARGV[1] user id, ARGV[2] total quantity (-1 = unlimited).
-- Order matters: a duplicate is ALREADY_ISSUED even when the coupon is sold out.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return -1
end
local total = tonumber(ARGV[2])
if total >= 0 and redis.call('SCARD', KEYS[1]) >= total then
  return -2
end
redis.call('SADD', KEYS[1], ARGV[1])
-- A fresh claim supersedes an earlier revoked one of the same user.
redis.call('SREM', KEYS[2], ARGV[1])
-- Pending until its event is confirmed or the claim revoked; the time (the server's, in ms) lets
-- a sweep find claims whose process died before publishing them.
local now = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], now[1] * 1000 + math.floor(now[2] / 1000))
return 1
