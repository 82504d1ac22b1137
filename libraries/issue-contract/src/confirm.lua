-- Consumer side: decides, for each user of a batch of one coupon, whether its event may be persisted.
-- KEYS[1] revoked, KEYS[2] confirmed, KEYS[3] pending; ARGV user ids. Returns 1 (persist) or 0
-- (revoked: skip) each. Confirming and revoking exclude each other atomically, so the answer, the
-- claim and the row agree.
local out = {}
for i, user in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[1], user) == 1 then
    out[i] = 0
  else
    redis.call('SADD', KEYS[2], user)
    redis.call('HDEL', KEYS[3], user)
    out[i] = 1
  end
end
return out
