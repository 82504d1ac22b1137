-- One more failed login of an account: KEYS[1] counts its failures over ARGV[2] ms; at ARGV[1]
-- failures the account is locked (KEYS[3], expiring) for the n-th wait of ARGV[4..], n being the
-- locks counted in KEYS[2] over ARGV[3] ms (the last wait repeats), and its failures start over.
-- Returns the lock's length in ms, or 0 when this failure locked nothing.
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if failures < tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
local locks = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local waits = #ARGV - 3
local wait = tonumber(ARGV[3 + math.min(locks, waits)])
redis.call('SET', KEYS[3], locks, 'PX', wait)
return wait
