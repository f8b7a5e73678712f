-- SPDX-License-Identifier: MIT
-- wrk.lua: the one wrk script of the bench (tests/bench/bench.py drives it).
-- Requests come from a file written by bench.py, one a line:
--   METHOD <tab> PATH <tab> HEADERS <tab> BODY     (headers "Name: value", joined by \31)
-- Environment:
--   BENCH_REQS        the request file
--   BENCH_MODE        "cycle": every thread loops over all lines;
--                     "once": line i belongs to thread i % BENCH_WRK_THREADS and is sent
--                     once; a thread out of lines sends nothing more (delay() parks its
--                     connections), and once every answer is in it touches
--                     BENCH_MARK<thread>, so bench.py can stop wrk (SIGINT) with every
--                     answer counted
--   BENCH_WRK_THREADS wrk's -t (to split the lines)
--   BENCH_MARK        prefix of the "all answered" marker files (mode once)
--   BENCH_RESPONSES   "1": count statuses per thread (costs wrk some CPU; always on in once)
--   BENCH_CAPTURE     prefix of files that get each 3xx answer's mpb_bind cookie, a line each
--   BENCH_OUT         where done() writes the results as JSON
-- Nothing here decides what is measured; it only sends and counts.

local threads = {}

local function split(line, sep)
   local out, start = {}, 1
   while true do
      local i = string.find(line, sep, start, true)
      if not i then
         out[#out + 1] = string.sub(line, start)
         return out
      end
      out[#out + 1] = string.sub(line, start, i - 1)
      start = i + 1
   end
end

function setup(thread)
   thread:set("tid", #threads)
   threads[#threads + 1] = thread
end

function init(args)
   local mode = os.getenv("BENCH_MODE") or "cycle"
   local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1")
   local capture = os.getenv("BENCH_CAPTURE")
   once = (mode == "once")
   reqs, pos, reserved, exhausted, marked, sent, got = {}, 0, 0, false, false, 0, 0
   statuses = {}
   captured = 0
   local i = 0
   for line in io.lines(os.getenv("BENCH_REQS")) do
      if line ~= "" then
         if not once or i % nthreads == tid then
            local f = split(line, "\t")
            local headers = {}
            if f[3] and f[3] ~= "" then
               for _, h in ipairs(split(f[3], "\31")) do
                  local name, value = string.match(h, "^([^:]+):%s*(.*)$")
                  headers[name] = value
               end
            end
            local body = f[4]
            if body == "" then body = nil end
            reqs[#reqs + 1] = wrk.format(f[1], f[2], headers, body)
         end
         i = i + 1
      end
   end
   if capture then
      capture_file = io.open(capture .. tid, "w")
      capture_file:setvbuf("line")
   end
   if not once and os.getenv("BENCH_RESPONSES") ~= "1" and not capture then
      response = nil       -- wrk then skips header and body parsing
   end
end

local function answered_all()
   if exhausted and got >= sent and not marked then
      marked = true
      local m = io.open(os.getenv("BENCH_MARK") .. tid, "w")
      if m then m:close() end
   end
end

if os.getenv("BENCH_MODE") == "once" then
   -- wrk asks delay() before each request; a thread out of lines parks its
   -- connections for an hour instead of sending anything else.
   -- A connection reserves its line here: between delay() and request()
   -- other connections run, so the check must not wait for request().
   function delay()
      if reserved >= #reqs then
         exhausted = true
         answered_all()
         return 3600000
      end
      reserved = reserved + 1
      return 0
   end
end

function request()
   if once and pos >= reserved then
      -- wrk calls request() once on thread 0 before the run to check the
      -- script (script_verify_request); that call sends nothing.
      return reqs[1] or wrk.format("GET", "/", {}, nil)
   end
   if pos >= #reqs then
      pos = 0       -- cycle mode (in once mode delay() keeps pos below #reqs)
   end
   pos = pos + 1
   sent = sent + 1
   return reqs[pos]
end

function response(status, headers, body)
   got = got + 1
   statuses[status] = (statuses[status] or 0) + 1
   if capture_file and status >= 300 and status < 400 then
      for name, value in pairs(headers) do
         if string.lower(name) == "set-cookie" then
            local v = string.match(value, "mpb_bind=([^;]+)")
            if v and v ~= "" then
               capture_file:write(v, "\n")
               captured = captured + 1
            end
         end
      end
   end
   if once then answered_all() end
end

local function json_number(x)
   if x ~= x or x == math.huge or x == -math.huge then return "null" end
   return string.format("%.17g", x)
end

function done(summary, latency, requests)
   local parts = {}
   local function add(k, v) parts[#parts + 1] = string.format("%q:%s", k, v) end
   add("duration_us", json_number(summary.duration))
   add("requests", json_number(summary.requests))
   add("bytes", json_number(summary.bytes))
   local e = summary.errors
   add("errors", string.format('{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
                               e.connect, e.read, e.write, e.status, e.timeout))
   local lat = {}
   for _, p in ipairs({ 50, 90, 99, 99.9 }) do
      lat[#lat + 1] = string.format('"p%s":%s', tostring(p), json_number(latency:percentile(p)))
   end
   lat[#lat + 1] = '"mean":' .. json_number(latency.mean)
   lat[#lat + 1] = '"max":' .. json_number(latency.max)
   lat[#lat + 1] = '"min":' .. json_number(latency.min)
   add("latency_us", "{" .. table.concat(lat, ",") .. "}")
   -- A quantile sketch, so bench.py can merge several runs of one row into
   -- one distribution: [percent, microseconds] pairs.
   local q = { string.format("[0,%s]", json_number(latency.min)) }
   local grid = {}
   for p = 1, 99 do grid[#grid + 1] = p end
   for k = 1, 9 do grid[#grid + 1] = 99 + k / 10 end
   grid[#grid + 1] = 99.95
   grid[#grid + 1] = 99.99
   for _, p in ipairs(grid) do
      q[#q + 1] = string.format("[%s,%s]", json_number(p), json_number(latency:percentile(p)))
   end
   q[#q + 1] = string.format("[100,%s]", json_number(latency.max))
   add("quantiles", "[" .. table.concat(q, ",") .. "]")
   local counts, total_captured, out_of_lines = {}, 0, 0
   for _, t in ipairs(threads) do
      local s = t:get("statuses") or {}
      for status, n in pairs(s) do counts[status] = (counts[status] or 0) + n end
      total_captured = total_captured + (t:get("captured") or 0)
      if t:get("exhausted") then out_of_lines = out_of_lines + 1 end
   end
   local st = {}
   for status, n in pairs(counts) do st[#st + 1] = string.format('"%d":%d', status, n) end
   add("statuses", "{" .. table.concat(st, ",") .. "}")
   add("captured", json_number(total_captured))
   add("threads_out_of_lines", json_number(out_of_lines))
   local f = assert(io.open(os.getenv("BENCH_OUT"), "w"))
   f:write("{" .. table.concat(parts, ",") .. "}\n")
   f:close()
end
