-- wrk script for bench/booking_load.sh: holds (POST /api/v1/bookings, one seat each) or
-- payments of earlier holds (POST /api/v1/bookings/{id}/payments), every request with its own
-- customer token and body.
--
--   wrk -t T -c C -d 20s --latency -s bench/hold_pay.lua http://127.0.0.1:PORT -- MODE DIR T [K0]
--
-- MODE  spread  the i-th request holds one seat of a show spread over all shows: the
--               (show, seat) pair is i * 7919 mod (shows * 500) -- a fixed permutation, so
--               requests hop between shows pseudo-randomly and no seat is asked for twice
--       hot     the i-th request holds seat i mod 500 of show floor(i / 500): every thread
--               works on the same show until its 500 seats are gone, then on the next one
--               ("several hot shows in sequence"; no 409 from seats running out)
--       pay     the i-th request pays the i-th booking of DIR/pay.txt; a thread stops when
--               the list is used up
-- DIR   holds tokens.txt ("user_id token" lines), shows.txt (show ids) and, for pay,
--       pay.txt ("booking_id token amount_minor" lines)
-- T     number of threads (the same as -t), so thread t takes requests t, t+T, t+2T, ...
-- K0    first value of each thread's request counter (default 0): a measured run after a
--       warm-up starts past the warm-up's requests (the kmax it printed), so no seat is
--       asked for twice
--
-- The request numbering and the (show, seat) mapping are the same as in
-- bench/pgbench_hold.sql, so (a) and (b) ask PostgreSQL for the same rows.
--
-- done() prints one line "WRKSTAT key=value ..." that booking_load.sh parses: 201s only count
-- as successes (ok, ok_rps); other statuses are listed in `statuses`. ok_rps is measured from
-- the first request to the last response (CLOCK_MONOTONIC through LuaJIT's ffi), because wrk's
-- own duration is always -d even when the pay list ran out earlier.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local SEATS_PER_SHOW = 500
local SEATS_PER_ROW = 25
local ROW_LABELS = "ABCDEFGHIJKLMNOPQRST"

-- main state (setup / done)
local threads = {}
local next_tid = 0

function setup(thread)
    thread:set("tid", next_tid)
    next_tid = next_tid + 1
    table.insert(threads, thread)
end

-- per-thread state
local mode, nthreads = nil, 1
k = 0
local tokens, shows, pays = {}, {}, {}
local headers_json = { ["Content-Type"] = "application/json" }
n201, nother, statuses, stopped, t_first, t_last = 0, 0, "", 0, 0, 0
local status_counts = {}

local function lines(path)
    local out = {}
    local f = assert(io.open(path, "r"), "cannot open " .. path)
    for line in f:lines() do
        if line ~= "" then
            table.insert(out, line)
        end
    end
    f:close()
    return out
end

function init(args)
    mode = args[1]
    local dir = args[2]
    nthreads = tonumber(args[3]) or 1
    k = tonumber(args[4]) or 0
    for _, l in ipairs(lines(dir .. "/tokens.txt")) do
        local _, token = l:match("^(%S+)%s+(%S+)$")
        table.insert(tokens, token)
    end
    shows = lines(dir .. "/shows.txt")
    if mode == "pay" then
        for _, l in ipairs(lines(dir .. "/pay.txt")) do
            local id, token, amount = l:match("^(%S+)%s+(%S+)%s+(%S+)$")
            table.insert(pays, { id = id, token = token, amount = amount })
        end
    elseif mode ~= "spread" and mode ~= "hot" then
        error("mode must be spread, hot or pay, not " .. tostring(mode))
    end
end

local function seat_id(n) -- 0..499 -> "A-1".."T-25"
    local row = math.floor(n / SEATS_PER_ROW)
    return ROW_LABELS:sub(row + 1, row + 1) .. "-" .. tostring(n % SEATS_PER_ROW + 1)
end

function request()
    local i = k * nthreads + tid
    k = k + 1
    if t_first == 0 then
        t_first = now_us()
    end
    if mode == "pay" then
        if i >= #pays then
            -- list used up: stop this thread; this last request is a cheap no-op
            stopped = 1
            wrk.thread:stop()
            return wrk.format("GET", "/healthz")
        end
        local p = pays[i + 1]
        return wrk.format("POST", "/api/v1/bookings/" .. p.id .. "/payments", {
            ["Content-Type"] = "application/json",
            ["Authorization"] = "Bearer " .. p.token,
        }, '{"amount_minor":' .. p.amount .. ',"currency":"INR","card_token":"tok_visa"}')
    end
    local nshows = #shows
    local show, seat
    if mode == "spread" then
        local p = (i * 7919) % (nshows * SEATS_PER_SHOW)
        show = p % nshows
        seat = math.floor(p / nshows)
    else
        show = math.floor(i / SEATS_PER_SHOW) % nshows
        seat = i % SEATS_PER_SHOW
    end
    local body = '{"show_id":"' .. shows[show + 1] .. '","seat_ids":["' .. seat_id(seat) .. '"]}'
    return wrk.format("POST", "/api/v1/bookings", {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1],
    }, body)
end

function response(status, headers, body)
    t_last = now_us()
    if status == 201 then
        n201 = n201 + 1
    else
        nother = nother + 1
        status_counts[status] = (status_counts[status] or 0) + 1
        local parts = {}
        for s, c in pairs(status_counts) do
            table.insert(parts, tostring(s) .. ":" .. tostring(c))
        end
        statuses = table.concat(parts, ",")
    end
end

function done(summary, latency, requests)
    local ok, other, st = 0, 0, {}
    local first, last, kmax = nil, 0, 0
    for _, t in ipairs(threads) do
        local f, l = tonumber(t:get("t_first")) or 0, tonumber(t:get("t_last")) or 0
        kmax = math.max(kmax, tonumber(t:get("k")) or 0)
        if f > 0 and (first == nil or f < first) then
            first = f
        end
        if l > last then
            last = l
        end
        ok = ok + (tonumber(t:get("n201")) or 0)
        other = other + (tonumber(t:get("nother")) or 0)
        local s = t:get("statuses")
        if s ~= nil and s ~= "" then
            table.insert(st, s)
        end
    end
    local secs = summary.duration / 1e6
    if first ~= nil and last > first then
        secs = (last - first) / 1e6
    end
    local e = summary.errors
    io.write(string.format(
        "WRKSTAT requests=%d secs=%.2f ok=%d other=%d statuses=%s ok_rps=%.1f rps=%.1f "
            .. "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f mean_ms=%.2f errors=%d kmax=%d\n",
        summary.requests, secs, ok, other, (#st > 0) and table.concat(st, ",") or "-",
        ok / secs, summary.requests / secs,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.mean / 1000,
        e.connect + e.read + e.write + e.timeout, kmax))
end
