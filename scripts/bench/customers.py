#!/usr/bin/env python3
"""The customers section of scripts/bench.sh: import and name search.

1. Writes a CSV of N customers (company-like names from a large vocabulary with legal suffixes,
   one in ten in Chinese, Japanese or Korean) in the work directory.
2. Baseline: psql's \\copy of the same file into a bare table (same columns, no index, no
   check): the least loading the file needs.
3. `batonctl import customers` of the file into Baton (every row checked, duplicates looked
   for, grams written, one event per customer), timed from start to exit.
4. VACUUM ANALYZE customers (autovacuum would do it shortly after a bulk load).
5. Name search over HTTP, one keep-alive client: GET /v1/customers?q=... with substrings of
   stored names (Latin and CJK) and a few broad queries (legal suffixes), and GET /healthz on
   the same server as the round-trip baseline. p50 and p99 per kind.

Prints one JSON line for the table (path "customers"). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import urllib.parse

from baton_http import Client

SUFFIXES = ["GmbH", "Ltd", "Inc", "SA", "AG", "BV", "Oy", "S.r.l.", "& Co", "Group", "Holding", "Partners"]
CJK_SUFFIXES = ["有限公司", "株式会社", "集团", "주식회사", "商事", "工業"]
CJK_CHARS = "华为技术腾讯控股阿里巴巴京东美团小米联想海尔格力比亚迪宁德时代中兴长城吉利奇瑞丰田本田日立东芝索尼松下三菱住友伊藤忠丸红삼성현대엘지롯데한화두산"
ACCENTED = ["é", "ü", "ö", "ø", "å", "ç", "ñ"]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    consonants = "bcdfghjklmnprstvwz"
    vowels = "aeiou"
    words = set()
    while len(words) < size:
        length = rng.randint(2, 4)
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(length))
        if rng.random() < 0.1:
            word = word[:-1] + rng.choice(ACCENTED)
        words.add(word.capitalize())
    return sorted(words)


def names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = vocabulary(rng, 5000)
    out = []
    for index in range(count):
        if index % 10 == 0:
            core = "".join(rng.choice(CJK_CHARS) for _ in range(rng.randint(2, 5)))
            out.append(f"{core}{rng.choice(CJK_SUFFIXES)}{index}")
        else:
            out.append(f"{rng.choice(words)} {rng.choice(words)} {rng.choice(SUFFIXES)} {index}")
    return out


def write_csv(path: str, customers: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("region,name,segment,status,tags,website\n")
        statuses = ["lead", "prospect", "active", "churned"]
        for index, name in enumerate(customers):
            quoted = '"' + name.replace('"', '""') + '"'
            f.write(f"emea,{quoted},smb,{statuses[index % 4]},bench;imported,https://c{index}.example\n")


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def queries(customers: list[str], count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, query): substrings of stored names, a third CJK, and some broad suffixes."""
    rng = random.Random(seed + 1)
    latin = [n for n in customers if n.isascii() or not any("\u3000" <= c for c in n)]
    cjk = [n for n in customers if any("\u3000" <= c for c in n)]
    out = []
    for index in range(count):
        if index % 10 == 9:
            out.append(("broad", rng.choice(["gmbh", "holding", "partners", "有限公司", "株式会社"])))
        elif index % 3 == 2:
            name = rng.choice(cjk)
            core = name.rstrip("0123456789")
            length = rng.randint(2, 4)
            start = rng.randint(0, max(0, len(core) - length))
            out.append(("cjk", core[start : start + length]))
        else:
            name = rng.choice(latin).split(" ")
            word = rng.choice(name[:2]).lower()
            length = rng.randint(3, len(word)) if len(word) > 3 else len(word)
            start = rng.randint(0, len(word) - length)
            out.append(("latin", word[start : start + length]))
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--batonctl", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=3000)
    args = parser.parse_args(argv)

    customers = names(args.rows, seed=2026)
    path = f"{args.work_dir}/customers.csv"
    write_csv(path, customers)
    result: dict = {"path": "customers", "rows": args.rows, "errors": 0, "error_examples": []}

    def psql(*sql: str) -> None:
        command = ["psql", args.database_url, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        for statement in sql:
            command += ["-c", statement]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    psql(
        "CREATE TABLE bench_bare_customers (region text, name text, segment text, status text, tags text, website text)",
        "CHECKPOINT",
    )
    started = time.perf_counter()
    psql(f"\\copy bench_bare_customers FROM '{path}' WITH (FORMAT csv, HEADER true)")
    result["copy_s"] = time.perf_counter() - started
    psql("DROP TABLE bench_bare_customers", "CHECKPOINT")

    started = time.perf_counter()
    run = subprocess.run(
        [args.batonctl, "import", "customers", path, "--database-url", args.database_url, "--json"],
        capture_output=True,
        text=True,
    )
    result["import_s"] = time.perf_counter() - started
    if run.returncode != 0:
        result["errors"] += 1
        result["error_examples"].append(f"batonctl import: {run.stderr.strip()[:200] or run.stdout[:200]}")
    else:
        report = json.loads(run.stdout)
        result["imported"] = report["imported"]
        if report["imported"] != args.rows:
            result["errors"] += 1
            result["error_examples"].append(f"imported {report['imported']} of {args.rows}")
    psql("VACUUM ANALYZE customers")

    client = Client(args.port, token=args.token)
    samples: dict[str, list[float]] = {"latin": [], "cjk": [], "broad": [], "healthz": []}
    empty = 0
    plan = queries(customers, args.searches, seed=2026)
    for kind, query in plan[:100]:  # warm-up
        client.request("GET", "/v1/customers?q=" + urllib.parse.quote(query))
    for index, (kind, query) in enumerate(plan):
        url = "/v1/customers?q=" + urllib.parse.quote(query)
        started = time.perf_counter()
        status, body = client.request("GET", url)
        samples[kind].append((time.perf_counter() - started) * 1000)
        if status != 200:
            result["errors"] += 1
            if len(result["error_examples"]) < 3:
                result["error_examples"].append(f"GET {url}: {status}")
        elif not (body or {}).get("customers"):
            empty += 1
        if index % 3 == 0:
            started = time.perf_counter()
            status, _ = client.request("GET", "/healthz")
            samples["healthz"].append((time.perf_counter() - started) * 1000)
    client.close()
    searches = samples["latin"] + samples["cjk"] + samples["broad"]
    result["search"] = {"samples": len(searches), "p50_ms": percentile(searches, 50), "p99_ms": percentile(searches, 99), "empty": empty}
    for kind, values in samples.items():
        result[kind] = {"samples": len(values), "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99)}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
