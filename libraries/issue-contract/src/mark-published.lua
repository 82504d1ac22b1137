-- The issue service marks claims whose event Kafka acknowledged, before it answers 202.
-- KEYS[1] claims, KEYS[2] pending; ARGV user ids. Returns 1 (marked) or 0 (the claim was released
-- meanwhile, so the caller must not answer 202) for each. A marked claim is resolved only by the
-- consumer; an unmarked one that stays pending long after any publish could finish belongs to a
-- process that died, and may be released (its user was never told 202).
local out = {}
for i, user in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[1], user) == 1 and redis.call('HEXISTS', KEYS[2], user) == 1 then
    redis.call('HSET', KEYS[2], user, 'published')
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
