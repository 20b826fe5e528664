-- wrk script for scripts/bench: POST /v1/token, rotating over the authids in $BENCH_AUTHIDS
-- (each thread starts at its own offset and steps by the thread count), and one JSON line of
-- results at the end.
local authids = {}
for line in io.lines(os.getenv("BENCH_AUTHIDS")) do
  authids[#authids + 1] = line
end

local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  counter = id
  step = tonumber(os.getenv("BENCH_THREADS"))
end

function request()
  counter = counter + step
  local authid = authids[(counter % #authids) + 1]
  return wrk.format("POST", "/v1/token", { ["Authorization"] = "Bearer " .. authid }, "")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"errors":%d,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
