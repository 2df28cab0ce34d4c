-- Gateway telemetry: POST /api/v1/gateway/telemetry with a report stamped with the client's
-- wall clock (microseconds, gettimeofday through LuaJIT's ffi), so that each report is newer
-- than the ones sent before it. Reports sent at the same moment on two connections may still
-- be applied out of order: the later-applied older one is answered 200 "applied": false.
--   wrk -t2 -c10 -d3s -H "Authorization: Bearer hdt_..." -s bench/lua/telemetry.lua \
--       http://127.0.0.1:PORT/api/v1/gateway/telemetry -- '<assets as a JSON object>'
-- done() prints one line: "applied <true> stale <false> other <anything else>".

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local now = ffi.new("bench_timeval")
local assets, headers
applied, stale, other = 0, 0, 0

function init(args)
  assets = args[1]
  headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/json"
end

function request()
  ffi.C.gettimeofday(now, nil)
  local stamp = os.date("!%Y-%m-%dT%H:%M:%S", tonumber(now.tv_sec)) .. string.format(".%06dZ", tonumber(now.tv_usec))
  local body = '{"reportedAt": "' .. stamp .. '", "assets": ' .. assets .. '}'
  return wrk.format("POST", nil, headers, body)
end

function response(status, response_headers, body)
  if status ~= 200 then
    other = other + 1
  elseif string.find(body, '"applied":%s*true') then
    applied = applied + 1
  else
    stale = stale + 1
  end
end

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("counters").report("applied %d stale %d other %d\n", {"applied", "stale", "other"})
