#!/usr/bin/env bash
# The one test command: lint, then `swift test` against a throwaway PostgreSQL cluster.
#   scripts/test.sh                      everything, then the small fault tests, schemathesis and
#                                        the dashboard in headless Chromium
#   scripts/test.sh --filter Migrator    arguments pass through to `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

baton_require_packages

echo "==> swift format lint --strict"
swift format lint --strict --recursive --parallel Package.swift Sources Tests Plugins

baton_start_throwaway_cluster
trap baton_stop_throwaway_cluster EXIT

export BATON_TEST_DATABASE_URL="$BATON_CLUSTER_URL"
echo "==> swift test (database: $BATON_CLUSTER_DESCRIPTION)"
swift test "$@"

# The whole run (no arguments) also proves the guarantees end to end with real processes.
if [ "$#" -eq 0 ]; then
    swift build --product baton
    swift build --product batonctl
    echo "==> fault tests (small)"
    # Each starts its own cluster: the test cluster's exported port and directory must not leak.
    env -u BATON_CLUSTER_DIR -u BATON_CLUSTER_PORT -u BATON_CLUSTER_URL -u BATON_CLUSTER_DESCRIPTION \
        bash scripts/faults.sh --size small
    echo "==> schemathesis against the served OpenAPI document (CI budget)"
    env -u BATON_CLUSTER_DIR -u BATON_CLUSTER_PORT -u BATON_CLUSTER_URL -u BATON_CLUSTER_DESCRIPTION \
        bash scripts/schemathesis.sh --ci
    echo "==> the dashboard in headless Chromium"
    # Screenshots of a CI run go to a temporary directory: the committed ones stay as they are.
    SCREENSHOTS="$(mktemp -d /tmp/baton-screenshots.XXXXXX)"
    env -u BATON_CLUSTER_DIR -u BATON_CLUSTER_PORT -u BATON_CLUSTER_URL -u BATON_CLUSTER_DESCRIPTION \
        SCREENSHOTS="$SCREENSHOTS" bash scripts/browser_test.sh
    rm -rf "$SCREENSHOTS"
fi
