-- The shared part of the wrk scripts in bench/ (loaded with dofile by deposits_http.lua, public_lookup.lua):
-- numbering wrk's threads, and done()'s one line "BENCH_RESULT {json}" that bench/harness.py reads back,
-- with the counts, socket errors and latency percentiles (microseconds) of the run.
--
-- A script sets `setup = harness.setup`, keeps its counters and `first_bad` (the first unexpected answer) as
-- globals of each thread, and ends with harness.report(summary, latency, {"counter", ...}).

local harness = {}
local threads = {}
local next_tid = 0

-- wrk's setup(thread): every thread gets its number (1, 2, …) as the global `tid`
function harness.setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

-- remembers the first unexpected answer of this thread (status and the start of the body)
function harness.note_bad(status, body, length)
  if first_bad == "" then first_bad = status .. " " .. body:sub(1, length) end
end

local function quote(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('[%c]', ' ') .. '"'
end

-- done(): sums the named counters over the threads and prints the one result line
function harness.report(summary, latency, counters)
  local totals, first = {}, ""
  for _, name in ipairs(counters) do totals[name] = 0 end
  for _, t in ipairs(threads) do
    for _, name in ipairs(counters) do totals[name] = totals[name] + t:get(name) end
    if first == "" then first = t:get("first_bad") end
  end
  local counts = {}
  for _, name in ipairs(counters) do counts[#counts + 1] = string.format('"%s":%d', name, totals[name]) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,%s,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},'
      .. '"first_bad":%s}\n',
    summary.requests, summary.duration, summary.bytes, table.concat(counts, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, quote(first)))
end

return harness
