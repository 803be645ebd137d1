#!/usr/bin/env python3
"""The retention section of scripts/bench.sh: what history costs the hot paths, and what pruning it costs.

1. On the database as the section finds it (with only this section run: empty), measures the
   claim latency (one keep-alive client running create -> claim -> complete on logistics-emea,
   the claim request timed alone) and the feed lag (create's 201 -> a long-poll follower of
   GET /v1/events, filtered to marketing-emea's task.created, has the event).
2. Loads N events and M done tasks with INSERT ... SELECT generate_series straight into Baton's
   tables, spread evenly over the last 80 days in id order (inside every default retention age,
   so the server's own pruner leaves them), across the region's four teams; the webhook
   dispatcher's cursor moves past the loaded events in the same transaction (as if it had
   dispatched them). Then VACUUM ANALYZE and a checkpoint. The load's seconds are reported.
3. Measures claim latency and feed lag again on the loaded database, in rounds alternating
   with the same measurements on an empty database beside it (its own server, given with
   --empty-port): the loaded/empty ratios divide figures taken in the same minutes, so a burst
   of load from elsewhere on the machine lands on both sides rather than on one.
4. `batonctl prune --dry-run --retain-finished-tasks AGE` (the preview's count and seconds),
   then `batonctl prune --retain-finished-tasks AGE` (about half the loaded tasks: those
   finished more than AGE ago) while the claim client keeps running: claim latency during the
   prune beside the loaded figure, and the prune's rows and rows/s.

Prints one JSON line for the table (path "retention"). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

from baton_http import Arrivals, Client, follow_long_poll

TEAMS = ["logistics-emea", "sales-emea", "marketing-emea", "support-emea"]


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def summary(values: list[float]) -> dict:
    return {"samples": len(values), "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99),
            "max_ms": max(values) if values else None, "over_100ms": sum(1 for value in values if value > 100)}


class Claimer:
    """create -> claim -> complete on one team; the claim's latency is the sample."""

    def __init__(self, port: int, token: str, team: str, errors: list[str]):
        self.client = Client(port, token, timeout=60)
        self.team = team
        self.errors = errors

    def cycle(self) -> float | None:
        status, task = self.client.request("POST", f"/v1/teams/{self.team}/tasks", {"kind": "bench", "title": "retention"})
        if status != 201:
            self.errors.append(f"create answered {status}: {json.dumps(task)[:200]}")
            return None
        started = time.perf_counter()
        status, claim = self.client.request(
            "POST", f"/v1/teams/{self.team}/claim", {"worker": "retention-bench", "limit": 1, "lease_seconds": 60}
        )
        latency = (time.perf_counter() - started) * 1000
        if status != 200:
            self.errors.append(f"claim answered {status}: {json.dumps(claim)[:200]}")
            return None
        for claimed in claim["tasks"]:
            status, body = self.client.request(
                "POST", f"/v1/tasks/{int(claimed['id'])}/complete", {"lease_token": claimed["lease"]["token"]}
            )
            if status != 200:
                self.errors.append(f"complete answered {status}: {json.dumps(body)[:200]}")
        return latency if claim["tasks"] else None

    def run(self, samples: int, warmup: int = 50) -> list[float]:
        latencies = []
        for index in range(samples + warmup):
            latency = self.cycle()
            if latency is not None and index >= warmup:
                latencies.append(latency)
        return latencies

    def close(self) -> None:
        self.client.close()


def feed_lag(port: int, token: str, after: int, samples: int, errors: list[str]) -> list[float]:
    """A long-poll follower from `after`; a producer creates a task and waits for its event."""
    arrivals = Arrivals()
    stop = threading.Event()
    follower = Client(port, token, timeout=60)
    thread = threading.Thread(
        target=follow_long_poll, args=(after, "marketing-emea", arrivals, stop, follower, errors), daemon=True
    )
    thread.start()
    time.sleep(0.5)
    producer = Client(port, token, timeout=30)
    lags = []
    for index in range(samples + 10):
        status, task = producer.request("POST", "/v1/teams/marketing-emea/tasks", {"kind": "feed", "title": "lag"})
        created = time.monotonic()
        if status != 201:
            errors.append(f"create answered {status}: {json.dumps(task)[:200]}")
            break
        key = str(task["id"])
        at = arrivals.wait(["longpoll"], key, 5.0).get("longpoll")
        if at is None:
            errors.append(f"the follower did not see task {key} within 5 s")
        elif index >= 10:
            lags.append((at - created) * 1000)
        time.sleep(0.01)
    stop.set()
    producer.close()
    try:
        if follower.sock is not None:
            import socket

            follower.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    thread.join(5)
    follower.close()
    return lags


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], input=sql, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: psql failed: {done.stderr.strip()[:500]}")
    return done.stdout.strip()


