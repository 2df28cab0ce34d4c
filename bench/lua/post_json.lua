-- The same JSON body POSTed on every request.
--   wrk -t2 -c10 -d3s -s bench/lua/post_json.lua http://127.0.0.1:PORT/auth/login -- '{"username": ...}'
-- The -H headers (a credential) are kept; Content-Type is set to application/json.
-- done() prints one line: "sent <requests written>" (answers still outstanding when wrk stops
-- are not in wrk's request count; a bench may wait for the server to finish them).

local req
sent = 0

function init(args)
  wrk.method = "POST"
  wrk.body = args[1]
  wrk.headers["Content-Type"] = "application/json"
  req = wrk.format()
end

function request()
  sent = sent + 1
  return req
end

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("counters").report("sent %d\n", {"sent"})
