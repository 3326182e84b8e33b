"""Benchmark: deposit posting through HTTP on PostgreSQL at 8 concurrent clients, against pgbench TPC-B.

    .venv/bin/python bench/deposits_http.py                    # workers 1 and 2, 30 s each, then pgbench
    .venv/bin/python bench/deposits_http.py --workers 1 --duration 10 --skip-pgbench
    .venv/bin/python bench/deposits_http.py --profile /tmp/prof # also py-spy the server while measuring

Target (the issue): deposits/s through `POST /api/v1/deposits` at 8 clients ≥ 0.5 × the TPS of
`pgbench -c 8 -j 2 -T 30` (TPC-B, scale 10) on the same machine, measured in the same run.

What it does, all on 127.0.0.1:
1. creates a fresh database on the PostgreSQL server of --pg-url, migrates it (escrow.store.migrate.upgrade)
   and seeds a bank with an API key, a developer, --projects projects with their supervised accounts
   (services.parties and services.projects in one transaction), a few contracts and notices per project
   through services.sales, and the bulk of the contracts and open payment notices by bulk insert with the
   same column values. Every notice is paid exactly once, by the buyer (or, for mortgage notices, by the
   lending bank through the mortgage channel), for its exact amount: every posted deposit passes every
   blocking check of the rule book and gets a voucher, the realistic path (bench/deposits_seed.py);
2. for each --workers count: starts the server (`escrow serve --workers N`), warms it up for --warmup
   seconds, then drives it for --duration seconds with wrk (--clients connections, --wrk-threads threads,
   bench/deposits_http.lua), each request a different notice with a unique bank reference and
   Idempotency-Key. Records deposits/s, p50/p99 latency, non-201 answers (must be 0) and 201s without a
   voucher (must be 0), checks the database agrees, and accounts the CPU time of the server, its
   PostgreSQL backends, wrk itself and the rest of the machine over the window; samples pg_stat_activity
   to show what the server's connections wait on, and pg_locks every 50 ms for the share of samples in
   which a deposit waited for a lock other than its own account's row (another account's: must be 0);
   after the last run, `escrow audit verify` must pass on the database;
3. runs `pgbench -i -s 10` and `pgbench -c 8 -j 2 -T 30` against another fresh database on the same server;
4. prints the ratio deposits/s ÷ pgbench TPS per worker count and drops both databases.

Needs wrk (Debian: `apt-get install wrk`), pgbench (`postgresql-client`) and, for --profile, py-spy
(`pip install py-spy`). The server runs the same escrow package the script imports: this checkout's, or the
one a PYTHONPATH names (to benchmark another copy of the code).

Exits non-zero only on errors (a failed set-up, a non-201 answer, a deposit without a voucher, an exhausted
notice pool), never because the target was missed. Run by hand; never part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import harness
from deposits_seed import Seeded, seed
from harness import BenchError, loadavg, log

LUA = harness.BENCH / "deposits_http.lua"
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0  # issue 13


# --- the server and the load -------------------------------------------------------------------------------


def start_server(url: str, workers: int, port: int, workdir: Path) -> subprocess.Popen:
    """`escrow serve --workers N`, as production runs it. The server imports the same escrow package as this
    script."""
    cmd = harness.escrow_command(
        "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)
    )
    return harness.start_server(
        cmd,
        env=harness.escrow_env(url),
        cwd=workdir,
        ready_url=f"http://127.0.0.1:{port}/health",
        logfile=workdir / f"server-{workers}w.log",
        settle=2.0 if workers > 1 else 0.0,  # give the other workers a moment to finish starting too
    )


def run_wrk(
    port: int, seeded: Seeded, first: int, last: int, tag: str, today: date, args: argparse.Namespace, *,
    duration: float, workdir: Path,
) -> tuple[dict[str, Any], float]:  # fmt: skip
    """One wrk run over lines first..last of the data file. Returns its BENCH_RESULT and wrk's CPU seconds."""
    env = {
        "BENCH_DATA": str(seeded.data_file),
        "BENCH_FIRST": str(first),
        "BENCH_LAST": str(last),
        "BENCH_THREADS": str(args.wrk_threads),
        "BENCH_TOKEN": seeded.token,
        "BENCH_TAG": tag,
        "BENCH_VALUE_DATE": today.isoformat(),
    }
    return harness.run_wrk(
        f"http://127.0.0.1:{port}",
        lua=LUA,
        threads=args.wrk_threads,
        connections=args.clients,
        duration=duration,
        env=env,
        output=workdir / f"wrk-{tag}.out",
        flags=("--timeout", "10s"),
        wrk=args.wrk,
    )


