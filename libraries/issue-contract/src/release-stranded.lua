-- The sweep's release of a claim stranded by a process that died before its event was acknowledged.
-- KEYS[1] claims, KEYS[2] revoked, KEYS[3] pending; ARGV[1] user id, ARGV[2] age in ms.
-- Checked and done in one step: only a claim still pending, unmarked and older than ARGV[2] ms (by
-- the server's clock) is released and tombstoned (returns 1). A claim marked published meanwhile —
-- its user is being told 202 — or confirmed by the consumer is left alone (returns 0); a sweep that
-- read the pending hash and then revoked could release a claim marked in between.
local at = redis.call('HGET', KEYS[3], ARGV[1])
if not at or at == 'published' then
  return 0
end
local now = redis.call('TIME')
if now[1] * 1000 + math.floor(now[2] / 1000) - tonumber(at) < tonumber(ARGV[2]) then
  return 0
end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
