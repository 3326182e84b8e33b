-- wrk script for bench/public_lookup.py: GET /api/v1/public/vouchers/{voucher_no}?code=CODE, cycling
-- through the vouchers seeded by the Python script (every look-up is a real match).
--
-- Environment (set by public_lookup.py):
--   BENCH_DATA  file with one voucher per line: voucher_no|verification_code
--
-- done() prints one line "BENCH_RESULT {json}" with the counts and latency percentiles (microseconds).

local threads = {}
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("BENCH_DATA")) do
    local no, code = line:match("^([^|]*)|([^|]*)$")
    paths[#paths + 1] = "/api/v1/public/vouchers/" .. no .. "?code=" .. code
  end
  idx = tid * 7919
  ok = 0
  other = 0
  first_bad = ""
end

function request()
  idx = idx + 1
  return wrk.format("GET", paths[(idx % #paths) + 1])
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
    if first_bad == "" then first_bad = status .. " " .. body:sub(1, 300) end
  end
end

local function quote(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('[%c]', ' ') .. '"'
end

function done(summary, latency, requests)
  local good, bad, first = 0, 0, ""
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    bad = bad + t:get("other")
    if first == "" then first = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"ok":%d,"other":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d},"first_bad":%s}\n',
    summary.requests, summary.duration, good, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, quote(first)))
end
