#!/usr/bin/env bash
# The one test command: lint, then `swift test` against a throwaway PostgreSQL cluster.
#   scripts/test.sh                      everything, then the small fault tests, schemathesis and
#                                        the dashboard in headless Chromium
#   scripts/test.sh --filter Migrator    arguments pass through to `swift test`
#   BATON_TEST_POOLER=1 scripts/test.sh --filter PoolerTests
#                                        the same, through PgBouncer in transaction mode
#   BATON_TEST_STANDBY=1 scripts/test.sh --filter StandbyTests
#                                        the same, with a streaming standby of the cluster
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

baton_require_packages

echo "==> swift format lint --strict"
swift format lint --strict --recursive --parallel Package.swift Sources Tests Plugins

baton_start_throwaway_cluster
trap 'baton_stop_pooler; baton_stop_standby; baton_stop_throwaway_cluster' EXIT

export BATON_TEST_DATABASE_URL="$BATON_CLUSTER_URL"
if [ "${BATON_TEST_STANDBY:-0}" = 1 ]; then
    baton_start_standby
    export BATON_TEST_STANDBY_URL="$BATON_STANDBY_URL" BATON_TEST_STANDBY_CTL="$BATON_STANDBY_DIR/ctl.sh"
fi
if [ "${BATON_TEST_POOLER:-0}" = 1 ]; then
    baton_start_pooler
    export BATON_TEST_POOLER_URL="$BATON_POOLER_URL"
    echo "==> swift test (database: $BATON_CLUSTER_DESCRIPTION, through PgBouncer on port $BATON_POOLER_PORT)"
else
    echo "==> swift test (database: $BATON_CLUSTER_DESCRIPTION)"
fi
swift test "$@"

# The whole run (no arguments) also proves the guarantees end to end with real processes.
if [ "$#" -eq 0 ]; then
    swift build --product baton
    swift build --product batonctl
    # Timed on the cluster alone: in the parallel pass other tests' open transactions hold
    # the feed back for seconds.
    echo "==> swift test on a quiet cluster (the feed's held-back re-read)"
    BATON_TEST_QUIET_CLUSTER=1 swift test --skip-build --filter aFollowerHeldBackByAQuietTransaction
    # The queue's end-to-end tests again, with the application's statements going through
    # PgBouncer in transaction mode (--database-pooler transaction).
    baton_start_pooler
    echo "==> swift test through PgBouncer (transaction mode, port $BATON_POOLER_PORT)"
    BATON_TEST_POOLER_URL="$BATON_POOLER_URL" swift test --skip-build \
        --filter 'PoolerTests|QueueEndpointTests|TwoInstancesEndToEndTests|RegionalDeploymentTests|CustomerImportTests'
    baton_stop_pooler
    # Reads from a streaming standby, started now: during the main pass the stream of test
    # databases created and dropped would keep a standby minutes behind.
    baton_start_standby
    echo "==> swift test with a streaming standby (port $BATON_STANDBY_PORT)"
    BATON_TEST_STANDBY_URL="$BATON_STANDBY_URL" BATON_TEST_STANDBY_CTL="$BATON_STANDBY_DIR/ctl.sh" \
        swift test --skip-build --filter StandbyTests
    baton_stop_standby
    echo "==> fault tests (small)"
    # Each starts its own cluster: the test cluster's exported port and directory must not leak.
    env -u BATON_CLUSTER_DIR -u BATON_CLUSTER_PORT -u BATON_CLUSTER_URL -u BATON_CLUSTER_DESCRIPTION \
        bash scripts/faults.sh --size small
    echo "==> fault tests (small) through PgBouncer: PostgreSQL restarted, backends terminated"
    env -u BATON_CLUSTER_DIR -u BATON_CLUSTER_PORT -u BATON_CLUSTER_URL -u BATON_CLUSTER_DESCRIPTION \
        bash scripts/faults.sh --size small --pooler --scenario pgrestart,terminate
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
