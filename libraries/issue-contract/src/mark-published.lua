-- The issue service marks a claim whose event Kafka acknowledged, before it answers 202.
-- KEYS[1] claims, KEYS[2] pending; ARGV[1] user id, ARGV[2] claim id. Returns 1 (marked) or 0 (the
-- claim was released meanwhile, or is another request's: the caller must not answer 202). A marked
-- claim is resolved only by the consumer; an unmarked one that stays pending long after any
-- request could be answered belongs to a request that ended without a 202, and may be released.
local at = redis.call('HGET', KEYS[2], ARGV[1])
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 and at and string.find(at, ARGV[2], 1, true) then
  redis.call('HSET', KEYS[2], ARGV[1], 'published ' .. ARGV[2])
  return 1
end
return 0
