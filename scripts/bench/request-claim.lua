-- wrk: POST /v1/teams/$BENCH_TEAM/claim for one task at a time. bench.sh queues enough tasks
-- first; a claim that finds none (the queue ran dry) is counted apart, as it costs less.
local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_report.lua")

wrk.method = "POST"
wrk.path = "/v1/teams/" .. (os.getenv("BENCH_TEAM") or "sales-emea") .. "/claim"
wrk.headers = report.headers()
wrk.body = '{"worker":"wrk","limit":1,"lease_seconds":300}'

local threads = {}
function setup(thread)
    threads[#threads + 1] = thread
end

unexpected = 0
empty = 0
function response(status, headers, body)
    if status ~= 200 then
        unexpected = unexpected + 1
    elseif not body:find('"token"', 1, true) then
        empty = empty + 1
    end
end

function done(summary, latency, requests)
    local bad, none = 0, 0
    for _, thread in ipairs(threads) do
        bad = bad + thread:get("unexpected")
        none = none + thread:get("empty")
    end
    report.print(summary, latency, { unexpected = bad, empty_claims = none })
end
