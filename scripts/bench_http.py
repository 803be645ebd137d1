#!/usr/bin/env python3
"""Load driver and result table for scripts/bench.sh. Standard library only.

Subcommands:
  wait-ready     poll GET /readyz until it answers 200
  seed           create the emea region and the logistics-, sales-, marketing- and support-emea teams
  run            drive task lifecycles over HTTP for a fixed time; prints one JSON line
  pgbench-stats  tasks/s and latency percentiles of a pgbench run; prints one JSON line
  feed-lag       event-feed lag (long poll, SSE) beside raw LISTEN/NOTIFY and an HTTP round trip
  rss            the server's peak VmRSS with many concurrent connections
  rss-read       the server's VmRSS now
  wrk            run wrk with a scripts/bench/*.lua script (a request, or the whole lifecycle),
                 with the server's and wrk's own CPU per request; prints one JSON line
  wait-http      poll GET PATH until it answers 200 (the request baselines have no /readyz)
  table          render the JSON lines of a whole benchmark as one table

The HTTP client is a small keep-alive HTTP/1.1 client on a raw socket (TCP_NODELAY, one
send per request) rather than http.client: it costs the driver about half the CPU per
request, and the driver shares the machine with the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import multiprocessing
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from baton_http import Arrivals, Client, HTTPFailure, add_wait_ready_command, follow_long_poll, wait_ready


# --------------------------------------------------------------------------------------------
# wait-ready and seed


def cmd_wait_ready(args) -> int:
    return wait_ready(args.port, args.pid, args.timeout, "bench")


def cmd_seed(args) -> int:
    client = Client(args.port, args.token, timeout=30)
    steps = [
        ("/v1/regions", {"code": "emea", "name": "EMEA", "time_zone": "Europe/Berlin"}, None),
        ("/v1/teams", {"department": "logistics", "region": "emea"}, "logistics-emea"),
        ("/v1/teams", {"department": "sales", "region": "emea"}, "sales-emea"),
        ("/v1/teams", {"department": "marketing", "region": "emea"}, "marketing-emea"),
        ("/v1/teams", {"department": "support", "region": "emea"}, "support-emea"),
    ]
    try:
        for path, body, slug in steps:
            status, answer = client.request("POST", path, body)
            if status == 409:
                continue  # already there from an earlier seed
            if status != 201:
                print(f"bench: POST {path} {json.dumps(body)} answered {status}: {json.dumps(answer)[:500]}", file=sys.stderr)
                return 1
            if slug is not None and isinstance(answer, dict) and answer.get("slug") != slug:
                print(f"bench: POST {path} made team {answer.get('slug')!r}, expected {slug!r}", file=sys.stderr)
                return 1
    except HTTPFailure as error:
        print(f"bench: seeding failed: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


# --------------------------------------------------------------------------------------------
# run


class Worker:
    """One closed-loop worker with its own connection. Each cycle is create → claim → complete;
    a sample (end time, latency, tasks completed) is kept per cycle."""

    def __init__(self, index: int, args, t_begin: float, t_end: float):
        self.index = index
        self.args = args
        self.t_begin = t_begin
        self.t_end = t_end
        self.client = Client(args.port, args.token, timeout=args.request_timeout)
        self.worker_name = f"bench-{os.getpid()}-{index}"
        self.samples: list[tuple[float, float, int]] = []
        self.errors = 0
        self.error_examples: list[str] = []
        self.team_path = f"/v1/teams/{args.team}"
        self.timed: float | None = None
        self.empty_claims = 0

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_examples) < 3:
            self.error_examples.append(message[:300])

    def run(self) -> None:
        try:
            self.client.connect()
        except OSError as error:
            self.error(f"connect: {error}")
        delay = self.t_begin - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        cycles = {"batch": self.batch_cycle, "claim": self.claim_cycle, "stats": self.stats_cycle}
        cycle = cycles.get(self.args.mode, self.single_cycle)
        while time.monotonic() < self.t_end:
            start = time.monotonic()
            self.timed = None
            try:
                done = cycle()
            except HTTPFailure as error:
                self.error(str(error))
                done = None
            except (KeyError, TypeError, ValueError) as error:
                self.error(f"unexpected response shape: {type(error).__name__}: {error}")
                done = None
            end = time.monotonic()
            if done is None:
                time.sleep(0.05)  # do not spin on a persistent failure
                continue
            if self.args.mode == "claim" and self.timed is None:
                continue  # the claim found nothing
            # A cycle may time one of its requests (the claim mode); otherwise the whole cycle.
            self.samples.append((end, self.timed if self.timed is not None else end - start, done))
        self.client.close()

    def expect(self, what: str, status: int, wanted: int, body) -> bool:
        if status == wanted:
            return True
        self.error(f"{what} answered {status}: {json.dumps(body)[:200]}")
        return False

    def lifecycle(self):
        """create → claim → complete one task. Returns (tasks completed, tasks claimed, the
        claim request's latency), or None when a request failed."""
        status, task = self.client.request("POST", f"{self.team_path}/tasks", {"kind": "bench", "title": "t"})
        if not self.expect("create", status, 201, task):
            return None
        start = time.monotonic()
        status, claim = self.client.request(
            "POST", f"{self.team_path}/claim", {"worker": self.worker_name, "limit": 1, "lease_seconds": 60}
        )
        claim_latency = time.monotonic() - start
        if not self.expect("claim", status, 200, claim):
            return None
        done = 0
        for claimed in claim["tasks"]:
            status, body = self.client.request(
                "POST", f"/v1/tasks/{int(claimed['id'])}/complete", {"lease_token": claimed["lease"]["token"]}
            )
            if self.expect("complete", status, 200, body):
                done += 1
        return done, len(claim["tasks"]), claim_latency

    def single_cycle(self):
        outcome = self.lifecycle()
        return None if outcome is None else outcome[0]

    def claim_cycle(self):
        """create → claim → complete like single_cycle, but the sample's latency is the claim
        request's alone. With a backlog the claim takes the oldest claimable task, not
        necessarily the one just created: the queue depth stays where it was."""
        outcome = self.lifecycle()
        if outcome is None:
            return None
        done, claimed, claim_latency = outcome
        if not claimed:
            # Another worker took the last claimable task (SKIP LOCKED): not an error, but
            # not a claim either, so no sample.
            self.empty_claims += 1
            return 0
        self.timed = claim_latency
        return done

    def stats_cycle(self):
        """GET the team's stats: one request, timed whole, no task moved."""
        status, body = self.client.request("GET", f"{self.team_path}/stats")
        return 0 if self.expect("stats", status, 200, body) else None

    def batch_cycle(self):
        size = self.args.batch_size
        status, created = self.client.request(
            "POST", f"{self.team_path}/tasks/batch", {"tasks": [{"kind": "bench", "title": "t"}] * size}
        )
        if not self.expect("batch create", status, 201, created):
            return None
        status, claim = self.client.request(
            "POST", f"{self.team_path}/claim", {"worker": self.worker_name, "limit": size, "lease_seconds": 60}
        )
        if not self.expect("claim", status, 200, claim):
            return None
        items = [{"id": int(t["id"]), "lease_token": t["lease"]["token"]} for t in claim["tasks"]]
        if not items:
            return 0
        status, outcome = self.client.request("POST", "/v1/tasks/complete", {"items": items})
        if not self.expect("batch complete", status, 200, outcome):
            return None
        done = 0
        for item in outcome["items"]:
            if item.get("outcome") == "completed":
                done += 1
            else:
                self.error(f"batch complete item {item.get('id')}: {item.get('outcome')}")
        return done


def drive_process(worker_indexes, args, t_begin, t_end, connection) -> None:
    """Runs some workers as threads of one process and sends their samples back."""
    try:
        cpu_start = time.process_time()
        workers = [Worker(i, args, t_begin, t_end) for i in worker_indexes]
        threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        connection.send(
            {
                "samples": [s for w in workers for s in w.samples],
                "errors": sum(w.errors for w in workers),
                "error_examples": [e for w in workers for e in w.error_examples][:5],
                "empty_claims": sum(w.empty_claims for w in workers),
                "requests": sum(w.client.sent for w in workers),
                "cpu_seconds": time.process_time() - cpu_start,
            }
        )
    except BaseException as error:  # report rather than leave the parent waiting
        try:
            connection.send({"samples": [], "errors": 1, "error_examples": [f"driver: {error!r}"], "cpu_seconds": 0.0})
        except OSError:
            pass  # the parent is gone
    finally:
        connection.close()


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def cmd_run(args) -> int:
    # On TERM, unwind normally so multiprocessing's exit handler stops the daemon children.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    result = drive(args)
    print(json.dumps(result))
    for example in result["error_examples"][:3]:
        print(f"bench: {args.mode} c={args.concurrency}: {example}", file=sys.stderr)
    return 0


def drive(args) -> dict:
    """Runs args.concurrency closed-loop workers for the warm-up and the measured seconds in
    up to args.processes driver processes; returns the run's figures."""
    concurrency = args.concurrency
    processes = max(1, min(concurrency, args.processes or os.cpu_count() or 1))
    context = multiprocessing.get_context("fork")
    startup = 0.5
    t_begin = time.monotonic() + startup
    t_measure = t_begin + args.warmup
    t_end = t_measure + args.seconds
    server_pid = getattr(args, "server_pid", 0)
    server_before = process_counters(server_pid) if server_pid else None
    children = []
    for p in range(processes):
        indexes = list(range(p, concurrency, processes))
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=drive_process, args=(indexes, args, t_begin, t_end, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))

    samples: list[tuple[float, float, int]] = []
    errors = 0
    empty_claims = 0
    examples: list[str] = []
    cpu = 0.0
    requests = 0
    hard_deadline = t_end + args.request_timeout + 15
    for child, receive in children:
        report = None
        remaining = max(0.1, hard_deadline - time.monotonic())
        if receive.poll(remaining):
            try:
                report = receive.recv()
            except EOFError:
                report = None
        if report is None:
            errors += 1
            examples.append("a driver process did not report in time")
            child.terminate()
        else:
            samples.extend(report["samples"])
            errors += report["errors"]
            examples.extend(report["error_examples"])
            empty_claims += report.get("empty_claims", 0)
            requests += report.get("requests", 0)
            cpu += report["cpu_seconds"]
        child.join(5)
        if child.is_alive():
            child.kill()
    server_after = process_counters(server_pid) if server_pid else None

    measured = [s for s in samples if t_measure <= s[0] <= t_end]
    latencies = sorted(s[1] * 1000.0 for s in measured)
    tasks = sum(s[2] for s in measured)
    result = {
        "path": getattr(args, "path", None) or args.mode,
        "concurrency": concurrency,
        "seconds": args.seconds,
        "tasks": tasks,
        "cycles": len(measured),
        "tasks_per_s": tasks / args.seconds,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "mean_ms": (sum(latencies) / len(latencies)) if latencies else None,
        "errors": errors,
        "error_examples": examples[:5],
        "driver_processes": processes,
        "driver_cpu_s": round(cpu, 3),
        "driver_wall_s": round(t_end - t_begin, 3),
    }
    # CPU per request: the driver's CPU (process time of its worker processes) and every request
    # it sent, warm-up included; the server's CPU over the same span when its pid is known.
    result["driver"] = "python"
    result["requests"] = requests
    if server_before is not None and server_after is not None:
        result["server_cpu_s"] = round(server_after[0] - server_before[0], 3)
        result["server_ctxsw"] = server_after[1] - server_before[1]
    if args.mode == "claim":
        result["empty_claims"] = empty_claims
    if getattr(args, "samples_file", None):
        with open(args.samples_file, "a", encoding="utf-8") as handle:
            handle.writelines(f"{value:.4f}\n" for value in latencies)
    if getattr(args, "history", None):
        result["history"] = args.history
    return result


