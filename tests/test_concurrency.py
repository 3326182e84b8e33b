"""Concurrent requests against a live server: one effect per idempotency key and per bank reference, and
books that always balance. Runs on both engines; PostgreSQL exercises row locks, SQLite its write lock."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from escrow.domain import ledger
from escrow.store.db import UnitOfWork
from tests import live

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
