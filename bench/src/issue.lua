-- wrk script: one issue request per pre-signed user, counting outcomes by problem code.
-- Environment: BENCH_TOKENS (file, one "userId token" per line), BENCH_COUPON, BENCH_MODE
-- (gateway: Bearer token; direct: the identity headers the gateway would set).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

function init(args)
  counts = {}
  users, tokens = {}, {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    local id, token = line:match("^(%d+) (.+)$")
    users[#users + 1] = id
    tokens[#tokens + 1] = token
  end
  path = "/api/coupons/" .. os.getenv("BENCH_COUPON") .. "/issues"
  direct = os.getenv("BENCH_MODE") == "direct"
  if direct then path = "/coupons/" .. os.getenv("BENCH_COUPON") .. "/issues" end
  -- Threads take interleaved users so no two threads send the same one.
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  next_user = index
end

function request()
  local i = ((next_user - 1) % #users) + 1
  next_user = next_user + nthreads
  if direct then
    return wrk.format("POST", path, { ["X-User-Id"] = users[i], ["X-User-Role"] = "USER" }, "")
  end
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. tokens[i] }, "")
end

function response(status, headers, body)
  local key = tostring(status)
  if status >= 400 then key = body:match('"code":"([A-Z_]+)"') or key end
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p95Us":%d,"p99Us":%d,"maxUs":%d,' ..
    '"socketErrors":%d,"outcomes":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
