#!/usr/bin/env python3
"""The briefing section of scripts/bench.sh: what the coordinator's desk costs per load.

One keep-alive client asks, in turn:
- GET /v1/briefing (every region the admin token reaches) and GET /v1/briefing?team=TEAM,
  the one answer the dashboard loads;
- the separate lists a client would otherwise read for the same panels, one after another
  (team stats per team, SLA breaches, dead letters, stock, open cases, today's meetings), the
  baseline a user could pick instead, timed as one load;
- GET /healthz, the round trip alone.

It runs on whatever the earlier sections left in the database (queues of finished and queued
tasks, orders and stock), so the briefing reads tables of the size the benchmark made.
Prints one JSON line for the table (path "briefing"). Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time

from baton_http import Client


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--team", default="sales-emea")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)

    client = Client(args.port, token=args.token)
    status, body = client.request("GET", "/v1/teams")
    teams = [team["slug"] for team in (body or {}).get("teams", [])] if status == 200 else []
    today = datetime.datetime.now(datetime.timezone.utc).date()
    separate = [f"/v1/teams/{team}/stats" for team in teams] + [
        "/v1/sla/breaches",
        "/v1/tasks?state=dead",
        "/v1/stock",
        "/v1/cases?state=open",
        f"/v1/meetings?from={today.isoformat()}T00:00:00Z&to={(today + datetime.timedelta(days=1)).isoformat()}T00:00:00Z",
    ]
    result: dict = {"path": "briefing", "rounds": args.rounds, "teams": len(teams), "separate_requests": len(separate),
                    "errors": 0, "error_examples": []}
    samples: dict[str, list[float]] = {"all": [], "team": [], "separate": [], "healthz": []}

    def timed(path: str) -> float:
        started = time.perf_counter()
        status, _ = client.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            result["errors"] += 1
            if len(result["error_examples"]) < 3:
                result["error_examples"].append(f"GET {path}: {status}")
        return elapsed

    for round_index in range(args.rounds + 10):
        measured = {
            "all": timed("/v1/briefing"),
            "team": timed(f"/v1/briefing?team={args.team}"),
            "separate": sum(timed(path) for path in separate),
            "healthz": timed("/healthz"),
        }
        if round_index >= 10:  # the first ten warm the server's caches and plans
            for key, value in measured.items():
                samples[key].append(value)
    client.close()
    for key, values in samples.items():
        result[key] = {"samples": len(values), "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99)}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
