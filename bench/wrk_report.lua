-- Prints one JSON line with the figures the benchmark reads (latencies in microseconds).
local method = os.getenv("WRK_METHOD") or "GET"
wrk.method = method
if method == "POST" then
  wrk.body = os.getenv("WRK_BODY") or "{}"
  wrk.headers["Content-Type"] = "application/json"
end
local accept = os.getenv("WRK_ACCEPT")
if accept then wrk.headers["Accept"] = accept end
local language = os.getenv("WRK_LANGUAGE")
if language then wrk.headers["Accept-Language"] = language end
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization then wrk.headers["Authorization"] = authorization end
local cookie = os.getenv("WRK_COOKIE")
if cookie then wrk.headers["Cookie"] = cookie end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
