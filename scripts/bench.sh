#!/usr/bin/env bash
# Baton's benchmark, each figure beside a named baseline from the same run, on a throwaway
# PostgreSQL cluster on 127.0.0.1. Builds a release binary unless BATON_BIN is given, prints one
# table and writes it to bench-results/latest.txt. Sections (BENCH_SECTIONS), in the order run:
#
#   rss        the server's VmRSS with 200 concurrent connections (200 waiting long-poll claims,
#              then 200 workers running lifecycles) against its idle VmRSS after start
#   request    what one request costs: GET /healthz, create (POST /v1/teams/sales-emea/tasks) and
#              claim driven by wrk (scripts/bench/request-*.lua; 1 thread, BENCH_REQUEST_CONNECTIONS
#              connections), with req/s, the server's CPU ms and context switches per request and
#              wrk's own CPU per request; /healthz and create also against two throwaway baselines
#              built from Benchmarks/RequestBaseline (a bare Hummingbird route, a generated OpenAPI
#              handler, no Baton middleware). Then the load-driver check: the HTTP per-task
#              lifecycle at BENCH_REQUEST_CONNECTIONS workers driven by the Python workers and by
#              wrk, each driver's CPU per request beside the server's. The tables are emptied after.
#   lifecycle  create/claim/complete lifecycles/s at each BENCH_CONCURRENCY level, the paths taking
#              turns: the bare lifecycle and the bare+events lifecycle (scripts/bench/minimal-*.sql,
#              in their own database, minimal) and Baton's own statements, all under pgbench
#              -n -M prepared; then Baton over HTTP, per task and batched
#   pgqueuer   PgQueuer (pinned from PyPI into a virtual environment under the work directory) on
#              the same cluster, own database: 1 producer enqueuing batches of 10, 5 consumers
#              dequeuing batches of 10 (scripts/bench/pgqueuer_driver.py); skipped with the reason
#              in the table when it cannot be installed or run
#   feed       event-feed lag (create's 201 -> a follower has the task.created event) for the
#              long poll and the SSE stream, beside raw LISTEN/NOTIFY lag and an HTTP round trip;
#              right after start and again after the lifecycle runs have filled the events table
#   history    claim latency p50/p99 over HTTP with BENCH_QUEUED queued and BENCH_FINISHED done
#              tasks bulk-loaded into the table against an empty table (target <= 1.2x), and
#              the mean of the raw claim statement under pgbench at both sizes; then GET team
#              stats at both sizes, one client
#   customers  `batonctl import customers` of BENCH_CUSTOMERS generated customers (a tenth with
#              Chinese, Japanese or Korean names) in rows/s (target >= 20,000), beside psql's
#              \copy of the same file into a bare table; then name search over HTTP, one client,
#              substrings of stored names (Latin, CJK) and broad suffixes: p50 <= 5 ms and
#              p99 <= 20 ms, beside GET /healthz on the same server (scripts/bench/customers.py)
#   orders     orders through their whole life over HTTP (create with two lines, confirm, ship,
#              deliver; the default handoff rules on, so logistics and support get their tasks in
#              the same transactions) by BENCH_ORDER_WORKERS clients, orders/s beside the HTTP
#              task lifecycle (create, claim, complete) at the same concurrency in the same run
#              (scripts/bench/orders.py)
#   reports    plans and KPI reports over two years of a busy region: BENCH_REPORT_ORDERS orders
#              (with lines, split credit, cancellations, deliveries), customers, opportunities and
#              feedback loaded by set-based SQL into Baton's tables (the report summary's triggers
#              run as on any write), then ANALYZE; the summary checked against a rebuild and each
#              KPI revenue against the orders' own sum; then over HTTP, one client, p50/p99 of
#              BENCH_REPORT_RUNS runs: KPIs for the last week, month, quarter and year, the plan
#              report of last year's 205 targets and its leaderboard, each against the 1 s bar,
#              beside GET /healthz and the bare SQL sum over the same period's orders
#              (scripts/bench/reports.py)
#   briefing   the coordinator's desk: GET /v1/briefing (all regions, and one team) beside the
#              separate lists a client would read for the same panels one after another (team
#              stats per team, SLA breaches, dead letters, stock, open cases, today's meetings)
#              and GET /healthz, one client, BENCH_BRIEFING_ROUNDS rounds, on what the earlier
#              sections left in the database (scripts/bench/briefing.py)
#   retention  claim latency and feed lag on the database as found, then with BENCH_RETENTION_EVENTS
#              events and BENCH_RETENTION_FINISHED done tasks bulk-loaded over the last 80 days
#              (targets: claim p99 and feed lag <= 1.2x), then while `batonctl prune
#              --retain-finished-tasks BENCH_RETENTION_AGE` deletes about half the tasks (target:
#              claim p99 <= 2x the loaded figure) (scripts/bench/retention.py)
#   durable    last: the Baton servers stop, the cluster restarts with fsync, synchronous_commit
#              and full_page_writes on (as users run PostgreSQL), and the three pgbench lifecycles
#              run again at each level, reported beside the asynchronous ones
#   schemathesis  the long schemathesis run (scripts/schemathesis.sh) against this build: no
#              5xx and every response as documented; its summary goes under the table
#
# Every ratio column names its baseline: "vs bare+events", "vs Baton SQL", "vs PgQueuer",
# "vs bare HB", "vs OpenAPI HB".
#
#   scripts/bench.sh
#
# Environment:
#   BENCH_SECONDS=10        measured seconds per run
#   BENCH_WARMUP=1          unmeasured warm-up seconds before each run
#   BENCH_CONCURRENCY="1 8 32"
#   BENCH_BATCH_SIZE=10     tasks per batched cycle
#   BENCH_SECTIONS="rss request lifecycle pgqueuer feed history customers orders reports briefing retention durable schemathesis"
#   BENCH_HTTP_DRIVER=wrk   what drives the HTTP lifecycle rows: wrk (scripts/bench/lifecycle.lua,
#                           one connection per wrk thread) or python (bench_http.py's workers)
#   BENCH_PGBENCH_THREADS=2 pgbench -j (at most the number of clients)
#   BENCH_REQUEST_CONNECTIONS=8  wrk connections in the request section (and workers of its
#                           load-driver check)
#   BENCH_REQUEST_BACKLOG=0 tasks queued by SQL before the claim run (0: 4,000 per second of it)
#   BENCH_BASELINE_BIN=path use this request-baseline binary and skip its `swift build`
#   BENCH_PGQUEUER_VERSION=1.6.0  the pgqueuer[asyncpg] release installed from PyPI
#   BENCH_PGQUEUER_SECONDS=15     measured seconds of the PgQueuer run
#   BENCH_QUEUED=100000     queued tasks loaded for the history rows
#   BENCH_FINISHED=1000000  done tasks loaded for the history rows
#   BENCH_HISTORY_CONCURRENCY="1 8"
#   BENCH_HISTORY_ROUNDS=3  the history figures alternate empty and large in this many slices
#   BENCH_FEED_EVENTS=200   measured events per feed path
#   BENCH_RSS_CONNECTIONS=200
#   BENCH_CUSTOMERS=100000  customers imported in the customers section
#   BENCH_CUSTOMER_SEARCHES=3000  measured name searches
#   BENCH_ORDER_WORKERS=8   HTTP clients of the orders section
#   BENCH_REPORT_ORDERS=1000000  orders loaded for the reports section (two years of EMEA)
#   BENCH_REPORT_RUNS=20    measured requests per report (p99 of 20 is the slowest)
#   BENCH_BRIEFING_ROUNDS=200  measured rounds of the briefing section
#   BENCH_RETENTION_EVENTS=10000000  events loaded for the retention section
#   BENCH_RETENTION_FINISHED=2000000  done tasks loaded for the retention section
#   BENCH_RETENTION_CLAIMS=2000  measured claims per phase of the retention section
#   BENCH_RETENTION_FEED_SAMPLES=1000  feed-lag samples per phase of the retention section (its p99
#                           is a sub-3 ms figure: with 200 samples it was the third-slowest, and
#                           moved 1.7-2.8 ms between runs of the same empty database)
#   BENCH_RETENTION_AGE=40d  the age the retention section prunes tasks at (about half of them)
#   BATONCTL_BIN=path       use this batonctl binary and skip its `swift build`
#   BENCH_RSS_SECONDS=10    seconds of the active phase of the RSS section
#   BENCH_QUICK=1           small defaults for development: 3 s runs, workers "1 8", 10,000
#                           queued + 100,000 done, 50 feed events, 3 s RSS phases, 5 s PgQueuer,
#                           100,000 report orders, 1,000,000 events and 200,000 done tasks for retention
#   BENCH_STRICT=1          exit 3 when a target is missed
#   BATON_BIN=path          use this baton binary and skip `swift build`
#   BENCH_KEEP=1            keep the work directory (server log, pgbench, wrk and PgQueuer output)
#   Exit codes: 3 a target missed (with BENCH_STRICT=1), 4 schemathesis failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# The load drivers make thousands of requests a second with one token: no per-token limit.
export BATON_RATE_LIMIT="${BATON_RATE_LIMIT:-0}"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    BENCH_SECONDS="${BENCH_SECONDS:-3}"
    BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-1 8}"
    BENCH_QUEUED="${BENCH_QUEUED:-10000}"
    BENCH_FINISHED="${BENCH_FINISHED:-100000}"
    BENCH_FEED_EVENTS="${BENCH_FEED_EVENTS:-50}"
    BENCH_RSS_SECONDS="${BENCH_RSS_SECONDS:-3}"
    BENCH_RSS_HOLD="${BENCH_RSS_HOLD:-3}"
    BENCH_PGQUEUER_SECONDS="${BENCH_PGQUEUER_SECONDS:-5}"
    BENCH_CUSTOMERS="${BENCH_CUSTOMERS:-20000}"
    BENCH_CUSTOMER_SEARCHES="${BENCH_CUSTOMER_SEARCHES:-1000}"
    BENCH_REPORT_ORDERS="${BENCH_REPORT_ORDERS:-100000}"
    BENCH_BRIEFING_ROUNDS="${BENCH_BRIEFING_ROUNDS:-50}"
    BENCH_RETENTION_EVENTS="${BENCH_RETENTION_EVENTS:-1000000}"
    BENCH_RETENTION_FINISHED="${BENCH_RETENTION_FINISHED:-200000}"
    BENCH_RETENTION_CLAIMS="${BENCH_RETENTION_CLAIMS:-500}"
    BENCH_RETENTION_FEED_SAMPLES="${BENCH_RETENTION_FEED_SAMPLES:-200}"
