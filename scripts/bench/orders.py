"""The orders section of scripts/bench.sh: orders taken through their whole life over HTTP
(POST /v1/orders with two of 16 products, confirm, ship, deliver: four requests, with the default
handoff rules on, so each confirmation queues a ship_order task for logistics and each
delivery an ask_feedback task for support, in the same transactions), by WORKERS keep-alive
clients for SECONDS; beside it, in the same run and at the same concurrency, the task
lifecycle over HTTP (create, claim, complete: three requests), the least a unit of work
crossing a queue costs. Prints one JSON line for bench_http.py's report."""

import argparse
import json
import sys
import threading
import time

from baton_http import Client


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


SKUS = [f"BENCH-{index:02d}" for index in range(16)]


def setup(client: Client) -> int:
    """A catalogue of 16 products with stock enough for any run, and a customer of EMEA; its id."""
    for index, sku in enumerate(SKUS):
        price = 2_450 + index * 1_000
        status, body = client.request(
            "POST", "/v1/products", {"sku": sku, "name": sku, "unit_price_minor": price, "currency": "EUR"}
        )
        if status not in (201, 409):
            raise SystemExit(f"creating {sku}: {status} {body}")
        status, body = client.request("POST", f"/v1/stock/emea/{sku}/receive", {"quantity": 1_000_000_000})
        if status != 200:
            raise SystemExit(f"receiving {sku}: {status} {body}")
    status, body = client.request("POST", "/v1/customers", {"region": "emea", "name": "Bench Orders GmbH", "force": True})
    if status != 201:
        raise SystemExit(f"creating the customer: {status} {body}")
    return body["customer"]["id"]


class Run:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = 0
        self.errors = 0
        self.examples: list[str] = []
        self.latencies: list[float] = []

    def error(self, text: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.examples) < 3:
                self.examples.append(text)


def order_worker(port: int, token: str, customer: int, worker: int, until: float, run: Run, measure: float) -> None:
    client = Client(port, token=token)
    count = 0
    while time.perf_counter() < until:
        # Two of the catalogue's products, walking through it: orders of different clients meet
        # on a product's stock row now and then, as a busy warehouse's do.
        count += 1
        first = (worker * 5 + count) % len(SKUS)
        lines = [
            {"sku": SKUS[first], "quantity": 1},
            {"sku": SKUS[(first + 7) % len(SKUS)], "quantity": 4, "discount_percent": 5},
        ]
        started = time.perf_counter()
        status, body = client.request("POST", "/v1/orders", {"customer_id": customer, "lines": lines})
        if status != 201:
            run.error(f"create: {status} {str(body)[:120]}")
            continue
        order = body["id"]
        ok = True
        for action in ("confirm", "ship", "deliver"):
            status, body = client.request("POST", f"/v1/orders/{order}/{action}")
            if status != 200:
                run.error(f"{action}: {status} {str(body)[:120]}")
                ok = False
                break
        if ok and started >= measure:
            with run.lock:
                run.done += 1
                run.latencies.append((time.perf_counter() - started) * 1000)
    client.close()


def task_worker(port: int, token: str, worker: int, until: float, run: Run, measure: float) -> None:
    client = Client(port, token=token)
    team = "marketing-emea"
    # A kind of its own, so that each worker claims the task it made.
    kind = f"bench_order_base_{worker}"
    while time.perf_counter() < until:
        started = time.perf_counter()
        status, body = client.request("POST", f"/v1/teams/{team}/tasks", {"kind": kind, "title": "work"})
        if status != 201:
            run.error(f"create task: {status} {str(body)[:120]}")
            continue
        status, body = client.request(
            "POST", f"/v1/teams/{team}/claim", {"worker": f"w{worker}", "limit": 1, "kinds": [kind]}
        )
        tasks = (body or {}).get("tasks") or []
        if status != 200 or not tasks:
            run.error(f"claim: {status} {str(body)[:120]}")
            continue
        task = tasks[0]
        status, body = client.request("POST", f"/v1/tasks/{task['id']}/complete", {"lease_token": task["lease"]["token"]})
        if status != 200:
            run.error(f"complete: {status} {str(body)[:120]}")
            continue
        if started >= measure:
            with run.lock:
                run.done += 1
                run.latencies.append((time.perf_counter() - started) * 1000)
    client.close()


def measure(work, workers: int, seconds: float, warmup: float) -> dict:
    """Runs work(index, until, run, measure_from) on `workers` threads; what they finished after
    the warm-up."""
    run = Run()
    measure_from = time.perf_counter() + warmup
    until = measure_from + seconds
    threads = [threading.Thread(target=work, args=(index, until, run, measure_from)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"done": run.done, "latencies": run.latencies, "errors": run.errors, "error_examples": run.examples}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=1)
    args = parser.parse_args(argv)
    client = Client(args.port, token=args.token)
    customer = setup(client)
    client.close()
    # Alternating halves, so a burst of load from elsewhere on the machine lands on both.
    half = args.seconds / 2
    runs: dict[str, list[dict]] = {"orders": [], "tasks": []}
    for _ in range(2):
        runs["tasks"].append(
            measure(lambda i, until, run, start: task_worker(args.port, args.token, i, until, run, start), args.workers, half, args.warmup)
        )
        runs["orders"].append(
            measure(
                lambda i, until, run, start: order_worker(args.port, args.token, customer, i, until, run, start),
                args.workers,
                half,
                args.warmup,
            )
        )
    result: dict = {"path": "orders", "workers": args.workers, "seconds": args.seconds}
    for name, parts in runs.items():
        latencies = [value for part in parts for value in part["latencies"]]
        done = sum(part["done"] for part in parts)
        result[name] = {
            "per_s": done / args.seconds,
            "done": done,
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "errors": sum(part["errors"] for part in parts),
            "error_examples": [example for part in parts for example in part["error_examples"]][:3],
        }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
