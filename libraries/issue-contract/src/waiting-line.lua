-- One user's turn in a coupon's waiting room: joins (ARGV[2] = 1) or asks (0), admits whoever the
-- rate allows since the last call (whichever instance makes it: the state and the clock are
-- Redis's), and answers where the user stands. Every key shares the coupon's hash slot.
-- KEYS[1] line (zset user -> sequence), KEYS[2] pre-queue (set), KEYS[3] state (hash: seq,
-- served, clock, abandoned, shuffled), KEYS[4] passes (zset user -> pass expiry ms), KEYS[5] the
-- claim ledger's claims set.
-- ARGV[1] user, ARGV[2] join, ARGV[3] window start ms, ARGV[4] window end ms, ARGV[5] total
-- quantity (-1 unlimited), ARGV[6] admissions per second, ARGV[7] margin (passes allowed beyond
-- the unclaimed stock), ARGV[8] pass lifetime ms, ARGV[9] the rate to start from when ARGV[6] is 0
-- (automatic: the rate is the state's, which the room's governor sets).
-- Returns {code, a, b, rate}: 1 waiting (position, waiting in all), 2 admitted (pass expiry ms),
-- 3 pre-queue (its size), -1 not in the queue, -2 sold out, -3 window closed, -5 the pass expired
-- unused, -6 the user is in the claims set.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local user, join = ARGV[1], ARGV[2] == '1'
local start_ms, end_ms = tonumber(ARGV[3]), tonumber(ARGV[4])

if now < start_ms then
  if join then
    redis.call('SADD', KEYS[2], user)
  elseif redis.call('SISMEMBER', KEYS[2], user) == 0 then
    return {-1, 0, 0}
  end
  return {3, redis.call('SCARD', KEYS[2]), 0}
end
if now >= end_ms then
  return {-3, 0, 0}
end

-- The pre-queue joins the line once, in random order, ahead of everyone who comes after the start:
-- arriving early buys a place in the draw, not a better one. The draw is a Fisher-Yates shuffle
-- with a Park-Miller generator seeded from Redis's clock (SPOP alone hands small integer sets back
-- in order); replicas receive the resulting writes, not the script.
if redis.call('HGET', KEYS[3], 'shuffled') ~= '1' then
  local seq = tonumber(redis.call('HGET', KEYS[3], 'seq') or '0')
  local early = redis.call('SMEMBERS', KEYS[2])
  local x = (tonumber(t[2]) * 1000 + tonumber(t[1]) % 1000) % 2147483646 + 1
  for i = #early, 2, -1 do
    x = (16807 * x) % 2147483647
    local j = x % i + 1
    early[i], early[j] = early[j], early[i]
  end
  for _, member in ipairs(early) do
    seq = seq + 1
    redis.call('ZADD', KEYS[1], seq, member)
  end
  redis.call('DEL', KEYS[2])
  -- The room opens at its first turn: time before it is not banked as admissions.
  redis.call('HSET', KEYS[3], 'seq', seq, 'shuffled', '1', 'clock', now)
end

if redis.call('SISMEMBER', KEYS[5], user) == 1 then
  return {-6, 0, 0}
end
local total = tonumber(ARGV[5])
local claimed = redis.call('SCARD', KEYS[5])
if total >= 0 and claimed >= total then
  return {-2, 0, 0}
end

-- Passes not used in time are dropped: their slots go to the next in line.
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
if expired > 0 then
  redis.call('HINCRBY', KEYS[3], 'abandoned', expired)
end

local seq = tonumber(redis.call('HGET', KEYS[3], 'seq') or '0')
local served = tonumber(redis.call('HGET', KEYS[3], 'served') or '0')
local clock = tonumber(redis.call('HGET', KEYS[3], 'clock') or tostring(now))
local rate = tonumber(ARGV[6])
if rate == 0 then
  rate = tonumber(redis.call('HGET', KEYS[3], 'rate') or ARGV[9])
end

-- The user's place first, so that a joiner the rate allows now is admitted by this very call.
if not redis.call('ZSCORE', KEYS[4], user) then
  local place = redis.call('ZSCORE', KEYS[1], user)
  if place and tonumber(place) <= served then
    -- Admitted once, and the pass is gone without a claim: it expired. Joining again goes to the back.
    if not join then
      return {-5, 0, 0}
    end
    place = nil
  end
  if not place then
    if not join then
      return {-1, 0, 0}
    end
    seq = seq + 1
    redis.call('ZADD', KEYS[1], seq, user)
    redis.call('HSET', KEYS[3], 'seq', seq)
  end
end

local budget = math.floor((now - clock) * rate / 1000)
if budget > 0 then
  local admit = math.min(budget, seq - served)
  if total >= 0 then
    -- Never more passes out than the stock still unclaimed, plus a margin for those who leave.
    admit = math.min(admit, total - claimed + tonumber(ARGV[7]) - redis.call('ZCARD', KEYS[4]))
  end
  if admit > 0 then
    local expiry = now + tonumber(ARGV[8])
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], served + 1, served + admit)) do
      redis.call('ZADD', KEYS[4], expiry, member)
    end
    served = served + admit
  end
  -- A full budget spent keeps its fraction of a slot; an unspent one (nobody waiting, or the stock
  -- covered by passes) is not banked: admission never bursts to catch up.
  if admit == budget then
    clock = clock + math.floor(admit * 1000 / rate)
  else
    clock = now
  end
  redis.call('HSET', KEYS[3], 'served', served, 'clock', clock)
end

local pass = redis.call('ZSCORE', KEYS[4], user)
if pass then
  return {2, tonumber(pass), 0, rate}
end
return {1, tonumber(redis.call('ZSCORE', KEYS[1], user)) - served, seq - served, rate}
