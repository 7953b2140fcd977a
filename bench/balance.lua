-- wrk script for bench/balance.sh: counts answers per X-Worker-Slot, and
-- with BURN_EVERY=N (wrk's args: -- N US) sends every Nth request to
-- /burn?us=US; a third arg "close" sends Connection: close (a new
-- connection per request). Prints "slots A B C ..." (sorted by slot) and the latency
-- percentiles in microseconds.
local threads = {}
local burn_every, burn_us = 0, 0
local headers = nil

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    counts = {}
    n = 0
    burn_every = tonumber(args[1] or "0")
    burn_us = tonumber(args[2] or "0")
    if args[3] == "close" then headers = { ["Connection"] = "close" } end
end

function request()
    n = n + 1
    if burn_every > 0 and n % burn_every == 0 then
        return wrk.format(nil, "/burn?us=" .. burn_us, headers)
    end
    return wrk.format(nil, "/", headers)
end

function response(status, headers, body)
    local s = headers["X-Worker-Slot"] or headers["x-worker-slot"] or "?"
    counts[s] = (counts[s] or 0) + 1
end

function done(summary, latency, requests)
    local total, keys = {}, {}
    for _, t in ipairs(threads) do
        for k, v in pairs(t:get("counts")) do
            if total[k] == nil then table.insert(keys, k) end
            total[k] = (total[k] or 0) + v
        end
    end
    table.sort(keys)
    local line = "slots"
    for _, k in ipairs(keys) do line = line .. " " .. total[k] end
    io.write(line .. "\n")
    io.write(string.format("latency p50 %d p99 %d max %d\n", latency:percentile(50),
                           latency:percentile(99), latency.max))
    io.write(string.format("requests %d errors %d\n", summary.requests,
                           summary.errors.connect + summary.errors.read +
                           summary.errors.write + summary.errors.status +
                           summary.errors.timeout))
end
