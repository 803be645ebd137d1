#!/usr/bin/env bash
# Fault-injection tests: two baton instances on one throwaway PostgreSQL cluster, driven with
# create -> claim -> complete over HTTP while a fault hits them, then checked from the database:
# no acknowledged task lost, none completed twice, no 5xx other than 503, recovery measured.
#
#   scripts/faults.sh [--size small|large] [--scenario NAME[,NAME...]] [--pooler] [--keep]
#
# With --pooler the instances reach PostgreSQL through PgBouncer in transaction mode
# (--database-pooler transaction, LISTEN and migrations on --direct-database-url).
#
# Scenarios (all by default, in this order):
#   kill9      kill -9 one instance mid-load; the survivor's reaper requeues its leases; restart it
#   pgrestart  stop PostgreSQL mid-load, start it again; 503s meanwhile, both instances recover
#   terminate  pg_terminate_backend every 0.2-1 s: the instances' active backends, a random 30% of
#              the rest, and every third round the LISTEN connections
#   longtx     a transaction held open while the queue runs; throughput and feed lag reported
#
# Prints one table (scenario, tasks driven, done, lost, completed twice, 5xx other than 503,
# recovery seconds, notes). Exit 0: every guarantee held; 1: one failed (the table says which,
# and the work directory with server logs and per-scenario details is kept and printed);
# 2: usage or set-up error.
#
# Environment:
#   BATON_BIN=path       baton binary (default .build/debug/baton, built when missing)
#   BATONCTL_BIN=path    batonctl binary (default .build/debug/batonctl, built when missing)
#   FAULTS_KEEP=1        keep the work directory even when everything passed (same as --keep)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# The fault drivers make hundreds of requests a second with one token: no per-token limit.
export BATON_RATE_LIMIT="${BATON_RATE_LIMIT:-0}"

SIZE=small
SCENARIOS="kill9 pgrestart terminate longtx"
FAULTS_KEEP="${FAULTS_KEEP:-0}"
POOLER=0

faults_usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

faults_setup_error() {
    echo "faults: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --size)
            [ $# -ge 2 ] || faults_usage
            SIZE="$2"
            shift 2
            ;;
        --size=*)
            SIZE="${1#--size=}"
            shift
            ;;
        --scenario)
            [ $# -ge 2 ] || faults_usage
            SCENARIOS="$2"
            shift 2
            ;;
        --scenario=*)
            SCENARIOS="${1#--scenario=}"
            shift
            ;;
        --keep)
            FAULTS_KEEP=1
            shift
            ;;
        --pooler)
            POOLER=1
            shift
            ;;
        -h | --help) faults_usage ;;
        *)
            echo "faults: unknown argument: $1" >&2
            faults_usage
            ;;
    esac
done
case "$SIZE" in small | large) ;; *) faults_setup_error "--size is small or large" ;; esac
SCENARIOS="${SCENARIOS//,/ }"
for scenario in $SCENARIOS; do
    case "$scenario" in
        kill9 | pgrestart | terminate | longtx) ;;
        *) faults_setup_error "unknown scenario '$scenario' (kill9, pgrestart, terminate or longtx)" ;;
    esac
done

baton_require_packages || faults_setup_error "cannot install PostgreSQL"
command -v python3 >/dev/null 2>&1 || faults_setup_error "python3 is required"
command -v psql >/dev/null 2>&1 || faults_setup_error "psql is required"

# Binaries given explicitly must exist; only the defaults are built when missing.
if [ -n "${BATON_BIN:-}" ] && [ ! -x "$BATON_BIN" ]; then
    faults_setup_error "no baton binary at BATON_BIN=$BATON_BIN"
fi
if [ -n "${BATONCTL_BIN:-}" ] && [ ! -x "$BATONCTL_BIN" ]; then
    faults_setup_error "no batonctl binary at BATONCTL_BIN=$BATONCTL_BIN"
fi
if [ -z "${BATON_BIN:-}" ]; then
    BATON_BIN=.build/debug/baton
    if [ ! -x "$BATON_BIN" ]; then
        echo "==> swift build --product baton"
        swift build --product baton || faults_setup_error "swift build failed"
    fi
fi
if [ -z "${BATONCTL_BIN:-}" ]; then
    BATONCTL_BIN=.build/debug/batonctl
    if [ ! -x "$BATONCTL_BIN" ]; then
        echo "==> swift build --product batonctl"
        swift build --product batonctl || faults_setup_error "swift build failed"
    fi
fi
[ -x "$BATON_BIN" ] || faults_setup_error "no baton binary at $BATON_BIN"
[ -x "$BATONCTL_BIN" ] || faults_setup_error "no batonctl binary at $BATONCTL_BIN"

DRIVER=scripts/faults_driver.py
WORK="$(mktemp -d /tmp/baton-faults.XXXXXX)"
chmod 755 "$WORK"
CHILD_PID=""
SETUP_DONE=0

