-- Undoes a claim whose event could not be confirmed as published. KEYS[1] claims, KEYS[2] revoked,
-- KEYS[3] confirmed, KEYS[4] pending, KEYS[5] timeline; ARGV[1] user id, ARGV[2] claim id.
-- Returns 0 when the consumer already confirmed the event (the record was written: the claim
-- stands and the caller answers 202), 1 when released and tombstoned (a record that reaches Kafka
-- late is skipped), 2 when the user's pending claim is another request's (left alone: this one
-- kept nothing), -3 when the sets await a rebuild (a confirmation may be missing: undecided).
if not on_timeline(KEYS[5]) then
  return -3
end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
  return 0
end
local at = redis.call('HGET', KEYS[4], ARGV[1])
if at and not string.find(at, ARGV[2], 1, true) then
  return 2
end
release(KEYS[1], KEYS[2], KEYS[4], ARGV[1])
return 1
