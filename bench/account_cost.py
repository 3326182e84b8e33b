"""Benchmark: what reading an account costs with no history and with a long one, on PostgreSQL.

    .venv/bin/python bench/account_cost.py                       # 10,000 deposits, 200 requests of each
    .venv/bin/python bench/account_cost.py --deposits 100000 --requests 1000

Target (issue 13): `GET /api/v1/accounts/{no}` and a release cap for an account with 100,000 deposits cost
at most 1.5 × what they cost for an account with none (p50), now that both read the maintained per-account
sums (`account_balances`, `account_kind_totals`, migration 0015) instead of summing the journal.

What it does, on the PostgreSQL server of --pg-url:
1. creates a fresh database, migrates it, and opens two projects through the services: account EMPTY with
   no deposits and account LONG with --deposits deposits, written by bulk insert (deposit rows, journal
   entries and legs, as a bulk loader would) and then `Journal.rebuild_balances`; ANALYZE;
2. serves the real app in-process (Litestar's TestClient: the same handlers, no network) and, after
   --warmup rounds, runs --requests rounds, each timing in turn GET of EMPTY, GET of LONG, the node
   cap of EMPTY and the node cap of LONG (`services.releases.releasable`: one read transaction);
3. times, for comparison, the grouped journal sum the account read used to run for LONG;
4. prints p50/p99 of each, the ratios LONG / EMPTY, and, as its last line, the verdict as one JSON object;
   then drops the database.

Exits non-zero on errors (a non-200 answer, wrong balances), never because a target was missed.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import harness
from harness import loadavg, log

TARGET_RATIO = 1.5
DAY = date(2026, 11, 20)
AMOUNT_FEN = 123_456
CHUNK = 10_000


def seed(url: str, deposits: int) -> dict[str, Any]:
    """Bank, developer, a bank API key and the two projects; LONG's history by bulk insert."""
    from sqlalchemy import insert, text

    from escrow.app import build_context
    from escrow.domain.principal import SYSTEM
    from escrow.services import parties, projects
    from escrow.store.db import UnitOfWork
    from escrow.store.models import Deposit, JournalEntry, JournalLeg

    engine = harness.migrated_engine(url)
    ctx = build_context(harness.settings(url), engine, lambda: DAY)
    seeded: dict[str, Any] = {}
    with UnitOfWork(engine) as uow:
        developer = harness.create_bank_and_developer(uow, "91131100MA0BENCH0", "Bench Developer")
        seeded["key"] = parties.create_api_key(uow, bank_code="HSB", actor=SYSTEM).plaintext
        for name, account_no in (("EMPTY", "6222000000000100"), ("LONG", "6222000000000200")):
            opened = projects.open_project(
                uow,
                ctx,
                projects.OpenProject(
                    developer_credit_code=developer.credit_code,
                    name=name,
                    permit_no=f"BENCH-{name}",
                    permit_date=date(2025, 1, 1),
                    presale_area_m2=Decimal("10000"),
                    finish="shell",
                    bank_code="HSB",
                    account_no=account_no,
                    account_name=f"{name} escrow",
                ),
                SYSTEM,
            )
            seeded[name] = {"account_no": account_no, "project_id": opened["project_id"]}
        uow.commit()
    started = time.perf_counter()
    with UnitOfWork(engine) as uow:
        account = uow.projects.account_by_no(seeded["LONG"]["account_no"])
        for start in range(0, deposits, CHUNK):
            n = min(CHUNK, deposits - start)
            uow.session.execute(
                insert(Deposit),
                [
                    {
                        "account_id": account.id,
                        "bank_id": account.bank_id,
                        "bank_reference": f"AC{start + i:09d}",
                        "amount_fen": AMOUNT_FEN,
                        "payer_name": "买受人",
                        "payer_account": "",
                        "kind": "down_payment",
                        "channel": "transfer",
                        "value_date": DAY,
                        "status": "accepted",
                        "checks": [],
                        "rulebook_id": "hengshui@2024.1",
                    }
                    for i in range(n)
                ],
            )
            ids = uow.session.scalars(
                insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True),
                [
                    {
                        "account_id": account.id,
                        "kind": "deposit",
                        "booked_on": DAY,
                        "reference": f"deposit:AC{start + i:09d}",
                        "amount_fen": AMOUNT_FEN,
                    }
                    for i in range(n)
                ],
            ).all()
            uow.session.execute(
                insert(JournalLeg),
                [
                    {
                        "entry_id": entry_id,
                        "account_id": account.id,
                        "ledger": name,
                        "amount_fen": sign * AMOUNT_FEN,
                    }
                    for entry_id in ids
                    for name, sign in (("cash", 1), ("buyer_funds", -1))
                ],
            )
        uow.journal.rebuild_balances([account.id])  # journal rows written directly: their sums too
        uow.commit()
        seeded["LONG"]["account_id"] = account.id
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    took = time.perf_counter() - started
    log(f"seeded {deposits:,} deposits by bulk insert and rebuilt the sums in {took:.1f} s")
    engine.dispose()
    return seeded


