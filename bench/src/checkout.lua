-- wrk script: shops' checkouts using the coupon each pre-signed user holds, one order per request,
-- counting outcomes by problem code. Environment: BENCH_TOKENS (file, one "userId token" per line),
-- BENCH_COUPON, BENCH_THREADS. The first pass over the users is one first use each (201); a user
-- met again brings another order, refused as COUPON_ALREADY_USED.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk-outcomes.lua")

function init(args)
  counts = {}
  tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line:match("^%d+ (.+)$")
  end
  path = "/api/users/me/coupons/" .. os.getenv("BENCH_COUPON") .. "/redemptions"
  -- Threads take interleaved users so no two threads send the same one.
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  next_user = index
end

function request()
  local n = next_user
  local i = ((n - 1) % #tokens) + 1
  next_user = next_user + nthreads
  local body = string.format('{"orderId":"bench-%d","orderAmount":20000}', n)
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json" }, body)
end
