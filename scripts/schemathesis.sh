#!/usr/bin/env bash
# Property-based API testing: runs schemathesis against a real `baton serve` (throwaway
# PostgreSQL, demo data) and fails on any 5xx, any response the OpenAPI document does not
# describe, any schema-valid request the server refuses and any schema-invalid one it accepts.
#
#   scripts/schemathesis.sh          the long run (more examples per operation)
#   scripts/schemathesis.sh --ci     a bounded run for CI (about two minutes on 2 cores, debug build)
#
# Environment:
#   BATON_BIN=PATH         the server binary (default .build/debug/baton, built when missing)
#   ST_SEED=N              the seed, for a reproducible run (default: random, printed)
#   ST_MAX_EXAMPLES=N      examples per operation (default 15 with --ci, 100 otherwise)
#   ST_WORKERS=N           concurrent workers (default 2)
#   ST_KEEP=1              keep the work directory (server log, schemathesis reports)
#   ST_ARGS="..."          extra arguments for `schemathesis run` (e.g. --phases fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# schemathesis sends bursts with one token, and a 429 is not in each operation's responses.
export BATON_RATE_LIMIT="${BATON_RATE_LIMIT:-0}"

MODE=long
for argument in "$@"; do
    case "$argument" in
        --ci) MODE=ci ;;
        -h | --help)
            sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "schemathesis.sh: unknown argument '$argument'" >&2
            exit 2
            ;;
    esac
done

SCHEMATHESIS_VERSION=4.32.5
SEED="${ST_SEED:-$(python3 -c 'import random; print(random.randrange(1, 2**31))')}"
WORKERS="${ST_WORKERS:-2}"
if [ "$MODE" = ci ]; then
    MAX_EXAMPLES="${ST_MAX_EXAMPLES:-15}"
else
    MAX_EXAMPLES="${ST_MAX_EXAMPLES:-100}"
fi

baton_require_packages
if ! python3 -c "import schemathesis, sys; from importlib.metadata import version; sys.exit(version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    echo "==> pip install schemathesis==$SCHEMATHESIS_VERSION"
    python3 -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

BATON_BIN="${BATON_BIN:-.build/debug/baton}"
if [ ! -x "$BATON_BIN" ]; then
    echo "==> swift build --product baton"
    swift build --product baton
    BATON_BIN=.build/debug/baton
fi

ST_DIR="$(mktemp -d /tmp/baton-schemathesis.XXXXXX)"
SERVER_PID=""
CHILD_PID=""

st_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    baton_stop_child
    [ -z "$SERVER_PID" ] || baton_stop_processes 10 "$SERVER_PID"
    if [ "$status" -ne 0 ] && [ -s "$ST_DIR/server.log" ]; then
        echo "schemathesis.sh: server errors logged during the run (last 20):" >&2
        grep -E 'error|critical' "$ST_DIR/server.log" | tail -n 20 >&2 || true
    fi
    baton_release_work_dir schemathesis.sh "$ST_DIR" "${ST_KEEP:-0}"
    exit "$status"
}
trap st_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- database and server ----------------------------------------------------------------------

baton_start_throwaway_cluster
echo "==> PostgreSQL on $BATON_CLUSTER_DESCRIPTION"
PORT="$(baton_free_port)"
BASE="http://127.0.0.1:$PORT"
LINEBUF=()
command -v stdbuf >/dev/null 2>&1 && LINEBUF=(stdbuf -oL -eL)
echo "==> $BATON_BIN serve --demo on $BASE"
"${LINEBUF[@]}" "$BATON_BIN" serve \
    --database-url "$BATON_CLUSTER_URL" \
    --host 127.0.0.1 \
    --port "$PORT" \
    --data-dir "$ST_DIR/data" \
    --log-level notice \
    --shutdown-timeout 2 \
    --demo \
    >"$ST_DIR/server.log" 2>&1 </dev/null &
SERVER_PID=$!

TOKEN=""
for _ in $(seq 1 600); do
    kill -0 "$SERVER_PID" 2>/dev/null || {
        echo "schemathesis.sh: the server exited:" >&2
        tail -n 20 "$ST_DIR/server.log" >&2
        exit 1
    }
    TOKEN="$({ grep -o -m1 'bt_[A-Za-z0-9_-]*' "$ST_DIR/server.log" || true; } | head -n1)"
    if [ -n "$TOKEN" ] && curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
if [ -z "$TOKEN" ]; then
    echo "schemathesis.sh: no admin token in the server's output" >&2
    exit 1
fi

# An admin token of its own for the destructive run, created through the API.
make_token() {
    curl -fsS -X POST "$BASE/v1/tokens" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$1\",\"role\":\"admin\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])'
}
DESTRUCTIVE_TOKEN="$(make_token schemathesis-destructive)"

