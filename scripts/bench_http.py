#!/usr/bin/env python3
"""Load driver and result table for scripts/bench.sh. Standard library only.

Subcommands:
  wait-ready     poll GET /readyz until it answers 200
  seed           create the emea region and the logistics-emea and sales-emea teams
  run            drive task lifecycles over HTTP for a fixed time; prints one JSON line
  pgbench-stats  tasks/s and latency percentiles of a pgbench run; prints one JSON line
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
import sys
import threading
import time


# --------------------------------------------------------------------------------------------
# HTTP


class HTTPFailure(Exception):
    """A request that did not get a well-formed response."""


class Client:
    """One keep-alive connection to 127.0.0.1:port. Not thread-safe: one per worker."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 30.0):
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.reader = None
        self.fixed_headers = f"Host: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
        if token:
            self.fixed_headers += f"Authorization: Bearer {token}\r\n"

    def connect(self) -> None:
        if self.sock is not None:
            return
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.reader = sock.makefile("rb", buffering=65536)

    def close(self) -> None:
        if self.reader is not None:
            try:
                self.reader.close()
            except OSError:
                pass
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.reader = None

    def request(self, method: str, path: str, body=None):
        """Sends one request; returns (status, decoded JSON or None). Never retries: the
        lifecycle requests are not idempotent. On a transport error the connection is closed
        (the next request reconnects) and HTTPFailure is raised."""
        if body is None:
            payload = b""
            head = f"{method} {path} HTTP/1.1\r\n{self.fixed_headers}Content-Length: 0\r\n\r\n"
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
            head = (
                f"{method} {path} HTTP/1.1\r\n{self.fixed_headers}"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
        try:
            self.connect()
            assert self.sock is not None
            self.sock.sendall(head.encode("ascii") + payload)
            status, data, keep_alive = self._read_response(method)
        except (OSError, ValueError, HTTPFailure) as error:
            self.close()
            raise HTTPFailure(f"{method} {path}: {type(error).__name__}: {error}") from error
        if not keep_alive:
            self.close()
        if not data:
            return status, None
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {"raw": data[:200].decode("utf-8", "replace")}

    def _readline(self) -> bytes:
        line = self.reader.readline(65537)
        if not line:
            raise HTTPFailure("connection closed by the server")
        if len(line) > 65536:
            raise HTTPFailure("header line too long")
        return line

    def _read_exact(self, count: int) -> bytes:
        data = self.reader.read(count)
        if data is None or len(data) != count:
            raise HTTPFailure(f"short body: expected {count} bytes")
        return data

    def _read_response(self, method: str):
        while True:
            status_line = self._readline()
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise HTTPFailure(f"bad status line {status_line[:80]!r}")
            status = int(parts[1])
            version = parts[0]
            headers: dict[bytes, bytes] = {}
            while True:
                line = self._readline()
                if line in (b"\r\n", b"\n"):
                    break
                name, sep, value = line.partition(b":")
                if not sep:
                    raise HTTPFailure(f"bad header line {line[:80]!r}")
                headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200:
                continue  # an interim response; the real one follows
            break
        connection = headers.get(b"connection", b"").lower()
        keep_alive = (b"close" not in connection) and (version != b"HTTP/1.0" or b"keep-alive" in connection)
        if method == "HEAD" or status in (204, 304):
            return status, b"", keep_alive
        encoding = headers.get(b"transfer-encoding", b"").lower()
        if b"chunked" in encoding:
            chunks = []
            while True:
                size_line = self._readline()
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self._readline() not in (b"\r\n", b"\n"):
                        pass  # trailers
                    break
                chunks.append(self._read_exact(size))
                self._readline()  # the CRLF after the chunk
            return status, b"".join(chunks), keep_alive
        if b"content-length" in headers:
            return status, self._read_exact(int(headers[b"content-length"])), keep_alive
        # No length: the body runs to the end of the connection.
        data = self.reader.read()
        return status, data, False


# --------------------------------------------------------------------------------------------
# wait-ready and seed


def cmd_wait_ready(args) -> int:
    deadline = time.monotonic() + args.timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if args.pid:
            try:
                os.kill(args.pid, 0)
            except ProcessLookupError:
                print(f"bench: the server (pid {args.pid}) exited before it was ready", file=sys.stderr)
                return 1
            except PermissionError:
                pass
        client = Client(args.port, timeout=5)
        try:
            status, body = client.request("GET", "/readyz")
            if status == 200:
                return 0
            last = f"{status} {json.dumps(body)[:200]}"
        except HTTPFailure as error:
            last = str(error)
        finally:
            client.close()
        time.sleep(0.25)
    print(f"bench: the server was not ready after {args.timeout:.0f} s ({last})", file=sys.stderr)
    return 1


def cmd_seed(args) -> int:
    client = Client(args.port, args.token, timeout=30)
    steps = [
        ("/v1/regions", {"code": "emea", "name": "EMEA", "time_zone": "Europe/Berlin"}, None),
        ("/v1/teams", {"department": "logistics", "region": "emea"}, "logistics-emea"),
        ("/v1/teams", {"department": "sales", "region": "emea"}, "sales-emea"),
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
        cycle = self.batch_cycle if self.args.mode == "batch" else self.single_cycle
        while time.monotonic() < self.t_end:
            start = time.monotonic()
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
            self.samples.append((end, end - start, done))
        self.client.close()

    def expect(self, what: str, status: int, wanted: int, body) -> bool:
        if status == wanted:
            return True
        self.error(f"{what} answered {status}: {json.dumps(body)[:200]}")
        return False

    def single_cycle(self):
        status, task = self.client.request("POST", f"{self.team_path}/tasks", {"kind": "bench", "title": "t"})
        if not self.expect("create", status, 201, task):
            return None
        status, claim = self.client.request(
            "POST", f"{self.team_path}/claim", {"worker": self.worker_name, "limit": 1, "lease_seconds": 60}
        )
        if not self.expect("claim", status, 200, claim):
            return None
        done = 0
        for claimed in claim["tasks"]:
            status, body = self.client.request(
                "POST", f"/v1/tasks/{int(claimed['id'])}/complete", {"lease_token": claimed["lease"]["token"]}
            )
            if self.expect("complete", status, 200, body):
                done += 1
        return done

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
    concurrency = args.concurrency
    processes = max(1, min(concurrency, args.processes or os.cpu_count() or 1))
    context = multiprocessing.get_context("fork")
    startup = 0.5
    t_begin = time.monotonic() + startup
    t_measure = t_begin + args.warmup
    t_end = t_measure + args.seconds
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
    examples: list[str] = []
    cpu = 0.0
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
            cpu += report["cpu_seconds"]
        child.join(5)
        if child.is_alive():
            child.kill()

    measured = [s for s in samples if t_measure <= s[0] <= t_end]
    latencies = sorted(s[1] * 1000.0 for s in measured)
    tasks = sum(s[2] for s in measured)
    result = {
        "path": args.mode,
        "concurrency": concurrency,
        "seconds": args.seconds,
        "tasks": tasks,
        "cycles": len(measured),
        "tasks_per_s": tasks / args.seconds,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": errors,
        "error_examples": examples[:5],
        "driver_processes": processes,
        "driver_cpu_s": round(cpu, 3),
        "driver_wall_s": round(t_end - t_begin, 3),
    }
    print(json.dumps(result))
    if examples:
        for example in examples[:3]:
            print(f"bench: {args.mode} c={concurrency}: {example}", file=sys.stderr)
    return 0


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
    result = {
        "path": "sql",
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
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------------
# table

LABELS = {
    "sql": "raw SQL per-task lifecycle",
    "single": "HTTP per-task lifecycle",
    "batch": "HTTP batched lifecycle",
}
TARGETS = [("single", 0.5, "HTTP per-task lifecycle >= 0.5x raw SQL"), ("batch", 1.0, "HTTP batched lifecycle >= 1.0x raw SQL")]


def fmt(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def cmd_table(args) -> int:
    rows = []
    with open(args.results, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    by_key = {(r["path"], r["concurrency"]): r for r in rows}
    levels = sorted({r["concurrency"] for r in rows})
    lines = []
    label_width = max(len(label) for label in LABELS.values()) + len(f" (x{args.batch_size})")
    header = f"{'lifecycle':<{label_width}}  {'workers':>7}  {'tasks/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'vs raw':>7}  {'errors':>6}"
    lines.append(header)
    lines.append("-" * len(header))
    missed = 0
    for path in ("sql", "single", "batch"):
        for level in levels:
            row = by_key.get((path, level))
            label = LABELS[path] + (f" (x{args.batch_size})" if path == "batch" else "")
            if row is None:
                lines.append(f"{label:<{label_width}}  {level:>7}  {'(not run)':>9}")
                continue
            raw = by_key.get(("sql", level))
            ratio = None
            if raw and raw["tasks_per_s"] > 0:
                ratio = row["tasks_per_s"] / raw["tasks_per_s"]
            lines.append(
                f"{label:<{label_width}}  {level:>7}  {row['tasks_per_s']:>9.1f}  {fmt(row['p50_ms'], 2):>8}  "
                f"{fmt(row['p99_ms'], 2):>8}  {(fmt(ratio, 2) + 'x') if ratio is not None else '-':>7}  {row.get('errors', 0):>6}"
            )
        lines.append("")
    lines.append(
        f"Latency is per cycle (create, claim, complete): one task for per-task rows, one batch of "
        f"{args.batch_size} for batched rows."
    )
    lines.append("")
    lines.append("Targets")
    for path, target, text in TARGETS:
        verdicts = []
        for level in levels:
            row = by_key.get((path, level))
            raw = by_key.get(("sql", level))
            if row is None or raw is None or raw["tasks_per_s"] <= 0:
                verdicts.append(f"{level}: n/a")
                missed += 1
                continue
            ratio = row["tasks_per_s"] / raw["tasks_per_s"]
            verdict = "PASS" if ratio >= target and row.get("errors", 0) == 0 else "MISS"
            if verdict == "MISS":
                missed += 1
            verdicts.append(f"{level}: {verdict} ({ratio:.2f}x)")
        lines.append(f"  {text:<42}  " + "   ".join(verdicts))
    notes = [r for r in rows if r.get("errors")]
    if notes:
        lines.append("")
        lines.append("Errors (a run with errors counts as MISS)")
        for r in notes:
            examples = "; ".join(r.get("error_examples") or []) or "see the run's output"
            lines.append(f"  {LABELS[r['path']]} @ {r['concurrency']}: {r['errors']} ({examples[:300]})")
    driver = [r for r in rows if "driver_cpu_s" in r]
    if driver:
        def cores(r):
            return r["driver_cpu_s"] / max(r.get("driver_wall_s") or r["seconds"], 1e-9)

        busiest = max(driver, key=cores)
        lines.append("")
        lines.append(
            f"HTTP load driver used up to {cores(busiest):.2f} CPU cores ({LABELS[busiest['path']]} @ "
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

    wait = sub.add_parser("wait-ready")
    wait.add_argument("--port", type=int, required=True)
    wait.add_argument("--timeout", type=float, default=90)
    wait.add_argument("--pid", type=int, default=0)

    seed = sub.add_parser("seed")
    seed.add_argument("--port", type=int, required=True)
    seed.add_argument("--token", required=True)

    run = sub.add_parser("run")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--token", required=True)
    run.add_argument("--team", default="logistics-emea")
    run.add_argument("--mode", choices=["single", "batch"], required=True)
    run.add_argument("--concurrency", type=int, required=True)
    run.add_argument("--seconds", type=float, default=10)
    run.add_argument("--warmup", type=float, default=1)
    run.add_argument("--batch-size", type=int, default=10)
    run.add_argument("--processes", type=int, default=0, help="driver processes (default: min(workers, CPUs))")
    run.add_argument("--request-timeout", type=float, default=30)

    stats = sub.add_parser("pgbench-stats")
    stats.add_argument("--output", required=True, help="pgbench's stdout")
    stats.add_argument("--log-prefix", required=True, help="the --log-prefix given to pgbench")
    stats.add_argument("--concurrency", type=int, required=True)
    stats.add_argument("--done", type=int, required=True, help="tasks that reached 'done' during the run")

    table = sub.add_parser("table")
    table.add_argument("--results", required=True, help="JSON lines from run and pgbench-stats")
    table.add_argument("--batch-size", type=int, default=10)
    table.add_argument("--missed-exit-code", type=int, default=0)

    args = parser.parse_args(argv)
    if args.command == "run" and (args.concurrency < 1 or args.seconds <= 0 or args.batch_size < 1):
        parser.error("concurrency, seconds and batch size must be positive")
    handlers = {
        "wait-ready": cmd_wait_ready,
        "seed": cmd_seed,
        "run": cmd_run,
        "pgbench-stats": cmd_pgbench_stats,
        "table": cmd_table,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
