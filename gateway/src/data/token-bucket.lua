-- One token bucket (KEYS[1], a hash of tokens and the time they were counted), refilled at
-- ARGV[1] tokens a second up to ARGV[2], taking ARGV[3] tokens when that many are there.
-- The server's clock, not the callers': gateways on several machines share one bucket.
-- Returns { allowed (1/0), whole tokens left, ms until the cost could be paid (0 when allowed) }.
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
-- A failed-over master's clock may be behind the old one's: time never runs backwards here.
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
-- Gone once it would be full again anyway: an idle bucket costs no memory.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return { allowed, math.floor(tokens), wait }
