-- Shared by the wrk scripts of scripts/bench.sh (loaded with dofile from the same folder): a
-- monotonic clock, a tiny JSON writer, and the one line of results that bench_http.py reads.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")

local M = {}

-- Seconds on CLOCK_MONOTONIC (1 on Linux): os.clock is CPU time, os.time whole seconds.
function M.now()
    ffi.C.clock_gettime(1, timespec)
    return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local function encode(value)
    local kind = type(value)
    if kind == "number" then
        if value ~= value or value == math.huge or value == -math.huge then return "null" end
        return string.format("%.17g", value)
    elseif kind == "string" then
        return '"' .. value:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
    elseif kind == "boolean" then
        return tostring(value)
    elseif kind == "table" then
        local parts = {}
        if #value > 0 or next(value) == nil then
            for _, item in ipairs(value) do parts[#parts + 1] = encode(item) end
            return "[" .. table.concat(parts, ",") .. "]"
        end
        for key, item in pairs(value) do parts[#parts + 1] = encode(tostring(key)) .. ":" .. encode(item) end
        return "{" .. table.concat(parts, ",") .. "}"
    end
    return "null"
end
M.encode = encode

-- Nearest-rank percentile of an ascending list.
function M.percentile(sorted, p)
    if #sorted == 0 then return nil end
    local rank = math.max(1, math.ceil(p / 100 * #sorted))
    return sorted[math.min(rank, #sorted)]
end

-- Prints the line bench_http.py looks for: wrk's own summary (every request of the run) plus
-- the script's figures.
function M.print(summary, latency, extra)
    local result = {
        requests = summary.requests,
        duration_s = summary.duration / 1e6,
        socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        status_errors = summary.errors.status,
        request_p50_ms = latency:percentile(50) / 1000,
        request_p99_ms = latency:percentile(99) / 1000,
    }
    for key, value in pairs(extra or {}) do result[key] = value end
    io.write("BENCH_WRK_RESULT " .. encode(result) .. "\n")
end

-- Headers of an authenticated JSON request.
function M.headers()
    return {
        ["Content-Type"] = "application/json",
        ["Accept"] = "application/json",
        ["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
    }
end

return M
