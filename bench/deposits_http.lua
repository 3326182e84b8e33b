-- wrk script for bench/deposits_http.py: POST /api/v1/deposits with a unique bank reference and
-- Idempotency-Key per request, each paying a different open payment notice seeded by the Python script.
--
-- Environment (set by deposits_http.py):
--   BENCH_DATA     file with one notice per line: account_no|notice_no|amount|payer_name|payer_account|kind|channel
--   BENCH_FIRST    first line of this run's slice (1-based), BENCH_LAST its last line (inclusive)
--   BENCH_THREADS  wrk's -t; thread k takes every BENCH_THREADS-th line of the slice, so that consecutive
--                  requests go to different supervised accounts (the file interleaves them)
--   BENCH_TOKEN    the bank's API key; BENCH_TAG prefixes bank references; BENCH_VALUE_DATE the value date
--
-- done() prints one line "BENCH_RESULT {json}" with the counts and latency percentiles (bench/harness.lua).

local harness = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "harness.lua")
setup = harness.setup

function init(args)
  local data = os.getenv("BENCH_DATA")
  local first = tonumber(os.getenv("BENCH_FIRST"))
  local last = tonumber(os.getenv("BENCH_LAST"))
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  tag = os.getenv("BENCH_TAG")
  value_date = os.getenv("BENCH_VALUE_DATE")
  authorization = "Bearer " .. os.getenv("BENCH_TOKEN")
  rows = {}
  local n = 0
  for line in io.lines(data) do
    n = n + 1
    if n > last then break end
    if n >= first and (n - first) % nthreads == tid - 1 then
      local a, no, amount, payer, payer_account, kind, channel =
        line:match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$")
      rows[#rows + 1] = { a, no, amount, payer, payer_account, kind, channel }
    end
  end
  idx = 0
  accepted = 0      -- 201 with status "accepted" and a voucher
  other201 = 0      -- 201 without a voucher (suspense): a check failed
  non201 = 0        -- any other status
  exhausted = 0     -- requests wanted after the slice ran out (the thread then stops)
  first_bad = ""
end

function request()
  idx = idx + 1
  local r = rows[idx]
  if r == nil then
    exhausted = exhausted + 1
    wrk.thread:stop()
    return wrk.format("GET", "/health")
  end
  local ref = tag .. "-" .. tid .. "-" .. idx
  local body = '{"account_no":"' .. r[1] .. '","bank_reference":"' .. ref .. '","amount":"' .. r[3]
    .. '","payer_name":"' .. r[4] .. '","payer_account":"' .. r[5] .. '","notice_no":"' .. r[2]
    .. '","kind":"' .. r[6] .. '","channel":"' .. r[7] .. '","value_date":"' .. value_date .. '"}'
  local headers = {
    ["Host"] = wrk.host,  -- wrk.format uses the table given instead of wrk.headers
    ["Authorization"] = authorization,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "idem-" .. ref,
  }
  return wrk.format("POST", "/api/v1/deposits", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    if body:find('"status":"accepted"', 1, true) and body:find('"voucher_no":"PZ', 1, true) then
      accepted = accepted + 1
    else
      other201 = other201 + 1
      harness.note_bad(status, body, 400)
    end
  else
    non201 = non201 + 1
    harness.note_bad(status, body, 400)
  end
end

function done(summary, latency, requests)
  harness.report(summary, latency, { "accepted", "other201", "non201", "exhausted" })
end
