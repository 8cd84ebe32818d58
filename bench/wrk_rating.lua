-- POSTs one visit rating per request, each with a token of its own (a visit takes one rating;
-- a token used twice is a 409, counted as an error). WRK_TOKENS names a file of tokens, one a
-- line; thread k of WRK_THREADS sends tokens k, k + WRK_THREADS, ... Every WRK_BAD_EVERY-th
-- rating of a thread is a bad one (level 2), which enqueues its rectification after commit,
-- and every fourth of the others a 4.
-- Prints the same WRK_JSON line as wrk_report.lua.
local path = os.getenv("WRK_TOKENS")
local threads = tonumber(os.getenv("WRK_THREADS") or "1")
local bad_every = tonumber(os.getenv("WRK_BAD_EVERY") or "0")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local created = 0
function setup(thread)
  thread:set("id", created)
  created = created + 1
end

-- The requests are formatted once, in init: the generator shares the machine's CPUs with the
-- server, and formatting a body per request cost it (not the server) about 7 % of the
-- throughput, which the baselines' fixed requests do not pay.
local requests, sent = {}, 0
function init(args)
  local n = 0
  for line in io.lines(path) do
    if line ~= "" then
      n = n + 1
      if (n - 1) % threads == (id or 0) then
        local k = #requests + 1
        local level, reason = 5, "fast"
        if bad_every > 0 and k % bad_every == 0 then
          level, reason = 2, "waiting_time"
        elseif k % 4 == 0 then
          level, reason = 4, "friendly"
        end
        local body = string.format('{"token": "%s", "level": %d, "reasons": ["%s"]}',
          line, level, reason)
        requests[k] = wrk.format(nil, nil, nil, body)
      end
    end
  end
end

function request()
  sent = sent + 1
  return requests[((sent - 1) % #requests) + 1]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
