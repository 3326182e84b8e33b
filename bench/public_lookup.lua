-- wrk script for bench/public_lookup.py: GET /api/v1/public/vouchers/{voucher_no}?code=CODE, cycling
-- through the vouchers seeded by the Python script (every look-up is a real match).
--
-- Environment (set by public_lookup.py):
--   BENCH_DATA  file with one voucher per line: voucher_no|verification_code
--
-- done() prints one line "BENCH_RESULT {json}" with the counts and latency percentiles (bench/harness.lua).

local harness = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "harness.lua")
setup = harness.setup

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
    harness.note_bad(status, body, 300)
  end
end

function done(summary, latency, requests)
  harness.report(summary, latency, { "ok", "other" })
end
