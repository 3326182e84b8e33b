"""Concurrent requests against a live server: one effect per idempotency key and per bank reference, and
books that always balance. Runs on both engines; PostgreSQL exercises row locks, SQLite its write lock."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.store.db import UnitOfWork
from escrow.store.models import Deposit, Release
from tests import live
from tests.conftest import project_body

WORKERS = 32


def _deposit_body(account_no: str, ref: str, amount: str = "1000.00") -> dict:
    return {
        "account_no": account_no,
        "bank_reference": ref,
        "amount": amount,
        "payer_name": "王芳",
        "notice_no": None,
        "channel": "transfer",
        "value_date": "2026-11-22",
    }


def test_one_idempotency_key_one_effect_under_concurrency(app, world, project, engine):
    with live.serve(app) as base, ThreadPoolExecutor(WORKERS) as pool:

        def send(_: int):
            with live.client(base) as c:
                r = c.post(
                    "/api/v1/deposits",
                    json=_deposit_body(project["account_no"], "SAME-KEY-REF"),
                    headers=world.headers("bank", "one-key"),
                )
                return r.status_code, r.content

        results = list(pool.map(send, range(WORKERS)))
    assert {status for status, _ in results} == {201}
    assert len({body for _, body in results}) == 1  # every reply is the first reply
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(project["account_no"])
        entries = uow.journal.entries(account.id)
    assert len(entries) == 1


def test_each_bank_reference_is_booked_once_and_the_books_balance(app, world, project, engine):
    refs = [f"REF-{i % 40:03d}" for i in range(160)]  # every reference sent four times, each with its own key
    with live.serve(app) as base, ThreadPoolExecutor(WORKERS) as pool:

        def send(i: int):
            with live.client(base) as c:
                r = c.post(
                    "/api/v1/deposits",
                    json=_deposit_body(project["account_no"], refs[i], "1234.56"),
                    headers=world.headers("bank", f"key-{i}"),
                )
                return r.status_code, r.json()

        results = list(pool.map(send, range(len(refs))))
    assert all(status in (200, 201) for status, _ in results), results
    by_ref: dict[str, set[int]] = {}
    for i, (_, body) in enumerate(results):
        by_ref.setdefault(refs[i], set()).add(body["deposit_id"])
    assert all(len(ids) == 1 for ids in by_ref.values())
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(project["account_no"])
        entries = uow.journal.entries(account.id)
        balances = uow.journal.balances(account.id)
    assert len(entries) == 40
    assert balances.cash == 40 * 123_456
    assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
    assert ledger.balance_equals_flows(entries) and ledger.balance_never_negative(entries)


def test_32_concurrent_deposits_on_a_few_accounts_leave_their_maintained_balances_exact(
    app, client, world, engine
):
    """The maintained sums are added to by upserts on one row per account and ledger: 32 workers depositing
    on three accounts at once lose no addition (PostgreSQL's row locks, SQLite's write lock)."""
    accounts = []
    for n in range(3):
        body = project_body(permit_no=f"衡预售2025-30{n}", account_no=f"62220000333300{n}", name=f"C{n}")
        r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{n}"))
        assert r.status_code == 201, r.text
        accounts.append(body["account_no"])
    sends = [(accounts[i % 3], f"MB-{i:03d}", 100_00 + i) for i in range(96)]  # (account, reference, fen)
    with live.serve(app) as base, ThreadPoolExecutor(WORKERS) as pool:

        def send(job: tuple[str, str, int]) -> int:
            account_no, ref, fen = job
            with live.client(base) as c:
                body = _deposit_body(account_no, ref, f"{fen // 100}.{fen % 100:02d}")
                return c.post("/api/v1/deposits", json=body, headers=world.headers("bank", ref)).status_code

        assert set(pool.map(send, sends)) == {201}
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.journal.maintained_figures() == uow.journal.summed_figures()
        for account_no in accounts:
            account_id = uow.projects.account_by_no(account_no).id
            sent = sum(fen for no, _, fen in sends if no == account_no)
            balances = uow.journal.balances(account_id)
            assert (balances.cash, balances.suspense, uow.journal.received_fen(account_id)) == (
                sent,
                sent,
                sent,
            )


def test_32_workers_depositing_approving_and_executing_never_break_the_books(
    app, client, world, flow, engine
):
    """Deposits (with repeated references and repeated idempotency keys), twelve releases of 1,000,000.00
    racing through review and approval while only 5,000,000.00 may leave, and two bank executors racing on
    every instruction. Afterwards: no 5xx, every reference and key had one effect, exactly the cap left the
    account, and at no point in the journal did releases take it below its required retention."""
    from tests.http.test_api_releases import confirm, fund, release_body

    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open"),
    )
    project = r.json()
    account_no = project["account_no"]
    fund(flow, "12000000.00")  # balance 12m; retention after half_structure: 7m; releasable 5m
    confirm(client, world, project["project_id"])
    release_ids = []
    for i in range(12):
        r = client.post(
            "/api/v1/releases",
            json=release_body(project["project_id"], "1000000.00"),
            headers=world.headers("developer", f"apply-{i}"),
        )
        assert r.status_code == 201, r.text
        release_ids.append(r.json()["release_id"])

    statuses: list[int] = []

    def deposit(i: int, c) -> None:
        ref = f"C-{i % 20:02d}"  # twenty references, each sent twice under different keys
        key = "repeated-key" if i >= 40 else f"dep-{i}"
        body = _deposit_body(account_no, "C-REPEATED-KEY" if i >= 40 else ref, "500.00")
        statuses.append(c.post("/api/v1/deposits", json=body, headers=world.headers("bank", key)).status_code)

    def approve(release_id: int, c) -> None:
        for who in ("reviewer", "approver"):
            r = c.post(
                f"/api/v1/releases/{release_id}/decisions",
                json={"decision": "approve", "comment": "ok"},
                headers=world.headers(who, f"{who}-{release_id}"),
            )
            statuses.append(r.status_code)
            if r.status_code != 201:
                return

    def execute(n: int, c) -> None:
        for sweep in range(6):
            pending = c.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
            for item in pending:
                r = c.post(
                    f"/api/v1/instructions/{item['instruction_id']}/execution",
                    json={"bank_reference": f"OUT-{item['instruction_id']}", "executed_on": "2026-11-22"},
                    headers=world.headers("bank", f"exec-{item['instruction_id']}-{n}-{sweep}"),
                )
                statuses.append(r.status_code)
            time.sleep(0.05)

    tasks = [("d", i) for i in range(50)] + [("a", rid) for rid in release_ids] + [("e", n) for n in range(2)]
    with live.serve(app) as base, ThreadPoolExecutor(WORKERS) as pool:

        def run(task):
            kind, arg = task
            with live.client(base) as c:
                {"d": deposit, "a": approve, "e": execute}[kind](arg, c)

        list(pool.map(run, tasks))
        with live.client(base) as c:  # whatever the racing executors left pending
            execute(99, c)

    assert all(s < 500 for s in statuses), statuses
    with UnitOfWork(engine, readonly=True) as uow:
        acct = uow.projects.account_by_no(account_no)
        entries = uow.journal.entries(acct.id)
        refs = uow.session.execute(
            select(Deposit.bank_reference, func.count())
            .where(Deposit.account_id == acct.id)
            .group_by(Deposit.bank_reference)
        ).all()
        released = uow.session.scalars(select(Release.status)).all()
        assert uow.journal.maintained_figures() == uow.journal.summed_figures()
    assert all(n == 1 for _, n in refs)
    assert len(refs) == 1 + 20 + 1  # the funding deposit, twenty references, one repeated key
    assert sorted(released).count("executed") == 5  # exactly the 5,000,000.00 that was releasable
    assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
    assert ledger.balance_equals_flows(entries) and ledger.balance_never_negative(entries)
    retention = 700_000_000  # 10,000,000.00 × 0.70, in fen
    cash = suspense = 0
    for e in entries:
        cash += e.cash_effect_fen
        suspense -= sum(leg.amount_fen for leg in e.legs if leg.ledger is ledger.Ledger.SUSPENSE)
        if e.kind is ledger.EntryKind.RELEASE:
            assert cash - suspense >= retention, (e, cash, suspense)
