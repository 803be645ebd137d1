-- wrk: POST /v1/teams/$BENCH_TEAM/tasks, a small task each time (the lifecycle's create).
-- Any status but 201 counts as an error (wrk itself counts only 4xx and 5xx).
local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_report.lua")

wrk.method = "POST"
wrk.path = "/v1/teams/" .. (os.getenv("BENCH_TEAM") or "sales-emea") .. "/tasks"
wrk.headers = report.headers()
wrk.body = '{"kind":"bench","title":"t"}'

local threads = {}
function setup(thread)
    threads[#threads + 1] = thread
end

unexpected = 0
function response(status, headers, body)
    if status ~= 201 then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("unexpected") end
    report.print(summary, latency, { unexpected = total })
end
