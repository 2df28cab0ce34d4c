-- The same JSON body POSTed on every request (a static request: no Lua per request).
--   wrk -t2 -c10 -d3s -s bench/lua/post_json.lua http://127.0.0.1:PORT/auth/login -- '{"username": ...}'
-- The -H headers (a credential) are kept; Content-Type is set to application/json.

function init(args)
  wrk.method = "POST"
  wrk.body = args[1]
  wrk.headers["Content-Type"] = "application/json"
end
