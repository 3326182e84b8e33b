"""A deposit's SQL statements, counted against a budget so that the lean deposit path (issue 13) cannot creep
back; and a key revoked while its principal is cached never books money."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event, select

from escrow.store.db import UnitOfWork
from escrow.store.models import ApiKey, Deposit

# Statements of one POST /api/v1/deposits with an Idempotency-Key that pays a notice in full, the key's
# principal already known to the process; transaction control (BEGIN, COMMIT) not counted. Before issue 13:
# 30 on SQLite.
DEPOSIT_BUDGET = {"sqlite": 14, "postgresql": 13}


@contextmanager
def statements(engine):
    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _body(notice: dict, reference: str) -> dict:
    return {
        "account_no": notice["account_no"],
        "bank_reference": reference,
        "amount": notice["amount"],
        "payer_name": "张伟",
        "payer_account": "6217000012345678",
        "notice_no": notice["notice_no"],
        "kind": notice["kind"],
        "channel": "transfer",
        "value_date": "2026-11-22",
    }


def _two_notices(flow) -> tuple[dict, dict]:
    first = flow.notice(flow.contract()["contract_no"], "265950.00")
    other = flow.contract(contract_no="HT-2025-0002", unit="3-2-1802")
    return first, flow.notice(other["contract_no"], "100000.00")


def test_a_deposit_stays_within_its_statement_budget(client, world, engine, project, flow):
    first, second = _two_notices(flow)
    headers = world.headers("bank", "warm-up")
    assert client.post("/api/v1/deposits", json=_body(first, "REF-1"), headers=headers).status_code == 201
    with statements(engine) as seen:
        r = client.post(
            "/api/v1/deposits", json=_body(second, "REF-2"), headers=world.headers("bank", "counted")
        )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted"
    assert r.json()["voucher"]["voucher_no"].startswith("PZ")
    budget = DEPOSIT_BUDGET[engine.dialect.name]
    assert len(seen) <= budget, f"{len(seen)} statements:\n" + "\n---\n".join(seen)


def test_a_key_revoked_after_a_request_books_no_money(client, world, engine, project, flow):
    first, second = _two_notices(flow)
    ok = client.post("/api/v1/deposits", json=_body(first, "REF-1"), headers=world.headers("bank", "k1"))
    assert ok.status_code == 201, ok.text  # the key's principal is now cached by this process
    with UnitOfWork(engine) as uow:  # revoked elsewhere (another process): this one's cache still has it
        for key in uow.session.scalars(select(ApiKey).where(ApiKey.bank_id.is_not(None))):
            key.revoked_at = datetime.now(UTC)
        uow.commit()
    r = client.post("/api/v1/deposits", json=_body(second, "REF-2"), headers=world.headers("bank", "k2"))
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(Deposit).where(Deposit.bank_reference == "REF-2")) is None


def test_a_revoked_key_is_refused_at_once_outside_the_deposit_path(client, world, engine, project, flow):
    """Only the deposit posting reads its principal from the cache (it re-checks the key when booking);
    every other request reads the key afresh, so a key revoked a moment ago gets nothing."""
    first, _ = _two_notices(flow)
    ok = client.post("/api/v1/deposits", json=_body(first, "REF-1"), headers=world.headers("bank", "k1"))
    assert ok.status_code == 201, ok.text  # the key's principal is now cached by this process
    account_no = ok.json()["account_no"]
    with UnitOfWork(engine) as uow:
        for key in uow.session.scalars(select(ApiKey).where(ApiKey.bank_id.is_not(None))):
            key.revoked_at = datetime.now(UTC)
        uow.commit()
    for path in (f"/api/v1/accounts/{account_no}", "/api/v1/deposits/REF-1", "/api/v1/accounts"):
        r = client.get(path, headers=world.headers("bank"))
        assert r.status_code == 401, (path, r.text)