# --------------------------------------------------------------------------------------------
# pgbench-stats


def cmd_pgbench_stats(args) -> int:
    with open(args.output, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    processed = re.search(r"number of transactions actually processed:\s*(\d+)", text)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", text)
    failed = re.search(r"number of failed transactions:\s*(\d+)", text)
    if not processed or not tps:
        print(f"bench: cannot read pgbench's summary in {args.output}", file=sys.stderr)
        return 1
    processed_count = int(processed.group(1))
    tps_value = float(tps.group(1))
    latencies: list[float] = []
    for path in glob.glob(glob.escape(args.log_prefix) + ".*"):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                fields = line.split()
                # client_id transaction_no time script_no time_epoch time_us [...]; time in µs,
                # or "failed"/"skipped" for transactions that did not finish.
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1000.0)
    latencies.sort()
    # tps counts script runs; a run whose claim found nothing (another client took the task
    # first) completes nothing, so scale by the tasks that really reached 'done'.
    elapsed = processed_count / tps_value if tps_value > 0 else 0.0
    tasks_per_s = args.done / elapsed if elapsed > 0 else 0.0
    # With pgbench -r: the mean latency of the claim statement alone (pgbench reports a mean
    # per statement, not percentiles).
    claim = re.search(r"^\s*([0-9.]+)\s+(?:\d+\s+)?WITH picked AS", text, re.MULTILINE)
    result = {
        "path": args.path,
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 3),
        "tasks": args.done,
        "cycles": processed_count,
        "pgbench_tps": tps_value,
        "tasks_per_s": tasks_per_s,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": int(failed.group(1)) if failed else 0,
        "error_examples": [],
    }
    if claim:
        result["claim_mean_ms"] = float(claim.group(1))
    if args.history:
        result["history"] = args.history
    if args.variant:
        result["variant"] = args.variant
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------------
# CPU and context switches of a process, and wrk runs measured with them

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # what `getconf CLK_TCK` prints


