"""Benchmark: the bureau's city pages and one alert sweep on a demo city seeded into PostgreSQL.

For each scale asked for (`--scale city`, the demo's 191 accounts; a comma list measures several, each in
its own fresh database, and the later ones are compared with the first): `escrow demo --scale <scale>` seeds
a new database (untimed), `uvicorn escrow.app:create_app` serves it (one worker, no scheduler: nothing else
runs in the server while it is measured), and one client signed in as the director through the real login
form asks for each page `--requests` times in turn over one keep-alive connection, after `--warmup`
requests of each. A real server, not the in-process test client: the figure is what a browser waits for
(routing, sessions, templates, the database), without the test client's thread hand-offs. Then one alert
sweep (`escrow.jobs.tasks`, the scheduler's own entry point) is run `--sweeps` times in this process, each
in its own quarter-hour slot, with its SQL statements counted.

    .venv/bin/python bench/city_pages.py                         # the demo city, full number of requests
    .venv/bin/python bench/city_pages.py --quick                 # the small demo, fewer requests (make bench)
    .venv/bin/python bench/city_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1/seeded \\
        --keep                                                   # an already seeded city: no seeding

Targets (issue 13): dashboard, project list, project page, alerts p50 ≤ 100 ms (and within 2× of the first
scale's at the later scales), the what-if ≤ 300 ms, one sweep ≤ 1 s. The last line is the verdict as JSON.
Run by hand or by `make bench`; never part of the test suite.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import harness

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PAGE_P50_MS = 100.0
WHATIF_P50_MS = 300.0
SWEEP_S = 1.0
GROWTH = 2.0
PAGES = {  # name → path (the project page's is found on the project list)
    "dashboard": "/",
    "projects": "/projects",
    "projects_by_balance": "/projects?sort=-balance",
    "project_page": None,
    "alerts": "/alerts",
    "what_if": "/rules/what-if",
    "api_stats": f"/api/v1/stats?from={date.today() - timedelta(days=364)}&to={date.today()}",
    "api_alerts": "/api/v1/alerts",
    "api_bank_accounts": "/api/v1/accounts",
}
TARGETED = {"dashboard", "projects", "project_page", "alerts"}


def seed(url: str, scale: str, workdir: Path) -> str:
    """`escrow demo --scale` into the (empty) database `url`; what it printed (logins and API keys)."""
    import subprocess

    env = harness.escrow_env(url)
    subprocess.run(
        harness.escrow_command("db", "upgrade"), env=env, cwd=workdir, check=True, capture_output=True
    )
    started = time.perf_counter()
    done = subprocess.run(
        harness.escrow_command("demo", "--scale", scale), env=env, cwd=workdir, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise harness.BenchError(f"escrow demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    harness.log(f"seeded scale {scale} in {time.perf_counter() - started:.0f} s")
    (workdir / f"demo-{scale}.txt").write_text(done.stdout)
    return done.stdout


def credentials(printed: str) -> tuple[str, str, dict[str, str]]:
    """The director's username and password and the API keys (the first bank's, the admin's), from what the
    demo printed: `export NAME=key` lines (or, from an older demo, a key under its owner's line)."""
    director = re.search(r"^\s+(\S+)\s+(\S+)\s+director\s*$", printed, re.M)
    exported = re.findall(r"^\s+export (\w+)=(\S+)", printed, re.M)
    banks = [key for name, key in exported if name.startswith("BANK_")]
    keys = {"bank": banks[0], "admin": dict(exported).get("ADMIN_KEY")} if banks else {}
    if not keys:
        older = dict(re.findall(r"^\s+(bank|user admin)\b.*:\n\s+(\S+)$", printed, re.M))
        keys = {"bank": older.get("bank"), "admin": older.get("user admin")}
    if not director or not all(keys.values()):
        raise harness.BenchError("the demo's output names no director login or API keys")
    return director.group(1), director.group(2), keys


def sign_in(client, username: str, password: str) -> None:
    page = client.get("/login")  # the form's CSRF token, bound to the pre-session cookie it set
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    token = found.group(1) if found else ""
    r = client.post("/login", data={"_csrf_token": token, "username": username, "password": password})
    if r.status_code != 303:
        raise harness.BenchError(f"signing in as {username} answered {r.status_code}")


def nearest(values: list[float], pct: int) -> float:
    """The nearest-rank percentile: a value that was measured."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def measure_pages(port: int, printed: str, warmup: int, requests: int) -> dict[str, dict[str, float]]:
    import httpx

    username, password, keys = credentials(printed)
    base = f"http://127.0.0.1:{port}"
    found: dict[str, dict[str, float]] = {}
    with (
        httpx.Client(base_url=base, timeout=60, follow_redirects=False) as browser,
        httpx.Client(base_url=base, timeout=60) as api,
    ):
        sign_in(browser, username, password)
        listing = browser.get("/projects?sort=-balance")
        first = re.search(r'href="/projects/(\d+)"', listing.text.split("<main", 1)[1])
        paths = {**PAGES, "project_page": f"/projects/{first.group(1)}"}
        for name, path in paths.items():
            client = api if name.startswith("api_") else browser
            who = "bank" if name == "api_bank_accounts" else "admin"
            headers = {"Authorization": f"Bearer {keys[who]}"} if name.startswith("api_") else {}
            times = []
            for i in range(warmup + requests):
                started = time.perf_counter()
                r = client.get(path, headers=headers)
                elapsed = time.perf_counter() - started
                if r.status_code != 200:
                    raise harness.BenchError(f"{path} answered {r.status_code}: {r.text[:300]}")
                if i >= warmup:
                    times.append(elapsed * 1000)
            found[name] = {"p50_ms": nearest(times, 50), "p99_ms": nearest(times, 99)}
            harness.log(
                f"  {name:<20} p50 {found[name]['p50_ms']:7.1f} ms  p99 {found[name]['p99_ms']:7.1f} ms"
            )
    return found


def swept_before(engine) -> int:
    """How many alert sweeps the database has run (each in a slot of its own)."""
    from sqlalchemy import func, select

    from escrow.store.models import JobRun

    with engine.connect() as conn:
        return conn.scalar(select(func.count()).where(JobRun.job_id == "alert-sweep")) or 0


def measure_sweep(url: str, sweeps: int) -> dict[str, float]:
    from sqlalchemy import event

    from escrow.app import build_context
    from escrow.jobs import tasks
    from escrow.store.db import make_engine

    engine = make_engine(url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    times, counts = [], []
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    start += timedelta(minutes=15 * swept_before(engine))  # a kept database: past the slots swept before
    try:
        for i in range(sweeps):
            now = start + timedelta(minutes=15 * i)  # a slot of its own: the job runs once per slot
            ctx = build_context(harness.settings(url), engine, lambda now=now: now.date())
            statements.clear()
            began = time.perf_counter()
            outcome = tasks.run(tasks.BY_ID["alert-sweep"], engine, ctx, now=now)
            times.append(time.perf_counter() - began)
            counts.append(len(statements))
            if outcome != "done":
                raise harness.BenchError(f"the alert sweep was {outcome}")
    finally:
        engine.dispose()
    figures = {"p50_s": nearest(times, 50), "max_s": max(times), "statements": max(counts)}
    harness.log(
        f"  {'alert_sweep':<20} p50 {figures['p50_s']:.3f} s, max {figures['max_s']:.3f} s,"
        f" {figures['statements']} statements"
    )
    return figures


def measure(url: str, printed: str, args, workdir: Path) -> dict[str, dict[str, float]]:
    port = harness.free_port()
    server = harness.start_server(
        harness.uvicorn_command("escrow.app:create_app", port, factory=True),
        env=harness.escrow_env(url),
        cwd=workdir,
        ready_url=f"http://127.0.0.1:{port}/health",
        logfile=workdir / "server.log",
        any_answer=True,
    )
    try:
        pages = measure_pages(port, printed, args.warmup, args.requests)
    finally:
        harness.stop_server(server)
    return {**pages, "alert_sweep": measure_sweep(url, args.sweeps)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", default="city", help="demo scales, comma-separated (city; the first is the anchor)"
    )
    parser.add_argument(
        "--postgres", default=ADMIN_URL, help="a PostgreSQL server's admin URL (fresh databases)"
    )
    parser.add_argument("--database-url", help="an already seeded city to measure (one scale; not seeded)")
    parser.add_argument(
        "--demo-output", help="with --database-url: the file holding what `escrow demo` printed"
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--sweeps", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="the small demo, 20 requests a page, 2 sweeps (make bench)"
    )
    args = parser.parse_args()
    if args.quick:  # within 3 minutes: seeding the city alone takes longer on a busy machine
        args.requests, args.warmup, args.sweeps = 20, 2, 2
        args.scale = args.scale or "small"
    args.scale = args.scale or "city"
    scales = [s.strip() for s in args.scale.split(",") if s.strip()]

    from escrow.demo import SCALES

    unknown = [s for s in scales if s not in SCALES]
    if unknown:
        parser.error(f"unknown scale {', '.join(unknown)} (known: {', '.join(SCALES)})")
    harness.log(f"machine: {harness.describe_machine()}; load {harness.loadavg()}")
    engine_name = "SQLite" if (args.database_url or "").startswith("sqlite") else "PostgreSQL"
    harness.log(
        f"server: uvicorn, 1 worker, {engine_name}; {args.requests} requests a page after {args.warmup}"
    )
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="escrow-bench-") as tmp:
        workdir = Path(tmp)
        for scale in scales:
            if args.database_url:
                url, printed, dbname = args.database_url, Path(args.demo_output).read_text(), None
            else:
                dbname = f"bench_city_pages_{scale}_{uuid.uuid4().hex[:6]}"
                harness.create_database(args.postgres, dbname)
                url = harness.pg_urls(args.postgres, dbname)[0]
            try:
                if dbname:
                    printed = seed(url, scale, workdir)
                harness.log(f"scale {scale} ({harness.where(url)}):")
                results[scale] = measure(url, printed, args, workdir)
            finally:
                if dbname and not args.keep:
                    harness.drop_database(args.postgres, dbname)
                elif dbname:
                    harness.log(f"kept database {dbname}")

    figures: dict[str, float] = {}
    targets: dict[str, float] = {}
    met = True
    anchor = results[scales[0]]
    for scale, found in results.items():
        for name, values in found.items():
            for key, value in values.items():
                figures[f"{scale}.{name}.{key}"] = round(value, 3)
        for name in TARGETED:
            targets[f"{scale}.{name}.p50_ms"] = PAGE_P50_MS
            met &= found[name]["p50_ms"] <= PAGE_P50_MS
            if scale != scales[0]:
                growth = found[name]["p50_ms"] / anchor[name]["p50_ms"]
                figures[f"{scale}.{name}.growth"] = round(growth, 2)
                targets[f"{scale}.{name}.growth"] = GROWTH
                met &= growth <= GROWTH
        targets[f"{scale}.what_if.p50_ms"] = WHATIF_P50_MS
        targets[f"{scale}.alert_sweep.p50_s"] = SWEEP_S
        met &= found["what_if"]["p50_ms"] <= WHATIF_P50_MS and found["alert_sweep"]["p50_s"] <= SWEEP_S
    harness.verdict("city_pages", figures, targets, met)
    return 0


if __name__ == "__main__":
    sys.exit(main())