# --- schemathesis -----------------------------------------------------------------------------

# Checks: all of them (5xx, status codes, content types, headers, response schemas, positive
# data accepted, negative data rejected, missing required headers, unsupported methods answered
# 405 with Allow, authentication not ignored, resources available after creation, use after
# free). scripts/schemathesis/schemathesis.toml explains the few tuned expectations.
#
# Excluded from the main run, each for a reason:
#   - GET /v1/events/stream is a server-sent event stream that stays open for minutes by
#     design; a request/response fuzzer can only time out on it (its tests are in
#     MembersAndStreamTests).
#   - POST /v1/tokens/{id}/revoke and POST /v1/members/{id}/deactivate can revoke the run's
#     own token (the fuzzer tries small ids, and the first admin token is id 1); every later
#     request would then be 401 and test nothing. They run afterwards in a small run of their
#     own, with a throwaway admin token made for it.
# No example database: a run depends on its seed alone, and leaves nothing in the worktree.
# NUL characters: PostgreSQL text cannot hold U+0000, and the server answers 400 for them on
# purpose (HostileInputTests covers that), so generated strings leave them out.
COMMON=(
    --checks all
    --seed "$SEED"
    --workers "$WORKERS"
    --generation-allow-x00 false
    --generation-database none
    --request-timeout 40
    --suppress-health-check all
)
SCHEMATHESIS=(schemathesis --no-color --config-file scripts/schemathesis/schemathesis.toml)
export SCHEMATHESIS_HOOKS=hooks
# Hypothesis keeps its own directory (.hypothesis/); put it with the run's other files.
export HYPOTHESIS_STORAGE_DIRECTORY="$ST_DIR/hypothesis"
export PYTHONPATH="$PWD/scripts/schemathesis${PYTHONPATH:+:$PYTHONPATH}"

echo "==> schemathesis $SCHEMATHESIS_VERSION ($MODE run: seed $SEED, $MAX_EXAMPLES examples per operation, $WORKERS workers)"
status=0
# tool_error_only OUTPUT: the run's only problems are errors raised inside schemathesis itself
# (a traceback in its own package, such as its coverage generator's "Inconsistent results" or
# KeyError): no check failed and nothing points at the server. Those are reported, not failed on.
tool_error_only() {
    grep -qE '^=+ ERRORS =+$' "$1" && ! grep -qE '^=+ FAILURES =+$' "$1" && grep -q 'site-packages/schemathesis' "$1" \
        && ! grep -qiE 'Connection refused|ConnectionError|Network Error|timed out|Server error' "$1"
}
# settle_run OUTPUT STATUS: prints the run's output and folds its status into the script's.
settle_run() {
    cat "$1"
    if [ "$2" -ne 0 ] && tool_error_only "$1"; then
        echo "==> schemathesis: only errors inside schemathesis itself (see ERRORS above); no check failed, not a finding" >&2
    elif [ "$2" -ne 0 ]; then
        status=$2
    fi
}
run_status=0
# shellcheck disable=SC2086
baton_run_child "${SCHEMATHESIS[@]}" run "$BASE/openapi.yaml" "${COMMON[@]}" \
    -H "Authorization: Bearer $TOKEN" \
    --max-examples "$MAX_EXAMPLES" \
    --exclude-operation-id streamEvents \
    --exclude-operation-id revokeToken \
    --exclude-operation-id deactivateMember \
    --report junit --report-dir "$ST_DIR/report-main" \
    ${ST_ARGS:-} >"$ST_DIR/main.out" 2>&1 || run_status=$?
settle_run "$ST_DIR/main.out" "$run_status"

echo "==> schemathesis: token revocation and member deactivation, with a throwaway admin token"
run_status=0
# shellcheck disable=SC2086
baton_run_child "${SCHEMATHESIS[@]}" run "$BASE/openapi.yaml" "${COMMON[@]}" \
    -H "Authorization: Bearer $DESTRUCTIVE_TOKEN" \
    --max-examples "$MAX_EXAMPLES" \
    --include-operation-id revokeToken \
    --include-operation-id deactivateMember \
    --phases examples,coverage,fuzzing \
    --report junit --report-dir "$ST_DIR/report-destructive" \
    ${ST_ARGS:-} >"$ST_DIR/destructive.out" 2>&1 || run_status=$?
settle_run "$ST_DIR/destructive.out" "$run_status"

if [ "$status" -ne 0 ]; then
    echo "==> schemathesis found failures (seed $SEED; rerun with ST_SEED=$SEED)" >&2
else
    echo "==> schemathesis passed (seed $SEED)"
fi
exit "$status"
