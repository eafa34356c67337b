-- wrk script for bench/all.sh (rows 5 and 6): the holds of hold_pay.lua, each connection
-- waiting PACE milliseconds between a response and its next request, so the offered load
-- stays well below saturation and a p99 measures interference, not queueing for a full
-- machine (closed-loop wrk at saturation would only restate throughput as latency).
--
--   wrk ... -s bench/hold_paced.lua URL -- MODE DIR T K0 PACE
--
-- MODE, DIR, T, K0 as in hold_pay.lua; PACE in ms (0: no pause).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "hold_pay.lua")

local pace = 0
local hold_pay_init = init

function init(args)
    hold_pay_init(args)
    pace = tonumber(args[5]) or 0
end

-- wrk looks for delay() when it loads the script, before init(): it must exist at top level.
function delay()
    return pace
end
