"""A large statement is reconciled in batches, never held whole (issue 13): the counts come out right, and a
malformed line near its end is named and keeps nothing - through the API (the body) and the CLI (the file).

Its import never holds the database's write lock for its whole run (issue 15): its lines are staged a batch a
transaction and the statement is published in one short transaction (escrow.services.reconcile, migration
0028). Other writes go through between the batches, the result is the one the statement always had, and
nothing of a staging is left behind."""

from __future__ import annotations

import queue
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from escrow.services import parties, reconcile
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    Deposit,
    JournalEntry,
    JournalLeg,
    Statement,
    StatementLine,
    StatementStagedLine,
    StatementStaging,
)
from tests.conftest import project_body, seeded, seeded_module

TODAY = "2026-11-22"
DAY = date(2026, 11, 22)
LINES = 50_000
UNBOOKED = 10  # credits with no deposit: booked to suspense
AMOUNT_FEN = 123_456
HEADER = (
    "account_no,bank_reference,booked_on,direction,amount,counterparty_name,counterparty_account,remittance\n"
)

pytestmark = pytest.mark.slow


def _booked(client, world, flow) -> str:
    """The account of the statement, with LINES - UNBOOKED accepted deposits (and their journal) besides the
    one paid through the API, written in bulk: the statement's subject is the reconciliation. Written once
    per engine for the module; each test imports into a copy (tests.conftest.seeded_module)."""
    paid_account = _paid_account(client, world, flow)
    with UnitOfWork(client.app.state.runtime.engine) as uow:
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


def _paid_account(client, world, flow) -> str:
    """A project's account, with one deposit of 265,950.00 (HSB-0001) paid through the API."""
    r = client.post("/api/v1/projects", json=project_body(), headers=world.headers("admin", "seed-open"))
    assert r.status_code == 201, r.text
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


db_url = seeded_module(_booked)


@pytest.fixture
def booked(request: pytest.FixtureRequest) -> str:
    """The statement's account number (`_booked`)."""
    return seeded(request)


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


# --- issue 15: staged, never one long write transaction ------------------------------------------------

EXPECTED = {
    "matched": LINES - UNBOOKED + 1,
    "bank_only": UNBOOKED,
    "books_only": 0,
    "status": "reconciled",
    "balance_difference": "0.00",
}


def _staged(engine) -> tuple[int, int]:
    with UnitOfWork(engine, readonly=True) as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (StatementStaging, StatementStagedLine)
        )


def _result(view) -> dict:
    return {
        "matched": view.matched,
        "bank_only": view.bank_only,
        "books_only": view.books_only,
        "status": view.status,
        "balance_difference": str(view.balance_difference),
    }


def _import_beside(app, path, write) -> tuple[object, list[tuple[str, int]]]:
    """Import the statement at `path` in a thread of its own; after each batch it stages (committed, the
    write lock released) it waits while this thread calls `write(batch number)`. The import's result, and
    the order of events: ("staged", lines so far) and ("wrote", batch number)."""
    ctx = app.state.runtime.ctx
    actor = parties.bank_principal(ctx, "HSB")
    staged_q: queue.Queue = queue.Queue()
    resume: queue.Queue = queue.Queue()
    events: list[tuple[str, int]] = []
    outcome: dict = {}

    def progress(done: int, total: int) -> None:
        events.append(("staged", done))
        staged_q.put(done)
        resume.get(timeout=300)  # a safety net against a hang, not a timing assertion

    def run() -> None:
        try:
            outcome["view"] = reconcile.import_file(ctx, path, actor, filename=path.name, progress=progress)
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            staged_q.put(None)

    worker = threading.Thread(target=run)
    worker.start()
    batch = 0
    while (item := staged_q.get(timeout=600)) is not None:
        batch += 1
        write(batch)
        events.append(("wrote", batch))
        resume.put(item)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["view"], events


@pytest.fixture
def other_account(client, world) -> str:
    """An account at the other bank, OTB, whose deposits are the other writes."""
    body = project_body(permit_no="衡预售2025-099", account_no="6222000099990000", bank_code="OTB")
    r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", "open-other"))
    assert r.status_code == 201, r.text
    return body["account_no"]