def process_counters(pid: int) -> tuple[float, int]:
    """A process's CPU seconds (utime + stime of /proc/PID/stat, every thread, exited ones
    included) and context switches (voluntary + nonvoluntary, summed over /proc/PID/task/*/status:
    /proc/PID/status alone counts the main thread only)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    # After "pid (comm)": state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    switches = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        switches += int(line.split()[1])
        except OSError:
            pass  # the thread ended meanwhile
    return cpu, switches


def per_request_ms(seconds, requests) -> float | None:
    return seconds * 1000.0 / requests if seconds is not None and requests else None


def run_wrk(args, seconds: float, env: dict[str, str]) -> tuple[dict, float, int, int]:
    """Runs wrk once; returns the script's result line, wrk's own CPU seconds (its rusage,
    the same utime + stime as its /proc/PID/stat, read as it exits) and the server's CPU and
    context switches meanwhile."""
    url = f"http://127.0.0.1:{args.port}/"
    command = [
        "wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds:g}s",
        "--timeout", "30s", "-s", args.script, url,
    ]
    before = process_counters(args.server_pid) if args.server_pid else (0.0, 0)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    signal.signal(signal.SIGTERM, lambda signum, frame: (process.kill(), sys.exit(128 + signum)))
    output = process.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    after = process_counters(args.server_pid) if args.server_pid else (0.0, 0)
    line = next((l for l in output.splitlines() if l.startswith("BENCH_WRK_RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk exited {process.returncode} without a result: {output[-800:]}")
    result = json.loads(line.split(" ", 1)[1])
    return result, usage.ru_utime + usage.ru_stime, after[0] - before[0], after[1] - before[1]


def cmd_wrk(args) -> int:
    env = dict(os.environ)
    env.update(
        BENCH_TOKEN=args.token or "", BENCH_TEAM=args.team, BENCH_MODE=args.mode or "single",
        BENCH_BATCH_SIZE=str(args.batch_size), BENCH_WARMUP=f"{args.warmup:g}", BENCH_SECONDS=f"{args.seconds:g}",
    )
    lifecycle = args.mode is not None
    try:
        if lifecycle:
            # The lifecycle script skips its own warm-up: one run, CPU over all of it.
            wall = args.warmup + args.seconds
            wrk, driver_cpu, server_cpu, server_ctxsw = run_wrk(args, wall, env)
        else:
            if args.warmup > 0:
                run_wrk(args, args.warmup, env)
            wall = args.seconds
            wrk, driver_cpu, server_cpu, server_ctxsw = run_wrk(args, wall, env)
    except (RuntimeError, OSError, ValueError) as error:
        print(f"bench: wrk ({args.path} {args.mode or args.request or ''}): {error}", file=sys.stderr)
        return 1
    requests = wrk["requests"]
    result = {
        "path": args.path,
        "driver": "wrk",
        "concurrency": args.connections,
        "requests": requests,
        "driver_cpu_s": round(driver_cpu, 3),
        "driver_wall_s": round(wrk["duration_s"], 3),
        "server_cpu_s": round(server_cpu, 3),
        "server_ctxsw": server_ctxsw,
    }
    if lifecycle:
        result.update(
            seconds=args.seconds,
            tasks=wrk["tasks"],
            cycles=wrk["cycles"],
            tasks_per_s=wrk["tasks"] / args.seconds,
            p50_ms=wrk.get("p50_ms"),
            p99_ms=wrk.get("p99_ms"),
            mean_ms=wrk.get("mean_ms"),
            errors=wrk["errors"] + wrk["socket_errors"],
            error_examples=wrk["error_examples"] + (
                [f"{wrk['socket_errors']} socket errors"] if wrk["socket_errors"] else []
            ),
            empty_claims=wrk["empty_claims"],
        )
    else:
        bad = wrk.get("unexpected", wrk["status_errors"])
        result.update(
            request=args.request,
            server=args.server,
            seconds=round(wrk["duration_s"], 3),
            req_per_s=requests / wrk["duration_s"] if wrk["duration_s"] > 0 else 0.0,
            p50_ms=wrk["request_p50_ms"],
            p99_ms=wrk["request_p99_ms"],
            errors=bad + wrk["socket_errors"],
            error_examples=[f"{bad} unexpected statuses, {wrk['socket_errors']} socket errors"] if bad or wrk["socket_errors"] else [],
        )
        if "empty_claims" in wrk:
            result["empty_claims"] = wrk["empty_claims"]
    result["server_cpu_ms_per_req"] = per_request_ms(server_cpu, requests)
    result["ctxsw_per_req"] = server_ctxsw / requests if requests else None
    result["driver_cpu_ms_per_req"] = per_request_ms(driver_cpu, requests)
    print(json.dumps(result))
    return 0


def cmd_wait_http(args) -> int:
    """Polls GET PATH until it answers 200 (for servers without /readyz)."""
    deadline = time.monotonic() + args.timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if args.pid:
            try:
                os.kill(args.pid, 0)
            except ProcessLookupError:
                print(f"bench: the server (pid {args.pid}) exited before it answered", file=sys.stderr)
                return 1
        client = Client(args.port, timeout=5)
        try:
            status, _ = client.request("GET", args.path)
            if status == 200:
                return 0
            last = f"status {status}"
        except HTTPFailure as error:
            last = str(error)
        finally:
            client.close()
        time.sleep(0.2)
    print(f"bench: GET {args.path} on port {args.port} did not answer 200 in {args.timeout:.0f} s ({last})", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------------------------
# feed-lag: how long after a create's 201 a follower of the event feed has the event


class PGWire:
    """A minimal PostgreSQL protocol client (trust authentication, simple queries,
    notifications): enough for the raw LISTEN/NOTIFY baseline without a driver package."""

    def __init__(self, port: int, database: str, user: str = "postgres"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb", buffering=65536)
        body = struct.pack("!i", 196608) + f"user\0{user}\0database\0{database}\0\0".encode()
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self._until_ready()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def _message(self) -> tuple[bytes, bytes]:
        head = self.reader.read(5)
        if head is None or len(head) < 5:
            raise HTTPFailure("PostgreSQL closed the connection")
        length = struct.unpack("!i", head[1:])[0]
        return head[:1], self.reader.read(length - 4)

    def _until_ready(self) -> None:
        error = None
        while True:
            kind, body = self._message()
            if kind == b"Z":
                break
            if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
                raise HTTPFailure("PostgreSQL wants a password; the bench cluster trusts 127.0.0.1")
            if kind == b"E":
                error = body.replace(b"\0", b" ").decode("utf-8", "replace")
        if error:
            raise HTTPFailure(f"PostgreSQL: {error}")

    def query(self, sql: str) -> None:
        data = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", len(data) + 4) + data)
        self._until_ready()

    def notification(self) -> str:
        """Blocks until a notification arrives; returns its payload."""
        while True:
            kind, body = self._message()
            if kind == b"A":
                channel_end = body.index(b"\0", 4)
                return body[channel_end + 1 : body.index(b"\0", channel_end + 1)].decode()


def follow_sse(args, arrivals: Arrivals, stop: threading.Event, sock: socket.socket, errors: list) -> None:
    try:
        reader = sock.makefile("rb", buffering=0)
        head = (
            f"GET /v1/events/stream?after={args.after}&types=task.created&team={args.team} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{args.port}\r\nAccept: text/event-stream\r\nAuthorization: Bearer {args.token}\r\n\r\n"
        )
        sock.sendall(head.encode("ascii"))
        status_line = reader.readline()
        if b" 200 " not in status_line:
            errors.append(f"event stream answered {status_line[:80]!r}")
            return
        chunked = False
        while True:
            line = reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            if line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
                chunked = True
        pending = b""

        def pieces():
            while True:
                if not chunked:
                    data = sock.recv(65536)
                    if not data:
                        return
                    yield data
                    continue
                size_line = reader.readline()
                if not size_line:
                    return
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    return
                data = b""
                while len(data) < size:
                    more = reader.read(size - len(data))
                    if not more:
                        return
                    data += more
                reader.readline()  # the CRLF after the chunk
                yield data

        for data in pieces():
            now = time.monotonic()
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.startswith(b"data:"):
                    event = json.loads(line[5:].strip())
                    arrivals.record("sse", str(event.get("entity_id")), now)
    except (OSError, ValueError) as error:
        if not stop.is_set():
            errors.append(f"event stream: {type(error).__name__}: {error}")


def lag_result(path: str, lags: list[float], wanted: int, args) -> dict:
    ordered = sorted(x * 1000.0 for x in lags)
    result = {
        "path": path,
        "label": args.label,
        "table_events": args.table_events,
        "samples": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "p99_ms": percentile(ordered, 99),
        "errors": wanted - len(ordered),
        "error_examples": [],
    }
    return result


def pause(rng) -> None:
    time.sleep(rng.uniform(0.02, 0.05))  # spread the samples off any timer grid


def cmd_feed_lag(args) -> int:
    import random

    sys.setswitchinterval(0.0005)  # the follower threads must not wait on the GIL
    rng = random.Random(7)
    total = args.warmup + args.events

    # Raw LISTEN/NOTIFY between two connections: the floor of any notification-driven feed.
    listener = PGWire(args.pg_port, args.pg_database)
    notifier = PGWire(args.pg_port, args.pg_database)
    listener.query("LISTEN bench_lag")
    raw = Arrivals()

    def listen():
        try:
            while True:
                payload = listener.notification()
                raw.record("notify", payload, time.monotonic())
        except (OSError, ValueError, HTTPFailure):
            return

    listening = threading.Thread(target=listen, daemon=True)
    listening.start()
    notify_lags = []
    for i in range(total):
        notifier.query(f"NOTIFY bench_lag, '{i}'")
        committed = time.monotonic()
        got = raw.wait(["notify"], str(i), 5.0)
        if i >= args.warmup and "notify" in got:
            notify_lags.append(got["notify"] - committed)
        pause(rng)
    notifier.close()
    listener.sock.shutdown(socket.SHUT_RDWR)
    listener.close()
    listening.join(5)
    print(json.dumps(lag_result("feed-notify", notify_lags, args.events, args)))

    # The feed followers: one long poll and one SSE stream, both filtered to the team.
    arrivals = Arrivals()
    stop = threading.Event()
    errors: list[str] = []
    poll_client = Client(args.port, args.token, timeout=60)
    sse_sock = socket.create_connection(("127.0.0.1", args.port), timeout=None)
    sse_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    followers = [
        threading.Thread(
            target=follow_long_poll, args=(args.after, args.team, arrivals, stop, poll_client, errors), daemon=True
        ),
        threading.Thread(target=follow_sse, args=(args, arrivals, stop, sse_sock, errors), daemon=True),
    ]
    for thread in followers:
        thread.start()
    time.sleep(0.5)  # both followers are waiting before the first create

    producer = Client(args.port, args.token, timeout=30)
    lags: dict[str, list[float]] = {"longpoll": [], "sse": []}
    rtts: list[float] = []
    for i in range(total):
        status, task = producer.request("POST", f"/v1/teams/{args.team}/tasks", {"kind": "feed", "title": "lag"})
        created = time.monotonic()
        if status != 201:
            errors.append(f"create answered {status}: {json.dumps(task)[:200]}")
            break
        got = arrivals.wait(["longpoll", "sse"], str(task["id"]), 5.0)
        # The same client's plain round trip, between samples.
        start = time.monotonic()
        status, _ = producer.request("GET", "/healthz")
        rtt = time.monotonic() - start
        if i >= args.warmup:
            for follower, at in got.items():
                lags[follower].append(at - created)
            if status == 200:
                rtts.append(rtt)
        pause(rng)
    stop.set()
    producer.close()
    for sock in (poll_client.sock, sse_sock):
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    for thread in followers:
        thread.join(5)
    poll_client.close()
    sse_sock.close()
    print(json.dumps(lag_result("feed-healthz", rtts, args.events, args)))
    for follower in ("longpoll", "sse"):
        result = lag_result(f"feed-{follower}", lags[follower], args.events, args)
        result["error_examples"] = errors[:3]
        print(json.dumps(result))
    for error in errors[:3]:
        print(f"bench: feed lag: {error}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------
# rss: the server's resident memory with many concurrent connections


def read_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process in KiB."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


def count_sockets(pid: int) -> int:
    count = 0
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    count += 1
            except OSError:
                pass
    except OSError:
        pass
    return count


class Sampler:
    """Samples the server's VmRSS every 50 ms and its open sockets every 250 ms."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_kib = 0
        self.peak_sockets = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def reset(self) -> None:
        self.peak_kib = 0
        self.peak_sockets = 0

    def run(self) -> None:
        tick = 0
        while not self.stop.is_set():
            try:
                self.peak_kib = max(self.peak_kib, read_status(self.pid).get("VmRSS", 0))
            except OSError:
                return
            if tick % 5 == 0:
                self.peak_sockets = max(self.peak_sockets, count_sockets(self.pid))
            tick += 1
            self.stop.wait(0.05)


def cmd_rss_read(args) -> int:
    status = read_status(args.pid)
    print(json.dumps({"path": "rss", "phase": args.phase, "kib": status["VmRSS"], "sockets": count_sockets(args.pid)}))
    return 0


