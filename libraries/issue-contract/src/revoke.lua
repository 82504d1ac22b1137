-- Undoes a claim whose event could not be confirmed as published. KEYS[1] claims, KEYS[2] revoked,
-- KEYS[3] confirmed, KEYS[4] pending; ARGV[1] user id.
-- If the consumer already confirmed the event, the record was written: the claim stands (returns 0
-- and the caller answers 202). Otherwise the claim is released and tombstoned (returns 1), so a
-- record that reaches Kafka late is skipped by the consumer.
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
  return 0
end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