fi
BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-1}"
BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-1 8 32}"
BENCH_BATCH_SIZE="${BENCH_BATCH_SIZE:-10}"
BENCH_STRICT="${BENCH_STRICT:-0}"
BENCH_SECTIONS="${BENCH_SECTIONS:-rss request lifecycle pgqueuer feed history customers orders reports briefing retention durable schemathesis}"
BENCH_RETENTION_EVENTS="${BENCH_RETENTION_EVENTS:-10000000}"
BENCH_RETENTION_FINISHED="${BENCH_RETENTION_FINISHED:-2000000}"
BENCH_RETENTION_CLAIMS="${BENCH_RETENTION_CLAIMS:-2000}"
BENCH_RETENTION_FEED_SAMPLES="${BENCH_RETENTION_FEED_SAMPLES:-1000}"
BENCH_RETENTION_AGE="${BENCH_RETENTION_AGE:-40d}"
BENCH_REPORT_ORDERS="${BENCH_REPORT_ORDERS:-1000000}"
BENCH_REPORT_RUNS="${BENCH_REPORT_RUNS:-20}"
BENCH_BRIEFING_ROUNDS="${BENCH_BRIEFING_ROUNDS:-200}"
BENCH_ORDER_WORKERS="${BENCH_ORDER_WORKERS:-8}"
BENCH_CUSTOMERS="${BENCH_CUSTOMERS:-100000}"
BENCH_CUSTOMER_SEARCHES="${BENCH_CUSTOMER_SEARCHES:-3000}"
BENCH_HTTP_DRIVER="${BENCH_HTTP_DRIVER:-wrk}"
BENCH_PGBENCH_THREADS="${BENCH_PGBENCH_THREADS:-2}"
BENCH_REQUEST_CONNECTIONS="${BENCH_REQUEST_CONNECTIONS:-8}"
BENCH_REQUEST_BACKLOG="${BENCH_REQUEST_BACKLOG:-0}"
BENCH_PGQUEUER_VERSION="${BENCH_PGQUEUER_VERSION:-1.6.0}"
BENCH_PGQUEUER_SECONDS="${BENCH_PGQUEUER_SECONDS:-15}"
BENCH_QUEUED="${BENCH_QUEUED:-100000}"
BENCH_FINISHED="${BENCH_FINISHED:-1000000}"
BENCH_HISTORY_CONCURRENCY="${BENCH_HISTORY_CONCURRENCY:-1 8}"
BENCH_HISTORY_ROUNDS="${BENCH_HISTORY_ROUNDS:-3}"
BENCH_FEED_EVENTS="${BENCH_FEED_EVENTS:-200}"
BENCH_RSS_CONNECTIONS="${BENCH_RSS_CONNECTIONS:-200}"
BENCH_RSS_SECONDS="${BENCH_RSS_SECONDS:-10}"
BENCH_RSS_HOLD="${BENCH_RSS_HOLD:-5}"

bench_die() {
    echo "bench: $*" >&2
    exit 1
}

[[ "$BENCH_SECONDS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_SECONDS must be a positive whole number of seconds"
[[ "$BENCH_WARMUP" =~ ^[0-9]+$ ]] || bench_die "BENCH_WARMUP must be a whole number of seconds"
[[ "$BENCH_BATCH_SIZE" =~ ^[1-9][0-9]*$ ]] && [ "$BENCH_BATCH_SIZE" -le 100 ] \
    || bench_die "BENCH_BATCH_SIZE must be between 1 and 100 (the claim limit)"
for level in $BENCH_CONCURRENCY $BENCH_HISTORY_CONCURRENCY; do
    [[ "$level" =~ ^[1-9][0-9]*$ ]] && [ "$level" -le 200 ] \
        || bench_die "BENCH_CONCURRENCY and BENCH_HISTORY_CONCURRENCY hold 1 to 200 workers per level"
done
for section in $BENCH_SECTIONS; do
    case "$section" in
        rss | request | lifecycle | pgqueuer | feed | history | customers | orders | reports | briefing | retention | durable | schemathesis) ;;
        *) bench_die "BENCH_SECTIONS holds rss, request, lifecycle, pgqueuer, feed, history, customers, orders, reports, briefing, retention, durable and schemathesis, not $section" ;;
    esac
done
case "$BENCH_HTTP_DRIVER" in
    wrk | python) ;;
    *) bench_die "BENCH_HTTP_DRIVER is wrk or python, not $BENCH_HTTP_DRIVER" ;;
