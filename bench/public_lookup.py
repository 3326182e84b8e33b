"""Benchmark: public voucher look-ups under wrk at 32 connections, against a bare Litestar endpoint.

    .venv/bin/python bench/public_lookup.py                        # SQLite, 3 rounds of 20 s each
    .venv/bin/python bench/public_lookup.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_lookup
    .venv/bin/python bench/public_lookup.py --rounds 1 --duration 10

Target (issue 5): look-ups/s through `GET /api/v1/public/vouchers/{voucher_no}?code=…` at 32 connections
≥ 0.5 × the requests/s of a bare Litestar endpoint served the same way on the same machine (measured in the
same run), with p99 latency ≤ 20 ms.

What it does, all on 127.0.0.1:
1. migrates a fresh database (a temporary SQLite file, or the empty PostgreSQL database of --database-url)
   and seeds, through the real API in-process, one project with --vouchers paid notices, each with its
   voucher; writes "voucher_no|code" lines for bench/public_lookup.lua;
2. serves the real app (`uvicorn escrow.app:create_app --factory`, one worker, as `escrow serve` runs it)
   with the look-up limit raised out of reach (ESCROW_LOOKUPS_PER_MINUTE) — every request still counts in
   the database, one client, one hot `rate_limit_buckets` row — and the bare app
   (`uvicorn bench.bare_litestar:app`: an async handler at the same path answering a constant body of the
   same shape), with the same uvicorn flags;
3. for each round: warms each server for --warmup s, then runs `wrk -t2 -c32 -d<duration>s --latency`
   against each in turn (real, bare, then the threaded bare variant), each request a different voucher
   with its right code; every answer must be 200;
4. prints requests/s, p50/p90/p99 and the ratio per round, the median over rounds, and the load average.

Exits non-zero on errors (a non-200 answer, a failed set-up), never because a target was missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness
from harness import loadavg, log

LUA = harness.BENCH / "public_lookup.lua"
TARGET_RATIO, TARGET_P99_MS = 0.5, 20.0  # issue 13


def seed(database_url: str, vouchers: int, data_file: Path) -> None:
    """One project and `vouchers` paid notices through the real API (in-process); their voucher numbers
    and codes to `data_file`."""
    import logging

    from litestar.testing import TestClient

    logging.getLogger("httpx").setLevel(logging.WARNING)

    from escrow.app import create_app
    from escrow.domain.principal import SYSTEM
    from escrow.services import parties
    from escrow.store.db import UnitOfWork

    engine = harness.migrated_engine(database_url)
    with UnitOfWork(engine) as uow:
        developer = harness.create_bank_and_developer(uow).credit_code
        parties.create_user(uow, username="admin", role="admin", password=None, actor=SYSTEM)
        keys = {
            "admin": parties.create_api_key(uow, username="admin", actor=SYSTEM).plaintext,
            "bank": parties.create_api_key(uow, bank_code="HSB", actor=SYSTEM).plaintext,
            "developer": parties.create_api_key(uow, developer_code=developer, actor=SYSTEM).plaintext,
        }
        uow.commit()
    n = iter(range(10**9))

    def post(client, who: str, path: str, body: dict) -> dict:
        headers = {"Authorization": f"Bearer {keys[who]}", "Idempotency-Key": f"seed-{next(n)}"}
        r = client.post(path, json=body, headers=headers)
        if r.status_code not in (200, 201):
            raise SystemExit(f"seeding failed: {path} {r.status_code} {r.text}")
        return r.json()

    today = time.strftime("%Y-%m-%d")
    lines = []
    with TestClient(create_app(harness.settings(database_url), engine=engine)) as client:
        post(
            client,
            "admin",
            "/api/v1/projects",
            {
                "developer_credit_code": developer,
                "name": "桃城·安居花园一期",
                "permit_no": "衡预售2025-001",
                "permit_date": "2025-03-01",
                "presale_area_m2": "90000.00",
                "finish": "shell",
                "supervised_amount": "300000000.00",
                "bank_code": "HSB",
                "account_no": "6222000011112222",
                "account_name": "衡水安居置业有限公司预售资金监管账户",
                "opened_on": "2025-03-05",
            },
        )
        for i in range(vouchers):
            contract = post(
                client,
                "developer",
                "/api/v1/contracts",
                {
                    "permit_no": "衡预售2025-001",
                    "contract_no": f"HT-B-{i}",
                    "buyer_name": "张伟",
                    "buyer_id_no": "110101199003070011",
                    "unit": f"B-{i}",
                    "area_m2": "98.50",
                    "total_price": "886500.00",
                    "signed_on": "2025-04-01",
                },
            )
            notice = post(
                client,
                "developer",
                f"/api/v1/contracts/{contract['contract_no']}/notices",
                {"kind": "down_payment", "amount": "265950.00", "due_on": "2026-12-31"},
            )
            deposit = post(
                client,
                "bank",
                "/api/v1/deposits",
                {
                    "account_no": "6222000011112222",
                    "bank_reference": f"B-{i}",
                    "amount": "265950.00",
                    "payer_name": "张伟",
                    "payer_account": "6217000012345678",
                    "notice_no": notice["notice_no"],
                    "kind": "down_payment",
                    "channel": "transfer",
                    "value_date": today,
                },
            )
            voucher = deposit["voucher"]
            lines.append(f"{voucher['voucher_no']}|{voucher['verification_code']}")
    engine.dispose()
    data_file.write_text("\n".join(lines) + "\n")


def start_server(target: str, port: int, env: dict[str, str], tmp: Path, factory: bool, workers: int):
    """One app under uvicorn, as `escrow serve` runs the real one; ready once the look-up path answers."""
    return harness.start_server(
        harness.uvicorn_command(target, port, workers=workers, factory=factory),
        env=env,
        cwd=tmp,
        ready_url=f"http://127.0.0.1:{port}/api/v1/public/vouchers/X",
        logfile=tmp / f"server-{port}.log",
        any_answer=True,
    )


def wrk(port: int, data_file: Path, duration: int, connections: int, tmp: Path) -> dict:
    base = f"http://127.0.0.1:{port}"
    result, _ = harness.run_wrk(
        base,
        lua=LUA,
        threads=2,
        connections=connections,
        duration=duration,
        env={"BENCH_DATA": str(data_file)},
        output=tmp / f"wrk-{port}.out",
        flags=("--latency",),
    )
    if result["other"] or any(v for k, v in result["errors"].items() if k != "timeout"):
        raise harness.BenchError(f"non-200 answers or socket errors against {base}: {result}")
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    p.add_argument("--vouchers", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--port", type=int, default=18431)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of every server")
    args = p.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit(harness.WRK_MISSING)
    try:
        return measure(args)
    except harness.BenchError as exc:
        raise SystemExit(str(exc)) from None


def measure(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    url = harness.database_url(args.database_url, tmp, "lookup.db")
    data_file = tmp / "vouchers.txt"
    log(f"machine: {harness.describe_machine()}")
    log(f"database: {harness.where(url)}; seeding {args.vouchers} vouchers …")
    seed(url, args.vouchers, data_file)
    env = harness.escrow_env(
        url, ESCROW_LOOKUPS_PER_MINUTE="1000000000", ESCROW_FAILED_LOOKUPS_PER_MINUTE="1000000000"
    )
    apps = {
        "real": ("escrow.app:create_app", True),
        "bare": ("bench.bare_litestar:app", False),
        "bare, threaded": ("bench.bare_litestar:threaded_app", False),
    }
    servers = {}  # name → (port, process)
    results: dict[str, list[dict]] = {name: [] for name in apps}
    loads = []
    try:
        for i, (name, (target, factory)) in enumerate(apps.items()):
            port = args.port + i
            servers[name] = port, start_server(target, port, env, tmp, factory, args.workers)
        for port, _ in servers.values():
            wrk(port, data_file, args.warmup, args.connections, tmp)
        for r in range(1, args.rounds + 1):
            for name, (port, _) in servers.items():
                before = loadavg()
                res = wrk(port, data_file, args.duration, args.connections, tmp)
                res["load"] = f"{before} → {loadavg()}"
                loads.append(os.getloadavg()[0])
                results[name].append(res)
                lat = res["latency_us"]
                log(
                    f"round {r} {name:15} {res['rps']:8.0f} req/s  p50 {lat['p50'] / 1000:6.1f} ms  "
                    f"p90 {lat['p90'] / 1000:6.1f} ms  p99 {lat['p99'] / 1000:6.1f} ms  "
                    f"timeouts {res['errors']['timeout']}  load {res['load']}"
                )
            ratio = results["real"][-1]["rps"] / results["bare"][-1]["rps"]
            threaded = results["real"][-1]["rps"] / results["bare, threaded"][-1]["rps"]
            log(f"round {r} ratio real/bare {ratio:.3f}   real/bare-threaded {threaded:.3f}")
    finally:
        for _, proc in servers.values():
            harness.stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(
            r[key] if key == "rps" else r["latency_us"][key] / 1000 for r in results[name]
        )

    log()
    log("| server | req/s (median) | p50 ms | p99 ms |")
    log("|---|---|---|---|")
    for name in apps:
        log(f"| {name} | {med(name, 'rps'):.0f} | {med(name, 'p50'):.1f} | {med(name, 'p99'):.1f} |")
    ratios = [a["rps"] / b["rps"] for a, b in zip(results["real"], results["bare"], strict=True)]
    ratio = statistics.median(ratios)
    p99 = med("real", "p99")
    log()
    log(
        f"ratio real/bare per round: {', '.join(f'{x:.3f}' for x in ratios)}; median {ratio:.3f} "
        f"(target ≥ {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'missed'})"
    )
    log(
        f"real p99 {p99:.1f} ms "
        f"(target ≤ {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'missed'})"
    )
    log(f"load average at the end: {loadavg()}")
    harness.verdict(
        "public_lookup",
        {
            "rps": round(med("real", "rps")),
            "p50_ms": round(med("real", "p50"), 1),
            "p99_ms": round(p99, 1),
            "bare_rps": round(med("bare", "rps")),
            "bare_p99_ms": round(med("bare", "p99"), 1),
            "ratio": round(ratio, 3),
            "connections": args.connections,
        },
        {"ratio_min": TARGET_RATIO, "p99_ms_max": TARGET_P99_MS},
        ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
