-- A waiting-room pass, used once or put back. KEYS[1] passes (zset user -> expiry ms).
-- ARGV[1] 'use' or 'restore', ARGV[2] user, ARGV[3] the pass's expiry ms.
-- use: 1 when the user's pass out is this one (same expiry) and has not expired; it is removed.
-- restore: puts it back unless it has expired; 1 when it did.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local expiry = tonumber(ARGV[3])
if expiry <= now then
  return 0
end
if ARGV[1] == 'use' then
  local out = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if not out or tonumber(out) ~= expiry then
    return 0
  end
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 1
end
redis.call('ZADD', KEYS[1], expiry, ARGV[2])
return 1
