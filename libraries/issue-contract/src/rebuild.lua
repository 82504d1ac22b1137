-- Validates a coupon's sets on the current timeline from what is durable: every user holding a row
-- holds a confirmed claim. KEYS[1] claims, KEYS[2] revoked, KEYS[3] confirmed, KEYS[4] pending,
-- KEYS[5] timeline; ARGV[1] the timeline the caller fenced and drained for, ARGV[2] '1' on the last
-- chunk (which opens the sets), ARGV[3..] users. Returns 1, or -3 when the master is on another
-- timeline by now (the caller starts again).
local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
if replid ~= ARGV[1] then
  return -3
end
for i = 3, #ARGV do
  redis.call('SADD', KEYS[1], ARGV[i])
  redis.call('SADD', KEYS[3], ARGV[i])
  redis.call('SREM', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[4], ARGV[i])
end
if ARGV[2] == '1' then
  redis.call('SET', KEYS[5], replid)
end
return 1
