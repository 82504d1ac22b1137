-- The sweep's release of a claim stranded by a process that died before its event was acknowledged.
-- KEYS[1] claims, KEYS[2] revoked, KEYS[3] pending, KEYS[4] timeline; ARGV[1] user id, ARGV[2] age
-- in ms. Checked and done in one step: only a claim still pending, unmarked and older than ARGV[2]
-- ms (by the server's clock) is released and tombstoned (returns 1). A claim marked published
-- meanwhile — its user is being told 202 — or confirmed by the consumer is left alone (returns 0);
-- a sweep that read the pending hash and then revoked could release a claim marked in between.
-- Nothing is released on sets that await a rebuild.
if not on_timeline(KEYS[4]) then
  return 0
end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 or claim_state(KEYS[3], ARGV[1], tonumber(ARGV[2])) ~= 'stranded' then
  return 0
end
release(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
return 1
