-- wrk script: one redemption per generated code, each by its own pre-signed user, counting outcomes
-- by problem code. Environment: BENCH_CODES (file, one "code token" per line), BENCH_THREADS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk-outcomes.lua")

function init(args)
  counts = {}
  codes, tokens = {}, {}
  for line in io.lines(os.getenv("BENCH_CODES")) do
    local code, token = line:match("^(%S+) (%S+)$")
    codes[#codes + 1] = code
    tokens[#tokens + 1] = token
  end
  -- Threads take interleaved codes so no two threads redeem the same one.
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  next_code = index
end

function request()
  local i = ((next_code - 1) % #codes) + 1
  next_code = next_code + nthreads
  return wrk.format("POST", "/api/codes/" .. codes[i] .. "/redemptions", { ["Authorization"] = "Bearer " .. tokens[i] }, "")
end
