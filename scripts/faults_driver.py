#!/usr/bin/env python3
"""Load driver, fault injector, checker and result table for scripts/faults.sh. Standard library only.

Subcommands:
  wait-ready  poll GET /readyz until it answers 200
  run         one scenario: drive create -> claim -> complete through both instances while a
              fault hits them, drain the queue, check from the database; prints one JSON line
  table       render the JSON lines of all scenarios as one table; exit 1 when a guarantee failed

Client behaviour under faults is what a careful worker does: a create that failed (transport
error or 503) is retried with the same Idempotency-Key, alternating between the instances;
a failed claim is retried; a failed complete is retried with the same lease token, and a 409 on
complete is resolved by reading the task (completed by our earlier try, or the lease was lost).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from baton_http import Client, HTTPFailure, add_wait_ready_command, wait_ready


def cmd_wait_ready(args) -> int:
    return wait_ready(args.port, args.pid, args.timeout, "faults")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by the shell) is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


# --------------------------------------------------------------------------------------------
# Sizes: small must run all four scenarios in well under three minutes with a debug binary.

SIZES = {
    "small": {
        "workers": 6,  # threads; worker i prefers instance i % 2
        "lease": 5,  # seconds (the server's minimum)
        "warm": 3.0,  # seconds of load before the fault
        "load": 10.0,  # seconds of load in all (creating tasks)
        "outage": 3.0,  # pgrestart: seconds PostgreSQL stays down
        "longtx": 10.0,  # longtx: seconds the transaction stays open
        "drain_timeout": 40.0,
        "listen_trials": 5,
    },
    "large": {
        "workers": 12,
        "lease": 5,
        "warm": 10.0,
        "load": 45.0,
        "outage": 8.0,
        "longtx": 60.0,
        "drain_timeout": 90.0,
        "listen_trials": 8,
    },
}
RECOVERY_LIMIT = 15.0  # seconds from database-up to the first success on each instance
LISTEN_LIMIT = 0.4  # a woken waiter must return this fast; the fallback poll is 1 s


# --------------------------------------------------------------------------------------------
# Database access through psql (stdlib only)


class Database:
    def __init__(self, url: str):
        self.url = url

    def query(self, sql: str, timeout: float = 30) -> list[list[str]]:
        done = subprocess.run(
            ["psql", self.url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()[:300]}")
        return [line.split("\t") for line in done.stdout.splitlines() if line != ""]

    def query_retrying(self, sql: str, seconds: float = 30) -> list[list[str]]:
        deadline = time.monotonic() + seconds
        while True:
            try:
                return self.query(sql)
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


# --------------------------------------------------------------------------------------------
# Instances


class Instance:
    def __init__(self, name: str, port: int, work: str):
        self.name = name
        self.port = port
        self.work = work
        self.pidfile = os.path.join(work, "pids", f"{name}.pid")
        self.restarts = 0

    def pid(self) -> int:
        with open(self.pidfile, encoding="ascii") as handle:
            return int(handle.read().strip())

    def alive(self) -> bool:
        try:
            return pid_alive(self.pid())
        except (OSError, ValueError):
            return False

    def kill9(self) -> None:
        os.kill(self.pid(), signal.SIGKILL)

    def restart(self, log) -> bool:
        """Starts the instance again with its first command line; True when it is ready."""
        with open(os.path.join(self.work, f"{self.name}.cmd"), encoding="utf-8") as handle:
            argv = json.load(handle)
        self.restarts += 1
        logfile = open(os.path.join(self.work, f"server-{self.name}.log"), "ab")
        logfile.write(f"\n==== faults: restart {self.restarts} of instance {self.name} ====\n".encode())
        logfile.flush()
        process = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logfile.close()
        with open(self.pidfile + ".tmp", "w", encoding="ascii") as handle:
            handle.write(f"{process.pid}\n")
        os.replace(self.pidfile + ".tmp", self.pidfile)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log(f"instance {self.name} exited during restart with {process.returncode}")
                return False
            client = Client(self.port, timeout=3)
            try:
                status, _ = client.request("GET", "/readyz")
                if status == 200:
                    return True
            except HTTPFailure:
                pass
            finally:
                client.close()
            time.sleep(0.2)
        return False


# --------------------------------------------------------------------------------------------
# Shared bookkeeping


class Ledger:
    """Everything the workers saw, under one lock."""

    def __init__(self, instances: list[str]):
        self.lock = threading.Lock()
        self.acked: dict[int, str] = {}  # task id -> idempotency key
        self.acked_at: dict[int, float] = {}
        self.key_ids: dict[str, set[int]] = {}  # idempotency key -> ids the server answered
        self.claims: dict[int, list[tuple[float, str]]] = {}
        self.completed_ok: dict[int, list[tuple[float, str, int]]] = {}  # 200 on complete
        self.done_at: dict[int, float] = {}  # first time we knew it was done (wall clock)
        self.status: dict[str, dict[str, int]] = {i: {} for i in instances}
        self.transport: dict[str, int] = {i: 0 for i in instances}
        self.claim_latency: list[tuple[float, float]] = []  # (wall end time, seconds) of 200s
        self.abandoned: list[int] = []
        self.key_in_flight = 0  # 409s: the first request with an Idempotency-Key still running  # kill9: held by a worker that died with the victim
        self.bad: list[str] = []  # 5xx other than 503, 503 without code unavailable, unexpected
        self.bad_5xx = 0
        self.unexpected = 0
        self.successes: dict[str, list[float]] = {i: [] for i in instances}  # wall times of 2xx
        self.errors_at: dict[str, list[float]] = {i: [] for i in instances}  # wall times of failures

    def note_response(self, instance: str, what: str, status: int | None, body, wanted: tuple[int, ...]) -> None:
        now = time.time()
        with self.lock:
            if status is None:
                self.transport[instance] += 1
                self.errors_at[instance].append(now)
                return
            counts = self.status[instance]
            counts[str(status)] = counts.get(str(status), 0) + 1
            if 200 <= status < 300:
                self.successes[instance].append(now)
                return
            if status in wanted:
                return
            self.errors_at[instance].append(now)
            code = None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                code = body["error"].get("code")
            if status == 503 and code == "unavailable":
                return
            if status >= 500:
                self.bad_5xx += 1
            else:
                self.unexpected += 1
            if len(self.bad) < 20:
                self.bad.append(f"{instance} {what} -> {status} {json.dumps(body)[:240]}")


class Phase:
    def __init__(self):
        self.creating = threading.Event()
        self.creating.set()
        self.stop = threading.Event()
        # kill9: workers simulate work between claim and complete, and the workers that live
        # with the victim instance die with it: tasks they held at the kill are abandoned.
        self.work_seconds = (0.0, 0.0)
        self.victim: int | None = None
        self.killed = threading.Event()
        self.killed_at = 0.0


class Worker:
    def __init__(self, index: int, ctx: "Scenario"):
        self.index = index
        self.ctx = ctx
        self.name = f"w{index}"
        self.prefer = index % len(ctx.instances)
        self.clients = [Client(inst.port, ctx.token, timeout=20) for inst in ctx.instances]
        self.rng = random.Random(index)

    def close(self):
        for client in self.clients:
            client.close()

    def call(self, attempt: int, what: str, method: str, path: str, body=None, headers=None, wanted=()):
        """One try: the preferred instance first, then the instances in turn (a load balancer's retry)."""
        slot = (self.prefer + attempt) % len(self.clients)
        instance = self.ctx.instances[slot].name
        try:
            status, answer = self.clients[slot].request(method, path, body, headers)
        except HTTPFailure:
            self.ctx.ledger.note_response(instance, what, None, None, wanted)
            return instance, None, None
        self.ctx.ledger.note_response(instance, what, status, answer, wanted)
        return instance, status, answer

    def backoff(self, attempt: int) -> None:
        time.sleep(min(1.0, 0.05 * (2 ** min(attempt, 5))) * (0.5 + self.rng.random()))

    def create(self) -> None:
        key = str(uuid.uuid4())
        # Leases lost to faults count attempts; keep a task from going dead while we hurt the server.
        body = {"kind": "fault", "title": key, "max_attempts": 100}
        attempt = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.ctx.phase.stop.is_set():
            instance, status, answer = self.call(
                attempt, "create", "POST", f"/v1/teams/{self.ctx.team}/tasks", body, {"Idempotency-Key": key}, wanted=(409,)
            )
            if status in (200, 201) and isinstance(answer, dict) and "id" in answer:
                task_id = int(answer["id"])
                with self.ctx.ledger.lock:
                    self.ctx.ledger.acked[task_id] = key
                    self.ctx.ledger.acked_at[task_id] = time.time()
                    self.ctx.ledger.key_ids.setdefault(key, set()).add(task_id)
                return
            if status == 409:
                error = (answer or {}).get("error") if isinstance(answer, dict) else None
                details = (error or {}).get("details") or {}
                if details.get("field") == "Idempotency-Key":
                    # The key already went with another body: a harness bug or a server bug.
                    with self.ctx.ledger.lock:
                        self.ctx.ledger.unexpected += 1
                        self.ctx.ledger.bad.append(f"{instance} create -> 409 {json.dumps(answer)[:200]}")
                    return
                # The first request with this key has not finished yet: retry, as it says.
                with self.ctx.ledger.lock:
                    self.ctx.ledger.key_in_flight += 1
            elif status is not None and 400 <= status < 500:
                return  # counted as unexpected; retrying the same request cannot help
            attempt += 1
            self.backoff(attempt)

    def claim(self, wait: int) -> list[dict]:
        attempt = 0
        while not self.ctx.phase.stop.is_set():
            sent = time.monotonic()
            instance, status, answer = self.call(
                attempt,
                "claim",
                "POST",
                f"/v1/teams/{self.ctx.team}/claim",
                {"worker": self.name, "limit": 1, "lease_seconds": self.ctx.size["lease"], "wait_seconds": wait},
            )
            if status == 200 and isinstance(answer, dict):
                now = time.time()
                tasks = answer.get("tasks") or []
                with self.ctx.ledger.lock:
                    if wait == 0:
                        self.ctx.ledger.claim_latency.append((now, time.monotonic() - sent))
                    for task in tasks:
                        self.ctx.ledger.claims.setdefault(int(task["id"]), []).append((now, instance))
                return [dict(task, _via=instance, _claimed_at=now) for task in tasks]
            attempt += 1
            self.backoff(attempt)
        return []

    def complete(self, task: dict) -> None:
        task_id = int(task["id"])
        token = task["lease"]["token"]
        attempt = 0
        # Past the lease our token is worthless anyway; keep trying a little longer than that.
        deadline = time.monotonic() + self.ctx.size["lease"] + 10
        while time.monotonic() < deadline:
            instance, status, answer = self.call(
                attempt, "complete", "POST", f"/v1/tasks/{task_id}/complete", {"lease_token": token}, wanted=(409,)
            )
            if status == 200:
                now = time.time()
                with self.ctx.ledger.lock:
                    self.ctx.ledger.completed_ok.setdefault(task_id, []).append((now, instance, self.index))
                    self.ctx.ledger.done_at.setdefault(task_id, now)
                return
            if status == 409:
                # Our earlier try may have committed without us hearing, or the lease was lost
                # (then someone else completes it after the reaper requeued it).
                state = self.read_state(task_id)
                if state == "done":
                    with self.ctx.ledger.lock:
                        self.ctx.ledger.done_at.setdefault(task_id, time.time())
                return
            attempt += 1
            self.backoff(attempt)

    def read_state(self, task_id: int) -> str | None:
        for attempt in range(20):
            _, status, answer = self.call(attempt, "get", "GET", f"/v1/tasks/{task_id}")
            if status == 200 and isinstance(answer, dict):
                return answer.get("state")
            self.backoff(attempt)
        return None

    def run(self) -> None:
        try:
            while not self.ctx.phase.stop.is_set():
                creating = self.ctx.phase.creating.is_set()
                if creating:
                    self.create()
                for task in self.claim(0 if creating else 1):
                    low, high = self.ctx.phase.work_seconds
                    if high > 0:
                        time.sleep(self.rng.uniform(low, high))
                    phase = self.ctx.phase
                    if phase.killed.is_set() and self.prefer == phase.victim and task["_claimed_at"] <= phase.killed_at:
                        with self.ctx.ledger.lock:
                            self.ctx.ledger.abandoned.append(int(task["id"]))
                        continue
                    self.complete(task)
        except Exception as error:  # noqa: BLE001 - report, do not hang the scenario
            with self.ctx.ledger.lock:
                self.ctx.ledger.unexpected += 1
                self.ctx.ledger.bad.append(f"worker {self.index} crashed: {type(error).__name__}: {error}")
        finally:
            self.close()


# --------------------------------------------------------------------------------------------
# Scenarios


class Scenario:
    def __init__(self, args):
        self.args = args
        self.name = args.scenario
        self.size = SIZES[args.size]
        self.team = f"f-{self.name}"
        self.work = args.work
        with open(args.token_file, encoding="ascii") as handle:
            self.token = handle.read().strip()
        self.db = Database(args.database_url)
        self.instances = []
        for spec in args.instance:
            name, port = spec.split(":")
            self.instances.append(Instance(name, int(port), args.work))
        self.ledger = Ledger([i.name for i in self.instances])
        self.phase = Phase()
        self.notes: list[str] = []
        self.failures: list[str] = []
        self.recovery: float | None = None
        self.t0 = time.time()
        self.logfile = open(os.path.join(args.work, f"{self.name}.log"), "a", encoding="utf-8")

    def log(self, message: str) -> None:
        line = f"[{time.time() - self.t0:7.2f}s] {message}"
        self.logfile.write(line + "\n")
        self.logfile.flush()

    # --- PostgreSQL control ---

    def as_pg(self, argv: list[str]) -> list[str]:
        if os.getuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def pg_ctl(self, *arguments: str, timeout: float = 90) -> None:
        argv = self.as_pg([os.path.join(self.args.pg_bindir, "pg_ctl"), "-D", self.args.pg_data, *arguments])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        self.log(f"pg_ctl {' '.join(arguments)} -> {done.returncode} {done.stdout.strip()[-200:]} {done.stderr.strip()[-200:]}")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {arguments[-1]} failed: {done.stderr.strip()[:300]}")

    def postmaster_options(self) -> str:
        """The options the cluster was started with, for starting it again after a stop."""
        with open(os.path.join(self.args.pg_data, "postmaster.opts"), encoding="utf-8") as handle:
            words = shlex.split(handle.read())
        options, skip = [], False
        for word in words[1:]:
            if skip:
                skip = False
                continue
            if word == "-D":
                skip = True
                continue
            options.append(word)
        return shlex.join(options)

    # --- the load ---

    def ensure_instances(self) -> None:
        for inst in self.instances:
            if not inst.alive():
                self.log(f"instance {inst.name} is not running; restarting it")
                if not inst.restart(self.log):
                    raise RuntimeError(f"instance {inst.name} did not come back")

    def start_workers(self) -> list[threading.Thread]:
        self.load_started = time.time()
        threads = []
        for i in range(self.size["workers"]):
            worker = Worker(i, self)
            thread = threading.Thread(target=worker.run, name=f"worker-{i}", daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def drain(self, threads: list[threading.Thread]) -> float:
        """Stops creating; workers keep claiming until every task of the team is done."""
        self.phase.creating.clear()
        started = time.monotonic()
        deadline = started + self.size["drain_timeout"] + self.size["lease"]
        while time.monotonic() < deadline:
            try:
                rows = self.db.query(f"SELECT count(*) FROM tasks WHERE team = '{self.team}' AND state <> 'done'")
                left = int(rows[0][0])
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                self.log(f"drain: {error}")
                left = -1
            if left == 0:
                break
            time.sleep(0.5)
        else:
            self.log("drain: timed out")
        self.phase.stop.set()
        for thread in threads:
            thread.join(timeout=40)
        self.log(f"drained after {time.monotonic() - started:.1f} s")
        return time.monotonic() - started

    # --- checks ---

    def check(self) -> dict:
        team = self.team
        rows = self.db.query_retrying(f"SELECT id, state, attempts, title FROM tasks WHERE team = '{team}'")
        db_tasks = {int(r[0]): (r[1], int(r[2]), r[3]) for r in rows}
        twice_rows = self.db.query_retrying(
            f"SELECT entity_id, count(*) FROM events WHERE type = 'task.completed' AND team = '{team}' "
            f"GROUP BY entity_id HAVING count(*) > 1"
        )
        event_counts = dict(
            (r[0], int(r[1]))
            for r in self.db.query_retrying(
                f"SELECT type, count(*) FROM events WHERE team = '{team}' GROUP BY type ORDER BY type"
            )
        )
        with self.ledger.lock:
            acked = dict(self.ledger.acked)
            key_ids = {k: set(v) for k, v in self.ledger.key_ids.items()}
            completed_ok = {k: list(v) for k, v in self.ledger.completed_ok.items()}
        lost = sorted(i for i in acked if db_tasks.get(i, (None,))[0] != "done")
        done = sum(1 for i in acked if db_tasks.get(i, (None,))[0] == "done")
        twice_events = {int(r[0]) for r in twice_rows}
        twice_client = {i for i, acks in completed_ok.items() if len(acks) > 1}
        twice = sorted(twice_events | twice_client)
        # A task in the table that nobody acknowledged: a create whose answer was lost. Fine, as
        # long as it is not a second task for one Idempotency-Key and it was worked off too.
        titles: dict[str, list[int]] = {}
        for task_id, (_, _, title) in db_tasks.items():
            titles.setdefault(title, []).append(task_id)
        dup_keys = sorted(k for k, ids in titles.items() if len(ids) > 1)
        dup_keys += sorted(k for k, ids in key_ids.items() if len(ids) > 1 and k not in dup_keys)
        unacked = sorted(set(db_tasks) - set(acked))
        unacked_open = [i for i in unacked if db_tasks[i][0] != "done"]
        if lost:
            states = {}
            for i in lost:
                state = db_tasks.get(i, ("missing",))[0]
                states[state] = states.get(state, 0) + 1
            self.failures.append(f"{len(lost)} acknowledged task(s) not done: {states}, e.g. ids {lost[:5]}")
        if twice:
            self.failures.append(
                f"{len(twice)} task(s) completed twice: ids {twice[:5]} (events: {len(twice_events)}, client 200s: {len(twice_client)})"
            )
        if dup_keys:
            self.failures.append(f"{len(dup_keys)} Idempotency-Key(s) created more than one task, e.g. {dup_keys[:2]}")
        if unacked_open:
            self.failures.append(f"{len(unacked_open)} unacknowledged task(s) left undone: ids {unacked_open[:5]}")
        if self.ledger.bad_5xx:
            self.failures.append(f"{self.ledger.bad_5xx} 5xx answer(s) other than 503 unavailable")
        if self.ledger.unexpected:
            self.failures.append(f"{self.ledger.unexpected} unexpected answer(s)")
        if unacked:
            self.notes.append(f"{len(unacked)} unacked create(s) committed")
        if self.ledger.key_in_flight:
            self.notes.append(f"{self.ledger.key_in_flight} 409 key in flight")
        if any(self.ledger.transport.values()):
            self.notes.append("transport errors " + "/".join(str(v) for v in self.ledger.transport.values()))
        self.notes.append(f"{event_counts.get('task.lease_expired', 0)} leases reaped")
        return {
            "driven": len(acked),
            "done": done,
            "lost": len(lost),
            "twice": len(twice),
            "events": event_counts,
            "db_tasks": len(db_tasks),
        }

    def check_feed(self) -> None:
        """The feed never skips an event: every event of the team in the table was delivered."""
        rows = self.db.query_retrying(f"SELECT id FROM events WHERE team = '{self.team}'")
        ids = {int(r[0]) for r in rows}
        missing = self.feed.missing(ids)
        if missing:
            self.failures.append(f"the event feed skipped {len(missing)} of {len(ids)} event(s), e.g. ids {missing[:5]}")
        else:
            self.notes.append(f"feed complete ({len(ids)} events)")

    def check_listen(self, label: str) -> None:
        """Proves LISTEN/NOTIFY works through each instance: a waiter blocked on the empty
        f-listen team through one instance gets a task created through the other at once (the
        waiter's fallback poll is one second; LISTEN_LIMIT is well below it)."""
        trials = self.size["listen_trials"]
        worst = {}
        # First wait until both listeners are connected again (they reconnect with backoff), so
        # the check below measures wake-ups, not the reconnect delay.
        started = time.monotonic()
        while self.listeners() < len(self.instances) and time.monotonic() - started < 20:
            time.sleep(0.2)
        waited = time.monotonic() - started
        if self.listeners() < len(self.instances):
            self.failures.append(f"LISTEN check {label}: only {self.listeners()} LISTEN connection(s) after 20 s")
            return
        if waited >= 1:
            self.notes.append(f"listeners back after {waited:.0f} s")
        self.clear_listen_team()
        for waiter_slot in range(len(self.instances)):
            creator_slot = (waiter_slot + 1) % len(self.instances)
            waiter_inst = self.instances[waiter_slot]
            creator_inst = self.instances[creator_slot]
            latencies = []
            for trial in range(trials):
                result = {}

                def wait_for_task():
                    client = Client(waiter_inst.port, self.token, timeout=30)
                    try:
                        status, answer = client.request(
                            "POST",
                            "/v1/teams/f-listen/claim",
                            {"worker": "listen-check", "limit": 1, "lease_seconds": 30, "wait_seconds": 10},
                        )
                        result["status"] = status
                        result["tasks"] = (answer or {}).get("tasks") if isinstance(answer, dict) else None
                    except HTTPFailure as error:
                        result["status"] = str(error)
                    finally:
                        result["at"] = time.monotonic()
                        client.close()

                waiter = threading.Thread(target=wait_for_task, daemon=True)
                waiter.start()
                time.sleep(0.5 + 0.1 * trial)  # the waiter is blocked in the server by now
                client = Client(creator_inst.port, self.token, timeout=30)
                try:
                    client.connect()
                    # Measured from sending the create: the waiter may well answer before the
                    # create's own response arrives (the notification goes out at commit).
                    created_at = time.monotonic()
                    status, answer = client.request(
                        "POST", "/v1/teams/f-listen/tasks", {"kind": "listen", "title": f"{label}-{waiter_slot}-{trial}"}
                    )
                finally:
                    client.close()
                waiter.join(15)
                if status != 201:
                    self.failures.append(f"LISTEN check {label}: create on {creator_inst.name} answered {status}")
                    return
                title = f"{label}-{waiter_slot}-{trial}"
                if result.get("status") != 200 or not result.get("tasks") or result["tasks"][0].get("title") != title:
                    self.failures.append(
                        f"LISTEN check {label}: waiter on {waiter_inst.name} got {result.get('status')} "
                        f"{json.dumps(result.get('tasks'))[:200]} instead of the task {title!r}"
                    )
                    return
                latencies.append(result["at"] - created_at)
                # Complete it so the team is empty again for the next trial.
                task = result["tasks"][0]
                client = Client(waiter_inst.port, self.token, timeout=30)
                try:
                    client.request("POST", f"/v1/tasks/{int(task['id'])}/complete", {"lease_token": task["lease"]["token"]})
                finally:
                    client.close()
            worst[waiter_inst.name] = max(latencies)
            self.log(f"LISTEN check {label}: waiter on {waiter_inst.name}, create on {creator_inst.name}: {latencies}")
            if max(latencies) > LISTEN_LIMIT:
                self.failures.append(
                    f"LISTEN check {label}: a waiter on {waiter_inst.name} woke {max(latencies):.2f} s after the create "
                    f"on {creator_inst.name} (limit {LISTEN_LIMIT} s; the 1 s fallback poll, not a notification)"
                )
        self.notes.append("LISTEN ok " + "/".join(f"{v * 1000:.0f}" for v in worst.values()) + " ms")

    def clear_listen_team(self) -> None:
        """Completes whatever is queued in f-listen (a waiter that gave up leaves its task)."""
        client = Client(self.instances[0].port, self.token, timeout=30)
        try:
            status, answer = client.request(
                "POST", "/v1/teams/f-listen/claim", {"worker": "listen-clear", "limit": 100, "lease_seconds": 30}
            )
            for task in (answer or {}).get("tasks") or [] if status == 200 else []:
                client.request("POST", f"/v1/tasks/{int(task['id'])}/complete", {"lease_token": task["lease"]["token"]})
                self.log(f"cleared task {task['id']} ({task.get('title')}) from f-listen")
        finally:
            client.close()

    def listeners(self) -> int:
        rows = self.db.query_retrying(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )
        return int(rows[0][0])

    def first_success_after(self, instance: str, t: float) -> float | None:
        with self.ledger.lock:
            later = [s for s in self.ledger.successes[instance] if s >= t]
        return min(later) - t if later else None

    def longest_gap(self, instance: str, start: float, end: float) -> float:
        with self.ledger.lock:
            times = sorted(s for s in self.ledger.successes[instance] if start <= s <= end)
        points = [start] + times + [end]
        return max(b - a for a, b in zip(points, points[1:]))

    # --- scenario bodies ---

    def run(self) -> dict:
        self.log(f"scenario {self.name}, size {self.args.size}: {self.size}")
        self.ensure_instances()
        # The feed follower reads through b: in kill9 the survivor.
        self.feed = FeedFollower(self, self.instances[-1])
        feed_thread = threading.Thread(target=self.feed.run, daemon=True)
        feed_thread.start()
        body = getattr(self, f"run_{self.name}")
        extra = {}
        try:
            extra = body() or {}
        finally:
            self.phase.stop.set()
        counts = self.check()
        self.check_feed()
        self.feed.stop.set()
        feed_thread.join(10)
        result = {
            "scenario": self.name,
            "size": self.args.size,
            **counts,
            "bad_5xx": self.ledger.bad_5xx,
            "unexpected": self.ledger.unexpected,
            "status": self.ledger.status,
            "transport_errors": self.ledger.transport,
            "recovery": self.recovery,
            "notes": self.notes,
            "failures": self.failures,
            "bad_examples": self.ledger.bad[:10],
            "seconds": round(time.time() - self.t0, 1),
            **extra,
        }
        # Completions per second from the start of the load, for reading the details.
        times = self.completion_times()
        if times and hasattr(self, "load_started"):
            buckets = [0] * (int(times[-1] - self.load_started) + 1)
            for t in times:
                if t >= self.load_started:
                    buckets[int(t - self.load_started)] += 1
            self.log("completions per second from the start of the load: " + " ".join(map(str, buckets)))
        self.log(json.dumps(result))
        return result

    def run_kill9(self) -> dict:
        victim, survivor = self.instances[0], self.instances[1]
        self.phase.work_seconds = (0.05, 0.3)
        self.phase.victim = 0
        threads = self.start_workers()
        time.sleep(self.size["warm"])
        killed_at = time.time()
        self.phase.killed_at = killed_at
        self.phase.killed.set()
        victim.kill9()
        self.log(f"kill -9 instance {victim.name}")
        # Tasks claimed through the victim and not completed (as far as we heard) before the kill.
        time.sleep(max(0.0, self.size["load"] - self.size["warm"]))
        drain_seconds = self.drain(threads)
        survivor_errors = [t for t in self.ledger.errors_at[survivor.name]]
        with self.ledger.lock:
            orphans = [
                i
                for i, claims in self.ledger.claims.items()
                if any(inst == victim.name and t <= killed_at for t, inst in claims)
                and not any(t <= killed_at for t, _, _ in self.ledger.completed_ok.get(i, []))
            ]
            abandoned = list(self.ledger.abandoned)
        orphans = sorted(set(orphans) | set(abandoned))
        # Recovery: from the kill until the last task that the victim held is done, whether we
        # saw its claim (orphans) or the claim's answer died with the victim (requeued by the
        # survivor's reaper: a task.lease_expired event after the kill).
        ids = ",".join(str(i) for i in orphans) or "NULL"
        rows = self.db.query_retrying(
            "SELECT count(*), max(extract(epoch FROM finished_at)) FROM tasks "
            f"WHERE team = '{self.team}' AND state = 'done' AND (id IN ({ids}) OR id::text IN "
            f"(SELECT entity_id FROM events WHERE team = '{self.team}' AND type = 'task.lease_expired' "
            f"AND occurred_at >= to_timestamp({killed_at})))"
        )
        if rows and rows[0][1]:
            self.recovery = round(float(rows[0][1]) - killed_at, 1)
        self.notes.append(f"{len(orphans)} orphaned by kill ({len(abandoned)} abandoned)")
        if survivor_errors:
            self.failures.append(f"the survivor ({survivor.name}) answered {len(survivor_errors)} request(s) with an error")
        self.notes.append(f"survivor errors {len(survivor_errors)}")
        # Bring the victim back and prove both serve and both hear notifications.
        restarted = victim.restart(self.log)
        if not restarted:
            self.failures.append(f"instance {victim.name} did not restart")
        else:
            self.check_listen("after restart")
        return {"orphans": len(orphans), "drain_seconds": round(drain_seconds, 1)}

    def run_pgrestart(self) -> dict:
        self.check_listen("before")
        self.notes.clear()
        threads = self.start_workers()
        time.sleep(self.size["warm"])
        # A long-poll waiter on the empty f-listen team through instance a, blocked across the
        # outage; like any client it asks again after a 503 or a broken connection.
        waiter = LongPollWaiter(self, self.instances[0], self.size["load"] + self.size["outage"] + self.size["drain_timeout"] + 60)
        waiter_thread = threading.Thread(target=waiter.run, daemon=True)
        waiter_thread.start()
        time.sleep(0.5)
        options = self.postmaster_options()
        down_at = time.time()
        self.pg_ctl("-m", "fast", "-w", "-t", "60", "stop")
        time.sleep(self.size["outage"])
        self.pg_ctl("-w", "-t", "60", "-l", self.args.pg_log, "-o", options, "start")
        up_at = time.time()
        self.log(f"PostgreSQL down {up_at - down_at:.1f} s")
        # Give every instance the time the limit allows to serve a request again.
        deadline = time.monotonic() + RECOVERY_LIMIT + 1
        per = {}
        while time.monotonic() < deadline:
            per = {inst.name: self.first_success_after(inst.name, up_at) for inst in self.instances}
            if all(v is not None for v in per.values()):
                break
            time.sleep(0.2)
        # Both instances serve again. Their listeners reconnect with backoff of their own; once
        # both LISTEN again, a task created through b must wake the waiter on a at once.
        listen_back = None
        while time.time() - up_at < RECOVERY_LIMIT + 5:
            if self.listeners() >= len(self.instances):
                listen_back = time.time() - up_at
                break
            time.sleep(0.1)
        if listen_back is None:
            self.failures.append(f"the instances did not LISTEN again within {RECOVERY_LIMIT + 5:.0f} s of PostgreSQL being back")
        else:
            self.notes.append(f"LISTEN back {listen_back:.1f} s")
        rest = self.size["load"] - self.size["warm"] - (time.time() - down_at)
        if rest > 0:
            time.sleep(rest)
        drain_seconds = self.drain(threads)
        # The waiter has stayed blocked (asking again after each 503 or empty answer) through
        # the rest of the load and the drain; now, on a quiet machine, a task created through b
        # must wake it on a.
        time.sleep(0.5)
        created_at = None
        client = Client(self.instances[1].port, self.token, timeout=30)
        try:
            for attempt in range(40):
                sent_at = time.monotonic()
                try:
                    status, _ = client.request("POST", "/v1/teams/f-listen/tasks", {"kind": "listen", "title": "across the outage"})
                except HTTPFailure:
                    status = None
                if status == 201:
                    created_at = sent_at
                    break
                time.sleep(0.25)
        finally:
            client.close()
        waiter_thread.join(20)
        waiter.stop.set()
        if created_at is None:
            self.failures.append("could not create the task for the long-poll waiter after the restart")
        elif waiter.got_at is None:
            self.failures.append(
                f"the long-poll waiter on {self.instances[0].name} did not get the task created on "
                f"{self.instances[1].name} after the restart (answers: {waiter.answers})"
            )
        elif waiter.got_title != "across the outage":
            self.failures.append(f"the long-poll waiter got another task than the one created for it: {waiter.got_title!r}")
        else:
            latency = waiter.got_at - created_at
            self.notes.append(f"waiter woke {latency * 1000:.0f} ms after create ({waiter.summary()})")
            if latency > LISTEN_LIMIT:
                self.failures.append(
                    f"the long-poll waiter woke {latency:.2f} s after the create (limit {LISTEN_LIMIT} s): "
                    f"the fallback poll, not a notification"
                )
        for name, seconds in per.items():
            if seconds is None or seconds > RECOVERY_LIMIT:
                self.failures.append(f"instance {name} served nothing within {RECOVERY_LIMIT:.0f} s of PostgreSQL being back")
        known = [v for v in per.values() if v is not None]
        self.recovery = round(max(known), 1) if known else None
        with self.ledger.lock:
            outage_503 = sum(c.get("503", 0) for c in self.ledger.status.values())
        self.notes.append("back a/b " + "/".join("-" if v is None else f"{v:.1f}" for v in per.values()) + " s")
        self.notes.append(f"{outage_503} 503s")
        self.check_listen("after restart")
        self.notes.append(f"{self.listeners()} LISTEN conns")
        return {"outage_seconds": round(up_at - down_at, 1), "per_instance_recovery": per, "drain_seconds": round(drain_seconds, 1)}

    def run_terminate(self) -> dict:
        threads = self.start_workers()
        time.sleep(self.size["warm"])
        start = time.time()
        end_at = time.monotonic() + self.size["load"] - self.size["warm"]
        rng = random.Random(7)
        killed = listen_killed = rounds = 0
        while time.monotonic() < end_at:
            time.sleep(rng.uniform(0.2, 1.0))
            rounds += 1
            include_listen = rounds % 3 == 1
            condition = "state = 'active' OR random() < 0.3" + (" OR query ILIKE 'LISTEN%'" if include_listen else "")
            try:
                rows = self.db.query(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)), "
                    "count(*) FILTER (WHERE query ILIKE 'LISTEN%') FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'baton' "
                    f"AND pid <> pg_backend_pid() AND ({condition})"
                )
                killed += int(rows[0][0])
                listen_killed += int(rows[0][1])
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                self.log(f"terminate: {error}")
        end = time.time()
        self.log(f"terminated {killed} backends ({listen_killed} LISTEN) in {rounds} rounds")
        drain_seconds = self.drain(threads)
        gaps = {inst.name: self.longest_gap(inst.name, start, end) for inst in self.instances}
        self.recovery = round(max(gaps.values()), 1)
        with self.ledger.lock:
            n503 = sum(c.get("503", 0) for c in self.ledger.status.values())
        self.notes.append(f"{killed} backends killed ({listen_killed} LISTEN)")
        self.notes.append(f"{n503} 503s")
        self.check_listen("after terminations")
        return {"terminated": killed, "listen_terminated": listen_killed, "longest_gap": gaps, "drain_seconds": round(drain_seconds, 1)}

    def run_longtx(self) -> dict:
        feed = self.feed
        threads = self.start_workers()
        time.sleep(self.size["warm"])
        hold = self.size["longtx"]
        tx_start = time.time()
        holder = subprocess.Popen(
            ["psql", self.args.database_url, "-X", "-q", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert holder.stdin is not None
        holder.stdin.write(f"BEGIN;\nSELECT txid_current();\nSELECT pg_sleep({hold});\nCOMMIT;\n")
        holder.stdin.close()
        try:
            holder.wait(timeout=hold + 60)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
        tx_end = time.time()
        self.log(f"long transaction held {tx_end - tx_start:.1f} s (psql exit {holder.returncode})")
        after = max(self.size["warm"], 8.0)
        time.sleep(after)
        load_end = time.time()
        drain_seconds = self.drain(threads)
        before = self.rate(self.load_started + 1.0, tx_start)
        during = self.rate(tx_start, tx_end)
        after_rate = self.rate(tx_end, load_end)
        self.notes.append(f"tasks/s before/during/after {before:.0f}/{during:.0f}/{after_rate:.0f}")
        claims = [
            self.claim_p50(self.load_started + 1.0, tx_start),
            self.claim_p50(tx_start, tx_end),
            self.claim_p50(tx_end, load_end),
        ]
        self.notes.append("claim p50 ms " + "/".join("-" if c is None else f"{c * 1000:.0f}" for c in claims))
        # The follower has a backlog from the stall; let it catch up before measuring.
        ids = {int(r[0]) for r in self.db.query_retrying(f"SELECT id FROM events WHERE team = '{self.team}'")}
        feed.missing(ids, 60)
        lag_during = feed.max_lag(tx_start, tx_end)
        lag_after = feed.max_lag(tx_end, load_end)
        self.notes.append(
            f"feed lag max during/after {'-' if lag_during is None else f'{lag_during:.1f}'}/"
            f"{'-' if lag_after is None else f'{lag_after:.1f}'} s"
        )
        # Recovery: seconds after the transaction ended until a one-second bucket reaches half
        # the rate before it.
        self.recovery = self.rate_recovery(tx_end, load_end, before)
        return {
            "tx_seconds": round(tx_end - tx_start, 1),
            "rate_before": before,
            "rate_during": during,
            "rate_after": after_rate,
            "claim_p50": claims,
            "feed_lag_during": lag_during,
            "feed_lag_after": lag_after,
            "drain_seconds": round(drain_seconds, 1),
        }

    def claim_p50(self, start: float, end: float) -> float | None:
        with self.ledger.lock:
            values = sorted(d for t, d in self.ledger.claim_latency if start <= t < end)
        return values[len(values) // 2] if values else None

    def completion_times(self) -> list[float]:
        with self.ledger.lock:
            return sorted(t for acks in self.ledger.completed_ok.values() for t, _, _ in acks)

    def rate(self, start: float, end: float) -> float:
        if end <= start:
            return 0.0
        return sum(1 for t in self.completion_times() if start <= t < end) / (end - start)

    def rate_recovery(self, start: float, end: float, baseline: float) -> float | None:
        if baseline <= 0:
            return None
        times = self.completion_times()
        second = 0
        while start + second + 1 <= end:
            count = sum(1 for t in times if start + second <= t < start + second + 1)
            if count >= baseline / 2:
                return float(second)
            second += 1
        return None


class LongPollWaiter:
    """Claims on the empty f-listen team with a long wait, asking again after a 503, a broken
    connection or an empty answer, until it gets a task."""

    def __init__(self, ctx: Scenario, instance: Instance, seconds: float):
        self.ctx = ctx
        self.instance = instance
        self.deadline = time.monotonic() + seconds
        self.stop = threading.Event()
        self.got_at: float | None = None
        self.got_title: str | None = None
        self.answers: dict[str, int] = {}

    def summary(self) -> str:
        return "waiter saw " + ", ".join(f"{k}x{v}" for k, v in sorted(self.answers.items()))

    def run(self) -> None:
        client = Client(self.instance.port, self.ctx.token, timeout=30)
        try:
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                try:
                    status, answer = client.request(
                        "POST",
                        "/v1/teams/f-listen/claim",
                        {"worker": "outage-waiter", "limit": 1, "lease_seconds": 30, "wait_seconds": 20},
                    )
                except HTTPFailure:
                    status, answer = None, None
                key = "transport" if status is None else str(status)
                tasks = answer.get("tasks") if status == 200 and isinstance(answer, dict) else None
                if status == 200 and not tasks:
                    key = "200 empty"
                self.answers[key] = self.answers.get(key, 0) + 1
                if status is not None and status >= 500 and status != 503:
                    with self.ctx.ledger.lock:
                        self.ctx.ledger.bad_5xx += 1
                        self.ctx.ledger.bad.append(f"{self.instance.name} long-poll claim -> {status} {json.dumps(answer)[:200]}")
                if tasks:
                    self.got_at = time.monotonic()
                    task = tasks[0]
                    self.got_title = task.get("title")
                    try:
                        client.request("POST", f"/v1/tasks/{int(task['id'])}/complete", {"lease_token": task["lease"]["token"]})
                    except HTTPFailure:
                        pass
                    return
                if status != 200:
                    time.sleep(0.2)
        finally:
            client.close()


class FeedFollower:
    """Follows GET /v1/events for the scenario's team through one instance, as a client would
    (asking again after errors); notes when each event and each task.completed arrived."""

    def __init__(self, ctx: Scenario, instance: Instance):
        self.ctx = ctx
        self.instance = instance
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.seen_events: set[int] = set()
        self.completed_seen: dict[int, float] = {}
        self.errors = 0

    def run(self) -> None:
        client = Client(self.instance.port, self.ctx.token, timeout=30)
        cursor = 0
        try:
            while not self.stop.is_set():
                try:
                    status, answer = client.request(
                        "GET", f"/v1/events?after={cursor}&team={self.ctx.team}&limit=200&wait_seconds=1"
                    )
                except HTTPFailure:
                    status, answer = None, None
                if status != 200 or not isinstance(answer, dict):
                    if status is not None and status >= 500 and status != 503:
                        with self.ctx.ledger.lock:
                            self.ctx.ledger.bad_5xx += 1
                            self.ctx.ledger.bad.append(f"{self.instance.name} events feed -> {status} {json.dumps(answer)[:200]}")
                    self.errors += 1
                    time.sleep(0.2)
                    continue
                now = time.time()
                with self.lock:
                    for event in answer.get("events") or []:
                        self.seen_events.add(int(event["id"]))
                        if event.get("type") == "task.completed" and event.get("entity_id"):
                            self.completed_seen.setdefault(int(event["entity_id"]), now)
                cursor = int(answer.get("next_cursor") or cursor)
        finally:
            client.close()

    def max_lag(self, start: float, end: float) -> float | None:
        with self.ctx.ledger.lock:
            completions = {i: acks[0][0] for i, acks in self.ctx.ledger.completed_ok.items()}
        with self.lock:
            lags = [self.completed_seen[i] - t for i, t in completions.items() if start <= t < end and i in self.completed_seen]
        return max(lags) if lags else None

    def missing(self, event_ids: set[int], seconds: float = 15) -> list[int]:
        """The given events the feed has not delivered, after giving it time to catch up."""
        deadline = time.monotonic() + seconds
        while True:
            with self.lock:
                missing = sorted(event_ids - self.seen_events)
            if not missing or time.monotonic() > deadline:
                return missing
            time.sleep(0.5)


def cmd_run(args) -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    scenario = Scenario(args)
    try:
        result = scenario.run()
    except Exception as error:  # a set-up failure inside the scenario is a failed scenario
        scenario.log(f"scenario failed to run: {type(error).__name__}: {error}")
        result = {
            "scenario": args.scenario,
            "size": args.size,
            "driven": len(scenario.ledger.acked),
            "done": None,
            "lost": None,
            "twice": None,
            "bad_5xx": scenario.ledger.bad_5xx,
            "recovery": None,
            "notes": scenario.notes,
            "failures": scenario.failures + [f"the scenario did not run to the end: {type(error).__name__}: {error}"],
            "bad_examples": scenario.ledger.bad[:10],
        }
    print(json.dumps(result))
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------------------------
# table


def cmd_table(args) -> int:
    rows = {}
    with open(args.results, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                row = json.loads(line)
                rows[row["scenario"]] = row

    def cell(value, digits=0):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return str(value)

    header = f"{'scenario':<10} {'driven':>6} {'done':>6} {'lost':>5} {'twice':>5} {'5xx':>4} {'recov s':>7}  {'result':<6} notes"
    lines = [header, "-" * (len(header) + 60)]
    failed = []
    for name in args.scenarios.split():
        row = rows.get(name)
        if row is None:
            lines.append(f"{name:<10} {'(no result: the driver failed; see its log in the work directory)'}")
            failed.append((name, ["no result"]))
            continue
        verdict = "FAIL" if row.get("failures") else "ok"
        if row.get("failures"):
            failed.append((name, row["failures"]))
        lines.append(
            f"{name:<10} {cell(row.get('driven')):>6} {cell(row.get('done')):>6} {cell(row.get('lost')):>5} "
            f"{cell(row.get('twice')):>5} {cell(row.get('bad_5xx')):>4} {cell(row.get('recovery'), 1):>7}  {verdict:<6} "
            + "; ".join(row.get("notes") or [])
        )
    lines.append("")
    lines.append(
        "recov s: kill9 = kill to the last orphaned task done; pgrestart = database up to the first success on the\n"
        "slower instance; terminate = longest stretch without a success on one instance; longtx = transaction end to\n"
        "a one-second bucket at half the earlier rate. 5xx counts answers other than 503 unavailable."
    )
    if failed:
        lines.append("")
        lines.append("FAILED guarantees")
        for name, failures in failed:
            for failure in failures:
                lines.append(f"  {name}: {failure}")
            examples = (rows.get(name) or {}).get("bad_examples") or []
            for example in examples[:5]:
                lines.append(f"    e.g. {example}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    add_wait_ready_command(sub)

    run = sub.add_parser("run")
    run.add_argument("--scenario", choices=["kill9", "pgrestart", "terminate", "longtx"], required=True)
    run.add_argument("--size", choices=sorted(SIZES), default="small")
    run.add_argument("--work", required=True)
    run.add_argument("--database-url", required=True)
    run.add_argument("--token-file", required=True)
    run.add_argument("--instance", action="append", required=True, help="name:port, twice")
    run.add_argument("--pg-bindir", required=True)
    run.add_argument("--pg-data", required=True)
    run.add_argument("--pg-log", required=True)

    table = sub.add_parser("table")
    table.add_argument("--results", required=True)
    table.add_argument("--scenarios", required=True)

    args = parser.parse_args(argv)
    handlers = {"wait-ready": cmd_wait_ready, "run": cmd_run, "table": cmd_table}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