def measure(url: str, seeded: dict[str, Any], requests: int, warmup: int) -> dict[str, list[float]]:
    """Seconds per request/computation, interleaved so that both accounts see the same conditions."""
    import logging

    from litestar.testing import TestClient

    from escrow.app import build_context, create_app
    from escrow.services import releases
    from escrow.store.db import make_engine

    logging.getLogger("httpx").setLevel(logging.WARNING)
    engine = make_engine(url)
    settings = harness.settings(url)
    ctx = build_context(settings, engine, lambda: DAY)
    app = create_app(settings, engine=engine, today=lambda: DAY)
    headers = {"Authorization": f"Bearer {seeded['key']}"}
    times: dict[str, list[float]] = {f"{what}_{n}": [] for what in ("get", "cap") for n in ("empty", "long")}
    with TestClient(app) as client:

        def get(account_no: str) -> None:
            r = client.get(f"/api/v1/accounts/{account_no}", headers=headers)
            if r.status_code != 200:
                raise harness.BenchError(f"GET account {account_no}: {r.status_code} {r.text[:500]}")

        steps = (
            ("get_empty", lambda: get(seeded["EMPTY"]["account_no"])),
            ("get_long", lambda: get(seeded["LONG"]["account_no"])),
            ("cap_empty", lambda: releases.releasable(ctx, seeded["EMPTY"]["project_id"])),
            ("cap_long", lambda: releases.releasable(ctx, seeded["LONG"]["project_id"])),
        )
        for round_no in range(warmup + requests):
            for name, step in steps:
                started = time.perf_counter()
                step()
                if round_no >= warmup:
                    times[name].append(time.perf_counter() - started)
        balance = client.get(f"/api/v1/accounts/{seeded['LONG']['account_no']}", headers=headers).json()[
            "balance"
        ]
    engine.dispose()
    times["balance"] = [float(balance)]
    return times


def journal_sum(url: str, account_id: int, runs: int) -> list[float]:
    """The grouped sum of the account's journal legs the account read ran before the maintained sums."""
    from sqlalchemy import func, select

    from escrow.store.db import UnitOfWork, make_engine
    from escrow.store.models import JournalLeg

    engine = make_engine(url)
    stmt = (
        select(JournalLeg.account_id, JournalLeg.ledger, func.sum(JournalLeg.amount_fen))
        .where(JournalLeg.account_id.in_([account_id]))
        .group_by(JournalLeg.account_id, JournalLeg.ledger)
    )
    with UnitOfWork(engine, readonly=True) as uow:
        times, _ = harness.timed(lambda: uow.session.execute(stmt).all(), runs)
    engine.dispose()
    return times


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--deposits", type=int, default=10_000, help="deposits of the long account (full: 100000)")
    p.add_argument("--requests", type=int, default=200, help="timed rounds (each: two GETs, two caps)")
    p.add_argument("--warmup", type=int, default=20)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log(f"machine: {harness.describe_machine()}; code {harness.code_version()}; load {loadavg()}")
    dbname = f"bench_account_{uuid.uuid4().hex[:8]}"
    harness.create_database(args.pg_url, dbname)
    url, _ = harness.pg_urls(args.pg_url, dbname)
    try:
        seeded = seed(url, args.deposits)
        times = measure(url, seeded, args.requests, args.warmup)
        summed = journal_sum(url, seeded["LONG"]["account_id"], max(20, args.requests // 10))
    finally:
        harness.drop_database(args.pg_url, dbname)
    expected = Decimal(args.deposits * AMOUNT_FEN) / 100
    if Decimal(str(times.pop("balance")[0])).quantize(Decimal("0.01")) != expected:
        raise harness.BenchError(f"the long account's balance is not {expected}")
    ms = {name: {k: v * 1000 for k, v in harness.percentiles(t, 50, 99).items()} for name, t in times.items()}
    for name, p in ms.items():
        log(f"{name:10} p50 {p['p50']:7.2f} ms  p99 {p['p99']:7.2f} ms  ({len(times[name])} runs)")
    ratio_get = ms["get_long"]["p50"] / ms["get_empty"]["p50"]
    ratio_cap = ms["cap_long"]["p50"] / ms["cap_empty"]["p50"]
    summed_p50 = sorted(summed)[len(summed) // 2] * 1000
    log(f"ratio at {args.deposits:,} deposits / at 0 (p50): GET {ratio_get:.2f}, release cap {ratio_cap:.2f}")
    log(f"for comparison, the journal's grouped sum for the long account alone: p50 {summed_p50:.2f} ms")
    log(f"load average after: {loadavg()}")
    figures = {
        "deposits": args.deposits,
        **{f"{name}_{k}_ms": round(v, 2) for name, p in ms.items() for k, v in p.items()},
        "get_ratio": round(ratio_get, 3),
        "cap_ratio": round(ratio_cap, 3),
        "journal_sum_p50_ms": round(summed_p50, 2),
    }
    targets = {"get_ratio": f"<= {TARGET_RATIO}", "cap_ratio": f"<= {TARGET_RATIO}"}
    harness.verdict("account_cost", figures, targets, ratio_get <= TARGET_RATIO and ratio_cap <= TARGET_RATIO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
