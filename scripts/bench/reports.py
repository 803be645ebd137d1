#!/usr/bin/env python3
"""The reports section of scripts/bench.sh: plans and KPI reports over two years of a busy region.

1. Loads, with set-based SQL straight into Baton's tables, two years of EMEA ending today: N
   orders (default 1,000,000; 1 to 3 lines of 20 products in 5 categories; credited to one of
   40 members, a fifth split 60/40; 5 % cancelled, most of the rest delivered three days after
   confirmation), inserted as drafts with their lines and credits and then confirmed, delivered
   or cancelled by one UPDATE, so the report summary's triggers add them in one pass as they do
   on any write; 20,000 customers, 100,000 closed opportunities, 100,000 feedback responses.
   Then VACUUM ANALYZE. The load's seconds are reported.
2. Checks that the summary the triggers kept equals a rebuild from scratch
   (`report_order_days_drift()` has no row), and that each KPI report's revenue equals the bare
   SQL sum over the same orders.
3. Creates 205 targets for last year through the API: the region's five metrics per month, the
   sales team's revenue per quarter and for the year, each member's revenue, orders and pump
   revenue for the year, and the region's revenue per category per quarter.
4. Times over HTTP, one keep-alive client, `runs` times each after one warm-up: GET
   /v1/reports/kpis for the last complete week, month, quarter and year; the plan report of last
   year (every target above); the leaderboard of last year. Baselines: GET /healthz on the same
   server, and the bare SQL count and sum over the same period's orders (psql, `\\timing`) —
   what answering from the orders themselves costs before any join, credit or time zone.

Prints one JSON line for the table (path "reports"). Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import time

from baton_http import Client

MEMBERS = 40
CATEGORIES = ["pumps", "valves", "seals", "motors", "spares"]


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def load_sql(orders: int) -> str:
    """Two years of EMEA ending now. Lines, totals and credits follow from the order number g, so
    the load is one statement per table."""
    n = orders
    line_product = "((g / 40 * 7 + g * 3 + l * 13) % 20)"
    line_quantity = "(1 + (g + l) % 5)"
    line_price = f"(1000 + {line_product} * 500)"
    return f"""
\\set ON_ERROR_STOP 1
INSERT INTO members (name, email) SELECT 'Report rep ' || m, 'report-rep-' || m || '@bench.invalid' FROM generate_series(1, {MEMBERS}) m;
INSERT INTO memberships (member_id, team, role)
SELECT id, 'sales-emea', 'agent' FROM members WHERE email LIKE 'report-rep-%@bench.invalid';
SELECT min(id) - 1 AS mbase FROM members WHERE email LIKE 'report-rep-%@bench.invalid' \\gset
INSERT INTO products (sku, name, category, unit_price_minor, currency)
SELECT 'RPT-' || lpad(p::text, 2, '0'), 'Report product ' || p, (ARRAY{CATEGORIES!r})[1 + p % 5], 1000 + p * 500, 'EUR'
FROM generate_series(0, 19) p;
SELECT min(id) AS pbase FROM products WHERE sku LIKE 'RPT-%' \\gset
INSERT INTO customers (region, name, search_name, search_grams, status, owner_id, created_at, updated_at)
SELECT 'emea', 'Report customer ' || c, 'report customer ' || c, baton_search_grams('report customer ' || c), 'active',
       :mbase + 1 + c % {MEMBERS}, now() - interval '730 days' + (c / 20000.0) * interval '730 days',
       now() - interval '730 days' + (c / 20000.0) * interval '730 days'
