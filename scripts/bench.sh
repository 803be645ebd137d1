#!/usr/bin/env bash
# Task-lifecycle benchmark: Baton's own claim/complete SQL driven by pgbench (the raw baseline)
# against the same lifecycle over Baton's HTTP API, per task and batched, at 1, 8 and 32
# concurrent workers. Builds a release binary, runs everything on a throwaway PostgreSQL
# cluster on 127.0.0.1, prints one table and writes it to bench-results/latest.txt.
#
#   scripts/bench.sh
#
# Environment:
#   BENCH_SECONDS=10        measured seconds per run
#   BENCH_WARMUP=1          unmeasured warm-up seconds before each run
#   BENCH_CONCURRENCY="1 8 32"
#   BENCH_BATCH_SIZE=10     tasks per batched cycle
#   BENCH_STRICT=1          exit 3 when a target is missed
#   BATON_BIN=path          use this baton binary and skip `swift build`
#   BENCH_KEEP=1            keep the work directory (server log, pgbench output and logs)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-1}"
BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-1 8 32}"
BENCH_BATCH_SIZE="${BENCH_BATCH_SIZE:-10}"
BENCH_STRICT="${BENCH_STRICT:-0}"

bench_die() {
    echo "bench: $*" >&2
    exit 1
}

[[ "$BENCH_SECONDS" =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_SECONDS must be a positive whole number of seconds"
[[ "$BENCH_WARMUP" =~ ^[0-9]+$ ]] || bench_die "BENCH_WARMUP must be a whole number of seconds"
[[ "$BENCH_BATCH_SIZE" =~ ^[1-9][0-9]*$ ]] && [ "$BENCH_BATCH_SIZE" -le 100 ] \
    || bench_die "BENCH_BATCH_SIZE must be between 1 and 100 (the claim limit)"
for level in $BENCH_CONCURRENCY; do
    [[ "$level" =~ ^[1-9][0-9]*$ ]] && [ "$level" -le 200 ] || bench_die "BENCH_CONCURRENCY holds 1 to 200 workers per level"
done

baton_require_packages
command -v python3 >/dev/null 2>&1 || bench_die "python3 is required"
command -v psql >/dev/null 2>&1 || bench_die "psql is required"
command -v pgbench >/dev/null 2>&1 || bench_die "pgbench is required"

if [ -z "${BATON_BIN:-}" ]; then
    echo "==> swift build -c release --product baton"
    swift build -c release --product baton
    BATON_BIN=.build/release/baton
fi
[ -x "$BATON_BIN" ] || bench_die "no baton binary at $BATON_BIN"

NPROC="$(nproc)"
ARCH="$(uname -m)"
DRIVER=scripts/bench_http.py
BENCH_DIR="$(mktemp -d /tmp/baton-bench.XXXXXX)"
SERVER_PID=""
CHILD_PID=""

# Runs a long command in the background and waits for it, so that INT and TERM interrupt the
# wait at once (a foreground command would delay the traps until it ended).
bench_run() {
    local status=0
    "$@" &
    CHILD_PID=$!
    wait "$CHILD_PID" || status=$?
    CHILD_PID=""
    return "$status"
}

bench_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$CHILD_PID" ]; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ] && [ -s "$BENCH_DIR/server.log" ]; then
        echo "bench: last lines of the server's output:" >&2
        tail -n 20 "$BENCH_DIR/server.log" >&2 || true
    fi
    baton_stop_throwaway_cluster || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $BENCH_DIR" >&2
    else
        rm -rf "$BENCH_DIR"
    fi
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

SERVER_PORT="$(baton_free_port)"
# Line-buffered stdout, so the admin token line reaches the log file before the server exits.
LINEBUF=()
command -v stdbuf >/dev/null 2>&1 && LINEBUF=(stdbuf -oL -eL)
unset BATON_NO_MIGRATE
echo "==> baton serve on 127.0.0.1:$SERVER_PORT"
"${LINEBUF[@]}" "$BATON_BIN" serve \
    --database-url "$DATABASE_URL" \
    --host 127.0.0.1 \
    --port "$SERVER_PORT" \
    --pool-size 40 \
    --log-level warning \
    --shutdown-timeout 5 \
    >"$BENCH_DIR/server.log" 2>&1 </dev/null &
SERVER_PID=$!
python3 "$DRIVER" wait-ready --port "$SERVER_PORT" --pid "$SERVER_PID" --timeout 120

TOKEN=""
for _ in $(seq 1 50); do
    TOKEN="$({ grep -o -m1 'bt_[A-Za-z0-9_-]*' "$BENCH_DIR/server.log" || true; } | head -n1)"
    [ -n "$TOKEN" ] && break
    sleep 0.1
done
if [ -z "$TOKEN" ]; then
    # The announcement can sit in an output buffer; make our own admin token instead.
    echo "==> no admin token in the server's output; creating one in the database"
    TOKEN="bt_$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
    bench_psql -c "INSERT INTO api_tokens (name, secret_hash, secret_hint, role, created_by)
                   VALUES ('bench admin', sha256(convert_to('$TOKEN', 'UTF8')), '${TOKEN:0:7}…', 'admin', 'system')"
fi

echo "==> seeding region emea, teams logistics-emea (HTTP runs) and sales-emea (pgbench)"
python3 "$DRIVER" seed --port "$SERVER_PORT" --token "$TOKEN"

# --- the raw SQL lifecycle --------------------------------------------------------------------
# Baton's statements from TaskStore.create, claim and complete with the parameters the HTTP path
# binds written in, one lifecycle per pgbench transaction, each statement in its own transaction
# as over HTTP. The claim's row lands in pgbench variables (\aset); when the claim found nothing
# (another client took the task first), there is nothing to complete.
cat >"$BENCH_DIR/lifecycle.sql" <<'SQL'
WITH input AS (
    SELECT * FROM unnest(ARRAY['bench']::text[], ARRAY['t']::text[], ARRAY[NULL]::text[], ARRAY[NULL]::text[],
                         ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[NULL]::text[],
                         ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY['[]']::text[])
        WITH ORDINALITY AS i(kind, title, payload, priority, run_at, due_at, max_attempts, backoff,
                             dedupe_key, subject_type, subject_id, tags, ord)
),
numbered AS MATERIALIZED (
    SELECT nextval('tasks_id_seq') AS id, input.* FROM input
),
inserted AS (
    INSERT INTO tasks (id, chain_id, team, region, kind, title, payload, priority, run_at, due_at,
                       max_attempts, backoff_base_seconds, dedupe_key, subject_type, subject_id, tags,
                       created_by)
    SELECT n.id, n.id, t.slug, t.region, n.kind, n.title, coalesce(n.payload::jsonb, '{}'::jsonb),
           coalesce(n.priority::smallint, 2), coalesce(n.run_at::timestamptz, now()),
           n.due_at::timestamptz, coalesce(n.max_attempts::integer, t.default_max_attempts),
           n.backoff::integer, n.dedupe_key, n.subject_type, n.subject_id,
           coalesce(ARRAY(SELECT jsonb_array_elements_text(n.tags::jsonb)), '{}'), 'token:1'
    FROM numbered n CROSS JOIN teams t
    WHERE t.slug = 'sales-emea'
    ORDER BY n.ord
    ON CONFLICT (team, dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'claimed')
    DO NOTHING
    RETURNING *
),
created_events AS (
    INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
    SELECT 'task.created', 'api', 'principal', 'token:1', 'task', inserted.id::text, inserted.team, inserted.region,
           jsonb_build_object('kind', inserted.kind, 'chain_id', inserted.chain_id, 'priority', inserted.priority)
    FROM inserted
)
SELECT numbered.ord, inserted.id, inserted.team, inserted.region, inserted.kind, inserted.title,
       inserted.payload::text AS payload, inserted.priority, inserted.state, inserted.run_at, inserted.due_at,
       inserted.attempts, inserted.max_attempts, inserted.lease_worker, inserted.lease_token,
       inserted.lease_expires_at, inserted.result::text AS result, inserted.last_error, inserted.dedupe_key,
       inserted.subject_type, inserted.subject_id, inserted.tags, inserted.created_by, inserted.handed_off_from,
       inserted.handoff_note, inserted.chain_id, inserted.created_at, inserted.updated_at, inserted.claimed_at,
       inserted.finished_at
FROM inserted JOIN numbered USING (id);
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
    FROM picked
    WHERE t.id = picked.id
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
FROM claimed ORDER BY priority, run_at, id
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
)
SELECT id, team, region, kind, title, payload::text AS payload, priority, state, run_at, due_at,
       attempts, max_attempts, lease_worker, lease_token, lease_expires_at, result::text AS result,
       last_error, dedupe_key, subject_type, subject_id, tags, created_by, handed_off_from,
       handoff_note, chain_id, created_at, updated_at, claimed_at, finished_at
FROM done;
\endif
SQL

RESULTS="$BENCH_DIR/results.jsonl"
: >"$RESULTS"

sql_done_count() {
    bench_psql -c "SELECT count(*) FROM tasks WHERE team = 'sales-emea' AND state = 'done'"
}

# pgbench CLIENTS SECONDS TAG [extra pgbench options...]
run_pgbench() {
    local clients=$1 seconds=$2 tag=$3
    shift 3
    local threads=$((clients < NPROC ? clients : NPROC))
    if ! bench_run timeout --kill-after=10 $((seconds + 60)) \
        pgbench -n -h 127.0.0.1 -p "$BATON_CLUSTER_PORT" -U postgres -M prepared \
        -f "$BENCH_DIR/lifecycle.sql" -c "$clients" -j "$threads" -T "$seconds" "$@" bench \
        >"$BENCH_DIR/pgbench-$tag.out" 2>&1; then
        cat "$BENCH_DIR/pgbench-$tag.out" >&2
        bench_die "pgbench failed ($tag)"
    fi
}

# Between runs: settle the table the last run churned, so runs start alike.
settle() {
    bench_psql -c 'VACUUM (ANALYZE) tasks' -c 'CHECKPOINT'
}

bench_sql() {
    local clients=$1 before after
    if [ "$BENCH_WARMUP" -gt 0 ]; then
        run_pgbench "$clients" "$BENCH_WARMUP" "warmup-$clients"
    fi
    before="$(sql_done_count)"
    run_pgbench "$clients" "$BENCH_SECONDS" "c$clients" -l --log-prefix="$BENCH_DIR/pgbench-log-c$clients"
    after="$(sql_done_count)"
    python3 "$DRIVER" pgbench-stats --output "$BENCH_DIR/pgbench-c$clients.out" \
        --log-prefix "$BENCH_DIR/pgbench-log-c$clients" --concurrency "$clients" --done $((after - before)) \
        >>"$RESULTS"
}

bench_http() {
    local mode=$1 clients=$2
    bench_run timeout --kill-after=10 $((BENCH_SECONDS + BENCH_WARMUP + 120)) \
        python3 "$DRIVER" run --port "$SERVER_PORT" --token "$TOKEN" --team logistics-emea --mode "$mode" \
        --concurrency "$clients" --seconds "$BENCH_SECONDS" --warmup "$BENCH_WARMUP" \
        --batch-size "$BENCH_BATCH_SIZE" >>"$RESULTS" \
        || bench_die "the HTTP driver failed ($mode, $clients workers)"
}

kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited"
# The three paths take turns at each level, so table growth and machine drift hit them alike.
for level in $BENCH_CONCURRENCY; do
    echo "==> $level worker(s): raw SQL (pgbench), HTTP per task, HTTP batched; ${BENCH_SECONDS} s each"
    settle
    bench_sql "$level"
    settle
    bench_http single "$level"
    settle
    bench_http batch "$level"
    kill -0 "$SERVER_PID" 2>/dev/null || bench_die "the server exited during the HTTP runs"
done

# --- report -------------------------------------------------------------------------------------

mkdir -p bench-results
REPORT="$BENCH_DIR/report.txt"
{
    echo "Baton task-lifecycle benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "nproc: $NPROC   arch: $ARCH   ${BENCH_SECONDS} s per run after ${BENCH_WARMUP} s warm-up; server pool 40; loopback"
    echo
} >"$REPORT"
table_status=0
python3 "$DRIVER" table --results "$RESULTS" --batch-size "$BENCH_BATCH_SIZE" \
    --missed-exit-code "$([ "$BENCH_STRICT" = 1 ] && echo 3 || echo 0)" >>"$REPORT" || table_status=$?
echo
cat "$REPORT"
cp "$REPORT" bench-results/latest.txt
echo "(written to bench-results/latest.txt)"
exit "$table_status"
