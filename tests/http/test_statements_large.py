"""A large statement is reconciled in batches, never held whole (issue 13): the counts come out right, and a
malformed line near its end is named and keeps nothing - through the API (the body) and the CLI (the file)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, insert, select

from escrow.store.db import UnitOfWork
from escrow.store.models import Deposit, JournalEntry, JournalLeg, Statement, StatementLine

TODAY = "2026-11-22"
DAY = date(2026, 11, 22)
LINES = 50_000
UNBOOKED = 10  # credits with no deposit: booked to suspense
AMOUNT_FEN = 123_456
HEADER = (
    "account_no,bank_reference,booked_on,direction,amount,counterparty_name,counterparty_account,remittance\n"
)

pytestmark = pytest.mark.slow


@pytest.fixture
def booked(engine, paid_account) -> str:
    """The account of the statement, with LINES - UNBOOKED accepted deposits (and their journal) besides the
    one paid through the API, written in bulk: the statement's subject is the reconciliation."""
    with UnitOfWork(engine) as uow:
        account = uow.projects.account_by_no(paid_account)
        rulebook = uow.session.scalar(select(Deposit.rulebook_id))
        ids = uow.session.scalars(
            insert(Deposit).returning(Deposit.id),
            [
                {
                    "account_id": account.id,
                    "bank_id": account.bank_id,
                    "bank_reference": f"B{i:09d}",
                    "amount_fen": AMOUNT_FEN,
                    "payer_name": "买受人",
                    "kind": "down_payment",
                    "channel": "transfer",
                    "value_date": DAY,
                    "status": "accepted",
                    "checks": [],
                    "rulebook_id": rulebook,
                }
                for i in range(1, LINES - UNBOOKED + 1)
            ],
        ).all()
        entries = uow.session.scalars(
            insert(JournalEntry).returning(JournalEntry.id),
            [
                {
                    "account_id": account.id,
                    "kind": "deposit",
                    "booked_on": DAY,
                    "reference": f"deposit:{i}",
                    "amount_fen": AMOUNT_FEN,
                }
                for i in ids
            ],
        ).all()
        uow.session.execute(
            insert(JournalLeg),
            [
                {"entry_id": e, "account_id": account.id, "ledger": ledger, "amount_fen": sign * AMOUNT_FEN}
                for e in entries
                for ledger, sign in (("cash", 1), ("buyer_funds", -1))
            ],
        )
        uow.commit()
    return paid_account


@pytest.fixture
def paid_account(project, flow) -> str:
    """The project's account, with one deposit of 265,950.00 (HSB-0001) paid through the API."""
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], "265950.00")
    flow.deposit(
        account_no=notice["account_no"],
        bank_reference="HSB-0001",
        amount="265950.00",
        payer_name="张伟",
        notice_no=notice["notice_no"],
        kind="down_payment",
        channel="transfer",
        value_date=TODAY,
    )
    return notice["account_no"]


def _csv(account_no: str, *, bad_line: int | None = None, repeat_at: int | None = None) -> bytes:
    """The statement: the API's deposit, LINES credits (the last UNBOOKED unknown to the books), and the
    closing balance; `bad_line` (a physical line) gets a malformed amount, `repeat_at` repeats line 3's
    reference."""
    rows = [HEADER, f"{account_no},HSB-0001,{TODAY},credit,265950.00,张伟,6217000012345678,首付款\n"]
    for i in range(1, LINES + 1):
        amount = "1234.56"
        ref = f"B{i:09d}"
        line = len(rows) + 1
        if line == bad_line:
            amount = "12.3.4"
        if line == repeat_at:
            ref = "B000000001"
        rows.append(f"{account_no},{ref},{TODAY},credit,{amount},买受人,6217000012345678,购房款 B{i:09d}\n")
    closing = 26_595_000 + LINES * AMOUNT_FEN
    rows.append(f"{account_no},,{TODAY},closing,{closing // 100}.{closing % 100:02d},,,\n")
    return "".join(rows).encode()


def _counts(engine) -> tuple[int, int, int, int]:
    with UnitOfWork(engine, readonly=True) as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (Statement, StatementLine, Deposit, JournalEntry)
        )


def _send(client, world, data: bytes, key: str):
    headers = {**world.headers("bank", key), "Content-Type": "text/csv"}
    return client.post("/api/v1/statements", content=data, headers=headers)


def test_a_large_statement_reconciles_with_the_right_counts(client, world, engine, booked):
    r = _send(client, world, _csv(booked), "large")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["matched"], body["bank_only"], body["books_only"]) == (LINES - UNBOOKED + 1, UNBOOKED, 0)
    assert (body["status"], body["balance_difference"]) == ("reconciled", "0.00")
    statements, lines, deposits, _ = _counts(engine)
    assert (statements, lines, deposits) == (1, LINES + 1, LINES + 1)  # the unbooked ten now in suspense
    with UnitOfWork(engine, readonly=True) as uow:
        line_no = StatementLine.line_no
        numbers = uow.session.execute(select(func.min(line_no), func.max(line_no)))
        assert tuple(numbers.one()) == (2, LINES + 2)  # physical lines: the header is line 1
        assert uow.session.scalar(select(func.count()).where(Deposit.status == "suspense")) == UNBOOKED
    again = _send(client, world, _csv(booked), "large-again")
    assert again.status_code == 200 and again.json()["statement_id"] == body["statement_id"]
    assert _counts(engine)[:3] == (1, LINES + 1, LINES + 1)


def test_a_malformed_line_near_the_end_of_a_large_statement_keeps_nothing(client, world, engine, booked):
    before = _counts(engine)
    bad = LINES  # two lines before the closing row
    r = _send(client, world, _csv(booked, bad_line=bad), "bad")
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"line {bad}: amount '12.3.4'")
    assert _counts(engine) == before


def test_a_repeated_reference_near_the_end_names_its_first_line(client, world, engine, booked):
    before = _counts(engine)
    r = _send(client, world, _csv(booked, repeat_at=LINES + 1), "repeat")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    repeated = "bank_reference 'B000000001' appears twice in the file (first on line 3)"
    assert detail == f"line {LINES + 1}: {repeated}"
    assert _counts(engine) == before


def test_the_cli_reads_a_large_file_and_names_a_late_malformed_line(
    engine, db_url, booked, tmp_path, monkeypatch, capsys
):
    from escrow.cli import main

    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    path = tmp_path / "large.csv"
    before = _counts(engine)
    path.write_bytes(_csv(booked, bad_line=LINES + 1))
    assert main(["import-statement", str(path), "--bank", "HSB"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"line {LINES + 1}: amount" in err[0], err
    assert _counts(engine) == before
    path.write_bytes(_csv(booked))
    assert main(["import-statement", str(path), "--bank", "HSB"]) == 0
    assert f"reconciled, {LINES - UNBOOKED + 1} matched, {UNBOOKED} bank only, 0 books only" in (
        capsys.readouterr().out
    )