FROM generate_series(1, 20000) c;
SELECT min(id) AS cbase FROM customers WHERE name LIKE 'Report customer %' \\gset
SELECT coalesce(max(id), 0) AS obase FROM orders \\gset
\\echo orders, lines and credits (as drafts)
INSERT INTO orders (id, customer_id, region, state, currency, subtotal_minor, total_minor, created_by, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT :obase + g, :cbase + g % 20000, 'emea', 'draft', 'EUR', t.total, t.total, 'bench', now(), now()
FROM generate_series(1, {n}) g
CROSS JOIN LATERAL (SELECT sum({line_quantity} * {line_price})::bigint AS total FROM generate_series(1, 1 + g % 3) l) t;
INSERT INTO order_lines (order_id, line, product_id, quantity, unit_price_minor, total_minor)
SELECT :obase + g, l, :pbase + {line_product}, {line_quantity}, {line_price}, {line_quantity} * {line_price}
FROM generate_series(1, {n}) g, generate_series(1, 3) l WHERE l <= 1 + g % 3;
INSERT INTO order_credits (order_id, member_id, percent)
SELECT :obase + g, :mbase + 1 + g % {MEMBERS}, CASE WHEN g % 5 = 0 THEN 60 ELSE 100 END FROM generate_series(1, {n}) g
UNION ALL
SELECT :obase + g, :mbase + 1 + (g + 17) % {MEMBERS}, 40 FROM generate_series(1, {n}) g WHERE g % 5 = 0;
\\echo confirmed, delivered and cancelled over two years (one statement: the summary in one pass)
UPDATE orders o SET state = s.state, created_at = a.at - interval '1 hour', updated_at = a.at, confirmed_at = a.at,
       shipped_at = CASE WHEN s.state = 'delivered' THEN a.at + interval '2 days' END,
       delivered_at = CASE WHEN s.state = 'delivered' THEN a.at + interval '3 days' END,
       cancelled_at = CASE WHEN s.state = 'cancelled' THEN a.at + interval '1 day' END,
       cancel_reason = CASE WHEN s.state = 'cancelled' THEN 'bench' END
FROM generate_series(1, {n}) g
CROSS JOIN LATERAL (SELECT now() - interval '730 days' + ((g - 0.5) / {n}) * interval '730 days' AS at) a
CROSS JOIN LATERAL (SELECT CASE WHEN g % 20 = 0 THEN 'cancelled'
                                WHEN g % 10 = 1 OR a.at > now() - interval '5 days' THEN 'confirmed'
                                ELSE 'delivered' END AS state) s
WHERE o.id = :obase + g;
\\echo opportunities and feedback
INSERT INTO opportunities (customer_id, region, title, amount_minor, currency, owner_id, stage, outcome, lost_reason,
                           stage_entered_at, closed_at, created_at, updated_at)
SELECT :cbase + k % 20000, 'emea', 'Report deal ' || k, 100000, 'EUR', :mbase + 1 + k % {MEMBERS}, st.stage,
       CASE WHEN k % 3 = 0 THEN 'lost' ELSE 'won' END, CASE WHEN k % 3 = 0 THEN lr.reason END,
       a.at, a.at, a.at - interval '20 days', a.at
FROM generate_series(1, 100000) k
CROSS JOIN (SELECT min(stage) AS stage FROM pipeline_stages WHERE region = 'emea') st
CROSS JOIN (SELECT min(reason) AS reason FROM lost_reasons WHERE region = 'emea') lr
CROSS JOIN LATERAL (SELECT now() - interval '730 days' + (k / 100000.0) * interval '730 days' AS at) a
WHERE st.stage IS NOT NULL AND lr.reason IS NOT NULL;
INSERT INTO feedback (customer_id, order_id, region, team, score, created_at)
SELECT :cbase + f % 20000, :obase + f * ({n} / 100000), 'emea', CASE WHEN f % 4 = 0 THEN 'support-emea' END, 1 + f % 5,
       now() - interval '730 days' + (f / 100000.0) * interval '730 days'
FROM generate_series(1, 100000) f;
VACUUM (ANALYZE) orders;
VACUUM (ANALYZE) report_order_days;
ANALYZE;
"""


def last_periods(today: datetime.date) -> dict[str, tuple[str, datetime.date, datetime.date]]:
    """The last complete week, month, quarter and year before today: label, first day, day after."""
    monday = today - datetime.timedelta(days=today.weekday())
    week_start = monday - datetime.timedelta(days=7)
    iso = week_start.isocalendar()
    month_end = today.replace(day=1)
    month_start = (month_end - datetime.timedelta(days=1)).replace(day=1)
    quarter_first_month = 3 * ((today.month - 1) // 3) + 1
    quarter_end = today.replace(month=quarter_first_month, day=1)
    quarter_start = (quarter_end - datetime.timedelta(days=1)).replace(day=1)
    quarter_start = quarter_start.replace(month=3 * ((quarter_start.month - 1) // 3) + 1)
    year = today.year - 1
    return {
        "week": (f"{iso[0]}-W{iso[1]:02d}", week_start, monday),
        "month": (f"{month_start.year}-{month_start.month:02d}", month_start, month_end),
        "quarter": (f"{quarter_start.year}-Q{(quarter_start.month - 1) // 3 + 1}", quarter_start, quarter_end),
        "year": (str(year), datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    result: dict = {"path": "reports", "orders": args.orders, "runs": args.runs, "errors": 0, "error_examples": []}

    def error(text: str) -> None:
        result["errors"] += 1
        if len(result["error_examples"]) < 5:
            result["error_examples"].append(text[:300])

    def psql(sql: str) -> str:
        run = subprocess.run(
            ["psql", args.database_url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
            input=sql,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise RuntimeError(f"psql: {run.stderr.strip()[:500]}")
        return run.stdout

    started = time.perf_counter()
    psql(load_sql(args.orders))
    result["load_s"] = time.perf_counter() - started
    result["summary_rows"] = int(psql("SELECT count(*) FROM report_order_days").strip())
    started = time.perf_counter()
    drift = int(psql("SELECT count(*) FROM report_order_days_drift()").strip())
    result["drift_check_s"] = time.perf_counter() - started
    result["drift"] = drift
    if drift:
        error(f"the report summary differs from a rebuild in {drift} rows")

    today = datetime.date.fromisoformat(psql("SELECT (now() AT TIME ZONE 'Europe/Berlin')::date").strip())
    periods = last_periods(today)
    year_label, year_start, _ = periods["year"]

    client = Client(args.port, token=args.token, timeout=120)
    members = [int(x) for x in psql("SELECT id FROM members WHERE email LIKE 'report-rep-%@bench.invalid' ORDER BY id").split()]
    targets = []
    for month in range(1, 13):
        period = f"{year_label}-{month:02d}"
        for metric, value in [("revenue", 40_000_000_00), ("orders", 40_000), ("new_customers", 800), ("opportunities_won", 3000), ("csat", 60)]:
            body = {"owner_kind": "region", "region": "emea", "metric": metric, "period": period, "value": value}
            if metric == "revenue":
                body["currency"] = "EUR"
            targets.append(body)
    for period in [f"{year_label}-Q{q}" for q in range(1, 5)] + [year_label]:
        targets.append({"owner_kind": "team", "team": "sales-emea", "metric": "revenue", "period": period, "value": 100_000_000_00, "currency": "EUR"})
    for member in members:
        targets.append({"owner_kind": "member", "member_id": member, "region": "emea", "metric": "revenue", "period": year_label, "value": 1_000_000_000, "currency": "EUR"})
        targets.append({"owner_kind": "member", "member_id": member, "region": "emea", "metric": "orders", "period": year_label, "value": 12_000})
        targets.append(
            {"owner_kind": "member", "member_id": member, "region": "emea", "metric": "revenue", "period": year_label, "value": 200_000_000,
             "currency": "EUR", "product_category": "pumps"}
        )
    for category in CATEGORIES:
        for q in range(1, 5):
            targets.append(
                {"owner_kind": "region", "region": "emea", "metric": "revenue", "period": f"{year_label}-Q{q}", "value": 500_000_000,
                 "currency": "EUR", "product_category": category}
            )
    for body in targets:
        status, answer = client.request("POST", "/v1/targets", body)
        if status != 201:
            error(f"POST /v1/targets {json.dumps(body)}: {status} {json.dumps(answer)[:200]}")
    result["targets"] = len(targets)

    # The bare SQL over the same orders: count and sum of the period's confirmed, not cancelled ones.
    def bare_sql(start: datetime.date, end: datetime.date) -> tuple[list[float], int]:
        query = (
            "SELECT coalesce(sum(total_minor), 0) FROM orders WHERE region = 'emea' AND state <> 'cancelled' AND currency = 'EUR'"
            f" AND confirmed_at >= '{start}'::timestamp AT TIME ZONE 'Europe/Berlin'"
            f" AND confirmed_at < '{end}'::timestamp AT TIME ZONE 'Europe/Berlin';"
        )
        out = psql("\\timing on\n" + "\n".join([query] * (args.runs + 1)))
        times = [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", out)][1:]
        total = int(out.split("\n")[0].strip())
        return times, total

    def timed(path: str) -> tuple[list[float], object]:
        status, body = client.request("GET", path)  # warm-up
        if status != 200:
            error(f"GET {path}: {status} {json.dumps(body)[:200]}")
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            status, body = client.request("GET", path)
            samples.append((time.perf_counter() - started) * 1000)
            if status != 200:
                error(f"GET {path}: {status}")
        return samples, body

    def summary(samples: list[float]) -> dict:
        return {"samples": len(samples), "p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99)}

    healthz, _ = timed("/healthz")
    result["healthz"] = summary(healthz)
    for grain, (label, start, end) in periods.items():
        samples, body = timed(f"/v1/reports/kpis?period={label}&grain={grain}&region=emea")
        sql_samples, sql_total = bare_sql(start, end)
        figures = {f["name"]: f for f in (body or {}).get("figures", [])} if isinstance(body, dict) else {}
        revenue = (figures.get("revenue_minor") or {}).get("value")
        if revenue != sql_total:
            error(f"KPIs {label}: revenue {revenue}, the orders' sum {sql_total}")
        result[f"kpis_{grain}"] = summary(samples) | {"period": label, "revenue": revenue}
        result[f"sql_{grain}"] = summary(sql_samples) | {"period": label}
    samples, body = timed(f"/v1/reports/plan?from={year_start}&to={year_start.replace(month=12, day=31)}")
    rows = len((body or {}).get("rows", [])) if isinstance(body, dict) else 0
    if rows != len(targets):
        error(f"the plan report has {rows} rows, not {len(targets)}")
    result["plan"] = summary(samples) | {"rows": rows, "period": year_label}
    samples, body = timed(f"/v1/reports/leaderboard?period={year_label}&metric=revenue")
    entries = len((body or {}).get("entries", [])) if isinstance(body, dict) else 0
    # Each member has two revenue targets for the year: all lines, and pumps only.
    if entries != 2 * len(members):
        error(f"the leaderboard has {entries} entries, not {2 * len(members)}")
    result["leaderboard"] = summary(samples) | {"entries": entries, "period": year_label}
    client.close()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
