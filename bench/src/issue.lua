-- wrk script: one issue request per pre-signed user, counting outcomes by problem code.
-- Environment: BENCH_TOKENS (file, one "userId token" per line: the user's own token for the
-- gateway, the internal token the gateway would relay for direct), BENCH_COUPON, BENCH_MODE
-- (gateway: paths under /api/; direct: the service's own paths), BENCH_COUPON_PER_PASS
-- (set: each pass over the users claims the next coupon id, so every request stays a first claim),
-- BENCH_COUPONS (a comma-separated list: each pass over the users claims the next coupon of the
-- list, for the same reason, on coupons that exist; past its end the last one is asked again).
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk-outcomes.lua")

function init(args)
  counts = {}
  users, tokens = {}, {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    local id, token = line:match("^(%d+) (.+)$")
    users[#users + 1] = id
    tokens[#tokens + 1] = token
  end
  coupon = tonumber(os.getenv("BENCH_COUPON"))
  per_pass = os.getenv("BENCH_COUPON_PER_PASS") ~= nil
  listed = {}
  for id in string.gmatch(os.getenv("BENCH_COUPONS") or "", "%d+") do listed[#listed + 1] = id end
  direct = os.getenv("BENCH_MODE") == "direct"
  prefix = direct and "/coupons/" or "/api/coupons/"
  path = prefix .. coupon .. "/issues"
  -- Threads take interleaved users so no two threads send the same one.
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  next_user = index
end

function request()
  local i = ((next_user - 1) % #users) + 1
  if per_pass then path = prefix .. (coupon + math.floor((next_user - 1) / #users)) .. "/issues" end
  if #listed > 0 then path = prefix .. listed[math.min(#listed, math.floor((next_user - 1) / #users) + 1)] .. "/issues" end
  next_user = next_user + nthreads
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. tokens[i] }, "")
end