esac
[[ "$BENCH_PGBENCH_THREADS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_PGBENCH_THREADS must be a positive whole number"
[[ "$BENCH_REQUEST_CONNECTIONS" =~ ^[1-9][0-9]*$ ]] && [ "$BENCH_REQUEST_CONNECTIONS" -le 200 ] \
    || bench_die "BENCH_REQUEST_CONNECTIONS must be between 1 and 200"
[[ "$BENCH_REQUEST_BACKLOG" =~ ^[0-9]+$ ]] || bench_die "BENCH_REQUEST_BACKLOG must be a whole number"
[[ "$BENCH_PGQUEUER_SECONDS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_PGQUEUER_SECONDS must be a positive whole number of seconds"
[[ "$BENCH_PGQUEUER_VERSION" =~ ^[0-9][0-9A-Za-z.+-]*$ ]] || bench_die "BENCH_PGQUEUER_VERSION must be a version, such as 1.6.0"
[[ "$BENCH_QUEUED" =~ ^[0-9]+$ ]] || bench_die "BENCH_QUEUED must be a whole number"
[[ "$BENCH_FINISHED" =~ ^[0-9]+$ ]] || bench_die "BENCH_FINISHED must be a whole number"
[[ "$BENCH_HISTORY_ROUNDS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_HISTORY_ROUNDS must be a positive whole number"
[[ "$BENCH_CUSTOMERS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_CUSTOMERS must be a positive whole number"
[[ "$BENCH_CUSTOMER_SEARCHES" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_CUSTOMER_SEARCHES must be a positive whole number"
[[ "$BENCH_REPORT_ORDERS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_REPORT_ORDERS must be a positive whole number"
[[ "$BENCH_REPORT_RUNS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_REPORT_RUNS must be a positive whole number"
[[ "$BENCH_RETENTION_EVENTS" =~ ^[0-9]+$ ]] || bench_die "BENCH_RETENTION_EVENTS must be a whole number"
[[ "$BENCH_RETENTION_FINISHED" =~ ^[0-9]+$ ]] || bench_die "BENCH_RETENTION_FINISHED must be a whole number"
[[ "$BENCH_RETENTION_CLAIMS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RETENTION_CLAIMS must be a positive whole number"
[[ "$BENCH_RETENTION_FEED_SAMPLES" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RETENTION_FEED_SAMPLES must be a positive whole number"
[[ "$BENCH_RETENTION_AGE" =~ ^[1-9][0-9]*[smhdw]$ ]] || bench_die "BENCH_RETENTION_AGE must be an age such as 40d"
[[ "$BENCH_FEED_EVENTS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_FEED_EVENTS must be a positive whole number"
[[ "$BENCH_RSS_CONNECTIONS" =~ ^[1-9][0-9]*$ ]] && [ "$BENCH_RSS_CONNECTIONS" -le 1000 ] \
    || bench_die "BENCH_RSS_CONNECTIONS must be between 1 and 1000"
[[ "$BENCH_RSS_SECONDS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RSS_SECONDS must be a positive whole number of seconds"
[[ "$BENCH_RSS_HOLD" =~ ^[1-9][0-9]*$ ]] && [ "$BENCH_RSS_HOLD" -le 30 ] \
    || bench_die "BENCH_RSS_HOLD must be between 1 and 30 seconds (the long poll's limit)"
section_on() {
    [[ " $BENCH_SECTIONS " == *" $1 "* ]]
}

baton_require_packages
command -v python3 >/dev/null 2>&1 || bench_die "python3 is required"
command -v psql >/dev/null 2>&1 || bench_die "psql is required"
command -v pgbench >/dev/null 2>&1 || bench_die "pgbench is required"
if section_on request || { section_on lifecycle && [ "$BENCH_HTTP_DRIVER" = wrk ]; }; then
    baton_require_wrk
    command -v wrk >/dev/null 2>&1 || bench_die "wrk is required (apt-get install wrk)"
fi

if [ -z "${BATON_BIN:-}" ]; then
    echo "==> swift build -c release --product baton"
    swift build -c release --product baton
    BATON_BIN=.build/release/baton
fi
[ -x "$BATON_BIN" ] || bench_die "no baton binary at $BATON_BIN"
if section_on customers || section_on retention; then
    if [ -z "${BATONCTL_BIN:-}" ]; then
        echo "==> swift build -c release --product batonctl"
        swift build -c release --product batonctl
        BATONCTL_BIN=.build/release/batonctl
    fi
    [ -x "$BATONCTL_BIN" ] || bench_die "no batonctl binary at $BATONCTL_BIN"
fi
# The request section's baselines: a throwaway package of its own, so the product's build
# does not grow.
if section_on request && [ -z "${BENCH_BASELINE_BIN:-}" ]; then
    echo "==> swift build -c release --package-path Benchmarks/RequestBaseline"
    swift build -c release --package-path Benchmarks/RequestBaseline \
        --scratch-path Benchmarks/RequestBaseline/.build --product request-baseline
    BENCH_BASELINE_BIN=Benchmarks/RequestBaseline/.build/release/request-baseline
fi
if section_on request; then
    [ -x "$BENCH_BASELINE_BIN" ] || bench_die "no request-baseline binary at $BENCH_BASELINE_BIN"
fi

NPROC="$(nproc)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
ARCH="$(uname -m)"
DRIVER=scripts/bench_http.py
BENCH_DIR="$(mktemp -d /tmp/baton-bench.XXXXXX)"
SERVER_PID=""
SERVER_PIDS=()
CHILD_PID=""

bench_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    baton_stop_child
    local log
    baton_stop_processes 10 "${SERVER_PIDS[@]}"
    for log in "$BENCH_DIR/server.log" "$BENCH_DIR/server-history.log"; do
        if [ "$status" -ne 0 ] && [ "$status" -ne 3 ] && [ -s "$log" ]; then
            echo "bench: last lines of $(basename "$log"):" >&2
            tail -n 20 "$log" >&2 || true
        fi
    done
    baton_release_work_dir bench "$BENCH_DIR" "${BENCH_KEEP:-0}"
    exit "$status"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- database and server ----------------------------------------------------------------------

baton_start_throwaway_cluster
echo "==> PostgreSQL on $BATON_CLUSTER_DESCRIPTION"
psql "$BATON_CLUSTER_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE bench'
DATABASE_URL="postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/bench"
bench_psql() {
    psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# Line-buffered stdout, so the admin token line reaches the log file before the server exits.
LINEBUF=()
command -v stdbuf >/dev/null 2>&1 && LINEBUF=(stdbuf -oL -eL)
unset BATON_NO_MIGRATE

# start_baton DATABASE_URL LOG: starts a server on a free port, waits until it is ready, finds
# its first admin token and seeds the region and teams. Sets STARTED_PID, STARTED_PORT and
# STARTED_TOKEN; the cleanup stops every server started here.
start_baton() {
    local url=$1 log=$2 port token=""
    port="$(baton_free_port)"
    echo "==> baton serve on 127.0.0.1:$port (database ${url##*/})"
    "${LINEBUF[@]}" "$BATON_BIN" serve \
        --database-url "$url" \
        --host 127.0.0.1 \
        --port "$port" \
        --pool-size 40 \
        --log-level warning \
        --shutdown-timeout 5 \
        >"$log" 2>&1 </dev/null &
    STARTED_PID=$!
    SERVER_PIDS+=("$STARTED_PID")
    python3 "$DRIVER" wait-ready --port "$port" --pid "$STARTED_PID" --timeout 120
    for _ in $(seq 1 50); do
        token="$({ grep -o -m1 'bt_[A-Za-z0-9_-]*' "$log" || true; } | head -n1)"
        [ -n "$token" ] && break
        sleep 0.1
    done
    if [ -z "$token" ]; then
        # The announcement can sit in an output buffer; make our own admin token instead.
        echo "==> no admin token in the server's output; creating one in the database"
        token="bt_$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        psql "$url" -X -q -A -t -v ON_ERROR_STOP=1 \
            -c "INSERT INTO api_tokens (name, secret_hash, secret_hint, role, created_by)
                VALUES ('bench admin', sha256(convert_to('$token', 'UTF8')), '${token:0:7}…', 'admin', 'system')"
    fi
    echo "==> seeding region emea, teams logistics-emea (HTTP runs), sales-emea (pgbench), marketing-emea (feed)"
    echo "    and support-emea (history, and the RSS section's waiting claims)"
    python3 "$DRIVER" seed --port "$port" --token "$token"
    STARTED_PORT=$port
    STARTED_TOKEN=$token
}

start_baton "$DATABASE_URL" "$BENCH_DIR/server.log"
SERVER_PID=$STARTED_PID
SERVER_PORT=$STARTED_PORT
TOKEN=$STARTED_TOKEN
RESULTS="$BENCH_DIR/results.jsonl"
: >"$RESULTS"

# --- server memory with many connections ------------------------------------------------------
# First, while the server is fresh: its idle RSS after start is the baseline, so the peak is
# the connections' doing and not heap left over from the other sections.

if section_on rss; then
    sleep 2
    python3 "$DRIVER" rss-read --pid "$SERVER_PID" --phase idle >>"$RESULTS"
    echo "==> RSS: $BENCH_RSS_CONNECTIONS long-poll claims waiting ${BENCH_RSS_HOLD} s, then $BENCH_RSS_CONNECTIONS workers for ${BENCH_RSS_SECONDS} s"
    baton_run_child timeout --kill-after=10 $((BENCH_RSS_HOLD + BENCH_RSS_SECONDS + 180)) \
        python3 "$DRIVER" rss --pid "$SERVER_PID" --port "$SERVER_PORT" --token "$TOKEN" \
        --wait-team support-emea --active-team logistics-emea --connections "$BENCH_RSS_CONNECTIONS" \
        --hold-seconds "$BENCH_RSS_HOLD" --seconds "$BENCH_RSS_SECONDS" >>"$RESULTS" \
        || bench_die "the RSS driver failed"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the RSS section"
fi

# --- Baton's SQL lifecycle ----------------------------------------------------------------------
# Baton's statements from TaskStore.createOne (the API's single create), claim and complete with
# the parameters the HTTP path binds written in, one lifecycle per pgbench transaction, each statement in its own transaction
# as over HTTP. The claim's row lands in pgbench variables (\aset); when the claim found nothing
# (another client took the task first), there is nothing to complete.
cat >"$BENCH_DIR/lifecycle.sql" <<'SQL'
WITH inserted AS (
    INSERT INTO tasks (id, chain_id, team, region, kind, title, payload, priority, run_at, due_at,
                       max_attempts, backoff_base_seconds, dedupe_key, subject_type, subject_id, tags, created_by)
    SELECT n.id, n.id, t.slug, t.region, 'bench', 't', coalesce(NULL::jsonb, '{}'::jsonb), coalesce(NULL::smallint, 2),
           coalesce(NULL::timestamptz, now()), NULL::timestamptz, coalesce(NULL::integer, t.default_max_attempts),
           NULL::integer, NULL::text, NULL::text, NULL::text, coalesce(NULL::text[], '{}'), 'token:1'
    FROM teams t, (SELECT nextval('tasks_id_seq') AS id) n
    WHERE t.slug = 'sales-emea'
    RETURNING *
),
created_events AS (
    INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
    SELECT 'task.created', 'api', 'principal', 'token:1', 'task', inserted.id::text, inserted.team, inserted.region,
           jsonb_build_object('kind', inserted.kind, 'chain_id', inserted.chain_id, 'priority', inserted.priority)
    FROM inserted
)
SELECT id, team, region, kind, title, payload::text AS payload, priority, state, run_at, due_at,
       attempts, max_attempts, lease_worker, lease_token, lease_expires_at, result::text AS result,
       last_error, dedupe_key, subject_type, subject_id, tags, created_by, handed_off_from,
       handoff_note, chain_id, created_at, updated_at, claimed_at, finished_at
FROM inserted;
\set id 0
WITH picked AS MATERIALIZED (
    SELECT id FROM tasks
    WHERE team = 'sales-emea' AND state = 'queued' AND run_at <= now() AND held_at IS NULL
      AND NOT (SELECT paused FROM teams WHERE slug = 'sales-emea')
    ORDER BY priority, run_at, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE tasks t
    SET state = 'claimed', attempts = t.attempts + 1, lease_worker = 'pgbench', lease_token = gen_random_uuid(),
        lease_expires_at = now() + make_interval(secs => 60), claimed_at = now(), updated_at = now()
    WHERE t.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING t.*
),
claimed_events AS (
    INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
    SELECT 'task.claimed', 'api', 'principal', 'token:1', 'task', claimed.id::text, claimed.team, claimed.region,
           jsonb_build_object('worker', claimed.lease_worker, 'attempt', claimed.attempts,
                              'lease_expires_at', claimed.lease_expires_at)
    FROM claimed
)
SELECT id, team, region, kind, title, payload::text AS payload, priority, state, run_at, due_at,
       attempts, max_attempts, lease_worker, lease_token, lease_expires_at, result::text AS result,
       last_error, dedupe_key, subject_type, subject_id, tags, created_by, handed_off_from,
       handoff_note, chain_id, created_at, updated_at, claimed_at, finished_at
FROM claimed
\aset
\if :id > 0
WITH done AS (
    UPDATE tasks
    SET state = 'done', result = NULL::jsonb, lease_token = NULL, lease_expires_at = NULL,
        finished_at = now(), updated_at = now()
    WHERE id = :id AND state = 'claimed' AND lease_token = :lease_token AND lease_expires_at > now()
    RETURNING *
),
done_events AS (
    INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
    SELECT 'task.completed', 'api', 'principal', 'token:1', 'task', done.id::text, done.team, done.region,
           jsonb_build_object('worker', done.lease_worker, 'attempt', done.attempts)
    FROM done
),
counted AS (
    INSERT INTO team_task_deltas (team, state, delta)
    SELECT done.team, 'done', count(*) FROM done WHERE 'done' IN ('done', 'cancelled', 'handed_off') GROUP BY 1, 2
)
SELECT id, team, region, kind, title, payload::text AS payload, priority, state, run_at, due_at,
       attempts, max_attempts, lease_worker, lease_token, lease_expires_at, result::text AS result,
       last_error, dedupe_key, subject_type, subject_id, tags, created_by, handed_off_from,
       handoff_note, chain_id, created_at, updated_at, claimed_at, finished_at
FROM done;
\endif
SQL


# sql_done_count [TEAM [DATABASE_URL]]
sql_done_count() {
    psql "${2:-$DATABASE_URL}" -X -q -A -t -v ON_ERROR_STOP=1 \
        -c "SELECT count(*) FROM tasks WHERE team = '${1:-sales-emea}' AND state = 'done'"
}

# The bare baselines live in their own database of the same cluster, so they never touch
# Baton's tables (scripts/bench/minimal-schema.sql: mtasks, mevents).
MINIMAL_URL="postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/minimal"
if section_on lifecycle || section_on durable; then
    psql "$BATON_CLUSTER_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE minimal'
    psql "$MINIMAL_URL" -X -q -v ON_ERROR_STOP=1 -f scripts/bench/minimal-schema.sql
fi

# lifecycle_done_count PATH: tasks in state done where the pgbench lifecycle PATH writes them.
lifecycle_done_count() {
    if [ "$1" = sql ]; then
        sql_done_count
    else
        psql "$MINIMAL_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM mtasks WHERE state = 'done'"
    fi
}

# pgbench CLIENTS SECONDS TAG [extra pgbench options...]; PGBENCH_SCRIPT picks the script and
# PGBENCH_DB the database. -j is BENCH_PGBENCH_THREADS, at most one thread per client.
run_pgbench() {
    local clients=$1 seconds=$2 tag=$3
    shift 3
    local threads=$((clients < BENCH_PGBENCH_THREADS ? clients : BENCH_PGBENCH_THREADS))
    if ! baton_run_child timeout --kill-after=10 $((seconds + 60)) \
        pgbench -n -h 127.0.0.1 -p "$BATON_CLUSTER_PORT" -U postgres -M prepared \
        -f "${PGBENCH_SCRIPT:-$BENCH_DIR/lifecycle.sql}" -c "$clients" -j "$threads" -T "$seconds" "$@" "${PGBENCH_DB:-bench}" \
        >"$BENCH_DIR/pgbench-$tag.out" 2>&1; then
        cat "$BENCH_DIR/pgbench-$tag.out" >&2
        bench_die "pgbench failed ($tag)"
    fi
}

# Between runs: settle the table the last run churned, so runs start alike.
# settle [DATABASE_URL]
settle() {
    psql "${1:-$DATABASE_URL}" -X -q -A -t -v ON_ERROR_STOP=1 -c 'VACUUM (ANALYZE) tasks' -c 'CHECKPOINT'
}

settle_minimal() {
    psql "$MINIMAL_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c 'VACUUM (ANALYZE) mtasks' -c 'VACUUM (ANALYZE) mevents' \
        -c 'CHECKPOINT'
}

# bench_sql CLIENTS [PATH [VARIANT]]: one pgbench lifecycle run, a result line for the table.
#   sql         Baton's statements (lifecycle.sql above) in database bench
#   sql-bare    scripts/bench/minimal-lifecycle.sql in database minimal
#   sql-events  scripts/bench/minimal-events-lifecycle.sql in database minimal
# Lifecycles/s counts the tasks that reached done: a run whose claim found nothing (another
# client took the task first) completes nothing. VARIANT (durable) is kept in the result.
bench_sql() {
    local clients=$1 path=${2:-sql} variant=${3:-} script database before after tag
    case "$path" in
        sql) script="$BENCH_DIR/lifecycle.sql" database=bench ;;
        sql-bare) script=scripts/bench/minimal-lifecycle.sql database=minimal ;;
        sql-events) script=scripts/bench/minimal-events-lifecycle.sql database=minimal ;;
        *) bench_die "bench_sql: no lifecycle $path" ;;
    esac
    tag="$path${variant:+-$variant}-c$clients"
    if [ "$BENCH_WARMUP" -gt 0 ]; then
        PGBENCH_SCRIPT=$script PGBENCH_DB=$database run_pgbench "$clients" "$BENCH_WARMUP" "warmup-$tag"
    fi
    before="$(lifecycle_done_count "$path")"
    PGBENCH_SCRIPT=$script PGBENCH_DB=$database \
        run_pgbench "$clients" "$BENCH_SECONDS" "$tag" -l --log-prefix="$BENCH_DIR/pgbench-log-$tag"
    after="$(lifecycle_done_count "$path")"
    python3 "$DRIVER" pgbench-stats --output "$BENCH_DIR/pgbench-$tag.out" \
        --log-prefix "$BENCH_DIR/pgbench-log-$tag" --concurrency "$clients" --done $((after - before)) \
        --path "$path" ${variant:+--variant "$variant"} >>"$RESULTS"
}

# bench_http MODE WORKERS [PATH [DRIVER]]: the HTTP lifecycle (single or batch) in logistics-emea,
# driven by wrk (scripts/bench/lifecycle.lua, one connection per wrk thread) or by the Python
# workers; either way the server's CPU and the driver's own are read around the run.
bench_http() {
    local mode=$1 clients=$2 path=${3:-$1} driver=${4:-$BENCH_HTTP_DRIVER}
    if [ "$driver" = wrk ]; then
        baton_run_child timeout --kill-after=10 $((BENCH_SECONDS + BENCH_WARMUP + 120)) \
            python3 "$DRIVER" wrk --script scripts/bench/lifecycle.lua --port "$SERVER_PORT" --token "$TOKEN" \
            --team logistics-emea --path "$path" --mode "$mode" --threads "$clients" --connections "$clients" \
            --seconds "$BENCH_SECONDS" --warmup "$BENCH_WARMUP" --batch-size "$BENCH_BATCH_SIZE" \
            --server-pid "$SERVER_PID" >>"$RESULTS" \
            || bench_die "the wrk lifecycle driver failed ($mode, $clients workers)"
    else
        baton_run_child timeout --kill-after=10 $((BENCH_SECONDS + BENCH_WARMUP + 120)) \
            python3 "$DRIVER" run --port "$SERVER_PORT" --token "$TOKEN" --team logistics-emea --mode "$mode" \
            --path "$path" --concurrency "$clients" --seconds "$BENCH_SECONDS" --warmup "$BENCH_WARMUP" \
            --batch-size "$BENCH_BATCH_SIZE" --server-pid "$SERVER_PID" >>"$RESULTS" \
            || bench_die "the HTTP driver failed ($mode, $clients workers)"
    fi
}

# Empties Baton's task and event tables in database bench (as the history rows need them, and
# after the request section's runs).
empty_tasks() {
    bench_psql -c 'SET client_min_messages = warning' \
        -c 'TRUNCATE tasks, events, team_task_deltas, team_task_totals CASCADE'
}

# --- the cost of one request ----------------------------------------------------------------------
# wrk, 1 thread, BENCH_REQUEST_CONNECTIONS connections, a warm-up run and then BENCH_SECONDS
# measured: GET /healthz, create and claim against Baton; /healthz and create against the two
# throwaway baselines of Benchmarks/RequestBaseline, each started alone on a free port. Before
# the claim run, enough tasks are queued by SQL that every claim takes one. Then the load-driver
# check, and the tables are emptied so the sections after start as before.

# wrk_request NAME SERVER PORT PID: one measured wrk run of scripts/bench/request-NAME.lua.
wrk_request() {
    local name=$1 server=$2 port=$3 pid=$4
    echo "    $name on $server: wrk, 1 thread, $BENCH_REQUEST_CONNECTIONS connections, ${BENCH_WARMUP} s + ${BENCH_SECONDS} s"
    baton_run_child timeout --kill-after=10 $((BENCH_SECONDS + BENCH_WARMUP + 120)) \
        python3 "$DRIVER" wrk --script "scripts/bench/request-$name.lua" --port "$port" --token "$TOKEN" \
        --team sales-emea --path request --request "$name" --server "$server" --threads 1 \
        --connections "$BENCH_REQUEST_CONNECTIONS" --seconds "$BENCH_SECONDS" --warmup "$BENCH_WARMUP" \
        --server-pid "$pid" >>"$RESULTS" \
        || bench_die "wrk failed ($name on $server)"
    kill -0 "$pid" 2>/dev/null || bench_die "the $server server exited during the $name run"
}

# queue_backlog COUNT: COUNT queued tasks of sales-emea, written by SQL as the history rows are.
queue_backlog() {
    bench_psql <<SQL
INSERT INTO tasks (id, chain_id, team, region, kind, title, priority, state, run_at, max_attempts,
                   created_by, created_at, updated_at)
SELECT n.id, n.id, 'sales-emea', 'emea', 'bench', 'backlog ' || n.g, 2::smallint, 'queued', n.t, 5,
       'token:1', n.t, n.t
FROM (SELECT g, nextval('tasks_id_seq') AS id, now() - interval '1 hour' + (interval '1 second' * g / 1000) AS t
      FROM generate_series(1, $1) AS g) AS n
ORDER BY n.id;
SQL
    settle
}

request_section() {
    local mode port pid backlog
    echo "==> request cost: Baton on 127.0.0.1:$SERVER_PORT"
    wrk_request healthz baton "$SERVER_PORT" "$SERVER_PID"
    wrk_request create baton "$SERVER_PORT" "$SERVER_PID"
    backlog=$BENCH_REQUEST_BACKLOG
    [ "$backlog" -gt 0 ] || backlog=$(((BENCH_SECONDS + BENCH_WARMUP) * 4000))
    echo "    queueing $backlog tasks of sales-emea for the claim run"
    queue_backlog "$backlog"
    wrk_request claim baton "$SERVER_PORT" "$SERVER_PID"
    for mode in bare openapi; do
        port="$(baton_free_port)"
        echo "==> request cost: $BENCH_BASELINE_BIN $mode on 127.0.0.1:$port"
        LOG_LEVEL=warning "$BENCH_BASELINE_BIN" "$mode" "$port" >"$BENCH_DIR/baseline-$mode.log" 2>&1 </dev/null &
        pid=$!
        SERVER_PIDS+=("$pid")
        python3 "$DRIVER" wait-http --port "$port" --pid "$pid" --path /healthz --timeout 60 \
            || bench_die "the $mode baseline did not start (see $BENCH_DIR/baseline-$mode.log)"
        wrk_request healthz "$mode" "$port" "$pid"
        wrk_request create "$mode" "$port" "$pid"
        baton_stop_processes 10 "$pid"
    done
    echo "==> load-driver check: HTTP per-task lifecycle, $BENCH_REQUEST_CONNECTIONS workers, Python then wrk"
    settle
    bench_http single "$BENCH_REQUEST_CONNECTIONS" driver-check python
    settle
    bench_http single "$BENCH_REQUEST_CONNECTIONS" driver-check wrk
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the request section"
    empty_tasks
    settle
}

# --- event-feed lag -------------------------------------------------------------------------------
# One producer creates tasks in marketing-emea one at a time; a long-poll follower and an SSE
# follower, both filtered to that team and task.created, record when each task's event reaches
# them. Before that, the same number of NOTIFYs between two raw connections give the floor.
# Measured twice: with the events table nearly empty (before the lifecycle runs) and with the
# events those runs left behind.

feed_lag() {
    local label=$1 after events
    settle
    bench_psql -c 'VACUUM (ANALYZE) events'
    after="$(bench_psql -c 'SELECT coalesce(max(id), 0) FROM events')"
    events="$(bench_psql -c 'SELECT count(*) FROM events')"
    echo "==> event-feed lag ($label, $events events in the table): $BENCH_FEED_EVENTS events, long poll and SSE; raw LISTEN/NOTIFY first"
    baton_run_child timeout --kill-after=10 $((BENCH_FEED_EVENTS * 12 + 120)) \
        python3 "$DRIVER" feed-lag --port "$SERVER_PORT" --token "$TOKEN" --team marketing-emea \
        --after "$after" --events "$BENCH_FEED_EVENTS" --pg-port "$BATON_CLUSTER_PORT" --pg-database bench \
        --label "$label" --table-events "$events" >>"$RESULTS" || bench_die "the feed-lag driver failed ($label)"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the feed section"
}

kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited"
section_on request && request_section
section_on feed && feed_lag fresh
# The five paths take turns at each level, so table growth and machine drift hit them alike.
if section_on lifecycle; then
    for level in $BENCH_CONCURRENCY; do
        echo "==> $level worker(s): bare SQL, bare+events SQL, Baton's SQL (pgbench), HTTP per task, HTTP batched ($BENCH_HTTP_DRIVER); ${BENCH_SECONDS} s each"
        settle_minimal
        bench_sql "$level" sql-bare
        settle_minimal
        bench_sql "$level" sql-events
        settle
        bench_sql "$level" sql
        settle
        bench_http single "$level"
        settle
        bench_http batch "$level"
        kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the HTTP runs"
    done
fi

# --- PgQueuer on the same cluster ---------------------------------------------------------------
# pgqueuer[asyncpg]==BENCH_PGQUEUER_VERSION from PyPI into a virtual environment under the work
# directory (never the repository, never the system's Python), its own database; the driver
# uses PgQueuer's public API only. When it cannot be installed or run, the table says why.

pgqueuer_skipped() {
    echo "bench: PgQueuer baseline skipped: $1" >&2
    python3 -c 'import json, sys; print(json.dumps({"path": "pgqueuer", "skipped": sys.argv[1], "pgqueuer_version": sys.argv[2]}))' \
        "$1" "$BENCH_PGQUEUER_VERSION" >>"$RESULTS"
}

pgqueuer_baseline() {
    local venv="$BENCH_DIR/pgqueuer-venv" log="$BENCH_DIR/pgqueuer.log" status=0
    echo "==> PgQueuer $BENCH_PGQUEUER_VERSION: 1 producer (batches of 10), 5 consumers (batches of 10), ${BENCH_PGQUEUER_SECONDS} s"
    if ! python3 -m venv "$venv" >"$log" 2>&1; then
        pgqueuer_skipped "python3 -m venv failed (is python3-venv installed?)"
        return
    fi
    if ! baton_run_child timeout --kill-after=10 600 "$venv/bin/pip" install --disable-pip-version-check -q \
        "pgqueuer[asyncpg]==$BENCH_PGQUEUER_VERSION" >>"$log" 2>&1; then
        pgqueuer_skipped "pip could not install pgqueuer[asyncpg]==$BENCH_PGQUEUER_VERSION: $(tail -n 1 "$log")"
        return
    fi
    psql "$BATON_CLUSTER_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE pgqueuer'
    baton_run_child timeout --kill-after=10 $((BENCH_PGQUEUER_SECONDS + BENCH_WARMUP + 120)) \
        "$venv/bin/python" scripts/bench/pgqueuer_driver.py \
        --dsn "postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/pgqueuer" \
        --seconds "$BENCH_PGQUEUER_SECONDS" --warmup "$BENCH_WARMUP" --consumers 5 \
        --enqueue-batch 10 --dequeue-batch 10 >"$BENCH_DIR/pgqueuer.json" 2>>"$log" || status=$?
    if [ "$status" -ne 0 ] || ! [ -s "$BENCH_DIR/pgqueuer.json" ]; then
        pgqueuer_skipped "the PgQueuer driver failed (exit $status): $(tail -n 1 "$log")"
        return
    fi
    cat "$BENCH_DIR/pgqueuer.json" >>"$RESULTS"
}

section_on pgqueuer && pgqueuer_baseline
section_on lifecycle && section_on feed && feed_lag loaded

# --- claim latency as history grows -------------------------------------------------------------
# The same claim against two databases of one cluster, each with its own server: "empty" is the
# bench database with its tasks and events emptied before each level; "large" is a second
# database, history, with BENCH_QUEUED queued and BENCH_FINISHED done tasks of the claiming team
# bulk-loaded by SQL. The two take turns at each level, so machine drift hits them alike; the
# server not being measured idles. Each HTTP cycle creates, claims and completes one task and
# times the claim request; with the backlog the claim takes the oldest claimable task, so the
# queue depth holds. The raw SQL rows run the pgbench lifecycle script against the same team and
# read the claim statement's mean latency from pgbench -r.

HISTORY_TEAM=support-emea
HISTORY_URL="postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/history"

history_empty() {
    empty_tasks
}

# Rows as Baton's own paths leave them: done tasks over the last 30 days (claimed once, completed
# a minute later, no result), then the queued backlog with run_at over the last day; priorities
# mixed like a real queue; chain_id is the task's own id, as for a created task.
history_load() {
    local queued=$1 finished=$2
    if [ "$finished" -gt 0 ]; then
        psql "$HISTORY_URL" -X -q -A -t -v ON_ERROR_STOP=1 <<SQL
INSERT INTO tasks (id, chain_id, team, region, kind, title, priority, state, run_at, attempts, max_attempts,
                   lease_worker, created_by, created_at, updated_at, claimed_at, finished_at)
SELECT n.id, n.id, '$HISTORY_TEAM', 'emea', 'bench', 'history ' || n.g,
       (CASE WHEN n.g % 97 = 0 THEN 0 WHEN n.g % 10 = 0 THEN 1 WHEN n.g % 7 = 0 THEN 3 ELSE 2 END)::smallint,
       'done', n.t, 1, 5, 'bench-history', 'token:1', n.t, n.t + interval '2 minutes',
       n.t + interval '1 minute', n.t + interval '2 minutes'
FROM (SELECT g, nextval('tasks_id_seq') AS id,
             now() - interval '30 days' + (interval '30 days' / $finished) * g - interval '1 hour' AS t
      FROM generate_series(1, $finished) AS g) AS n
ORDER BY n.id;
INSERT INTO team_task_totals (team, state, total) VALUES ('$HISTORY_TEAM', 'done', $finished);
SQL
    fi
    if [ "$queued" -gt 0 ]; then
        psql "$HISTORY_URL" -X -q -A -t -v ON_ERROR_STOP=1 <<SQL
INSERT INTO tasks (id, chain_id, team, region, kind, title, priority, state, run_at, max_attempts,
                   created_by, created_at, updated_at)
SELECT n.id, n.id, '$HISTORY_TEAM', 'emea', 'bench', 'backlog ' || n.g,
       (CASE WHEN n.g % 97 = 0 THEN 0 WHEN n.g % 10 = 0 THEN 1 WHEN n.g % 7 = 0 THEN 3 ELSE 2 END)::smallint,
       'queued', n.t, 5, 'token:1', n.t, n.t
FROM (SELECT g, nextval('tasks_id_seq') AS id,
             now() - interval '1 day' + (interval '1 day' / $queued) * g - interval '1 hour' AS t
      FROM generate_series(1, $queued) AS g) AS n
ORDER BY n.id;
SQL
    fi
    psql "$HISTORY_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c 'VACUUM (ANALYZE) tasks' -c 'VACUUM (ANALYZE) events' -c 'CHECKPOINT'
}

# history_http LABEL PORT TOKEN WORKERS ROUND
history_http() {
    local history=$1 port=$2 token=$3 level=$4 round=$5
    baton_run_child timeout --kill-after=10 $((HISTORY_SLICE + BENCH_WARMUP + 120)) \
        python3 "$DRIVER" run --port "$port" --token "$token" --team "$HISTORY_TEAM" --mode claim \
        --path claim-http --history "$history" --concurrency "$level" --seconds "$HISTORY_SLICE" \
        --warmup "$BENCH_WARMUP" --samples-file "$BENCH_DIR/samples-claim-http-$history-c$level.txt" \
        >>"$BENCH_DIR/history-slices.jsonl" \
        || bench_die "the HTTP driver failed (claim latency, $history table, $level workers)"
}

# history_stats LABEL PORT TOKEN: GET the team's stats in a loop, one client.
history_stats() {
    local history=$1 port=$2 token=$3
    baton_run_child timeout --kill-after=10 $((HISTORY_SLICE + BENCH_WARMUP + 120)) \
        python3 "$DRIVER" run --port "$port" --token "$token" --team "$HISTORY_TEAM" --mode stats \
        --path stats-http --history "$history" --concurrency 1 --seconds "$HISTORY_SLICE" \
        --warmup "$BENCH_WARMUP" --samples-file "$BENCH_DIR/samples-stats-http-$history-c1.txt" \
        >>"$BENCH_DIR/history-slices.jsonl" \
        || bench_die "the HTTP driver failed (team stats, $history table)"
}

# history_sql LABEL DATABASE WORKERS ROUND
history_sql() {
    local history=$1 database=$2 level=$3 round=$4 url before after
    url="postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/$database"
    if [ "$BENCH_WARMUP" -gt 0 ]; then
        PGBENCH_SCRIPT="$BENCH_DIR/history.sql" PGBENCH_DB=$database \
            run_pgbench "$level" "$BENCH_WARMUP" "history-$history-warmup-$level"
    fi
    before="$(sql_done_count "$HISTORY_TEAM" "$url")"
    PGBENCH_SCRIPT="$BENCH_DIR/history.sql" PGBENCH_DB=$database \
        run_pgbench "$level" "$HISTORY_SLICE" "history-$history-c$level-r$round" -r
    after="$(sql_done_count "$HISTORY_TEAM" "$url")"
    python3 "$DRIVER" pgbench-stats --output "$BENCH_DIR/pgbench-history-$history-c$level-r$round.out" \
        --log-prefix "$BENCH_DIR/no-log" --concurrency "$level" --done $((after - before)) \
        --path claim-sql --history "$history" >>"$BENCH_DIR/history-slices.jsonl"
}

if section_on history; then
    sed "s/'sales-emea'/'$HISTORY_TEAM'/g" "$BENCH_DIR/lifecycle.sql" >"$BENCH_DIR/history.sql"
    psql "$BATON_CLUSTER_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE history'
    start_baton "$HISTORY_URL" "$BENCH_DIR/server-history.log"
    HISTORY_PID=$STARTED_PID
    HISTORY_PORT=$STARTED_PORT
    HISTORY_TOKEN=$STARTED_TOKEN
    echo "==> loading $BENCH_QUEUED queued and $BENCH_FINISHED done tasks of $HISTORY_TEAM into database history"
    load_start=$SECONDS
    history_load "$BENCH_QUEUED" "$BENCH_FINISHED"
    echo "    loaded and vacuumed in $((SECONDS - load_start)) s"
    # Each figure is BENCH_SECONDS of measurement split into BENCH_HISTORY_ROUNDS slices, the
    # empty and large slices alternating, so a burst of load from elsewhere on the machine
    # lands on both sides rather than on one.
    HISTORY_SLICE=$(((BENCH_SECONDS + BENCH_HISTORY_ROUNDS - 1) / BENCH_HISTORY_ROUNDS))
    : >"$BENCH_DIR/history-slices.jsonl"
    for level in $BENCH_HISTORY_CONCURRENCY; do
        echo "==> claim latency, $level worker(s): $BENCH_HISTORY_ROUNDS rounds of HTTP empty, HTTP large, SQL empty, SQL large; ${HISTORY_SLICE} s each"
        for round in $(seq 1 "$BENCH_HISTORY_ROUNDS"); do
            history_empty
            settle
            history_http empty "$SERVER_PORT" "$TOKEN" "$level" "$round"
            settle "$HISTORY_URL"
            history_http large "$HISTORY_PORT" "$HISTORY_TOKEN" "$level" "$round"
            history_empty
            settle
            history_sql empty bench "$level" "$round"
            settle "$HISTORY_URL"
            history_sql large history "$level" "$round"
            for pid in "$SERVER_PID" "$HISTORY_PID"; do
                kill -0 "$pid" 2>/dev/null || bench_die "a server exited during the history section"
            done
        done
    done
    echo "==> team stats, 1 client: $BENCH_HISTORY_ROUNDS rounds of empty, large; ${HISTORY_SLICE} s each"
    for round in $(seq 1 "$BENCH_HISTORY_ROUNDS"); do
        history_empty
        settle
        history_stats empty "$SERVER_PORT" "$TOKEN"
        settle "$HISTORY_URL"
        history_stats large "$HISTORY_PORT" "$HISTORY_TOKEN"
    done
    python3 "$DRIVER" combine --slices "$BENCH_DIR/history-slices.jsonl" --samples-dir "$BENCH_DIR" >>"$RESULTS"
    psql "$HISTORY_URL" -X -q -A -t -F ' ' \
        -c "SELECT 'history database after the runs:', count(*) FILTER (WHERE state = 'queued'), 'queued,',
                   count(*) FILTER (WHERE state = 'done'), 'done' FROM tasks"
    # For a look at a slow claim: Baton's claim statement as the server runs it (prepared with
    # parameters; the server's connections set plan_cache_mode=force_generic_plan), with its
    # plan, timings and buffers, three times in each database, each after creating a task the
    # way the cycles do and each rolled back (kept with BENCH_KEEP=1).
    awk '/^WITH input/ {p = 1} /^\\set id 0/ {p = 0} p' "$BENCH_DIR/history.sql" >"$BENCH_DIR/create.sql"
    for database in bench history; do
        {
            echo 'SET plan_cache_mode = force_generic_plan;'
            echo 'PREPARE claim(text, integer, text, integer) AS'
            awk '/^WITH picked/ {p = 1} /^\\aset/ {p = 0} p' "$BENCH_DIR/history.sql" \
                | sed -e "s/'$HISTORY_TEAM'/\$1/g" -e 's/LIMIT 1$/LIMIT $2/' -e "s/'pgbench'/\$3/" \
                    -e 's/make_interval(secs => 60)/make_interval(secs => $4)/'
            echo ';'
            for _ in 1 2 3; do
                echo 'BEGIN;'
                echo '\o /dev/null'
                cat "$BENCH_DIR/create.sql"
                echo '\o'
                echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE claim('$HISTORY_TEAM', 1, 'explain', 60);"
                echo 'ROLLBACK;'
            done
        } >"$BENCH_DIR/explain-claim.sql"
        psql "postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/$database" -X -q -f "$BENCH_DIR/explain-claim.sql" \
            >"$BENCH_DIR/explain-claim-$database.txt" 2>&1 || true
    done
fi

if section_on customers; then
    echo "==> customers: importing $BENCH_CUSTOMERS with batonctl (beside psql's \\copy), then $BENCH_CUSTOMER_SEARCHES name searches"
    settle
    PYTHONPATH=scripts python3 scripts/bench/customers.py --port "$SERVER_PORT" --token "$TOKEN" \
        --database-url "$DATABASE_URL" --batonctl "$BATONCTL_BIN" --work-dir "$BENCH_DIR" \
        --rows "$BENCH_CUSTOMERS" --searches "$BENCH_CUSTOMER_SEARCHES" >>"$RESULTS" \
        || bench_die "the customers driver failed"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the customers section"
fi

if section_on orders; then
    echo "==> orders: create, confirm, ship, deliver over HTTP ($BENCH_ORDER_WORKERS clients, default rules on), beside the HTTP task lifecycle; ${BENCH_SECONDS} s each"
    settle
    baton_run_child env PYTHONPATH=scripts timeout --kill-after=10 $((2 * BENCH_SECONDS + 4 * BENCH_WARMUP + 120)) \
        python3 scripts/bench/orders.py --port "$SERVER_PORT" --token "$TOKEN" --workers "$BENCH_ORDER_WORKERS" \
        --seconds "$BENCH_SECONDS" --warmup "$BENCH_WARMUP" >>"$RESULTS" \
        || bench_die "the orders driver failed"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the orders section"
fi

if section_on reports; then
    echo "==> reports: loading two years of EMEA ($BENCH_REPORT_ORDERS orders) by SQL, then KPIs, the plan report and the leaderboard over HTTP, $BENCH_REPORT_RUNS runs each"
    settle
    baton_run_child env PYTHONPATH=scripts python3 scripts/bench/reports.py --port "$SERVER_PORT" --token "$TOKEN" \
        --database-url "$DATABASE_URL" --work-dir "$BENCH_DIR" --orders "$BENCH_REPORT_ORDERS" --runs "$BENCH_REPORT_RUNS" >>"$RESULTS" \
        || bench_die "the reports driver failed"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the reports section"
fi

if section_on briefing; then
    echo "==> briefing: GET /v1/briefing beside the separate lists for the same panels, $BENCH_BRIEFING_ROUNDS rounds"
    settle
    baton_run_child env PYTHONPATH=scripts python3 scripts/bench/briefing.py --port "$SERVER_PORT" --token "$TOKEN" \
        --rounds "$BENCH_BRIEFING_ROUNDS" >>"$RESULTS" \
        || bench_die "the briefing driver failed"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the briefing section"
fi

if section_on retention; then
    echo "==> retention: claim latency and feed lag before and after loading $BENCH_RETENTION_EVENTS events and $BENCH_RETENTION_FINISHED done tasks, then during a prune at $BENCH_RETENTION_AGE"
    # An empty database beside the loaded one, with a server of its own: the loaded figures are
    # measured in rounds alternating with it, so a burst of load from elsewhere on the machine
    # lands on both sides rather than on one.
    psql "$BATON_CLUSTER_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE retention_empty'
    start_baton "${DATABASE_URL%/*}/retention_empty" "$BENCH_DIR/server-retention-empty.log"
    settle
    baton_run_child env PYTHONPATH=scripts python3 scripts/bench/retention.py --port "$SERVER_PORT" --token "$TOKEN" \
        --empty-port "$STARTED_PORT" --empty-token "$STARTED_TOKEN" --empty-database-url "${DATABASE_URL%/*}/retention_empty" \
        --database-url "$DATABASE_URL" --batonctl "$BATONCTL_BIN" --events "$BENCH_RETENTION_EVENTS" \
        --finished "$BENCH_RETENTION_FINISHED" --claims "$BENCH_RETENTION_CLAIMS" \
        --feed-events "$BENCH_RETENTION_FEED_SAMPLES" --prune-age "$BENCH_RETENTION_AGE" >>"$RESULTS" \
        || bench_die "the retention driver failed"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the retention section"
fi

if section_on rss; then
    python3 "$DRIVER" rss-read --pid "$SERVER_PID" --phase end >>"$RESULTS"
fi

# --- durable: the SQL lifecycles as users run PostgreSQL ------------------------------------------
# Last, as it restarts the cluster: the Baton servers are done and stop first. fsync and
# full_page_writes are server-wide settings given on the command line at start (where they
# outrank ALTER SYSTEM), so the cluster restarts with its options plus the durable ones.

if section_on durable; then
    echo "==> durable: stopping the Baton servers; restarting PostgreSQL with fsync, synchronous_commit and full_page_writes on"
    baton_stop_processes 10 "${SERVER_PIDS[@]}"
    SERVER_PIDS=()
    baton_restart_throwaway_cluster -c fsync=on -c synchronous_commit=on -c full_page_writes=on
    durable_settings="$(bench_psql -F ' ' -c "SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')")"
    [ "$durable_settings" = "on on on" ] || bench_die "the restarted cluster runs with fsync, synchronous_commit, full_page_writes = $durable_settings"
    for level in $BENCH_CONCURRENCY; do
        echo "==> durable, $level worker(s): bare SQL, bare+events SQL, Baton's SQL (pgbench); ${BENCH_SECONDS} s each"
        settle_minimal
        bench_sql "$level" sql-bare durable
        settle_minimal
        bench_sql "$level" sql-events durable
        settle
        bench_sql "$level" sql durable
    done
fi

# --- report -------------------------------------------------------------------------------------

mkdir -p bench-results
REPORT="$BENCH_DIR/report.txt"
{
    echo "Baton benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "nproc: $NPROC   arch: $ARCH   ${BENCH_SECONDS} s per run after ${BENCH_WARMUP} s warm-up; server pool 40; loopback"
    echo "load average before the run: $LOAD_BEFORE   after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
} >"$REPORT"
table_status=0
python3 "$DRIVER" table --results "$RESULTS" --batch-size "$BENCH_BATCH_SIZE" --http-driver "$BENCH_HTTP_DRIVER" \
    --queued "$BENCH_QUEUED" --finished "$BENCH_FINISHED" \
    --missed-exit-code "$([ "$BENCH_STRICT" = 1 ] && echo 3 || echo 0)" >>"$REPORT" || table_status=$?
if section_on schemathesis; then
    echo "==> schemathesis, the long run (scripts/schemathesis.sh) against $BATON_BIN"
    fuzz_status=0
    env -u BATON_CLUSTER_DIR -u BATON_CLUSTER_PORT -u BATON_CLUSTER_URL -u BATON_CLUSTER_DESCRIPTION \
        BATON_BIN="$BATON_BIN" bash scripts/schemathesis.sh >"$BENCH_DIR/schemathesis.txt" 2>&1 || fuzz_status=$?
    {
        echo
        echo "schemathesis (long run, every check): $([ "$fuzz_status" = 0 ] && echo passed || echo "FAILED (exit $fuzz_status)")"
        grep -E "^(Seed|Test cases):|^  [0-9]+ generated|passed|failures" "$BENCH_DIR/schemathesis.txt" | tail -4 | sed 's/^/  /'
    } >>"$REPORT"
    [ "$fuzz_status" = 0 ] || { table_status=4; echo "bench: schemathesis failed; its output is in $BENCH_DIR/schemathesis.txt" >&2; BENCH_KEEP=1; }
fi
echo
cat "$REPORT"
cp "$REPORT" bench-results/latest.txt
echo "(written to bench-results/latest.txt)"
exit "$table_status"
