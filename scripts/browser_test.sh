#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium (Debian's package, installed when missing)
# against `baton serve --demo` on a throwaway PostgreSQL cluster. Checks that every panel shows
# the demo data without script errors or policy violations, that a task handed off through the
# API reaches the board within a second, that the page fits a phone's width and that a
# team-scoped token sees only its team; saves screenshots into docs/screenshots/.
#
#   scripts/browser_test.sh
#
# Environment:
#   BATON_BIN=PATH         the server binary (default .build/debug/baton, built when missing)
#   SCREENSHOTS=DIR        where the screenshots go (default docs/screenshots)
#   BROWSER_KEEP=1         keep the work directory (server log, Chromium's log and profile)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

case "${1:-}" in
    "") ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "browser_test.sh: unknown argument '$1'" >&2
        exit 2
        ;;
esac

baton_require_packages
baton_require_chromium

BATON_BIN="${BATON_BIN:-.build/debug/baton}"
if [ ! -x "$BATON_BIN" ]; then
    echo "==> swift build --product baton"
    swift build --product baton
    BATON_BIN=.build/debug/baton
fi

WORK_DIR="$(mktemp -d /tmp/baton-browser.XXXXXX)"
SERVER_PID=""
CHILD_PID=""

browser_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    baton_stop_child
    [ -z "$SERVER_PID" ] || baton_stop_processes 10 "$SERVER_PID"
    if [ "$status" -ne 0 ] && [ -s "$WORK_DIR/server.log" ]; then
        echo "browser_test.sh: server errors logged during the run (last 20):" >&2
        grep -E 'error|critical' "$WORK_DIR/server.log" | tail -n 20 >&2 || true
    fi
    baton_release_work_dir browser_test.sh "$WORK_DIR" "${BROWSER_KEEP:-0}"
    exit "$status"
}
trap browser_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

baton_start_throwaway_cluster
echo "==> PostgreSQL on $BATON_CLUSTER_DESCRIPTION"
PORT="$(baton_free_port)"
BASE="http://127.0.0.1:$PORT"
echo "==> $BATON_BIN serve --demo on $BASE"
"$BATON_BIN" serve \
    --database-url "$BATON_CLUSTER_URL" \
    --host 127.0.0.1 \
    --port "$PORT" \
    --data-dir "$WORK_DIR/data" \
    --log-level notice \
    --shutdown-timeout 2 \
    --demo \
    >"$WORK_DIR/server.log" 2>&1 </dev/null &
SERVER_PID=$!

TOKEN=""
for _ in $(seq 1 600); do
    kill -0 "$SERVER_PID" 2>/dev/null || {
        echo "browser_test.sh: the server exited:" >&2
        tail -n 20 "$WORK_DIR/server.log" >&2
        exit 1
    }
    TOKEN="$({ grep -o -m1 'bt_[A-Za-z0-9_-]*' "$WORK_DIR/server.log" || true; } | head -n1)"
    if [ -n "$TOKEN" ] && curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
if [ -z "$TOKEN" ]; then
    echo "browser_test.sh: no admin token in the server's output" >&2
    exit 1
fi

# The token goes to the driver as an argument of a local process, never into a URL.
baton_run_child python3 scripts/browser_driver.py \
    --base "$BASE" \
    --token "$TOKEN" \
    --chromium "$(command -v chromium)" \
    --screenshots "${SCREENSHOTS:-docs/screenshots}" \
    --work "$WORK_DIR"
