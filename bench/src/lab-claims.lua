-- wrk script of the strategy lab: the same flash crowd for every strategy, split over its two
-- instances, with every user answered 202 written down (the count afterwards checks them against
-- the rows).
-- Environment: LAB_INSTANCES ("host:port,host:port": thread n connects to instance n mod 2, so
-- each instance gets half the threads and their connections), LAB_COUPON, LAB_USERS and
-- LAB_FIRST_USER (user ids first .. first + users - 1), LAB_TOKENS (their internal tokens, one a
-- line, in that order), LAB_TOLD_FILE (where the 202s' user ids go),
-- LAB_CLAIM_SECONDS (how long claims are sent; wrk runs longer, see delay()).
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk-outcomes.lua")

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } lab_timespec;
int clock_gettime(int clock, lab_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("lab_timespec")
local function now_seconds()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local count_outcome, report, number_thread = response, done, setup
local lab_threads = {}
local instances = {}
for address in string.gmatch(os.getenv("LAB_INSTANCES"), "[^,]+") do
  local host, port = address:match("^(.+):(%d+)$")
  instances[#instances + 1] = wrk.lookup(host, port)[1]
end

function setup(thread)
  number_thread(thread)
  lab_threads[#lab_threads + 1] = thread
  thread.addr = instances[((#lab_threads - 1) % #instances) + 1]
end

function init(args)
  counts, told = {}, {}
  path = "/coupons/" .. os.getenv("LAB_COUPON") .. "/issues"
  users = tonumber(os.getenv("LAB_USERS"))
  first_user = tonumber(os.getenv("LAB_FIRST_USER"))
  tokens = {}
  for line in io.lines(os.getenv("LAB_TOKENS")) do tokens[#tokens + 1] = line end
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  sent = 0
  claims_until = now_seconds() + tonumber(os.getenv("LAB_CLAIM_SECONDS"))
end

-- wrk drops the answers still in flight when its duration ends, and a user answered 202 unseen
-- would count as holding a row without being told. So claims stop at LAB_CLAIM_SECONDS and wrk
-- runs on a grace period with nothing new sent (the next request waits for an hour), only
-- receiving the answers still on their way.
function delay()
  if now_seconds() < claims_until then return 0 end
  return 3600000
end

function request()
  -- Each user's claim goes out twice in a row (a double tap), so the two are in flight at once on
  -- two connections of the same thread; threads take interleaved users, wrapping around.
  local n = math.floor(sent / 2)
  sent = sent + 1
  local i = (n * nthreads + index - 1) % users
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. tokens[i + 1] }, "")
end

function response(status, headers, body)
  count_outcome(status, headers, body)
  if status == 202 then
    local user = body:match('"userId":(%d+)')
    if user then told[#told + 1] = user end
  end
end

function done(summary, latency, requests)
  report(summary, latency, requests)
  local file = assert(io.open(os.getenv("LAB_TOLD_FILE"), "w"))
  for _, thread in ipairs(lab_threads) do
    for _, user in ipairs(thread:get("told")) do file:write(user, "\n") end
  end
  file:close()
end