def cmd_rss(args) -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    def lifecycles(workers: int, seconds: float, warmup: float) -> dict:
        return drive(
            argparse.Namespace(
                port=args.port, token=args.token, team=args.active_team, mode="single", path=None, history=None,
                concurrency=workers, seconds=seconds, warmup=warmup, batch_size=1, processes=0, request_timeout=30.0,
            )
        )

    # Phase 0: as many workers as the server has pooled database connections, briefly, then
    # idle again: the pool is open, so the phases below show the connections' own cost.
    lifecycles(args.pool_size, 2.0, 0.0)
    time.sleep(2)
    print(json.dumps({"path": "rss", "phase": "warm", "kib": read_status(args.pid)["VmRSS"], "sockets": count_sockets(args.pid)}))

    sampler = Sampler(args.pid)
    sampler.thread.start()

    # Phase 1: every connection holds a long-poll claim on a team with nothing queued.
    clients = [Client(args.port, args.token, timeout=args.hold_seconds + 30) for _ in range(args.connections)]
    errors: list[str] = []
    answered = []
    barrier = threading.Barrier(args.connections)

    def hold(index: int) -> None:
        client = clients[index]
        try:
            client.connect()
            barrier.wait(30)
            status, body = client.request(
                "POST",
                f"/v1/teams/{args.wait_team}/claim",
                {"worker": f"rss-{index}", "limit": 1, "wait_seconds": args.hold_seconds},
            )
            if status == 200:
                answered.append(index)
            else:
                errors.append(f"long-poll claim answered {status}: {json.dumps(body)[:200]}")
        except (HTTPFailure, OSError, threading.BrokenBarrierError) as error:
            errors.append(f"long-poll claim: {type(error).__name__}: {error}")

    sampler.reset()
    started = time.monotonic()
    threads = [threading.Thread(target=hold, args=(i,), daemon=True) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.hold_seconds + 60)
    held = time.monotonic() - started
    print(
        json.dumps(
            {
                "path": "rss",
                "phase": "longpoll",
                "connections": args.connections,
                "kib": sampler.peak_kib,
                "sockets": sampler.peak_sockets,
                "seconds": round(held, 2),
                "errors": args.connections - len(answered),
                "error_examples": errors[:3],
            }
        )
    )
    for client in clients:
        client.close()

    # Phase 2: the same number of workers run task lifecycles flat out, each on its own
    # keep-alive connection.
    sampler.reset()
    result = lifecycles(args.connections, args.seconds, 1.0)
    peak = sampler.peak_kib
    sockets = sampler.peak_sockets
    sampler.stop.set()
    sampler.thread.join(2)
    print(
        json.dumps(
            {
                "path": "rss",
                "phase": "active",
                "connections": args.connections,
                "kib": peak,
                "sockets": sockets,
                "tasks_per_s": result["tasks_per_s"],
                "p50_ms": result["p50_ms"],
                "p99_ms": result["p99_ms"],
                "errors": result["errors"],
                "error_examples": result["error_examples"],
            }
        )
    )
    status = read_status(args.pid)
    print(json.dumps({"path": "rss", "phase": "hwm", "kib": status.get("VmHWM", 0)}))
    for error in (errors + result["error_examples"])[:3]:
        print(f"bench: rss: {error}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------
# combine: one result from a run measured in alternating slices


def cmd_combine(args) -> int:
    groups: dict[tuple, list[dict]] = {}
    for row in read_rows(args.slices):
        groups.setdefault((row["path"], row.get("history"), row["concurrency"]), []).append(row)
    for (path, history, level), parts in groups.items():
        merged = dict(parts[0])
        seconds = sum(p["seconds"] for p in parts)
        merged.update(
            seconds=round(seconds, 3),
            slices=len(parts),
            tasks=sum(p["tasks"] for p in parts),
            cycles=sum(p["cycles"] for p in parts),
            errors=sum(p.get("errors", 0) for p in parts),
            error_examples=[e for p in parts for e in p.get("error_examples") or []][:5],
        )
        merged["tasks_per_s"] = merged["tasks"] / seconds if seconds > 0 else 0.0
        if "empty_claims" in merged:
            merged["empty_claims"] = sum(p.get("empty_claims", 0) for p in parts)
        if "driver_cpu_s" in merged:
            merged["driver_cpu_s"] = round(sum(p["driver_cpu_s"] for p in parts), 3)
            merged["driver_wall_s"] = round(sum(p["driver_wall_s"] for p in parts), 3)
        if "claim_mean_ms" in merged:
            weight = sum(p["cycles"] for p in parts if "claim_mean_ms" in p)
            merged["claim_mean_ms"] = (
                sum(p["claim_mean_ms"] * p["cycles"] for p in parts if "claim_mean_ms" in p) / weight if weight else None
            )
        samples_path = os.path.join(args.samples_dir, f"samples-{path}-{history}-c{level}.txt")
        if os.path.exists(samples_path):
            with open(samples_path, encoding="utf-8") as handle:
                latencies = sorted(float(line) for line in handle if line.strip())
            merged["p50_ms"] = percentile(latencies, 50)
            merged["p99_ms"] = percentile(latencies, 99)
            merged["mean_ms"] = sum(latencies) / len(latencies) if latencies else None
        print(json.dumps(merged))
    return 0


# --------------------------------------------------------------------------------------------
# table

LABELS = {
    "sql-bare": "bare SQL (minimal-lifecycle.sql)",
    "sql-events": "bare+events SQL (minimal-events-lifecycle.sql)",
    "sql": "Baton's SQL (its own statements)",
    "single": "HTTP per-task lifecycle",
    "batch": "HTTP batched lifecycle",
    "pgqueuer": "PgQueuer",
    "request": "request cost",
    "driver-check": "load-driver check",
}
SQL_PATHS = ("sql-bare", "sql-events", "sql")
LIFECYCLE_PATHS = SQL_PATHS + ("single", "batch")
# Issue 11's targets, each against the baseline it names.
SQL_TARGET = 0.6  # Baton's SQL lifecycle / bare+events
SINGLE_TARGETS = {1: 0.35}  # HTTP per task / bare+events at 1 worker; 0.5 at every other level
SINGLE_TARGET = 0.5
BATCH_TARGET = 2.0  # HTTP batched / PgQueuer
REQUEST_TARGETS = {"healthz": 0.05, "create": 0.25}  # server CPU ms per request
DRIVER_LIMIT = 1 / 3  # the load driver's CPU per request / the server's


def fmt(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


HISTORY_TARGET = 1.2


def read_rows(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def ratio_text(value, base) -> str:
    if value is None or base is None or base <= 0:
        return "-"
    return f"{value / base:.2f}x"


def lifecycle_label(path: str, args) -> str:
    return LABELS[path] + (f" (x{args.batch_size})" if path == "batch" else "")


def pgqueuer_label(row: dict) -> str:
    return (
        f"PgQueuer {row.get('pgqueuer_version', '')}: {row.get('producers', 1)} producer x{row.get('enqueue_batch', 10)}, "
        f"{row.get('consumers', 5)} consumers x{row.get('dequeue_batch', 10)}"
    )


def lifecycle_section(rows, args, lines, targets) -> int:
    """The task lifecycle: the bare and bare+events SQL baselines and Baton's own SQL under
    pgbench, HTTP per task and batched, PgQueuer; then the durable rows. Returns misses."""
    async_rows = [r for r in rows if r["path"] in LIFECYCLE_PATHS and not r.get("variant")]
    pgq = next((r for r in rows if r["path"] == "pgqueuer"), None)
    if not async_rows and pgq is None:
        return 0
    by_key = {(r["path"], r["concurrency"]): r for r in async_rows}
    levels = sorted({r["concurrency"] for r in async_rows})
    pgq_rate = pgq["tasks_per_s"] if pgq and not pgq.get("skipped") and pgq.get("tasks_per_s") else None
    label_width = max([len(lifecycle_label(p, args)) for p in LIFECYCLE_PATHS] + [len(pgqueuer_label(pgq or {}))])
    header = (
        f"{'lifecycle':<{label_width}}  {'workers':>7}  {'tasks/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  "
        f"{'vs bare+events':>14}  {'vs Baton SQL':>12}  {'vs PgQueuer':>11}  {'errors':>6}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    missed = 0
    for path in LIFECYCLE_PATHS:
        if not any(key[0] == path for key in by_key):
            continue
        for level in levels:
            row = by_key.get((path, level))
            label = lifecycle_label(path, args)
            if row is None:
                lines.append(f"{label:<{label_width}}  {level:>7}  {'(not run)':>9}")
                continue
            events = by_key.get(("sql-events", level))
            baton = by_key.get(("sql", level))
            rate = row["tasks_per_s"]
            vs_events = "(base)" if path == "sql-events" else ratio_text(rate, events and events["tasks_per_s"])
            vs_baton = "(base)" if path == "sql" else ratio_text(rate, baton and baton["tasks_per_s"])
            lines.append(
                f"{label:<{label_width}}  {level:>7}  {rate:>9.1f}  {fmt(row['p50_ms'], 2):>8}  "
                f"{fmt(row['p99_ms'], 2):>8}  {vs_events:>14}  {vs_baton:>12}  {ratio_text(rate, pgq_rate):>11}  "
                f"{row.get('errors', 0):>6}"
            )
        lines.append("")
    if pgq is not None:
        label = pgqueuer_label(pgq)
        if pgq.get("skipped"):
            lines.append(f"{label:<{label_width}}  {'-':>7}  {'(skipped)':>9}  {pgq['skipped']}")
        else:
            lines.append(
                f"{label:<{label_width}}  {'1+' + str(pgq.get('consumers', 5)):>7}  {pgq_rate or 0:>9.1f}  {'-':>8}  {'-':>8}  {'':>14}  {'':>12}  "
                f"{'(base)':>11}  {pgq.get('errors', 0):>6}"
            )
            lines.append(
                f"(PgQueuer: jobs/s whose entrypoint ran in {pgq['seconds']:g} s, one process on {pgq.get('event_loop', '?')}; "
                f"the producer enqueued {pgq.get('enqueued_per_s', 0):.1f}/s, {pgq.get('left_in_queue')} left queued at the end.)"
            )
        lines.append("")
    lines.append(
        "SQL rows: pgbench -M prepared on the same cluster; bare and bare+events in their own database (scripts/bench/minimal-*.sql),"
    )
    lines.append(
        "Baton's statements in its database; one lifecycle = create, claim, complete, each its own transaction; tasks/s counts"
    )
    lines.append(
        f"tasks that reached done. Latency is per cycle: one task for per-task rows, one batch of {args.batch_size} for batched rows."
    )
    drivers = sorted({r.get("driver", "python") for r in async_rows if r["path"] in ("single", "batch")})
    if drivers:
        names = {"wrk": "wrk running scripts/bench/lifecycle.lua, one connection per thread", "python": "bench_http.py's Python workers"}
        lines.append("HTTP rows driven by " + " and ".join(names.get(d, d) for d in drivers) + ".")

    # Targets, each against the baseline it names.
    def verdicts(path, base_path, target_for, base_rate=None):
        out, misses = [], 0
        for level in levels:
            row = by_key.get((path, level))
            base = base_rate if base_path is None else (by_key.get((base_path, level)) or {}).get("tasks_per_s")
            if row is None or not base:
                out.append(f"{level}: n/a")
                misses += 1
                continue
            ratio = row["tasks_per_s"] / base
            ok = ratio >= target_for(level) and row.get("errors", 0) == 0
            misses += 0 if ok else 1
            out.append(f"{level}: {'PASS' if ok else 'MISS'} ({ratio:.2f}x)")
        return out, misses

    for path, base_path, target_for, text, base_rate in (
        ("sql", "sql-events", lambda level: SQL_TARGET, f"Baton's SQL lifecycle >= {SQL_TARGET}x bare+events", None),
        ("single", "sql-events", lambda level: SINGLE_TARGETS.get(level, SINGLE_TARGET),
         f"HTTP per task >= {SINGLE_TARGET}x bare+events ({SINGLE_TARGETS[1]}x at 1)", None),
        ("batch", None, lambda level: BATCH_TARGET, f"HTTP batched >= {BATCH_TARGET:g}x PgQueuer", pgq_rate),
    ):
        if not any(key[0] == path for key in by_key):
            continue
        out, misses = verdicts(path, base_path, target_for, base_rate)
        missed += misses
        targets.append(f"  {text:<46}  " + "   ".join(out))
    durable_rows(rows, args, lines, by_key)
    http_cpu_rows(async_rows, lines)
    return missed


def durable_rows(rows, args, lines, async_by_key) -> None:
    """The SQL lifecycles again with fsync, synchronous_commit and full_page_writes on."""
    durable = [r for r in rows if r["path"] in SQL_PATHS and r.get("variant") == "durable"]
    if not durable:
        return
    by_key = {(r["path"], r["concurrency"]): r for r in durable}
    levels = sorted({r["concurrency"] for r in durable})
    lines.append("")
    lines.append(
        "Durable: the same pgbench lifecycles with fsync=on, synchronous_commit=on, full_page_writes=on (as users run"
    )
    lines.append("PostgreSQL), on the same cluster restarted with those settings after the other sections.")
    width = max(len(lifecycle_label(p, args)) for p in SQL_PATHS) + len(", durable")
    header = (
        f"{'lifecycle':<{width}}  {'workers':>7}  {'tasks/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  "
        f"{'vs durable bare+events':>22}  {'durable/async':>13}  {'errors':>6}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for path in SQL_PATHS:
        if not any(key[0] == path for key in by_key):
            continue
        for level in levels:
            row = by_key.get((path, level))
            label = lifecycle_label(path, args) + ", durable"
            if row is None:
                lines.append(f"{label:<{width}}  {level:>7}  {'(not run)':>9}")
                continue
            events = by_key.get(("sql-events", level))
            fast = async_by_key.get((path, level))
            vs_events = "(base)" if path == "sql-events" else ratio_text(row["tasks_per_s"], events and events["tasks_per_s"])
            lines.append(
                f"{label:<{width}}  {level:>7}  {row['tasks_per_s']:>9.1f}  {fmt(row['p50_ms'], 2):>8}  "
                f"{fmt(row['p99_ms'], 2):>8}  {vs_events:>22}  {ratio_text(row['tasks_per_s'], fast and fast['tasks_per_s']):>13}  "
                f"{row.get('errors', 0):>6}"
            )
        lines.append("")


def http_cpu_rows(async_rows, lines) -> None:
    """What each HTTP lifecycle run cost the server and the load driver, per request."""
    runs = [r for r in async_rows if r["path"] in ("single", "batch") and r.get("server_cpu_s") is not None]
    if not runs:
        return
    if lines[-1] != "":
        lines.append("")
    lines.append(
        "HTTP lifecycle runs, per request (warm-up included): server CPU ms (/proc/PID/stat), its context switches (every"
    )
    lines.append("thread's /proc/PID/task/TID/status), and the load driver's own CPU ms.")
    header = (
        f"{'run':<30}  {'driver':>6}  {'requests':>9}  {'server CPU ms':>13}  {'ctx sw':>7}  {'driver CPU ms':>13}  "
        f"{'driver/server':>13}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for r in sorted(runs, key=lambda r: (LIFECYCLE_PATHS.index(r["path"]), r["concurrency"])):
        requests = r.get("requests") or 0
        server = per_request_ms(r["server_cpu_s"], requests)
        driver = per_request_ms(r.get("driver_cpu_s"), requests)
        name = f"{LABELS[r['path']]} @ {r['concurrency']}"
        lines.append(
            f"{name:<30}  {r.get('driver', 'python'):>6}  {requests:>9}  {fmt(server, 3):>13}  "
            f"{fmt(r['server_ctxsw'] / requests if requests else None, 1):>7}  {fmt(driver, 3):>13}  "
            f"{ratio_text(driver, server):>13}"
        )


REQUEST_LABELS = {
    "healthz": "GET /healthz",
    "create": "POST /v1/teams/sales-emea/tasks (create)",
    "claim": "POST /v1/teams/sales-emea/claim (1 task)",
}
SERVER_LABELS = {
    "baton": "Baton (release build)",
    "bare": "bare Hummingbird route",
    "openapi": "generated OpenAPI handler, no middleware",
}


def request_section(rows, args, lines, targets) -> int:
    """Server CPU, context switches and the driver's CPU per request, Baton beside the two
    throwaway baselines (Benchmarks/RequestBaseline); then the load-driver check."""
    runs = [r for r in rows if r["path"] == "request"]
    checks = [r for r in rows if r["path"] == "driver-check"]
    if not runs and not checks:
        return 0
    missed = 0
    lines.append("")
    if runs:
        sample = runs[0]
        lines.append(
            f"Request cost: wrk, 1 thread, {sample['concurrency']} connections, {sample['seconds']:.0f} s after a warm-up run. CPU ms/req: the server's"
        )
        lines.append(
            "utime+stime (/proc/PID/stat) over the run / requests; ctx sw/req: voluntary + nonvoluntary context switches summed over"
        )
        lines.append(
            "the server's threads (/proc/PID/task/TID/status); wrk CPU ms/req: the load driver's own. The vs columns divide the row's"
        )
        lines.append(
            "server CPU per request by the named baseline's (Benchmarks/RequestBaseline, release build, same request)."
        )
        by_key = {(r["request"], r["server"]): r for r in runs}
        lw = max(len(v) for v in REQUEST_LABELS.values())
        sw = max(len(v) for v in SERVER_LABELS.values())
        header = (
            f"{'request':<{lw}}  {'server':<{sw}}  {'req/s':>9}  {'p50 ms':>7}  {'p99 ms':>7}  {'CPU ms/req':>10}  "
            f"{'ctx sw/req':>10}  {'wrk CPU ms/req':>14}  {'vs bare HB':>10}  {'vs OpenAPI HB':>13}  {'errors':>6}"
        )
        lines.append(header)
        lines.append("-" * len(header))
        for request in REQUEST_LABELS:
            present = [server for server in SERVER_LABELS if (request, server) in by_key]
            for server in present:
                r = by_key[(request, server)]
                bare = by_key.get((request, "bare"), {}).get("server_cpu_ms_per_req")
                openapi = by_key.get((request, "openapi"), {}).get("server_cpu_ms_per_req")
                cpu = r["server_cpu_ms_per_req"]
                lines.append(
                    f"{REQUEST_LABELS[request]:<{lw}}  {SERVER_LABELS[server]:<{sw}}  {r['req_per_s']:>9.1f}  "
                    f"{fmt(r['p50_ms'], 2):>7}  {fmt(r['p99_ms'], 2):>7}  {fmt(cpu, 3):>10}  {fmt(r['ctxsw_per_req'], 2):>10}  "
                    f"{fmt(r['driver_cpu_ms_per_req'], 3):>14}  "
                    f"{'(base)' if server == 'bare' else ratio_text(cpu, bare):>10}  "
                    f"{'(base)' if server == 'openapi' else ratio_text(cpu, openapi):>13}  {r.get('errors', 0):>6}"
                )
            if present:
                lines.append("")
        empty = by_key.get(("claim", "baton"), {}).get("empty_claims")
        if empty:
            lines.append(f"({empty} claims found the queue empty; they cost less than a claim that takes a task.)")
        out = []
        for request, limit in REQUEST_TARGETS.items():
            r = by_key.get((request, "baton"))
            if r is None or r["server_cpu_ms_per_req"] is None:
                out.append(f"{request}: n/a")
                missed += 1
                continue
            ok = r["server_cpu_ms_per_req"] <= limit and r.get("errors", 0) == 0
            missed += 0 if ok else 1
            out.append(f"{request} <= {limit} ms: {'PASS' if ok else 'MISS'} ({r['server_cpu_ms_per_req']:.3f} ms)")
        targets.append(f"  {'Baton server CPU per request (wrk)':<46}  " + "   ".join(out))
    if checks:
        lines.append(
            "Load-driver check: the HTTP per-task lifecycle driven by each driver in turn (warm-up included); a driver that"
        )
        lines.append("costs more than a third of the server's CPU per request is itself a bottleneck on 2 cores.")
        header = (
            f"{'driver':<42}  {'workers':>7}  {'requests':>9}  {'tasks/s':>9}  {'server CPU ms/req':>17}  "
            f"{'driver CPU ms/req':>17}  {'driver/server':>13}"
        )
        lines.append(header)
        lines.append("-" * len(header))
        names = {"python": "Python (bench_http.py run)", "wrk": "wrk (scripts/bench/lifecycle.lua)"}
        for r in sorted(checks, key=lambda r: r["driver"] != "python"):
            requests = r.get("requests") or 0
            server = per_request_ms(r.get("server_cpu_s"), requests)
            driver = per_request_ms(r.get("driver_cpu_s"), requests)
            lines.append(
                f"{names.get(r['driver'], r['driver']):<42}  {r['concurrency']:>7}  {requests:>9}  {r['tasks_per_s']:>9.1f}  "
                f"{fmt(server, 3):>17}  {fmt(driver, 3):>17}  {ratio_text(driver, server):>13}"
            )
            if r["driver"] == "python" and server and driver:
                verdict = "more" if driver / server > DRIVER_LIMIT else "less"
                lines.append(
                    f"  -> the Python driver costs {driver / server:.2f}x the server's CPU per request, {verdict} than 1/3"
                )
        lines.append(f"(the lifecycle rows above use BENCH_HTTP_DRIVER={args.http_driver})")
    return missed
def history_section(rows, args, lines, targets) -> int:
    """Claim latency with an empty tasks table against one holding a backlog and history."""
    rows = [r for r in rows if r["path"] in ("claim-http", "claim-sql", "stats-http")]
    if not rows:
        return 0
    by_key = {(r["path"], r.get("history"), r["concurrency"]): r for r in rows}
    levels = sorted({r["concurrency"] for r in rows if r["path"] != "stats-http"})
    large = f"{args.queued} queued + {args.finished} done"
    contents = {"empty": "empty", "large": large}
    labels = {"claim-http": "HTTP claim request", "claim-sql": "raw SQL claim (pgbench -r)"}
    lines.append("")
    lines.append(
        "Claim latency as history grows: each cycle creates, claims and completes one task; only the claim is timed."
    )
    lines.append(
        "Raw SQL rows: Baton's claim statement in the pgbench lifecycle script; pgbench reports a mean per statement."
    )
    tw = max(len(large), len("tasks in the table"))
    lw = max(len(v) for v in labels.values())
    header = (
        f"{'claim':<{lw}}  {'tasks in the table':<{tw}}  {'workers':>7}  {'claims/s':>9}  {'mean ms':>8}  "
        f"{'p50 ms':>8}  {'p99 ms':>8}  {'large/empty':>17}  {'target':>7}  {'errors':>6}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    missed = 0
    verdicts = []
    for path in ("claim-http", "claim-sql"):
        for level in levels:
            for history in ("empty", "large"):
                row = by_key.get((path, history, level))
                head = f"{labels[path]:<{lw}}  {contents[history]:<{tw}}  {level:>7}"
                if row is None:
                    lines.append(f"{head}  {'(not run)':>9}")
                    if path == "claim-http" and history == "large":
                        verdicts.append(f"{level}: n/a")
                        missed += 1
                    continue
                if path == "claim-http":
                    rate = row["cycles"] / row["seconds"]
                    mean = row.get("mean_ms")
                else:
                    rate = row["tasks_per_s"]
                    mean = row.get("claim_mean_ms")
                compare, target = "", ""
                base = by_key.get((path, "empty", level))
                if history == "large" and base is not None:
                    if path == "claim-http":
                        r50 = row["p50_ms"] / base["p50_ms"] if row["p50_ms"] and base["p50_ms"] else None
                        r99 = row["p99_ms"] / base["p99_ms"] if row["p99_ms"] and base["p99_ms"] else None
                        compare = f"p50 {fmt(r50, 2)}x p99 {fmt(r99, 2)}x"
                        target = "<= 1.2x"
                        ok = (
                            r50 is not None and r99 is not None and r50 <= HISTORY_TARGET and r99 <= HISTORY_TARGET
                            and row.get("errors", 0) == 0 and base.get("errors", 0) == 0
                        )
                        if not ok:
                            missed += 1
                        verdicts.append(f"{level}: {'PASS' if ok else 'MISS'} (p50 {fmt(r50, 2)}x, p99 {fmt(r99, 2)}x)")
                    else:
                        compare = f"mean {ratio_text(mean, base.get('claim_mean_ms'))}"
                lines.append(
                    f"{head}  {rate:>9.1f}  {fmt(mean, 2):>8}  {fmt(row.get('p50_ms') if path == 'claim-http' else None, 2):>8}  "
                    f"{fmt(row.get('p99_ms') if path == 'claim-http' else None, 2):>8}  {compare:>17}  {target:>7}  "
                    f"{row.get('errors', 0):>6}"
                )
        lines.append("")
    empties = sum(r.get("empty_claims", 0) for r in rows if r["path"] == "claim-http")
    if empties:
        lines.append(f"({empties} HTTP claims found nothing to claim (another worker was first); they are not samples.)")
    targets.append(f"  {'HTTP claim p50 and p99, large/empty <= 1.2x':<46}  " + "   ".join(verdicts))
    stats_rows(by_key, args, lines)
    return missed


def stats_rows(by_key, args, lines) -> None:
    """GET /v1/teams/{team}/stats against the same two databases, one client: the counts read
    partial indexes, so the large table costs its queued backlog (counted), not its history."""
    rows = {history: by_key.get(("stats-http", history, 1)) for history in ("empty", "large")}
    if not any(rows.values()):
        return
    lines.append(
        f"Team stats (GET /v1/teams/{{team}}/stats, 1 client): the large table's cost is counting its "
        f"{args.queued} queued tasks, not its {args.finished} done ones."
    )
    header = f"{'tasks in the table':<30}  {'requests/s':>10}  {'p50 ms':>8}  {'p99 ms':>8}  {'large/empty':>17}  {'errors':>6}"
    lines.append(header)
    lines.append("-" * len(header))
    base = rows["empty"]
    for history, row in rows.items():
        label = "empty" if history == "empty" else f"{args.queued} queued + {args.finished} done"
        if row is None:
            lines.append(f"{label:<30}  {'(not run)':>10}")
            continue
        compare = ""
        if history == "large" and base is not None:
            compare = f"p50 {ratio_text(row['p50_ms'], base['p50_ms'])} p99 {ratio_text(row['p99_ms'], base['p99_ms'])}"
        lines.append(
            f"{label:<30}  {row['cycles'] / row['seconds']:>10.1f}  {fmt(row['p50_ms'], 2):>8}  {fmt(row['p99_ms'], 2):>8}  "
            f"{compare:>17}  {row.get('errors', 0):>6}"
        )
    lines.append("")


FEED_LABELS = [
    ("feed-notify", "raw LISTEN/NOTIFY (commit seen -> notified)"),
    ("feed-healthz", "GET /healthz round trip (producer's client)"),
    ("feed-longpoll", "long poll GET /v1/events?wait_seconds=5"),
    ("feed-sse", "SSE GET /v1/events/stream"),
]


FEED_WHEN = {
    "fresh": "before the lifecycle runs",
    "loaded": "after the lifecycle runs",
}


def feed_section(rows, args, lines, targets) -> int:
    feed_rows = [r for r in rows if r["path"].startswith("feed-")]
    if not feed_rows:
        return 0
    lines.append("")
    lines.append(
        "Event-feed lag: the producer sees a create's 201 -> a follower has read the task.created event. Baselines: raw"
    )
    lines.append(
        "LISTEN/NOTIFY lag (NOTIFY's commit seen by its client -> a LISTEN connection has it) and one plain HTTP round trip."
    )
    lw = max(len(label) for _, label in FEED_LABELS)
    header = f"{'path':<{lw}}  {'samples':>7}  {'p50 ms':>8}  {'p99 ms':>8}  {'p50 vs RTT':>10}  {'p50 - NOTIFY':>12}  {'errors':>6}"
    for when in [w for w in FEED_WHEN if any(r.get("label", "fresh") == w for r in feed_rows)]:
        by_path = {r["path"]: r for r in feed_rows if r.get("label", "fresh") == when}
        events = next(iter(by_path.values())).get("table_events", 0)
        lines.append(f"[{FEED_WHEN[when]}: {events} rows in the events table]")
        lines.append(header)
        lines.append("-" * len(header))
        rtt = by_path.get("feed-healthz", {}).get("p50_ms")
        notify = by_path.get("feed-notify", {}).get("p50_ms")
        for path, label in FEED_LABELS:
            row = by_path.get(path)
            if row is None:
                lines.append(f"{label:<{lw}}  {'(not run)':>7}")
                continue
            is_feed = path in ("feed-longpoll", "feed-sse")
            vs_rtt = ratio_text(row["p50_ms"], rtt) if is_feed else "(base)" if path == "feed-healthz" else ""
            over = (
                f"{row['p50_ms'] - notify:+.2f} ms" if is_feed and row["p50_ms"] is not None and notify is not None
                else "(base)" if path == "feed-notify" else ""
            )
            lines.append(
                f"{label:<{lw}}  {row['samples']:>7}  {fmt(row['p50_ms'], 2):>8}  {fmt(row['p99_ms'], 2):>8}  "
                f"{vs_rtt:>10}  {over:>12}  {row.get('errors', 0):>6}"
            )
    return 0


def customers_section(rows, args, lines, targets) -> int:
    row = next((r for r in rows if r["path"] == "customers"), None)
    if row is None:
        return 0
    missed = 0
    n = row["rows"]
    lines.append("")
    lines.append(
        f"Customers: importing {n} generated customers from CSV (a tenth with Chinese, Japanese or Korean names),"
    )
    lines.append(
        "then name search over HTTP, one keep-alive client. Baselines: psql's \\copy of the same file into a bare table"
    )
    lines.append("(no checks, no indexes: the least loading it needs), and GET /healthz on the same server.")
    copy_rate = n / row["copy_s"] if row.get("copy_s") else None
    import_rate = n / row["import_s"] if row.get("import_s") and row.get("imported") == n else None
    header = f"{'import':<44}  {'seconds':>8}  {'rows/s':>9}  {'vs copy':>7}"
    lines.append(header)
    lines.append("-" * len(header))
    copy_label = "psql \\copy into a bare table (baseline)"
    lines.append(f"{copy_label:<44}  {fmt(row.get('copy_s'), 2):>8}  {fmt(copy_rate, 0):>9}  {'(base)':>7}")
    lines.append(
        f"{'batonctl import customers':<44}  {fmt(row.get('import_s'), 2):>8}  {fmt(import_rate, 0):>9}  "
        f"{ratio_text(import_rate, copy_rate):>7}"
    )
    header = f"{'search':<44}  {'samples':>8}  {'p50 ms':>9}  {'p99 ms':>7}"
    lines.append(header)
    lines.append("-" * len(header))
    for key, label in [
        ("search", "every name search"),
        ("latin", "  substrings of Latin names"),
        ("cjk", "  substrings of CJK names"),
        ("broad", "  broad (gmbh, holding, 有限公司, ...)"),
        ("healthz", "GET /healthz (baseline)"),
    ]:
        part = row.get(key) or {}
        lines.append(f"{label:<44}  {part.get('samples', 0):>8}  {fmt(part.get('p50_ms'), 2):>9}  {fmt(part.get('p99_ms'), 2):>7}")
    empty = (row.get("search") or {}).get("empty", 0)
    if empty:
        lines.append(f"({empty} searches for substrings of stored names found nothing: a search defect)")
    checks = [
        ("import >= 20,000 rows/s", import_rate, lambda v: v >= 20_000, f"{fmt(import_rate, 0)} rows/s"),
        ("search p50 <= 5 ms", (row.get("search") or {}).get("p50_ms"), lambda v: v <= 5, None),
        ("search p99 <= 20 ms", (row.get("search") or {}).get("p99_ms"), lambda v: v <= 20, None),
        ("CJK search p99 <= 20 ms", (row.get("cjk") or {}).get("p99_ms"), lambda v: v <= 20, None),
    ]
    for label, value, ok, shown in checks:
        met = value is not None and ok(value) and not row.get("errors") and not empty
        missed += 0 if met else 1
        text = shown or (f"{fmt(value, 2)} ms" if value is not None else "not measured")
        targets.append(f"  {'customers: ' + label:<46}  {'PASS' if met else 'MISS'} ({text})")
    return missed


def orders_section(rows, args, lines, targets) -> int:
    row = next((r for r in rows if r["path"] == "orders"), None)
    if row is None:
        return 0
    lines.append("")
    lines.append(
        f"Orders: create (two of 16 products), confirm, ship, deliver over HTTP, {row['workers']} keep-alive clients, default rules on"
    )
    lines.append(
        "(a ship_order task per confirmation, an ask_feedback task per delivery). Baseline: the HTTP task lifecycle (create,"
    )
    lines.append("claim, complete) at the same concurrency, in alternating halves of the same run.")
    header = f"{'path':<44}  {'per s':>8}  {'p50 ms':>8}  {'p99 ms':>8}  {'vs tasks':>8}  {'errors':>6}"
    lines.append(header)
    lines.append("-" * len(header))
    tasks = row.get("tasks") or {}
    orders = row.get("orders") or {}
    for label, part, compare in [
        ("task lifecycle, 3 requests (baseline)", tasks, "(base)"),
        ("order lifecycle, 4 requests", orders, ratio_text(orders.get("per_s"), tasks.get("per_s"))),
    ]:
        lines.append(
            f"{label:<44}  {fmt(part.get('per_s'), 1):>8}  {fmt(part.get('p50_ms'), 2):>8}  {fmt(part.get('p99_ms'), 2):>8}  "
            f"{compare:>8}  {part.get('errors', 0):>6}"
        )
    for part in (tasks, orders):
        for example in part.get("error_examples") or []:
            lines.append(f"  error: {example}")
    ok = not orders.get("errors") and not tasks.get("errors") and (orders.get("done") or 0) > 0
    targets.append(f"  {'orders: every order delivered, no error':<46}  {'PASS' if ok else 'MISS'} ({fmt(orders.get('per_s'), 1)} orders/s)")
    return 0 if ok else 1


def reports_section(rows, args, lines, targets) -> int:
    row = next((r for r in rows if r["path"] == "reports"), None)
    if row is None:
        return 0
    lines.append("")
    lines.append(
        f"Reports: two years of EMEA ({row['orders']:,} orders with lines and split credit, 20,000 customers, 100,000 closed deals,"
    )
    lines.append(
        f"100,000 responses) loaded by SQL in {fmt(row.get('load_s'), 0)} s (orders as drafts, then one UPDATE confirming,"
        f" delivering and cancelling them:"
    )
    lines.append(
        f"the summary's triggers add them in one pass; {row.get('summary_rows', 0):,} summary rows, checked against a rebuild in"
        f" {fmt(row.get('drift_check_s'), 1)} s: {row.get('drift', '?')} rows differ)."
    )
    lines.append(
        f"Over HTTP, one keep-alive client, {row['runs']} runs each after a warm-up. A KPI report counts three periods (this, the"
        " previous, a year ago)"
    )
    lines.append(
        "and eight figures. Baselines: GET /healthz on the same server, and the bare SQL sum of one period's orders (psql; no"
    )
    lines.append("join, no credit, one period).")
    header = f"{'report':<44}  {'p50 ms':>8}  {'p99 ms':>8}  {'SQL p50':>8}  {'vs SQL':>7}  {'bar':>6}  {'p99':>4}"
    lines.append(header)
    lines.append("-" * len(header))
    health = row.get("healthz") or {}
    lines.append(f"{'GET /healthz (baseline)':<44}  {fmt(health.get('p50_ms'), 2):>8}  {fmt(health.get('p99_ms'), 2):>8}")
    missed = 0
    entries = [(f"KPIs, {grain} {(row.get('kpis_' + grain) or {}).get('period', '')}", "kpis_" + grain, "sql_" + grain) for grain in ("week", "month", "quarter", "year")]
    plan = row.get("plan") or {}
    board = row.get("leaderboard") or {}
    entries.append((f"plan report, {plan.get('period', '')} ({plan.get('rows', 0)} targets)", "plan", None))
    entries.append((f"leaderboard, {board.get('period', '')} ({board.get('entries', 0)} entries)", "leaderboard", None))
    for label, key, sql_key in entries:
        part = row.get(key) or {}
        sql = (row.get(sql_key) or {}) if sql_key else {}
        p99 = part.get("p99_ms")
        met = p99 is not None and p99 <= 1000 and not row.get("errors")
        missed += 0 if met else 1
        lines.append(
            f"{label:<44}  {fmt(part.get('p50_ms'), 2):>8}  {fmt(p99, 2):>8}  {fmt(sql.get('p50_ms'), 2) if sql else '':>8}  "
            f"{ratio_text(part.get('p50_ms'), sql.get('p50_ms')) if sql else '':>7}  {'1 s':>6}  {'PASS' if met else 'MISS':>4}"
        )
        targets.append(f"  {'reports: ' + label + ' p99 <= 1 s':<46}  {'PASS' if met else 'MISS'} ({fmt(p99, 2)} ms)")
    return missed


def briefing_section(rows, args, lines, targets) -> int:
    row = next((r for r in rows if r["path"] == "briefing"), None)
    if row is None:
        return 0
    lines.append("")
    lines.append(
        f"The coordinator's desk: GET /v1/briefing (every region, and one team) beside the {row['separate_requests']} separate"
        " list requests a client"
    )
    lines.append(
        f"would make for the same panels one after another ({row['teams']} team stats, SLA breaches, dead letters, stock, open"
        " cases, today's"
    )
    lines.append(f"meetings), timed as one load; one keep-alive client, {row['rounds']} rounds after ten of warm-up.")
    header = f"{'load':<44}  {'p50 ms':>8}  {'p99 ms':>8}  {'vs lists':>8}"
    lines.append(header)
    lines.append("-" * len(header))
    separate = (row.get("separate") or {}).get("p50_ms")
    for key, label in [
        ("all", "GET /v1/briefing, every region"),
        ("team", "GET /v1/briefing?team=sales-emea"),
        ("separate", "the separate lists (baseline)"),
        ("healthz", "GET /healthz (round trip)"),
    ]:
        part = row.get(key) or {}
        shown = ratio_text(part.get("p50_ms"), separate) if key in ("all", "team") else ""
        lines.append(f"{label:<44}  {fmt(part.get('p50_ms'), 2):>8}  {fmt(part.get('p99_ms'), 2):>8}  {shown:>8}")
    if row.get("errors"):
        lines.append(f"({row['errors']} requests failed: {'; '.join(row.get('error_examples', []))})")
    return 0


def retention_section(rows, args, lines, targets) -> int:
    row = next((r for r in rows if r["path"] == "retention"), None)
    if row is None:
        return 0
    lines.append("")
    lines.append(
        f"Retention: claim latency (create -> claim -> complete, one client, the claim timed) and feed lag (create's 201 ->"
        f" a long-poll follower has it)"
    )
    lines.append(
        f"on the database as found, then with {row['events']:,} events and {row['finished']:,} done tasks loaded (in"
        f" {fmt(row.get('load_s'), 0)} s; measured in rounds alternating with an empty database beside it), then while"
        f" `batonctl prune"
    )
    lines.append(
        f"--retain-finished-tasks {row['prune_age']}` deleted {row.get('pruned', '-'):,} of them in"
        f" {fmt(row.get('prune_s'), 1)} s ({fmt((row.get('pruned') or 0) / max(row.get('prune_s') or 1, 1e-9), 0)} rows/s;"
        f" its dry run counted {row.get('would_delete', '-')} in {fmt(row.get('dry_run_s'), 1)} s)."
        if isinstance(row.get("pruned"), int)
        else f"--retain-finished-tasks {row['prune_age']}` ran (it failed: see the errors)."
    )
    header = f"{'database':<40}  {'claim p50':>9}  {'claim p99':>9}  {'vs before':>9}  {'feed p50':>8}  {'feed p99':>8}"
    lines.append(header + "  (ms)")
    lines.append("-" * len(header))
    # The loaded figures divide by the empty database's measured beside them, in alternating
    # rounds; results from before that (no "empty_beside") divide by the figures taken before
    # loading.
    found, loaded = row.get("empty") or {}, row.get("loaded") or {}
    empty = row.get("empty_beside") or found
    during, after = row.get("during_prune") or {}, row.get("after_prune") or {}

    def part(phase, key, stat):
        return (phase.get(key) or {}).get(stat)

    phases = [("as found, before loading", found, None)]
    if row.get("empty_beside"):
        phases.append(("empty, beside the loaded (baseline)", empty, None))
    for label, phase, base in phases + [
        ("history loaded", loaded, empty),
        ("during the prune", during, loaded),
        ("after the prune", after, loaded),
    ]:
        ratio = ratio_text(part(phase, "claim", "p99_ms"), part(base, "claim", "p99_ms")) if base else ""
        lines.append(
            f"{label:<40}  {fmt(part(phase, 'claim', 'p50_ms'), 2):>9}  {fmt(part(phase, 'claim', 'p99_ms'), 2):>9}  {ratio:>9}  "
            f"{fmt(part(phase, 'feed', 'p50_ms'), 2):>8}  {fmt(part(phase, 'feed', 'p99_ms'), 2):>8}"
        )
    lines.append(
        f"(claims during the prune: {part(during, 'claim', 'samples') or 0}; done tasks left: {row.get('tasks_left', '-'):,};"
        f" feed samples over 100 ms: {part(empty, 'feed', 'over_100ms')} empty, {part(loaded, 'feed', 'over_100ms')} loaded,"
        f" slowest {fmt(part(empty, 'feed', 'max_ms'), 0)} and {fmt(part(loaded, 'feed', 'max_ms'), 0)} ms)"
    )
    missed = 0
    checks = [
        ("retention: claim p99, loaded/empty <= 1.2x", part(loaded, "claim", "p99_ms"), part(empty, "claim", "p99_ms"), 1.2),
        ("retention: feed lag p50, loaded/empty <= 1.2x", part(loaded, "feed", "p50_ms"), part(empty, "feed", "p50_ms"), 1.2),
        ("retention: feed lag p99, loaded/empty <= 1.2x", part(loaded, "feed", "p99_ms"), part(empty, "feed", "p99_ms"), 1.2),
        ("retention: claim p99, pruning/before <= 2x", part(during, "claim", "p99_ms"), part(loaded, "claim", "p99_ms"), 2.0),
    ]
    for label, value, base, bound in checks:
        met = value is not None and base is not None and base > 0 and value / base <= bound
        missed += 0 if met else 1
        targets.append(f"  {label:<46}  {'PASS' if met else 'MISS'} ({ratio_text(value, base)})")
    if row.get("errors"):
        lines.append(f"({row['errors']} requests failed: {'; '.join(row.get('error_examples', []))})")
    return missed


RSS_LABELS = [
    ("idle", "idle after start (baseline)"),
    ("warm", "idle again after a burst that opened the DB pool"),
    ("longpoll", "{n} connections, each a waiting long-poll claim"),
    ("active", "{n} connections, each running task lifecycles"),
    ("hwm", "VmHWM (the process's peak) after those"),
    ("end", "at the end of the run, idle again"),
]


def rss_section(rows, args, lines, targets) -> int:
    by_phase = {r["phase"]: r for r in rows if r["path"] == "rss"}
    if not by_phase:
        return 0
    connections = next((r["connections"] for r in by_phase.values() if "connections" in r), 0)
    lines.append("")
    lines.append(
        "Server memory: VmRSS from /proc/PID/status, sampled every 50 ms, the peak while the connections were open."
    )
    labels = [(phase, label.format(n=connections)) for phase, label in RSS_LABELS]
    lw = max(len(label) for _, label in labels)
    header = f"{'server state':<{lw}}  {'RSS MiB':>8}  {'vs idle':>7}  {'sockets':>7}  {'errors':>6}"
    lines.append(header)
    lines.append("-" * len(header))
    idle = by_phase.get("idle", {}).get("kib")
    for phase, label in labels:
        row = by_phase.get(phase)
        if row is None:
            continue
        sockets = row.get("sockets")
        lines.append(
            f"{label:<{lw}}  {row['kib'] / 1024:>8.1f}  {ratio_text(row['kib'], idle):>7}  "
            f"{'-' if sockets is None else sockets:>7}  {row.get('errors', 0) if 'errors' in row else '':>6}"
        )
    active = by_phase.get("active")
    if active:
        lines.append(
            f"(sockets: the server's open sockets at the peak, database pool included. The active phase ran "
            f"{active['tasks_per_s']:.1f} tasks/s, p50 {fmt(active['p50_ms'], 1)} ms, p99 {fmt(active['p99_ms'], 1)} ms per cycle.)"
        )
    return 0


def cmd_table(args) -> int:
    rows = read_rows(args.results)
    lines: list[str] = []
    targets: list[str] = []
    missed = 0
    missed += lifecycle_section(rows, args, lines, targets)
    missed += request_section(rows, args, lines, targets)
    missed += history_section(rows, args, lines, targets)
    missed += customers_section(rows, args, lines, targets)
    missed += orders_section(rows, args, lines, targets)
    feed_section(rows, args, lines, targets)
    missed += reports_section(rows, args, lines, targets)
    briefing_section(rows, args, lines, targets)
    missed += retention_section(rows, args, lines, targets)
    rss_section(rows, args, lines, targets)
    if targets:
        lines.append("")
        lines.append("Targets")
        lines.extend(targets)
    notes = [r for r in rows if r.get("errors")]
    if notes:
        lines.append("")
        lines.append("Errors (a run with errors counts as MISS)")
        for r in notes:
            examples = "; ".join(r.get("error_examples") or []) or "see the run's output"
            what = LABELS.get(r["path"], r["path"]) + "".join(
                f" ({r[key]})" for key in ("history", "label", "variant", "request", "server") if r.get(key)
            )
            where = r.get("concurrency", r.get("connections", r.get("phase", "")))
            lines.append(f"  {what} @ {where}: {r['errors']} ({examples[:300]})")
    driver = [r for r in rows if "driver_cpu_s" in r and "driver_wall_s" in r and "concurrency" in r]
    if driver:
        def cores(r):
            return r["driver_cpu_s"] / max(r.get("driver_wall_s") or r["seconds"], 1e-9)

        busiest = max(driver, key=cores)
        lines.append("")
        lines.append(
            f"HTTP load driver used up to {cores(busiest):.2f} CPU cores ({LABELS.get(busiest['path'], busiest['path'])} @ "
            f"{busiest['concurrency']}); it shares the machine with the server and PostgreSQL."
        )
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.missed_exit_code and missed:
        return args.missed_exit_code
    return 0


# --------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    add_wait_ready_command(sub)

    seed = sub.add_parser("seed")
    seed.add_argument("--port", type=int, required=True)
    seed.add_argument("--token", required=True)

    run = sub.add_parser("run")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--token", required=True)
    run.add_argument("--team", default="logistics-emea")
    run.add_argument("--mode", choices=["single", "batch", "claim", "stats"], required=True)
    run.add_argument("--path", help="the result's path (default: the mode)")
    run.add_argument("--history", help="a label of the table's contents, kept in the result")
    run.add_argument("--samples-file", help="append the measured latencies (ms), one a line, to this file")

    combine = sub.add_parser("combine")
    combine.add_argument("--slices", required=True, help="JSON lines of runs split into slices")
    combine.add_argument("--samples-dir", required=True, help="where samples-PATH-HISTORY-cLEVEL.txt files are")
    run.add_argument("--concurrency", type=int, required=True)
    run.add_argument("--seconds", type=float, default=10)
    run.add_argument("--warmup", type=float, default=1)
    run.add_argument("--batch-size", type=int, default=10)
    run.add_argument("--processes", type=int, default=0, help="driver processes (default: min(workers, CPUs))")
    run.add_argument("--request-timeout", type=float, default=30)

    run.add_argument("--server-pid", type=int, default=0, help="read this server's CPU and context switches too")

    wrk = sub.add_parser("wrk", help="run wrk with a scripts/bench/*.lua script; one JSON line")
    wrk.add_argument("--script", required=True)
    wrk.add_argument("--port", type=int, required=True)
    wrk.add_argument("--token", default="")
    wrk.add_argument("--team", default="sales-emea")
    wrk.add_argument("--path", required=True, help="the result's path: single, batch, driver-check or request")
    wrk.add_argument("--mode", choices=["single", "batch"], help="drive the lifecycle script in this mode")
    wrk.add_argument("--request", help="the request's label, kept in the result")
    wrk.add_argument("--server", default="baton", help="the server's label, kept in the result")
    wrk.add_argument("--threads", type=int, default=1)
    wrk.add_argument("--connections", type=int, default=8)
    wrk.add_argument("--seconds", type=float, default=10)
    wrk.add_argument("--warmup", type=float, default=1)
    wrk.add_argument("--batch-size", type=int, default=10)
    wrk.add_argument("--server-pid", type=int, default=0)

    wait_http = sub.add_parser("wait-http", help="poll GET PATH until it answers 200")
    wait_http.add_argument("--port", type=int, required=True)
    wait_http.add_argument("--path", default="/healthz")
    wait_http.add_argument("--pid", type=int, default=0)
    wait_http.add_argument("--timeout", type=float, default=60)

    stats = sub.add_parser("pgbench-stats")
    stats.add_argument("--output", required=True, help="pgbench's stdout")
    stats.add_argument("--log-prefix", required=True, help="the --log-prefix given to pgbench")
    stats.add_argument("--concurrency", type=int, required=True)
    stats.add_argument("--done", type=int, required=True, help="tasks that reached 'done' during the run")
    stats.add_argument("--path", default="sql", help="the result's path")
    stats.add_argument("--history", help="a label of the table's contents, kept in the result")
    stats.add_argument("--variant", help="durable for the runs with fsync and synchronous commit on")

    lag = sub.add_parser("feed-lag")
    lag.add_argument("--port", type=int, required=True)
    lag.add_argument("--token", required=True)
    lag.add_argument("--team", required=True)
    lag.add_argument("--after", type=int, required=True, help="an existing event id to follow from")
    lag.add_argument("--events", type=int, default=200, help="measured samples per path")
    lag.add_argument("--warmup", type=int, default=5, help="unmeasured samples first")
    lag.add_argument("--pg-port", type=int, required=True)
    lag.add_argument("--pg-database", required=True)
    lag.add_argument("--label", default="fresh", help="which measurement this is, kept in the results")
    lag.add_argument("--table-events", type=int, default=0, help="rows in the events table, kept in the results")

    rss = sub.add_parser("rss")
    rss.add_argument("--pid", type=int, required=True)
    rss.add_argument("--port", type=int, required=True)
    rss.add_argument("--token", required=True)
    rss.add_argument("--wait-team", required=True, help="a team with nothing queued, for the long-poll claims")
    rss.add_argument("--active-team", required=True)
    rss.add_argument("--connections", type=int, default=200)
    rss.add_argument("--hold-seconds", type=int, default=5, help="wait_seconds of the long-poll claims")
    rss.add_argument("--seconds", type=float, default=10, help="measured seconds of the active phase")
    rss.add_argument("--pool-size", type=int, default=40, help="the server's --pool-size")

    rss_read = sub.add_parser("rss-read")
    rss_read.add_argument("--pid", type=int, required=True)
    rss_read.add_argument("--phase", required=True)

    table = sub.add_parser("table")
    table.add_argument("--results", required=True, help="JSON lines from run and pgbench-stats")
    table.add_argument("--batch-size", type=int, default=10)
    table.add_argument("--missed-exit-code", type=int, default=0)
    table.add_argument("--http-driver", default="wrk", help="which driver ran the HTTP lifecycle rows")
    table.add_argument("--queued", type=int, default=0, help="queued tasks loaded for the history rows")
    table.add_argument("--finished", type=int, default=0, help="done tasks loaded for the history rows")

    args = parser.parse_args(argv)
    if args.command == "run" and (args.concurrency < 1 or args.seconds <= 0 or args.batch_size < 1):
        parser.error("concurrency, seconds and batch size must be positive")
    handlers = {
        "wait-ready": cmd_wait_ready,
        "seed": cmd_seed,
        "run": cmd_run,
        "pgbench-stats": cmd_pgbench_stats,
        "feed-lag": cmd_feed_lag,
        "rss": cmd_rss,
        "rss-read": cmd_rss_read,
        "combine": cmd_combine,
        "wrk": cmd_wrk,
        "wait-http": cmd_wait_http,
        "table": cmd_table,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
