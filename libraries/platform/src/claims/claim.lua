-- One atomic FCFS claim. KEYS[1] claims set, KEYS[2] revoked set.
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
return 1
