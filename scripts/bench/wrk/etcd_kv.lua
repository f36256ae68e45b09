-- wrk script: etcd's JSON gateway with the same load raftor-bench puts on raftor.
--   OP=put | get           /v3/kv/put or /v3/kv/range
--   SERIALIZABLE=1         get: serializable (served by the member alone) instead of linearizable
--   KEYS_FILE=path         one base64 key per line: the key space (raftor-bench's key names)
--   VALUE_B64=...          put: the value, base64 (the gateway's encoding of bytes)
-- Each request picks a random key. done() prints one JSON line that scripts/bench reads:
-- requests, errors, duration and latency percentiles (microseconds).
local op = os.getenv("OP") or "put"
local serializable = os.getenv("SERIALIZABLE") == "1"
local value = os.getenv("VALUE_B64") or ""
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local headers = { ["Content-Type"] = "application/json" }

-- Distinct seeds per thread: wrk loads this script once per thread.
function setup(thread) thread:set("seed", math.random(1, 2 ^ 30)) end
function init() math.randomseed((seed or 1) + os.time()) end

function request()
  local key = keys[math.random(#keys)]
  if op == "put" then
    return wrk.format("POST", "/v3/kv/put", headers,
      '{"key":"' .. key .. '","value":"' .. value .. '"}')
  end
  return wrk.format("POST", "/v3/kv/range", headers,
    '{"key":"' .. key .. '","serializable":' .. (serializable and "true" or "false") .. '}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