def load_sql(events: int, finished: int) -> str:
    teams = "ARRAY['" + "', '".join(TEAMS) + "']"
    return f"""
BEGIN;
INSERT INTO tasks (id, chain_id, team, region, kind, title, state, run_at, attempts, max_attempts,
                   lease_worker, created_by, created_at, updated_at, claimed_at, finished_at)
SELECT n.id, n.id, ({teams})[1 + n.g % 4], 'emea', 'bench', 'history ' || n.g, 'done', n.t, 1, 5,
       'bench-retention', 'token:1', n.t, n.t + interval '2 minutes', n.t + interval '1 minute', n.t + interval '2 minutes'
FROM (SELECT g, nextval('tasks_id_seq') AS id,
             now() - interval '80 days' + (interval '80 days' / {max(finished, 1)}) * g - interval '1 hour' AS t
      FROM generate_series(1, {finished}) AS g) AS n
ORDER BY n.id;
INSERT INTO events (type, occurred_at, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
SELECT 'task.completed', now() - interval '80 days' + (interval '80 days' / {max(events, 1)}) * g - interval '1 hour',
       'api', 'principal', 'token:1', 'task', (g % 1000000)::text, ({teams})[1 + g % 4], 'emea', '{{"attempt": 1}}'
FROM generate_series(1, {events}) AS g;
UPDATE webhook_dispatch SET after_xid = last.xid, after_id = last.id, updated_at = now()
FROM (SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1) AS last;
COMMIT;
VACUUM (ANALYZE) tasks;
VACUUM (ANALYZE) events;
CHECKPOINT;
"""


def last_event(url: str) -> int:
    """The newest event's id (0 when there is none): where a follower measuring lag starts."""
    return int(psql(url, "SELECT coalesce(max(id), 0) FROM events") or 0)


def measure(args, claimer: Claimer, errors: list[str]) -> dict:
    after = last_event(args.database_url)
    return {
        "claim": summary(claimer.run(args.claims)),
        "feed": summary(feed_lag(args.port, args.token, after, args.feed_events, errors)),
    }


def measure_alternating(args, errors: list[str], rounds: int = 5) -> tuple[dict, dict]:
    """The loaded database's claims and feed lag, and the empty one's, in alternating rounds."""
    sides = [
        {"port": args.port, "token": args.token, "url": args.database_url, "claims": [], "feed": []},
        {"port": args.empty_port, "token": args.empty_token, "url": args.empty_database_url, "claims": [], "feed": []},
    ]
    for side in sides:
        side["claimer"] = Claimer(side["port"], side["token"], "logistics-emea", errors)
    for index in range(rounds):
        for side in sides if index % 2 == 0 else reversed(sides):
            side["claims"] += side["claimer"].run(max(1, args.claims // rounds), warmup=10)
            side["feed"] += feed_lag(side["port"], side["token"], last_event(side["url"]), max(1, args.feed_events // rounds), errors)
    for side in sides:
        side["claimer"].close()
    return tuple({"claim": summary(side["claims"]), "feed": summary(side["feed"])} for side in sides)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--empty-port", type=int, required=True)
    parser.add_argument("--empty-token", required=True)
    parser.add_argument("--empty-database-url", required=True)
    parser.add_argument("--batonctl", required=True)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--finished", type=int, default=2_000_000)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--feed-events", type=int, default=200)
    parser.add_argument("--prune-age", default="40d")
    args = parser.parse_args(argv)

    errors: list[str] = []
    result: dict = {"path": "retention", "events": args.events, "finished": args.finished, "prune_age": args.prune_age}
    claimer = Claimer(args.port, args.token, "logistics-emea", errors)
    print("    retention: measuring on the database as found", file=sys.stderr)
    result["empty"] = measure(args, claimer, errors)

    print(f"    retention: loading {args.events:,} events and {args.finished:,} done tasks", file=sys.stderr)
    # The load outlasts the server's idle timeout: each phase gets a fresh keep-alive client.
    claimer.close()
    started = time.perf_counter()
    psql(args.database_url, load_sql(args.events, args.finished))
    result["load_s"] = time.perf_counter() - started
    print("    retention: measuring on the loaded database, alternating with an empty one", file=sys.stderr)
    result["loaded"], result["empty_beside"] = measure_alternating(args, errors)

    prune = [args.batonctl, "prune", "--database-url", args.database_url, "--retain-finished-tasks", args.prune_age,
             "--retain-events", "forever", "--retain-webhook-deliveries", "forever"]
    started = time.perf_counter()
    preview = subprocess.run(prune + ["--dry-run", "--json"], capture_output=True, text=True, check=False)
    result["dry_run_s"] = time.perf_counter() - started
    if preview.returncode != 0:
        errors.append(f"prune --dry-run failed: {preview.stderr.strip()[:300]}")
    else:
        result["would_delete"] = next((p["rows"] for p in json.loads(preview.stdout) if p["kind"] == "tasks"), None)

    print(f"    retention: batonctl prune --retain-finished-tasks {args.prune_age} while claiming", file=sys.stderr)
    claimer = Claimer(args.port, args.token, "logistics-emea", errors)
    during: list[float] = []
    started = time.perf_counter()
    process = subprocess.Popen(prune + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        latency = claimer.cycle()
        if latency is not None:
            during.append(latency)
    result["prune_s"] = time.perf_counter() - started
    output, failure = process.communicate()
    if process.returncode != 0:
        errors.append(f"prune failed: {failure.strip()[:300]}")
    else:
        result["pruned"] = next((o["deleted"] for o in json.loads(output) if o["kind"] == "tasks"), None)
    result["during_prune"] = {"claim": summary(during)}
    result["after_prune"] = {"claim": summary(claimer.run(args.claims))}
    result["tasks_left"] = int(psql(args.database_url, "SELECT count(*) FROM tasks WHERE lease_worker = 'bench-retention'"))
    claimer.close()
    result["errors"] = len(errors)
    result["error_examples"] = errors[:3]
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