# Every baton process, first start or restart by the driver, has a pid file in $WORK/pids.
# shellcheck disable=SC2329 # called from faults_cleanup
faults_stop_servers() {
    local file pid pids=()
    for file in "$WORK"/pids/*.pid; do
        [ -f "$file" ] || continue
        pid="$(cat "$file" 2>/dev/null || true)"
        [[ "$pid" =~ ^[0-9]+$ ]] && pids+=("$pid")
    done
    baton_stop_processes 5 "${pids[@]}"
}

# shellcheck disable=SC2329 # the EXIT trap
faults_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    baton_stop_child
    faults_stop_servers
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/server-*.log; do
            [ -s "$log" ] || continue
            echo "faults: last lines of $log:" >&2
            tail -n 10 "$log" >&2 || true
        done
    fi
    # Keep the cluster's log with the rest of the evidence.
    if [ -n "${BATON_CLUSTER_DIR:-}" ] && [ -f "$BATON_CLUSTER_DIR/server.log" ]; then
        cp "$BATON_CLUSTER_DIR/server.log" "$WORK/postgres.log" 2>/dev/null || true
    fi
    baton_stop_pooler
    local keep=$FAULTS_KEEP
    [ "$status" -eq 0 ] || keep=1
    baton_release_work_dir faults "$WORK" "$keep"
    # A failure before the scenarios ran is a set-up error.
    if [ "$status" -ne 0 ] && [ "$SETUP_DONE" = 0 ] && [ "$status" -ne 130 ] && [ "$status" -ne 143 ]; then
        status=2
    fi
    exit "$status"
}
trap faults_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- database and servers -----------------------------------------------------------------------

baton_start_throwaway_cluster
echo "==> PostgreSQL on $BATON_CLUSTER_DESCRIPTION"
psql "$BATON_CLUSTER_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE faults' >/dev/null
DATABASE_URL="postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/faults"
# How the instances reach the database; the driver's checks and batonctl go to it directly.
SERVER_DATABASE=(--database-url "$DATABASE_URL")
if [ "$POOLER" = 1 ]; then
    baton_start_pooler
    echo "==> PgBouncer (transaction mode) on 127.0.0.1:$BATON_POOLER_PORT"
    SERVER_DATABASE=(--database-url "postgres://postgres@127.0.0.1:$BATON_POOLER_PORT/faults"
        --database-pooler transaction --direct-database-url "$DATABASE_URL")
fi
mkdir -p "$WORK/pids"

LINEBUF=()
command -v stdbuf >/dev/null 2>&1 && LINEBUF=(stdbuf -oL -eL)
unset BATON_NO_MIGRATE

# Writes the command line of instance NAME on PORT to $WORK/NAME.cmd (JSON), so the driver can
# restart it exactly as it was first started, then starts it.
faults_start_server() {
    local name=$1 port=$2
    mkdir -p "$WORK/data-$name"
    local command=("${LINEBUF[@]}" "$BATON_BIN" serve
        "${SERVER_DATABASE[@]}"
        --host 127.0.0.1
        --port "$port"
        --data-dir "$WORK/data-$name"
        --pool-size 10
        --pool-acquire-timeout 5
        --log-level info
        --shutdown-timeout 5)
    python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "${command[@]}" >"$WORK/$name.cmd"
    "${command[@]}" >>"$WORK/server-$name.log" 2>&1 </dev/null &
    echo $! >"$WORK/pids/$name.pid"
    python3 "$DRIVER" wait-ready --port "$port" --pid "$!" --timeout 120
}

PORT_A="$(baton_free_port)"
PORT_B="$(baton_free_port)"
while [ "$PORT_B" = "$PORT_A" ]; do PORT_B="$(baton_free_port)"; done
echo "==> baton instance a on 127.0.0.1:$PORT_A (migrates the empty database)"
faults_start_server a "$PORT_A"
echo "==> baton instance b on 127.0.0.1:$PORT_B"
faults_start_server b "$PORT_B"

echo "==> region emea, one team per scenario, an admin token"
"$BATONCTL_BIN" region add emea --name EMEA --time-zone Europe/Berlin --database-url "$DATABASE_URL" >/dev/null
for team in f-kill9 f-pgrestart f-terminate f-longtx f-listen; do
    "$BATONCTL_BIN" team add --department logistics --region emea --slug "$team" --database-url "$DATABASE_URL" >/dev/null
done
TOKEN="$("$BATONCTL_BIN" token create --name faults --role admin --json --database-url "$DATABASE_URL" \
    | python3 -c 'import json, re, sys; text = sys.stdin.read(); m = re.search(r"bt_[A-Za-z0-9_-]+", text); print(m.group(0) if m else "")')"
[ -n "$TOKEN" ] || faults_setup_error "batonctl token create printed no token"
printf '%s\n' "$TOKEN" >"$WORK/token"
chmod 600 "$WORK/token"
SETUP_DONE=1

# --- scenarios ----------------------------------------------------------------------------------

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
for scenario in $SCENARIOS; do
    echo "==> scenario $scenario ($SIZE)"
    baton_run_child python3 "$DRIVER" run \
        --scenario "$scenario" --size "$SIZE" --work "$WORK" \
        --database-url "$DATABASE_URL" --token-file "$WORK/token" \
        --instance "a:$PORT_A" --instance "b:$PORT_B" \
        --pg-bindir "$(baton_pg_bindir)" --pg-data "$BATON_CLUSTER_DIR/data" \
        --pg-log "$BATON_CLUSTER_DIR/server.log" \
        >>"$RESULTS" || echo "faults: the driver failed in scenario $scenario (see $WORK/$scenario.log)" >&2
done

echo
{
    echo "Baton fault tests, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), size $SIZE$([ "$POOLER" = 1 ] && echo ", through PgBouncer"), nproc $(nproc), $(basename "$BATON_BIN") binary $BATON_BIN"
    echo
} >"$WORK/report.txt"
table_status=0
python3 "$DRIVER" table --results "$RESULTS" --scenarios "$SCENARIOS" >>"$WORK/report.txt" || table_status=$?
cat "$WORK/report.txt"
exit "$table_status"
