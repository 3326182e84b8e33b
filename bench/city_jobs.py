"""Benchmark: the city's scheduled jobs on PostgreSQL — one alert sweep and one monthly archive.

Seeds the demo city (`--scale city`, 191 accounts) into a fresh PostgreSQL database, and the `small` demo (4
accounts) into another, then on each:

- the alert sweep (`escrow.services.alerts.run_sweep`) twice, 15 minutes apart: the first opens the city's
  alerts, the second finds them in place; the wall time and the SQL statements of each (counted with
  SQLAlchemy's `before_cursor_execute`). The second sweep's statement counts in the two cities must be equal:
  a sweep's queries do not grow with the number of accounts;
- the monthly archive of the city (`escrow.jobs.tasks.monthly_archive`, its PDFs in `--workers` processes,
  one per CPU by default) for `--month` (default last month): the wall time, the PDFs and the accounts listed
  as without movement.

Prints the figures and a last JSON line (`harness.verdict`). Targets: one sweep ≤ 1 s at 1,910 accounts, with
a statement count independent of the number of accounts (checked here between the two cities; `--scale 10x`
and `--scale province` seed their sales through the bulk path, docs/BENCHMARKS.md "Seeding the big scales").
Exits 1 if a count differs or a job failed, never for time.

    .venv/bin/python bench/city_jobs.py                  # the city; ≈ 2–3 minutes with seeding
    .venv/bin/python bench/city_jobs.py --workers 4 --keep

Needs PostgreSQL (`--admin-url`, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import harness

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# the demo is seeded as of today: the jobs run at noon the day after, the archive is last month's
NOW = (datetime.now().replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone()
LAST_MONTH = f"{date.today().replace(day=1) - timedelta(days=1):%Y-%m}"
SWEEP_TARGET_S = 1.0
SCALES = ("city", "10x", "province")  # the seeded scales this script knows (the big two seed in bulk)


def seed(admin_url: str, scale: str) -> tuple[str, str, Any]:
    """A fresh database with the demo `scale` seeded: (its name, its URL, an engine on it)."""
    from escrow import demo

    name = f"bench_jobs_{scale}_{uuid.uuid4().hex[:6]}"
    harness.create_database(admin_url, name)
    url = harness.pg_urls(admin_url, name)[0]
    engine = harness.migrated_engine(url)
    started = time.perf_counter()
    demo.seed(engine, harness.settings(url), scale=scale, out=io.StringIO())
    harness.log(f"seeded {scale} into {name} in {time.perf_counter() - started:.1f} s")
    return name, url, engine


def counted(engine: Any, fn: Any) -> tuple[float, int, Any]:
    """(wall seconds, SQL statements, result) of `fn()`."""
    from sqlalchemy import event

    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seconds, statements[0], result


def sweeps(url: str, engine: Any) -> list[tuple[float, int, str]]:
    """The first sweep and one 15 minutes later: (seconds, statements, summary) each."""
    from escrow.app import build_context
    from escrow.services import alerts

    out = []
    for now in (NOW, NOW + timedelta(minutes=15)):
        ctx = build_context(harness.settings(url), engine, lambda now=now: now.date())
        seconds, n, result = counted(engine, lambda ctx=ctx, now=now: alerts.run_sweep(ctx, now))
        out.append((seconds, n, str(result)))
    return out


def archive(url: str, engine: Any, month: str, workers: int) -> tuple[float, str]:
    from dataclasses import replace

    from escrow.app import build_context
    from escrow.jobs import tasks

    settings = replace(harness.settings(url), archive_workers=workers)
    ctx = build_context(settings, engine, lambda: NOW.date())
    started = time.perf_counter()
    summary = tasks.monthly_archive(engine, ctx, month, NOW)
    return time.perf_counter() - started, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=ADMIN_URL, help="a PostgreSQL server's admin database URL")
    parser.add_argument("--scale", choices=SCALES, default="city", help="the demo city to seed")
    parser.add_argument("--month", default=LAST_MONTH, help="the month to archive (YYYY-MM)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="archive processes")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument(
        "--database-url",
        help="an already seeded city of --scale to measure (not seeded, never dropped; its sweeps find the "
        "alerts of earlier runs in place)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the small demo only (4 accounts, well under 3 minutes): each job runs and its figures print, "
        "but they mean nothing at this size and the statement counts are not compared",
    )
    args = parser.parse_args()
    scales = ("small",) if args.quick else ("small", args.scale)
    measured = scales[-1]

    made: list[str] = []
    try:
        figures: dict[str, Any] = {}
        counts: dict[str, list[int]] = {}
        for scale in scales:
            if scale == measured and args.database_url:
                url, engine = args.database_url, harness.migrated_engine(args.database_url)
            else:
                name, url, engine = seed(args.admin_url, scale)
                made.append(name)
            try:
                from escrow.services.stats import city_stats  # noqa: F401  (imports warm before timing)

                found = sweeps(url, engine)
                counts[scale] = [n for _, n, _ in found]
                for label, (seconds, n, summary) in zip(("first", "second"), found, strict=True):
                    harness.log(f"{scale}: {label} sweep {seconds * 1000:.0f} ms, {n} statements: {summary}")
                if scale == measured:
                    figures["sweep_first_s"] = round(found[0][0], 3)
                    figures["sweep_second_s"] = round(found[1][0], 3)
                    figures["sweep_statements"] = counts[scale]
                    seconds, summary = archive(url, engine, args.month, args.workers)
                    harness.log(
                        f"{scale}: monthly archive {args.month} with {args.workers} processes: "
                        f"{seconds:.1f} s: {summary}"
                    )
                    figures["archive_s"] = round(seconds, 1)
                    figures["archive_workers"] = args.workers
                    figures["archive_summary"] = summary
                else:
                    figures["small_sweep_statements"] = counts[scale]
            finally:
                engine.dispose()
        # the sweep that finds the alerts in place (lists of ids are one parameter: store.repos.base.among)
        independent = counts["small"][1] == counts[measured][1]
        figures["statements_independent"] = independent if not args.quick else "not compared (--quick)"
        figures["scale"] = measured
        print(f"machine:        {harness.describe_machine()}")
        print(
            f"alert sweep:    {figures['sweep_first_s'] * 1000:.0f} ms (first), "
            f"{figures['sweep_second_s'] * 1000:.0f} ms (second) at scale {measured}"
        )
        print(
            f"statements:     {counts[measured]} at {measured}, {counts['small']} at small "
            f"({'independent' if independent else 'DEPEND ON THE NUMBER OF ACCOUNTS'})"
        )
        archived = f"{figures['archive_s']} s with {args.workers} processes"
        print(f"monthly archive: {archived} ({figures['archive_summary']})")
        targets = {"sweep_s": SWEEP_TARGET_S, "sweep_at_accounts": 1910, "statements_independent": True}
        met = (
            independent
            and not args.quick
            and max(figures["sweep_first_s"], figures["sweep_second_s"]) <= SWEEP_TARGET_S
        )
        harness.verdict("city_jobs", figures, targets, met)
        return 0 if independent else 1
    finally:
        if not args.keep:
            for name in made:
                harness.drop_database(args.admin_url, name)


if __name__ == "__main__":
    sys.exit(main())
