-- wrk: GET /healthz, nothing else. Run by bench_http.py's `wrk` command for the request section.
local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_report.lua")

wrk.method = "GET"
wrk.path = "/healthz"
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
    report.print(summary, latency)
end
