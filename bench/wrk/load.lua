-- wrk script for bench/load.py. Arguments after `--`: a file of requests, a mode and the
-- number of wrk threads (wrk runs a thread's init before the next thread's setup).
-- Each line of the file: METHOD <TAB> PATH <TAB> BODY ("-" for none) {<TAB> Header: value}
-- mode "cycle": every thread cycles over all lines (pages: reads, reusable);
-- mode "once": the lines are shared out between the threads and each is sent once,
-- for one-use requests (a card login's challenge, a payment); a thread that runs out
-- sends its last one again, which the portal refuses: the non-2xx count shows it.
-- done() prints machine-readable BENCH lines; non-2xx is counted here exactly (wrk's own
-- count lumps 3xx with 2xx).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("wrk_id", #threads)
end

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do table.insert(fields, field) end
  return fields
end

function init(args)
  non2xx, sent, exhausted = 0, 0, 0
  local all = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(all, line) end
  end
  local mode, mine = args[2] or "cycle", {}
  local wrk_threads = tonumber(args[3] or "1")
  for i, line in ipairs(all) do
    if mode == "cycle" or (i - 1) % wrk_threads == wrk_id - 1 then
      local f = split(line)
      local headers = {}
      for k = 4, #f do
        local name, value = string.match(f[k], "^([^:]+):%s*(.*)$")
        headers[name] = value
      end
      local body = nil
      if f[3] ~= "-" then body = f[3] end
      table.insert(mine, wrk.format(f[1], f[2], headers, body))
    end
  end
  requests_ = mine
  once = (mode == "once")
end

function request()
  sent = sent + 1
  local i = sent
  if i > #requests_ then
    if once then exhausted = exhausted + 1; i = #requests_ else i = (i - 1) % #requests_ + 1 end
  end
  return requests_[i]
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad, over = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    over = over + t:get("exhausted")
  end
  io.write(string.format("BENCH requests=%d duration_us=%d non2xx=%d exhausted=%d " ..
    "socket_errors=%d p50_us=%d p95_us=%d p99_us=%d\n",
    summary.requests, summary.duration, bad, over,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
