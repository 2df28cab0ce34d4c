-- Create + run pairs on one connection: POST .../scenarios (a Slow scenario with a unique tag),
-- then POST .../scenarios/{id}/run with the id from the answer, then again.
--   wrk -t1 -c1 -d5s -s bench/lua/create_run.lua http://127.0.0.1:PORT -- /api/v1/sessions/SID PREFIX
-- done() prints one line: "pairs <runs answered 202> creates <201> other <anything else>".

local base, prefix
local count, state, scenario = 0, "create", nil
created, ran, other = 0, 0, 0

function init(args)
  base = args[1]
  prefix = args[2] .. "-" .. tostring(math.random(1, 1e9))
end

-- wrk.format replaces wrk.headers (the -H ones, with the bearer) by the table it is given.
local function with_headers(extra)
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  for name, value in pairs(extra) do headers[name] = value end
  return headers
end

function request()
  if state == "run" then
    return wrk.format("POST", base .. "/scenarios/" .. scenario .. "/run", with_headers({}), "")
  end
  count = count + 1
  local body = '{"tag": "' .. prefix .. "-" .. count .. '", "dataset_key": "Master data", '
    .. '"algo_name": "Slow", "algo_params": {"duration": 1}}'
  return wrk.format("POST", base .. "/scenarios", with_headers({["Content-Type"] = "application/json"}), body)
end

function response(status, headers, body)
  if state == "create" then
    scenario = body and string.match(body, '"id"%s*:%s*"([^"]+)"')
    if status == 201 and scenario then
      created = created + 1
      state = "run"
    else
      other = other + 1
    end
  else
    if status == 202 then ran = ran + 1 else other = other + 1 end
    state = "create"
  end
end

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("counters").report("pairs %d creates %d other %d\n", {"ran", "created", "other"})
