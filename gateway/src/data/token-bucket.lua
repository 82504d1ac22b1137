-- Token buckets, taken from in the order given: bucket i is KEYS[i] (a hash of tokens and the
-- time they were counted), refilled at ARGV[3i-2] tokens a second up to ARGV[3i-1], taking
-- ARGV[3i] tokens when that many are there. The server's clock, not the callers': gateways on
-- several machines share one bucket. A bucket named twice is taken from twice, in order.
-- Returns, per bucket, { allowed (1/0), whole tokens left, ms until the cost could be paid (0 when allowed) }.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
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
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
  -- Gone once it would be full again anyway: an idle bucket costs no memory.
  redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
  out[#out + 1] = allowed
  out[#out + 1] = math.floor(tokens)
  out[#out + 1] = wait
end
return out
