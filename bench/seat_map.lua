-- wrk script for bench/all.sh (row 2): seat-map reads, GET /api/v1/shows/{id}/seats (no token:
-- the seat map is public), request i of the run asking for show i mod (number of shows).
--
--   wrk -t T -c C -d 10s --latency -s bench/seat_map.lua http://127.0.0.1:PORT -- DIR T [MODE]
--
-- DIR holds shows.txt (one show id per line); T is the number of threads (as -t). MODE:
--   full        (default) Accept-Encoding: gzip, successes are 200s: a browser's first load
--   revalidate  the same, with If-None-Match: the show's ETag from DIR/tags.txt ("id tag"
--               lines, fetched by bench/all.sh just before); successes are 304s (a browser
--               polling an unchanged map)
-- done() prints the same "WRKSTAT key=value ..." line as hold_pay.lua.

local threads = {}
local next_tid = 0

function setup(thread)
    thread:set("tid", next_tid)
    next_tid = next_tid + 1
    table.insert(threads, thread)
end

k = 0
n200, nother = 0, 0
local shows, nthreads, mode = {}, 1, "full"
local tags = {}

function init(args)
    local f = assert(io.open(args[1] .. "/shows.txt", "r"))
    for line in f:lines() do
        if line ~= "" then
            table.insert(shows, "/api/v1/shows/" .. line .. "/seats")
        end
    end
    f:close()
    nthreads = tonumber(args[2]) or 1
    mode = args[3] or "full"
    if mode == "revalidate" then
        local t = assert(io.open(args[1] .. "/tags.txt", "r"))
        for line in t:lines() do
            local id, tag = line:match("^(%S+)%s+(.+)$")
            if id then
                tags["/api/v1/shows/" .. id .. "/seats"] = tag
            end
        end
        t:close()
    end
end

function request()
    local i = k * nthreads + tid
    k = k + 1
    local path = shows[(i % #shows) + 1]
    local h = { ["Accept-Encoding"] = "gzip" }
    if mode == "revalidate" and tags[path] then
        h["If-None-Match"] = tags[path]
    end
    return wrk.format("GET", path, h)
end

function response(status, headers, body)
    local ok = (mode == "revalidate" and status == 304) or (mode ~= "revalidate" and status == 200)
    if ok then
        n200 = n200 + 1
    else
        nother = nother + 1
    end
end

function done(summary, latency, requests)
    local ok, other = 0, 0
    for _, t in ipairs(threads) do
        ok = ok + (tonumber(t:get("n200")) or 0)
        other = other + (tonumber(t:get("nother")) or 0)
    end
    local secs = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "WRKSTAT requests=%d secs=%.2f ok=%d other=%d statuses=- ok_rps=%.1f rps=%.1f "
            .. "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f mean_ms=%.2f errors=%d kmax=0 bytes=%d\n",
        summary.requests, secs, ok, other, ok / secs, summary.requests / secs,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.mean / 1000,
        e.connect + e.read + e.write + e.timeout, summary.bytes))
end
