#!/usr/bin/env python3
"""The PgQueuer baseline of scripts/bench.sh, through PgQueuer's public API only.

Run with the Python of a virtual environment that has `pgqueuer[asyncpg]` (bench.sh makes one
under its work directory). Installs PgQueuer's schema into the given database if it is not
there, empties the queue, then for --warmup + --seconds runs one producer enqueuing batches of
--enqueue-batch jobs (Queries.enqueue) and --consumers PgQueuer consumers, each on its own
asyncpg connection, dequeuing batches of --dequeue-batch (PgQueuer.run(batch_size=...)) with
an entrypoint that does nothing. A job counts as done when its entrypoint ran within the
measured seconds, as PgQueuer's own benchmark counts; PgQueuer then records its completion in
buffered batches. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from contextlib import suppress

import asyncpg
import pgqueuer
from pgqueuer import AsyncpgDriver, Job, PgQueuer, Queries


async def run(args) -> dict:
    setup = await asyncpg.connect(args.dsn)
    queries = Queries(AsyncpgDriver(setup))
    if not await queries.schema_is_installed():
        await queries.install()
    await queries.clear_queue()
    await queries.clear_statistics_log()

    t_begin = time.monotonic()
    t_measure = t_begin + args.warmup
    t_end = t_measure + args.seconds
    counts = {"done": 0, "done_total": 0, "enqueued": 0, "enqueued_measured": 0}
    errors: list[str] = []

    consumers: list[PgQueuer] = []
    for _ in range(args.consumers):
        consumer = PgQueuer(AsyncpgDriver(await asyncpg.connect(args.dsn)))

        @consumer.entrypoint("bench")
        async def bench(job: Job) -> None:
            counts["done_total"] += 1
            if t_measure <= time.monotonic() <= t_end:
                counts["done"] += 1

        consumers.append(consumer)

    async def produce() -> None:
        producer = Queries(AsyncpgDriver(await asyncpg.connect(args.dsn)))
        size = args.enqueue_batch
        payloads = [b"bench"] * size
        while time.monotonic() < t_end:
            await producer.enqueue(["bench"] * size, payloads, [0] * size)
            counts["enqueued"] += size
            if time.monotonic() >= t_measure:
                counts["enqueued_measured"] += size

    running = [asyncio.create_task(c.run(batch_size=args.dequeue_batch)) for c in consumers]
    try:
        await produce()
    except Exception as error:  # noqa: BLE001 - reported in the result
        errors.append(f"producer: {type(error).__name__}: {error}")
    await asyncio.sleep(max(0.0, t_end - time.monotonic()))
    for consumer in consumers:
        consumer.shutdown.set()
    finished, pending = await asyncio.wait(running, timeout=30)
    for task in pending:
        task.cancel()
        errors.append("a consumer did not stop within 30 s")
    for task in finished:
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            errors.append(f"consumer: {type(error).__name__}: {error}")
    queued = None
    with suppress(Exception):
        queued = sum(row.count for row in await queries.queue_size())
    return {
        "path": "pgqueuer",
        "pgqueuer_version": getattr(pgqueuer, "__version__", "?"),
        "event_loop": args.loop,
        "producers": 1,
        "consumers": args.consumers,
        "enqueue_batch": args.enqueue_batch,
        "dequeue_batch": args.dequeue_batch,
        "seconds": args.seconds,
        "tasks": counts["done"],
        "tasks_per_s": counts["done"] / args.seconds,
        "enqueued_per_s": counts["enqueued_measured"] / args.seconds,
        "jobs_done_total": counts["done_total"],
        "left_in_queue": queued,
        "driver_cpu_s": round(time.process_time(), 3),
        "errors": len(errors),
        "error_examples": errors[:3],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--consumers", type=int, default=5)
    parser.add_argument("--enqueue-batch", type=int, default=10)
    parser.add_argument("--dequeue-batch", type=int, default=10)
    args = parser.parse_args(argv)
    try:
        import uvloop  # PgQueuer's own benchmark runs on uvloop; it comes with pgqueuer
    except ImportError:
        uvloop = None
    args.loop = "uvloop" if uvloop else "asyncio"
    result = uvloop.run(run(args)) if uvloop else asyncio.run(run(args))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
