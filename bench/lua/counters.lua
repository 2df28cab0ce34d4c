-- Counters that each wrk thread keeps as globals, summed over the threads when wrk is done.
--   package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
--   require("counters").report("applied %d stale %d\n", {"applied", "stale"})
-- defines wrk's setup() and done(); done() writes the format with the totals, in that order.

local counters = {}
local threads = {}

function counters.report(format, names)
  setup = function(thread)
    table.insert(threads, thread)
  end
  done = function(summary, latency, requests)
    local totals = {}
    for i, name in ipairs(names) do
      totals[i] = 0
      for _, thread in ipairs(threads) do totals[i] = totals[i] + thread:get(name) end
    end
    io.write(string.format(format, unpack(totals)))
  end
end

return counters
