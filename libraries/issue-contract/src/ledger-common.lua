-- Prepended to every ledger script when it is loaded (Lua scripts cannot include one another).
--
-- A coupon's claim sets decide admissions only on the replication timeline they were validated
-- on. A replica that Sentinel promotes starts a new timeline (a new master_replid) and may lack
-- writes the old master acknowledged (during a planned failover the old master goes on accepting,
-- and its other replica acknowledging, until Sentinel moves that replica), so on a new timeline
-- the sets are rebuilt from what is durable before they decide anything again.
local function on_timeline(key)
  local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
  return replid ~= nil and redis.call('GET', key) == replid
end

local function now_ms()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end

-- What a member of the claims set means for its user. The pending hash holds, per unconfirmed
-- claim, '<ms> <claim id>' until its event is acknowledged and then 'published <claim id>'; the
-- consumer's confirmation removes the entry. 'held': acknowledged or persisted; 'in-flight': its
-- request may still be answered 202; 'stranded': unmarked past the time any request could be.
local function claim_state(pending, user, decided_ms)
  local at = redis.call('HGET', pending, user)
  if not at or string.sub(at, 1, 9) == 'published' then
    return 'held'
  end
  if now_ms() - tonumber(string.match(at, '^%d+')) < decided_ms then
    return 'in-flight'
  end
  return 'stranded'
end

-- Frees a claim and tombstones it, so that a record of it that is or gets into the log is skipped.
local function release(claims, revoked, pending, user)
  redis.call('SREM', claims, user)
  redis.call('SADD', revoked, user)
  redis.call('HDEL', pending, user)
end
