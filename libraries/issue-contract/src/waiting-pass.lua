-- A waiting-room pass put back (the claim script takes it; a claim that kept nothing returns it).
-- KEYS[1] passes (zset user -> expiry ms), ARGV[1] user, ARGV[2] the pass's expiry ms.
-- Puts it back unless it has expired; 1 when it did.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local expiry = tonumber(ARGV[2])
if expiry <= now then
  return 0
end
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
return 1