def _deposit(client, world, who: str, account_no: str, reference: str) -> None:
    r = client.post(
        "/api/v1/deposits",
        json={
            "account_no": account_no,
            "bank_reference": reference,
            "amount": "1000.00",
            "payer_name": "李娜",
            "channel": "transfer",
            "value_date": TODAY,
        },
        headers=world.headers(who, f"dep-{reference}"),
    )
    assert r.status_code == 201, r.text  # never 503: no transaction holds the write lock between batches


def test_other_writes_go_through_while_a_large_statement_is_imported(
    app, client, world, engine, booked, other_account, tmp_path
):
    path = tmp_path / "large.csv"
    path.write_bytes(_csv(booked))
    view, events = _import_beside(
        app, path, lambda n: _deposit(client, world, "other_bank", other_account, f"OTB-{n:04d}")
    )
    # each write happened after a batch was staged and before the next one was: while the import ran
    staged = [done for kind, done in events if kind == "staged"]
    assert staged == sorted(staged) and staged[-1] == LINES + 1
    batches = len(staged)
    assert batches >= (LINES + 1) // reconcile.STAGE_LINES  # batches of about STAGE_LINES lines
    assert [n for kind, n in events if kind == "wrote"] == list(range(1, batches + 1))
    assert [kind for kind, _ in events[:4]] == ["staged", "wrote", "staged", "wrote"]
    assert _result(view) == EXPECTED
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(StatementLine)) == LINES + 1
        account = uow.projects.account_by_no(other_account)
        assert uow.journal.balances(account.id).cash == batches * 100_000  # every write was booked
    assert _staged(engine) == (0, 0)  # the staging is gone


def test_a_write_to_the_same_account_during_staging_restages_and_counts(
    app, client, world, engine, booked, tmp_path
):
    """A deposit on the statement's own account while its lines are staged: the books moved, the lines are
    staged again, and the result is the one a statement imported after that deposit has (it is books
    only)."""
    path = tmp_path / "large.csv"
    path.write_bytes(_csv(booked))

    def write(n: int) -> None:
        if n == 1:
            _deposit(client, world, "bank", booked, "HSB-LATE")

    view, events = _import_beside(app, path, write)
    staged = [done for kind, done in events if kind == "staged"]
    assert staged.count(LINES + 1) == 2  # staged twice: the first staging was stale
    assert _result(view) == {
        **EXPECTED,
        "books_only": 1,
        "status": "discrepancy",
        "balance_difference": "-1000.00",
    }
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Statement)) == 1
        assert uow.session.scalar(select(func.count()).select_from(StatementLine)) == LINES + 1
    assert _staged(engine) == (0, 0)


def test_a_refused_import_and_an_interrupted_one_leave_no_staging(app, engine, booked, tmp_path):
    ctx = app.state.runtime.ctx
    actor = parties.bank_principal(ctx, "HSB")
    with UnitOfWork(engine) as uow:  # what an import interrupted two days ago left
        account = uow.projects.account_by_no(booked)
        staging = StatementStaging(account_id=account.id, created_at=datetime.now(UTC) - timedelta(days=2))
        uow.session.add(staging)
        uow.session.flush()
        uow.stagings.insert(
            [(staging.id, 2, "LEFT-1", TODAY, 100, "credit", "payment", "", "", "", "pending", None)]
        )
        uow.commit()
    assert _staged(engine) == (1, 1)
    path = tmp_path / "small.csv"
    closing = "2659.50"  # not the books' balance: a discrepancy, still published
    path.write_text(
        "account_no,bank_reference,booked_on,direction,amount,counterparty_name,counterparty_account,remittance\n"
        f"{booked},HSB-0001,{TODAY},credit,265950.00,张伟,6217000012345678,首付款\n"
        f"{booked},,{TODAY},closing,{closing},,,\n",
        encoding="utf-8",
    )
    view = reconcile.import_file(ctx, path, actor, filename=path.name)
    assert view.status == "discrepancy"
    assert _staged(engine) == (0, 0)  # the stale staging pruned, this one dropped
    # an account this bank does not supervise: refused before anything is staged
    path.write_text(path.read_text(encoding="utf-8").replace(booked, "6222000000000000"), encoding="utf-8")
    with pytest.raises(reconcile.StatementRefused):
        reconcile.import_file(ctx, path, actor, filename=path.name)
    assert _staged(engine) == (0, 0)
