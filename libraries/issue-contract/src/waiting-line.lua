-- Turns in a coupon's waiting room, for a batch of users in their order of arrival: each joins
-- (ARGV[1] = 1) or asks (0); whoever the rate allows since the last call is admitted (whichever
-- instance or gateway makes it: the state and the clock are Redis's), and each user is told where
-- they stand. Every key shares the coupon's hash slot.
-- KEYS[1] line (zset user -> sequence), KEYS[2] pre-queue (set), KEYS[3] state (hash: seq,
-- served, clock, abandoned, shuffled, rate, and the room's terms), KEYS[4] passes (zset user ->
-- pass expiry ms), KEYS[5] the claim ledger's claims set.
-- ARGV[1] join, ARGV[2] how long the terms below hold (ms): the terms are written to the state,
-- for callers that do not know the coupon (the gateway), who pass 0 and no terms: the state's are
-- used, and if none hold every user is answered -9 (ask issue-coupon). ARGV[3] the number of
-- users, then the users, then (when given) the terms: window start ms, window end ms, total
-- quantity (-1 unlimited), admissions per second (0: automatic, the rate is the state's, which the
-- room's governor sets), margin (passes allowed beyond the unclaimed stock), pass lifetime ms, the
-- rate to start from when automatic, and the poll interval's bounds (min, max ms).
-- Returns {start, min poll, max poll, places left to hand out (-1: unlimited or not counted)},
-- then four numbers per user {code, a, b, rate}:
-- 1 waiting (position, waiting in all), 2 admitted (pass expiry ms), 3 pre-queue (its size),
-- -1 not in the queue, -2 sold out and -3 window closed (b: 1 if the user was never let in), -5 the
-- pass expired unused, -6 the user is in the claims set, -9 the room's terms are unknown here.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local join = ARGV[1] == '1'
local holds = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local TERMS = { 'start', 'end', 'total', 'rate', 'margin', 'passTtl', 'autoStart', 'minPoll', 'maxPoll' }

local terms = {}
if holds > 0 then
  local fields = { 'termsUntil', now + holds }
  for i, name in ipairs(TERMS) do
    terms[name] = tonumber(ARGV[3 + n + i])
    fields[#fields + 1] = 't:' .. name
    fields[#fields + 1] = terms[name]
  end
  redis.call('HSET', KEYS[3], unpack(fields))
else
  local fields = { 'termsUntil' }
  for _, name in ipairs(TERMS) do
    fields[#fields + 1] = 't:' .. name
  end
  local values = redis.call('HMGET', KEYS[3], unpack(fields))
  if not values[1] or tonumber(values[1]) < now then
    return { -9 }
  end
  for i, name in ipairs(TERMS) do
    terms[name] = tonumber(values[i + 1])
  end
end

local out = { terms.start, terms.minPoll, terms.maxPoll, -1 }
local function answer(i, code, a, b, rate)
  local at = 4 + (i - 1) * 4
  out[at + 1], out[at + 2], out[at + 3], out[at + 4] = code, a or 0, b or 0, rate or 0
end
local function answerAll(code)
  for i = 1, n do
    answer(i, code)
  end
  return out
end

if now < terms.start then
  for i = 1, n do
    local user = ARGV[3 + i]
    if join then
      redis.call('SADD', KEYS[2], user)
      answer(i, 3)
    elseif redis.call('SISMEMBER', KEYS[2], user) == 0 then
      answer(i, -1)
    else
      answer(i, 3)
    end
  end
  local size = redis.call('SCARD', KEYS[2])
  for i = 1, n do
    if out[4 + (i - 1) * 4 + 1] == 3 then
      out[4 + (i - 1) * 4 + 2] = size
    end
  end
  return out
end
-- Whether a user (not among the claimants) was never let in: no pass out and no place within the
-- admitted part of the line. A claim of a queued coupon takes a pass, so such a user holds nothing
-- and the caller may say "no" without the holder check (b = 1); anyone else gets b = 0.
local served
local function neverAdmitted(user)
  served = served or tonumber(redis.call('HGET', KEYS[3], 'served') or '0')
  if redis.call('ZSCORE', KEYS[4], user) then
    return 0
  end
  local place = redis.call('ZSCORE', KEYS[1], user)
  if place and tonumber(place) <= served then
    return 0
  end
  return 1
end

if now >= terms['end'] then
  for i = 1, n do
    local user = ARGV[3 + i]
    if redis.call('SISMEMBER', KEYS[5], user) == 1 then
      answer(i, -3, 0, 0)
    else
      answer(i, -3, 0, neverAdmitted(user))
    end
  end
  return out
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

local total = terms.total
local claimed = redis.call('SCARD', KEYS[5])
local soldOut = total >= 0 and claimed >= total
-- A user among the claims is told so before anything else: the holder check is the caller's.
local pending = {}
for i = 1, n do
  local user = ARGV[3 + i]
  if redis.call('SISMEMBER', KEYS[5], user) == 1 then
    answer(i, -6)
  elseif soldOut then
    answer(i, -2, 0, neverAdmitted(user))
  else
    pending[#pending + 1] = i
  end
end
if soldOut then
  return out
end

-- Passes not used in time are dropped: their slots go to the next in line.
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
if expired > 0 then
  redis.call('HINCRBY', KEYS[3], 'abandoned', expired)
end

local seq = tonumber(redis.call('HGET', KEYS[3], 'seq') or '0')
served = tonumber(redis.call('HGET', KEYS[3], 'served') or '0')
local clock = tonumber(redis.call('HGET', KEYS[3], 'clock') or tostring(now))
local rate = terms.rate
if rate == 0 then
  rate = tonumber(redis.call('HGET', KEYS[3], 'rate') or terms.autoStart)
end

-- The users' places first, in the batch's order, so that a joiner the rate allows now is
-- admitted by this very call.
local asking = {}
local joined = seq
for _, i in ipairs(pending) do
  local user = ARGV[3 + i]
  local keep = true
  if not redis.call('ZSCORE', KEYS[4], user) then
    local place = redis.call('ZSCORE', KEYS[1], user)
    if place and tonumber(place) <= served then
      -- Admitted once, and the pass is gone without a claim: it expired. Joining again goes to the back.
      if not join then
        answer(i, -5)
        keep = false
      end
      place = nil
    end
    if keep and not place then
      if not join then
        answer(i, -1)
        keep = false
      else
        seq = seq + 1
        redis.call('ZADD', KEYS[1], seq, user)
      end
    end
  end
  if keep then
    asking[#asking + 1] = i
  end
end
if seq ~= joined then
  redis.call('HSET', KEYS[3], 'seq', seq)
end

local budget = math.floor((now - clock) * rate / 1000)
if budget > 0 then
  local admit = math.min(budget, seq - served)
  if total >= 0 then
    -- Never more passes out than the stock still unclaimed, plus a margin for those who leave.
    admit = math.min(admit, total - claimed + terms.margin - redis.call('ZCARD', KEYS[4]))
  end
  if admit > 0 then
    local expiry = now + terms.passTtl
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

-- The places still to be handed out before the stock is gone (unless passes lapse): a user behind
-- them is told to ask again when they should be gone, not sooner.
if total >= 0 then
  out[4] = math.max(0, total - claimed + terms.margin - redis.call('ZCARD', KEYS[4]))
end
for _, i in ipairs(asking) do
  local user = ARGV[3 + i]
  local pass = redis.call('ZSCORE', KEYS[4], user)
  if pass then
    answer(i, 2, tonumber(pass), 0, rate)
  else
    answer(i, 1, tonumber(redis.call('ZSCORE', KEYS[1], user)) - served, seq - served, rate)
  end
end
return out
