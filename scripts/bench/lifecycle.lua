-- wrk: the task lifecycle of bench.sh's HTTP rows, the compiled replacement of bench_http.py's
-- Python workers. Run with as many threads as connections (wrk -t N -c N), so each thread's Lua
-- state drives exactly one keep-alive connection and can chain its requests:
--   single: create -> claim (limit 1) -> complete
--   batch:  create BENCH_BATCH_SIZE tasks -> claim that many -> complete them in one request
-- The claim may hand back another worker's task, as with the Python driver. ids and lease tokens
-- come out of the claim's JSON by pattern: a claimed task's top-level "id" and its lease's
-- "token", in order (bench tasks carry no subject, whose "id" would get in the way).
-- A cycle counts when its last response arrives within [start + BENCH_WARMUP, + BENCH_SECONDS].
local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_report.lua")

local mode = os.getenv("BENCH_MODE") or "single"
local batch_size = tonumber(os.getenv("BENCH_BATCH_SIZE") or "10")
local team_path = "/v1/teams/" .. (os.getenv("BENCH_TEAM") or "logistics-emea")
local warmup = tonumber(os.getenv("BENCH_WARMUP") or "1")
local seconds = tonumber(os.getenv("BENCH_SECONDS") or "10")
local headers = report.headers()

local threads = {}
function setup(thread)
    threads[#threads + 1] = thread
    thread:set("worker_index", #threads)
end

-- Per thread (one connection each): the figures done() collects.
cycles = 0
tasks = 0
errors = 0
empty_claims = 0
latencies = {}
examples = {}

local state, cycle_start, claimed, t_measure, t_end
local create_body, claim_body, worker

function init(args)
    worker = "wrk-" .. tostring(worker_index)
    local limit = mode == "batch" and batch_size or 1
    if mode == "batch" then
        local items = {}
        for i = 1, batch_size do items[i] = '{"kind":"bench","title":"t"}' end
        create_body = '{"tasks":[' .. table.concat(items, ",") .. "]}"
    else
        create_body = '{"kind":"bench","title":"t"}'
    end
    claim_body = string.format('{"worker":"%s","limit":%d,"lease_seconds":60}', worker, limit)
    state = "create"
    local t_begin = report.now()
    t_measure = t_begin + warmup
    t_end = t_measure + seconds
end

local function fail(what, status, body)
    errors = errors + 1
    if #examples < 3 then
        examples[#examples + 1] = string.format("%s answered %d: %s", what, status, (body or ""):sub(1, 200))
    end
    state = "create"
end

local function finish(done)
    local now = report.now()
    if now >= t_measure and now <= t_end then
        cycles = cycles + 1
        tasks = tasks + done
        latencies[#latencies + 1] = (now - cycle_start) * 1000
    end
    state = "create"
end

function request()
    if state == "create" then
        cycle_start = report.now()
        local path = mode == "batch" and team_path .. "/tasks/batch" or team_path .. "/tasks"
        return wrk.format("POST", path, headers, create_body)
    elseif state == "claim" then
        return wrk.format("POST", team_path .. "/claim", headers, claim_body)
    elseif mode == "batch" then
        local items = {}
        for i, task in ipairs(claimed) do
            items[i] = string.format('{"id":%s,"lease_token":"%s"}', task.id, task.token)
        end
        return wrk.format("POST", "/v1/tasks/complete", headers, '{"items":[' .. table.concat(items, ",") .. "]}")
    else
        local task = claimed[1]
        return wrk.format("POST", "/v1/tasks/" .. task.id .. "/complete", headers,
            string.format('{"lease_token":"%s"}', task.token))
    end
end

function response(status, response_headers, body)
    if state == "create" then
        if status ~= 201 then return fail(mode == "batch" and "batch create" or "create", status, body) end
        state = "claim"
    elseif state == "claim" then
        if status ~= 200 then return fail("claim", status, body) end
        local ids, tokens = {}, {}
        for id in body:gmatch('"id":(%d+)') do ids[#ids + 1] = id end
        for token in body:gmatch('"token":"([%x%-]+)"') do tokens[#tokens + 1] = token end
        if #ids ~= #tokens then return fail("claim (ids and lease tokens do not pair up)", status, body) end
        if #ids == 0 then
            empty_claims = empty_claims + 1
            return finish(0)
        end
        claimed = {}
        for i = 1, #ids do claimed[i] = { id = ids[i], token = tokens[i] } end
        state = "complete"
    else
        if status ~= 200 then return fail(mode == "batch" and "batch complete" or "complete", status, body) end
        local done = 1
        if mode == "batch" then
            done = 0
            for _ in body:gmatch('"outcome":"completed"') do done = done + 1 end
            if done ~= #claimed then fail("batch complete (not every item completed)", status, body) end
        end
        finish(done)
    end
end

function done(summary, latency, requests)
    local all, result = {}, { cycles = 0, tasks = 0, errors = 0, empty_claims = 0, error_examples = {} }
    for _, thread in ipairs(threads) do
        result.cycles = result.cycles + thread:get("cycles")
        result.tasks = result.tasks + thread:get("tasks")
        result.errors = result.errors + thread:get("errors")
        result.empty_claims = result.empty_claims + thread:get("empty_claims")
        for _, value in ipairs(thread:get("latencies")) do all[#all + 1] = value end
        for _, example in ipairs(thread:get("examples")) do
            if #result.error_examples < 5 then result.error_examples[#result.error_examples + 1] = example end
        end
    end
    table.sort(all)
    local sum = 0
    for _, value in ipairs(all) do sum = sum + value end
    result.p50_ms = report.percentile(all, 50)
    result.p99_ms = report.percentile(all, 99)
    result.mean_ms = #all > 0 and sum / #all or nil
    report.print(summary, latency, result)
end
