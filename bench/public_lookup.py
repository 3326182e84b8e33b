"""Benchmark: public voucher look-ups under wrk at 32 connections, against a bare Litestar endpoint.

    .venv/bin/python bench/public_lookup.py                        # SQLite, 3 rounds of 20 s each
    .venv/bin/python bench/public_lookup.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_lookup
    .venv/bin/python bench/public_lookup.py --rounds 1 --duration 10

Target (issue 5): look-ups/s through `GET /api/v1/public/vouchers/{voucher_no}?code=…` at 32 connections
≥ 0.4 × the requests/s of a bare Litestar endpoint served the same way on the same machine (measured in the
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
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
LUA = Path(__file__).resolve().parent / "public_lookup.lua"
TARGET_RATIO, TARGET_P99_MS = 0.4, 20.0


def log(msg: str = "") -> None:
    print(msg, flush=True)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, Python {platform.python_version()}"


def seed(database_url: str, vouchers: int, data_file: Path) -> None:
    """One project and `vouchers` paid notices through the real API (in-process); their voucher numbers
    and codes to `data_file`."""
    import logging

    from litestar.testing import TestClient

    logging.getLogger("httpx").setLevel(logging.WARNING)

    from escrow.app import create_app
    from escrow.config import Settings
    from escrow.domain import credit_code
    from escrow.domain.principal import SYSTEM
    from escrow.services import parties
    from escrow.store.db import UnitOfWork, make_engine
    from escrow.store.migrate import upgrade

    settings = Settings.from_env(
        {"ESCROW_DATABASE_URL": database_url, "ESCROW_RULES_DIR": str(REPO / "rules")}
    )
    engine = make_engine(database_url)
    upgrade(engine)
    developer = credit_code.complete("91131100MA0CXK7T4")
    with UnitOfWork(engine) as uow:
        parties.create_bank(uow, code="HSB", name="衡水银行", actor=SYSTEM)
        parties.create_developer(uow, credit_code_value=developer, name="衡水安居置业有限公司", actor=SYSTEM)
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
    with TestClient(create_app(settings, engine=engine)) as client:
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


class Server:
    def __init__(self, target: str, port: int, env: dict[str, str], factory: bool, workers: int = 1):
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ]
        if factory:
            cmd.insert(4, "--factory")
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        import httpx

        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"{target} exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(self.base + "/api/v1/public/vouchers/X", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{target} did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wrk(base: str, data_file: Path, duration: int, connections: int) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(LUA), base]
    out = subprocess.run(
        cmd, env={**os.environ, "BENCH_DATA": str(data_file)}, capture_output=True, text=True
    )
    match = re.search(r"^BENCH_RESULT (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not match:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    result = json.loads(match.group(1))
    if result["other"] or any(v for k, v in result["errors"].items() if k != "timeout"):
        raise SystemExit(f"non-200 answers or socket errors against {base}: {result}")
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
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    url = args.database_url or f"sqlite:///{tmp / 'lookup.db'}"
    data_file = tmp / "vouchers.txt"
    log(f"machine: {machine()}")
    log(f"database: {url.split('@')[-1]}; seeding {args.vouchers} vouchers …")
    seed(url, args.vouchers, data_file)
    env = {
        **os.environ,
        "ESCROW_DATABASE_URL": url,
        "ESCROW_RULES_DIR": str(REPO / "rules"),
        "ESCROW_LOOKUPS_PER_MINUTE": "1000000000",
        "ESCROW_FAILED_LOOKUPS_PER_MINUTE": "1000000000",
        "PYTHONPATH": str(REPO),
    }
    servers = {
        "real": Server("escrow.app:create_app", args.port, env, True, args.workers),
        "bare": Server("bench.bare_litestar:app", args.port + 1, env, False, args.workers),
        "bare, threaded": Server("bench.bare_litestar:threaded_app", args.port + 2, env, False, args.workers),
    }
    results: dict[str, list[dict]] = {name: [] for name in servers}
    loads = []
    try:
        for server in servers.values():
            wrk(server.base, data_file, args.warmup, args.connections)
        for r in range(1, args.rounds + 1):
            for name, server in servers.items():
                before = loadavg()
                res = wrk(server.base, data_file, args.duration, args.connections)
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
        for server in servers.values():
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(
            r[key] if key == "rps" else r["latency_us"][key] / 1000 for r in results[name]
        )

    log()
    log("| server | req/s (median) | p50 ms | p99 ms |")
    log("|---|---|---|---|")
    for name in servers:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