def check_database(url: str, tag: str) -> dict[str, int]:
    """Deposits of one run in the database: by status, with vouchers, and issued vouchers."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT d.status, count(*), count(v.id), count(v.id) FILTER (WHERE v.status = 'issued') "
            "FROM deposits d LEFT JOIN vouchers v ON v.deposit_id = d.id "
            "WHERE d.bank_reference LIKE %s GROUP BY d.status",
            (f"{tag}-%",),
        ).fetchall()
    result = {"accepted": 0, "suspense": 0, "vouchers": 0, "issued": 0, "other": 0}
    for status, n, vouchers, issued in rows:
        result[status if status in ("accepted", "suspense") else "other"] += n
        result["vouchers"] += vouchers
        result["issued"] += issued
    return result


STAGES = (  # where a sample of the server's time belongs, by the first of these frames on its stack
    ("authentication", "authenticate (escrow/api/deps.py)"),
    ("audit record (under the chain lock)", "record (escrow/store/audit.py)"),
    ("services.deposits.book", "_book (escrow/services/deposits.py)"),
    ("idempotency record + commit", "answer_once (escrow/api/idempotency.py)"),
    ("event loop: uvicorn, h11, litestar routing and responses", "(uvicorn/"),
    ("other (py-spy's partial stacks, thread pool)", ""),
)


def start_profilers(proc: subprocess.Popen, workers: int, args: argparse.Namespace) -> list[subprocess.Popen]:
    """py-spy on the server process itself (one worker), or on uvicorn's spawned workers, not their
    supervisor (several)."""
    if not args.profile:
        return []
    targets = [proc.pid]
    if workers > 1:
        targets = [
            p
            for p in harness.process_tree(proc.pid)
            if "spawn_main" in (cmd := harness.cmdline(p)) and "resource_tracker" not in cmd
        ]
    return harness.start_profilers(args.py_spy, targets, args.duration, args.profile, f"{workers}w")


def run_workers(
    workers: int,
    *,
    url: str,
    libpq_url: str,
    dbname: str,
    seeded: Seeded,
    cursor: int,
    today: date,
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[dict[str, Any], int]:
    """Warm up and measure the server with `workers` processes. Returns its results and the next free line."""
    port = harness.free_port()
    log(f"\n== {workers} worker process{'es' if workers > 1 else ''} (port {port}) ==")
    log(f"load average before: {loadavg()}")
    proc = start_server(url, workers, port, workdir)
    try:
        # each run takes a slice of the notices sized for --max-rate deposits/s
        warm_n = int(args.max_rate * args.warmup) + args.clients * 4
        warm, _ = run_wrk(
            port, seeded, cursor, cursor + warm_n - 1, f"W{workers}", today, args,
            duration=args.warmup, workdir=workdir,
        )  # fmt: skip
        cursor += warm_n
        log(
            f"warm-up {args.warmup:g} s: {warm['requests']} requests, {warm['accepted']} accepted, "
            f"{warm['non201']} non-201"
        )
        n = int(args.max_rate * args.duration) + args.clients * 4
        if cursor + n - 1 > seeded.lines:
            raise BenchError("the notice pool is too small; raise --max-rate")
        sampler = harness.ActivitySampler(libpq_url, dbname)
        window = harness.CpuWindow(proc.pid, dbname)
        spies = start_profilers(proc, workers, args)
        log(f"load average at start of measurement: {loadavg()}")
        sampler.start()
        window.begin()
        result, wrk_cpu = run_wrk(
            port, seeded, cursor, cursor + n - 1, f"M{workers}", today, args,
            duration=args.duration, workdir=workdir,
        )  # fmt: skip
        cpu = window.end()
        sampler.stop.set()
        sampler.join(timeout=5)
        cursor += n
        harness.wait_for(spies, timeout=args.duration + 30)
    finally:
        harness.stop_server(proc)
    db = check_database(libpq_url, f"M{workers}")
    seconds = result["duration_us"] / 1e6
    rate = result["accepted"] / seconds
    out = {
        "workers": workers,
        "requests": result["requests"],
        "seconds": seconds,
        "deposits_per_s": rate,
        "accepted": result["accepted"],
        "non201": result["non201"],
        "other201": result["other201"],
        "socket_errors": sum(result["errors"].values()) - result["errors"]["status"],
        "exhausted": result["exhausted"],
        "first_bad": result["first_bad"],
        "latency_ms": {k: v / 1000 for k, v in result["latency_us"].items()},
        "database": db,
        "cpu": {
            "server": cpu["server"] / cpu["wall"],
            "postgres_backends": cpu["pg"] / cpu["wall"],
            "postgres_background": cpu["pg_bg"] / cpu["wall"],
            "wrk": wrk_cpu / cpu["wall"],
            "machine_busy": cpu["machine_busy"] / cpu["wall"],
            "machine_other": (cpu["machine_busy"] - cpu["server"] - cpu["pg"] - cpu["pg_bg"] - wrk_cpu)
            / cpu["wall"],
            "server_cpu_ms_per_deposit": 1000 * cpu["server"] / max(result["accepted"], 1),
            "pg_cpu_ms_per_deposit": 1000 * cpu["pg"] / max(result["accepted"], 1),
        },
        "pg_activity": sampler.summary(),
        "audit_lock_held": sampler.lock_held / max(sampler.samples, 1),
        "lock_samples": sampler.samples,
        "lock_wait_own_account": sampler.waits_own / max(sampler.samples, 1),
        "lock_wait_other": sampler.waits_other / max(sampler.samples, 1),
        "other_waits": dict(sampler.other_waits.most_common(5)),
        "load_after": loadavg(),
    }
    if args.profile:
        out["profiles"] = {}
        for path in sorted(args.profile.glob(f"{workers}w-*.txt")):
            summary = harness.profile_summary(path, STAGES)
            harness.write_json(path.with_suffix(".summary.json"), summary)
            out["profiles"][path.name] = {
                "samples": summary["samples"],
                "expected_samples": int(args.duration * 100),
                "libraries": summary["libraries"][:10],
                "stages": summary["stages"],
            }
    report_run(out)
    return out, cursor


def report_run(r: dict[str, Any]) -> None:
    lat, cpu, db = r["latency_ms"], r["cpu"], r["database"]
    log(
        f"{r['deposits_per_s']:.1f} deposits/s over {r['seconds']:.1f} s "
        f"({r['accepted']} accepted with a voucher); latency p50 {lat['p50']:.1f} ms, "
        f"p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms"
    )
    log(
        f"non-201 answers: {r['non201']}; 201 without a voucher: {r['other201']}; socket errors: "
        f"{r['socket_errors']}; database: {db['accepted']} accepted, {db['suspense']} suspense, "
        f"{db['issued']} vouchers issued"
    )
    log(
        "CPU (cores busy): server {server:.2f}, its PostgreSQL backends {postgres_backends:.2f}, PostgreSQL "
        "background {postgres_background:.2f}, wrk {wrk:.2f}, "
        "everything else on the machine {machine_other:.2f}; "
        "machine {machine_busy:.2f} of {n}".format(**cpu, n=os.cpu_count())
    )
    log(
        f"per deposit: {cpu['server_cpu_ms_per_deposit']:.2f} ms server CPU, "
        f"{cpu['pg_cpu_ms_per_deposit']:.2f} ms PostgreSQL backend CPU"
    )
    log(
        f"an advisory lock (a city-wide serialisation point; the audit chains take none since 0016) was held "
        f"in {100 * r['audit_lock_held']:.0f}% of the samples"
    )
    log(
        f"pg_locks every 50 ms ({r['lock_samples']} samples): a deposit waited for its own account's row "
        f"(another deposit on that account) in {100 * r['lock_wait_own_account']:.1f}% of them, for anything "
        f"else (another account's lock) in {100 * r['lock_wait_other']:.2f}%"
        + (f": {r['other_waits']}" if r["other_waits"] else "")
    )
    log(
        "server connections in PostgreSQL (average count): "
        + ", ".join(f"{k} {v:.2f}" for k, v in r["pg_activity"].items())
    )
    for name, p in r.get("profiles", {}).items():
        log(
            f"profile {name} by stage: "
            + ", ".join(f"{stage} {n * 100 / max(p['samples'], 1):.0f}%" for stage, n in p["stages"])
        )
        log(
            f"profile {name}: {p['samples']} samples of {p['expected_samples']}; "
            + ", ".join(f"{lib} {n * 100 / max(p['samples'], 1):.0f}%" for lib, n in p["libraries"])
        )
    log(f"load average after: {r['load_after']}")


def verify_audit(url: str, workdir: Path) -> bool:
    """`escrow audit verify` over the database after the runs: every chain, every journal claim and the
    maintained balances intact."""
    started = time.perf_counter()
    run = subprocess.run(
        harness.escrow_command("audit", "verify"), env=harness.escrow_env(url), cwd=workdir,
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    out = (run.stdout + run.stderr).strip().splitlines()
    log(
        f"\nescrow audit verify: exit {run.returncode} in {time.perf_counter() - started:.1f} s"
        + (f"; {out[-1]}" if out else "")
    )
    return run.returncode == 0


def run_pgbench(admin_url: str, dbname: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    _, libpq = harness.pg_urls(admin_url, dbname)
    log(
        f"\n== pgbench TPC-B, scale {args.pgbench_scale}, {args.clients} clients, 2 threads, "
        f"{args.pgbench_duration:g} s =="
    )
    log(f"load average before: {loadavg()}")
    harness.create_database(admin_url, dbname)
    started = time.perf_counter()
    init = subprocess.run(
        [args.pgbench, "-i", "-s", str(args.pgbench_scale), "-q", libpq],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if init.returncode != 0:
        raise BenchError(f"pgbench -i failed:\n{init.stderr[-2000:]}")
    log(f"pgbench -i -s {args.pgbench_scale}: {time.perf_counter() - started:.1f} s")
    logdir = workdir / "pgbench-log"
    logdir.mkdir()
    log(f"load average at start of measurement: {loadavg()}")
    busy0, _ = harness.machine_cpu()
    measured_from = time.monotonic()
    run = subprocess.run(
        [args.pgbench, "-c", str(args.clients), "-j", "2", "-T", f"{int(args.pgbench_duration)}", "-l",
         "--log-prefix", str(logdir / "tx"), libpq],
        capture_output=True, text=True, timeout=args.pgbench_duration + 120,
    )  # fmt: skip
    busy1, _ = harness.machine_cpu()
    wall = time.monotonic() - measured_from
    if run.returncode != 0:
        raise BenchError(f"pgbench failed:\n{run.stderr[-2000:]}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout).group(1))
    latencies = sorted(
        int(line.split()[2])
        for path in logdir.iterdir()
        for line in path.read_text().splitlines()
        if line.strip()
    )
    latency_ms = {k: v / 1000 for k, v in harness.percentiles(latencies, 50, 99).items()}
    result = {
        "tps": tps,
        "transactions": len(latencies),
        "latency_ms": {**latency_ms, "mean": sum(latencies) / len(latencies) / 1000},
        "machine_busy": (busy1 - busy0) / wall,
        "load_after": loadavg(),
    }
    lat = result["latency_ms"]
    log(
        f"pgbench: {tps:.1f} TPS ({len(latencies)} transactions); latency p50 {lat['p50']:.2f} ms, "
        f"p99 {lat['p99']:.2f} ms, mean {lat['mean']:.2f} ms; machine {result['machine_busy']:.2f} of "
        f"{os.cpu_count()} cores busy"
    )
    log(f"load average after: {result['load_after']}")
    return result


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a maintenance database on the server (the benchmark creates and drops its own)",
    )
    p.add_argument("--workers", default="1,2", help="server worker process counts to try, comma-separated")
    p.add_argument("--clients", type=int, default=8, help="concurrent connections (and pgbench clients)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--duration", type=float, default=30.0, help="measured seconds per worker count")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of load before each measurement")
    p.add_argument("--projects", type=int, default=16, help="projects (supervised accounts) paid into")
    p.add_argument(
        "--max-rate",
        type=float,
        default=1500.0,
        help="deposits/s the notice pool is sized for (the run fails if the server is faster)",
    )
    p.add_argument("--pgbench-scale", type=int, default=10)
    p.add_argument("--pgbench-duration", type=float, default=30.0)
    p.add_argument("--skip-pgbench", action="store_true")
    p.add_argument("--profile", type=Path, help="directory: py-spy the server during each measurement")
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    p.add_argument("--wrk", default=shutil.which("wrk"))
    p.add_argument(
        "--pgbench",
        default=shutil.which("pgbench")
        or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)), None),
    )
    p.add_argument("--py-spy", default=shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"))
    args = p.parse_args(argv)
    args.worker_counts = [int(x) for x in args.workers.split(",") if x.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not harness.is_loopback(args.pg_url):
        print("error: --pg-url must point at a server on 127.0.0.1", file=sys.stderr)
        return 2
    if not args.wrk:
        print(f"error: {harness.WRK_MISSING}", file=sys.stderr)
        return 2
    if not args.skip_pgbench and not args.pgbench:
        print(
            "error: pgbench is not installed (Debian/Ubuntu: apt-get install postgresql-client)",
            file=sys.stderr,
        )
        return 2
    if args.profile:
        if not Path(args.py_spy).exists():
            print("error: --profile needs py-spy (pip install py-spy)", file=sys.stderr)
            return 2
        args.profile.mkdir(parents=True, exist_ok=True)

    info = {**harness.machine(), "code": harness.code_version()}
    today = date.today()
    suffix = uuid.uuid4().hex[:8]
    app_db, tpcb_db = f"bench_deposits_{suffix}", f"bench_pgbench_{suffix}"
    url, libpq_url = harness.pg_urls(args.pg_url, app_db)
    results: dict[str, Any] = {
        "machine": info,
        "date": today.isoformat(),
        "runs": [],
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    created: list[str] = []
    try:
        results["postgresql"], knobs = harness.postgres_server(args.pg_url)
        log(
            f"machine: {harness.describe_machine(info)}, "
            f"PostgreSQL {results['postgresql']} on 127.0.0.1 ({knobs})"
        )
        log(f"date {today}; code {info['code']}; load average at start: {loadavg()}")
        with tempfile.TemporaryDirectory(prefix="bench-deposits-") as tmp:
            workdir = Path(tmp)
            pool = sum(
                int(args.max_rate * args.warmup) + int(args.max_rate * args.duration) + 8 * args.clients
                for _ in args.worker_counts
            )
            harness.create_database(args.pg_url, app_db)
            created.append(app_db)
            seeded = seed(url, pool, args.projects, today, workdir / "notices.txt")
            log(
                f"seeded {app_db}: 1 bank + API key, 1 developer, {args.projects} projects, "
                f"{seeded.lines} open notices on {(seeded.lines + 3) // 4} contracts "
                f"in {seeded.seconds:.1f} s"
            )
            cursor = 1
            for workers in args.worker_counts:
                run, cursor = run_workers(
                    workers,
                    url=url,
                    libpq_url=libpq_url,
                    dbname=app_db,
                    seeded=seeded,
                    cursor=cursor,
                    today=today,
                    args=args,
                    workdir=workdir,
                )
                results["runs"].append(run)
            results["audit_verify"] = verify_audit(url, workdir)
            harness.drop_database(args.pg_url, app_db)
            created.remove(app_db)
            if not args.skip_pgbench:
                created.append(tpcb_db)
                results["pgbench"] = run_pgbench(args.pg_url, tpcb_db, args, workdir)
                harness.drop_database(args.pg_url, tpcb_db)
                created.remove(tpcb_db)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for name in created:
            harness.drop_database(args.pg_url, name)

    log("\n== summary ==")
    tps = results.get("pgbench", {}).get("tps")
    errors = []
    for r in results["runs"]:
        ratio = r["deposits_per_s"] / tps if tps else None
        r["ratio"] = ratio
        verdict = (
            ""
            if ratio is None
            else (
                f"; ratio {ratio:.3f} vs target ≥ {TARGET_RATIO} → "
                f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}"
            )
        )
        log(
            f"{r['workers']} worker(s): {r['deposits_per_s']:.1f} deposits/s, "
            f"p50 {r['latency_ms']['p50']:.1f} ms, "
            f"p99 {r['latency_ms']['p99']:.1f} ms, non-201 {r['non201']}{verdict}"
        )
        if r["non201"] or r["other201"] or r["socket_errors"]:
            errors.append(
                f"{r['workers']} worker(s): {r['non201']} non-201, {r['other201']} 201 without a voucher, "
                f"{r['socket_errors']} socket errors; first: {r['first_bad']}"
            )
        if r["exhausted"]:
            errors.append(f"{r['workers']} worker(s): the notice pool ran out; raise --max-rate")
        if r["database"]["suspense"] or r["database"]["issued"] < r["accepted"]:
            errors.append(f"{r['workers']} worker(s): the database disagrees: {r['database']}")
    if not results.get("audit_verify", True):
        errors.append("escrow audit verify failed after the runs")
    if tps:
        log(
            f"pgbench TPC-B: {tps:.1f} TPS (p50 {results['pgbench']['latency_ms']['p50']:.2f} ms, "
            f"p99 {results['pgbench']['latency_ms']['p99']:.2f} ms)"
        )
    if args.json:
        harness.write_json(args.json, results)
    runs = results["runs"]
    best = max(runs, key=lambda r: r["deposits_per_s"]) if runs else None
    figures: dict = {"pgbench_tps": round(tps, 1) if tps else None, "pgbench_scale": args.pgbench_scale}
    for r in runs:
        figures[f"{r['workers']}w"] = {
            "deposits_per_s": round(r["deposits_per_s"], 1),
            "p50_ms": round(r["latency_ms"]["p50"], 1),
            "p99_ms": round(r["latency_ms"]["p99"], 1),
            "ratio": round(r["ratio"], 3) if r["ratio"] is not None else None,
            "lock_wait_other_share": round(r["lock_wait_other"], 4),
            "lock_wait_own_account_share": round(r["lock_wait_own_account"], 4),
        }
    figures["audit_verify"] = results.get("audit_verify")
    harness.verdict(
        "deposits_http",
        figures,
        {
            "ratio_min": TARGET_RATIO,
            "p99_ms_max": TARGET_P99_MS,
            "lock_wait_other_share": 0,
            "clients": 8,
            "pgbench_scale": 10,
        },
        bool(
            best
            and not errors
            and best["ratio"] is not None
            and best["ratio"] >= TARGET_RATIO
            and best["latency_ms"]["p99"] <= TARGET_P99_MS
            and best["lock_wait_other"] == 0
            and args.pgbench_scale == 10
            and args.clients == 8
        ),
    )
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
