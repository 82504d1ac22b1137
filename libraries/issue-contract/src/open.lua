-- A new coupon's sets start valid on the current timeline: it has no history on any other.
-- KEYS[1] timeline. Returns the timeline.
local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
redis.call('SET', KEYS[1], replid, 'NX')
return redis.call('GET', KEYS[1])
