# Shared shell helpers for Baton's scripts: system packages and throwaway PostgreSQL clusters.
# Sourced, not run.

# Installs PostgreSQL's server and libpq headers with apt when they are missing.
baton_require_packages() {
    local missing=()
    command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
    [ -f /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v pgbench >/dev/null 2>&1 || missing+=(postgresql-contrib)
    command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
    command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

baton_pg_bindir() {
    local dir
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
        return
    fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# Runs a command as the postgres account when we are root (PostgreSQL refuses to run as root).
baton_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

baton_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts a cluster in a fresh temporary directory on a free TCP port of 127.0.0.1.
# Sets BATON_CLUSTER_DIR, BATON_CLUSTER_PORT, BATON_CLUSTER_URL and BATON_CLUSTER_DESCRIPTION.
baton_start_throwaway_cluster() {
    local bindir
    bindir="$(baton_pg_bindir)"
    BATON_CLUSTER_DIR="$(mktemp -d /tmp/baton-pg.XXXXXX)"
    BATON_CLUSTER_PORT="${BATON_CLUSTER_PORT:-$(baton_free_port)}"
    chmod 755 "$BATON_CLUSTER_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$BATON_CLUSTER_DIR"
    baton_as_pg "$bindir/initdb" -D "$BATON_CLUSTER_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
    baton_as_pg "$bindir/pg_ctl" -D "$BATON_CLUSTER_DIR/data" -l "$BATON_CLUSTER_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $BATON_CLUSTER_PORT -c unix_socket_directories=$BATON_CLUSTER_DIR -c max_connections=${BATON_CLUSTER_MAX_CONNECTIONS:-1000} -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
    BATON_CLUSTER_URL="postgres://postgres@127.0.0.1:$BATON_CLUSTER_PORT/postgres"
    BATON_CLUSTER_DESCRIPTION="127.0.0.1:$BATON_CLUSTER_PORT, data in $BATON_CLUSTER_DIR"
    export BATON_CLUSTER_DIR BATON_CLUSTER_PORT BATON_CLUSTER_URL BATON_CLUSTER_DESCRIPTION
}

baton_stop_throwaway_cluster() {
    local status=$?
    if [ -n "${BATON_CLUSTER_DIR:-}" ] && [ -d "$BATON_CLUSTER_DIR/data" ]; then
        baton_as_pg "$(baton_pg_bindir)/pg_ctl" -D "$BATON_CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$BATON_CLUSTER_DIR"
    fi
    return $status
}

# The end of a script's EXIT trap: stops the throwaway cluster, then keeps the work directory
# DIR (saying so, as LABEL) when KEEP is 1, or removes it.
#   baton_release_work_dir LABEL DIR KEEP
baton_release_work_dir() {
    local label=$1 dir=$2 keep=$3
    baton_stop_throwaway_cluster || true
    if [ "$keep" = 1 ]; then
        echo "$label: kept $dir" >&2
    else
        rm -rf "$dir"
    fi
}

# Runs a long command in the background and waits for it, so that INT and TERM interrupt the
# wait at once (a foreground command would delay the traps until it ended). The child's pid is
# in CHILD_PID meanwhile, for the caller's trap to stop.
baton_run_child() {
    local status=0
    "$@" &
    CHILD_PID=$!
    wait "$CHILD_PID" || status=$?
    CHILD_PID=""
    return "$status"
}

# Stops the child baton_run_child is waiting for, if any (for EXIT traps).
baton_stop_child() {
    if [ -n "${CHILD_PID:-}" ]; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
}

# baton_stop_processes SECONDS PID...: asks every process to stop (SIGTERM), waits up to SECONDS
# for each, then kills what is left and reaps it. Pids that are gone already are fine.
baton_stop_processes() {
    local tries=$(($1 * 10)) pid
    shift
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 1 "$tries"); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# Installs wrk (the compiled HTTP load generator of bench.sh) with apt when it is missing.
baton_require_wrk() {
    command -v wrk >/dev/null 2>&1 && return 0
    echo "==> installing wrk"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
}

# Installs Debian's Chromium (the browser test's headless browser) with apt when it is missing.
baton_require_chromium() {
    command -v chromium >/dev/null 2>&1 && return 0
    echo "==> installing chromium"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# Restarts the throwaway cluster with the options it was started with (postmaster.opts) and
# then OPTION... (a later -c wins over an earlier one), for example
#   baton_restart_throwaway_cluster -c fsync=on -c synchronous_commit=on
# Every client is disconnected.
baton_restart_throwaway_cluster() {
    local bindir options
    bindir="$(baton_pg_bindir)"
    options="$(cat "$BATON_CLUSTER_DIR/data/postmaster.opts")"
    options="${options#* }" # the arguments after the postgres executable, quoted as pg_ctl wrote them
    baton_as_pg "$bindir/pg_ctl" -D "$BATON_CLUSTER_DIR/data" -l "$BATON_CLUSTER_DIR/server.log" -w -t 60 -m fast \
        -o "$options $*" restart >/dev/null
}

# Starts PgBouncer in transaction mode in front of the throwaway cluster, on a free port of
# 127.0.0.1, as the postgres account (PgBouncer refuses to run as root). Any database name is
# passed through. Sets BATON_POOLER_PORT and BATON_POOLER_URL; baton_stop_pooler stops it.
baton_start_pooler() {
    local dir="$BATON_CLUSTER_DIR/pgbouncer" bouncer
    bouncer="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
    BATON_POOLER_PORT="$(baton_free_port)"
    mkdir -p "$dir"
    echo '"postgres" ""' >"$dir/userlist.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$BATON_CLUSTER_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BATON_POOLER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
; Fewer server sessions than the tests' clients, so sessions really are shared.
default_pool_size = 6
max_client_conn = 2000
; After PostgreSQL comes back, log in again within a second (the default waits 15 s).
server_login_retry = 1
max_db_connections = 0
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
    baton_as_pg "$bouncer" -d "$dir/pgbouncer.ini"
    for _ in $(seq 1 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $BATON_POOLER_PORT), 0.2)" 2>/dev/null && break
        sleep 0.1
    done
    BATON_POOLER_URL="postgres://postgres@127.0.0.1:$BATON_POOLER_PORT/postgres"
    export BATON_POOLER_PORT BATON_POOLER_URL
}

baton_stop_pooler() {
    local pidfile="${BATON_CLUSTER_DIR:-}/pgbouncer/pgbouncer.pid"
    if [ -f "$pidfile" ]; then
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    fi
}

# Starts a streaming-replication standby of the throwaway cluster (pg_basebackup -R) on a free
# port of 127.0.0.1. Sets BATON_STANDBY_DIR, BATON_STANDBY_PORT and BATON_STANDBY_URL, and
# writes $BATON_STANDBY_DIR/ctl.sh (`ctl.sh stop|start`) for tests that stop it. The throwaway
# cluster's EXIT trap removes it with the cluster's directory; baton_stop_standby stops it.
baton_start_standby() {
    local bindir
    bindir="$(baton_pg_bindir)"
    BATON_STANDBY_DIR="$BATON_CLUSTER_DIR/standby"
    BATON_STANDBY_PORT="$(baton_free_port)"
    mkdir -p "$BATON_STANDBY_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$BATON_STANDBY_DIR"
    baton_as_pg "$bindir/pg_basebackup" -h 127.0.0.1 -p "$BATON_CLUSTER_PORT" -U postgres \
        -D "$BATON_STANDBY_DIR/data" -R -X stream --no-sync >/dev/null
    cat >"$BATON_STANDBY_DIR/ctl.sh" <<CTL
#!/usr/bin/env bash
# stop or start the test standby
set -euo pipefail
source "$(pwd)/scripts/lib.sh"
baton_as_pg "$bindir/pg_ctl" -D "$BATON_STANDBY_DIR/data" -l "$BATON_STANDBY_DIR/server.log" -w -t 60 -m fast \\
    -o "-c listen_addresses=127.0.0.1 -p $BATON_STANDBY_PORT -c unix_socket_directories=$BATON_STANDBY_DIR -c max_connections=${BATON_CLUSTER_MAX_CONNECTIONS:-1000} -c hot_standby_feedback=on -c fsync=off" \\
    "\$1" >/dev/null
CTL
    bash "$BATON_STANDBY_DIR/ctl.sh" start
    BATON_STANDBY_URL="postgres://postgres@127.0.0.1:$BATON_STANDBY_PORT/postgres"
    export BATON_STANDBY_DIR BATON_STANDBY_PORT BATON_STANDBY_URL
}

baton_stop_standby() {
    if [ -n "${BATON_STANDBY_DIR:-}" ] && [ -d "$BATON_STANDBY_DIR/data" ]; then
        baton_as_pg "$(baton_pg_bindir)/pg_ctl" -D "$BATON_STANDBY_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}
