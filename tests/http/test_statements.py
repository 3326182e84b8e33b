"""Statements through the API and the CLI: matching, suspense for unknown credits, discrepancies, re-import,
and the real sample files refused cleanly against CNY accounts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.store.db import UnitOfWork
from escrow.store.models import Deposit, JournalEntry, Statement, StatementLine, Voucher

SAMPLES = Path(__file__).parent.parent / "fixtures" / "samples"
TODAY = "2026-11-22"


def _count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def paid(project, flow) -> dict:
    """One accepted deposit of 265,950.00 with its voucher, on the project's account."""
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], "265950.00")
    deposit = flow.deposit(
        account_no=notice["account_no"],
        bank_reference="HSB-0001",
        amount="265950.00",
        payer_name="张伟",
        notice_no=notice["notice_no"],
        kind="down_payment",
        channel="transfer",
        value_date=TODAY,
    )
    return {"account_no": notice["account_no"], "deposit": deposit, "notice": notice}


def _statement(account_no: str, lines: list[dict], closing: str | None, opening: str = "0.00") -> dict:
    return {
        "account_no": account_no,
        "statement_date": TODAY,
        "opening_balance": opening,
        "closing_balance": closing,
        "lines": lines,
    }


def _line(ref: str, amount: str, direction: str = "credit", remittance: str = "") -> dict:
    return {
        "bank_reference": ref,
        "booked_on": TODAY,
        "amount": amount,
        "direction": direction,
        "counterparty_name": "张伟",
        "counterparty_account": "6217000012345678",
        "remittance": remittance,
    }


def _send(client, world, body, key="s1", who="bank", content_type="application/json"):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    return client.post(
        "/api/v1/statements", content=data, headers={**world.headers(who, key), "Content-Type": content_type}
    )


def test_a_matching_statement_reconciles_and_confirms_the_voucher(client, world, engine, paid):
    r = _send(client, world, _statement(paid["account_no"], [_line("HSB-0001", "265950.00")], "265950.00"))
    assert r.status_code == 201, r.text
    assert r.json() | {"statement_id": 0} == {
        "statement_id": 0,
        "account_no": paid["account_no"],
        "statement_date": TODAY,
        "matched": 1,
        "bank_only": 0,
        "books_only": 0,
        "balance_difference": "0.00",
        "status": "reconciled",
    }
    with UnitOfWork(engine, readonly=True) as uow:
        voucher = uow.deposits.voucher_by_no(paid["deposit"]["voucher"]["voucher_no"])
    assert voucher.status == "confirmed"
    account = client.get(f"/api/v1/accounts/{paid['account_no']}", headers=world.headers("bank")).json()
    assert account["reconciliation"] == {"last_statement_on": TODAY, "status": "reconciled"}


def test_matching_by_voucher_number_in_the_remittance(client, world, paid):
    voucher_no = paid["deposit"]["voucher"]["voucher_no"]
    line = _line("BANK-INTERNAL-77", "265950.00", remittance=f"购房款 {voucher_no}")
    r = _send(client, world, _statement(paid["account_no"], [line], "265950.00"))
    assert (r.json()["matched"], r.json()["status"]) == (1, "reconciled")


def test_a_credit_with_no_deposit_becomes_suspense_money(client, world, engine, paid):
    lines = [_line("HSB-0001", "265950.00"), _line("HSB-UNKNOWN", "5000.00", remittance="no notice")]
    r = _send(client, world, _statement(paid["account_no"], lines, "270950.00"))
    assert r.status_code == 201
    assert (r.json()["bank_only"], r.json()["status"]) == (1, "reconciled")
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(paid["account_no"])
        balances = uow.journal.balances(account.id)
        suspense = uow.deposits.by_reference(account.bank_id, "HSB-UNKNOWN")
        entries = uow.journal.entries(account.id)
    assert suspense.status == "suspense" and suspense.channel == "statement"
    assert balances.suspense == 500_000 and balances.cash == 27_095_000
    assert ledger.balance_equals_flows(entries)


def test_a_deposit_missing_from_the_statement_is_a_discrepancy(client, world, paid):
    r = _send(client, world, _statement(paid["account_no"], [], "0.00"))
    assert (r.json()["books_only"], r.json()["balance_difference"], r.json()["status"]) == (
        1,
        "-265950.00",
        "discrepancy",
    )
    account = client.get(f"/api/v1/accounts/{paid['account_no']}", headers=world.headers("bank")).json()
    assert account["reconciliation"]["status"] == "discrepancy"
    # a later statement that shows it reconciles the account again
    r = _send(
        client, world, _statement(paid["account_no"], [_line("HSB-0001", "265950.00")], "265950.00"), key="s2"
    )
    assert r.json()["status"] == "reconciled"


def test_a_closing_balance_difference_or_an_unexplained_debit_is_a_discrepancy(client, world, paid):
    r = _send(client, world, _statement(paid["account_no"], [_line("HSB-0001", "265950.00")], "265949.99"))
    assert (r.json()["balance_difference"], r.json()["status"]) == ("-0.01", "discrepancy")
    lines = [_line("HSB-0001", "265950.00"), _line("OUT-1", "100.00", direction="debit")]
    r = _send(client, world, _statement(paid["account_no"], lines, "265850.00"), key="s2")
    assert r.json()["status"] == "discrepancy"


def test_a_reversed_deposit_shown_with_its_reversal_reconciles(client, world, paid):
    r = client.post(
        "/api/v1/deposits/HSB-0001/reversal",
        json={"reason": "wrong payer"},
        headers=world.headers("bank", "rev"),
    )
    assert r.status_code == 201, r.text
    lines = [
        _line("HSB-0001", "265950.00"),
        _line("HSB-0001-R", "265950.00", direction="debit", remittance="冲正 HSB-0001"),
    ]
    r = _send(client, world, _statement(paid["account_no"], lines, "0.00"))
    assert r.status_code == 201, r.text
    assert (r.json()["books_only"], r.json()["balance_difference"], r.json()["status"]) == (
        0,
        "0.00",
        "reconciled",
    )


def test_importing_the_same_statement_twice_changes_nothing(client, world, engine, paid):
    body = _statement(
        paid["account_no"], [_line("HSB-0001", "265950.00"), _line("X-2", "10.00")], "265960.00"
    )
    first = _send(client, world, body, key="a")
    counts = [_count(engine, m) for m in (Statement, StatementLine, Deposit, JournalEntry)]
    again = _send(client, world, body, key="b")  # a new idempotency key: judged by content
    assert again.status_code == 200
    assert again.json() == first.json()
    assert [_count(engine, m) for m in (Statement, StatementLine, Deposit, JournalEntry)] == counts


@pytest.mark.parametrize(
    ("content_type", "payload", "words"),
    [
        (
            "text/csv",
            "account_no,bank_reference,booked_on,direction,amount\n62220000,R1,2026-11-22,credit,12.001\n",
            "line 2",
        ),
        (
            "application/json",
            '{"account_no": "x", "statement_date": "2026-11-22", "lines": [{"amount": 5}]}',
            "",
        ),
        ("application/xml", "<Document>not camt</Document>", ""),
    ],
)
def test_malformed_statements_are_422_and_keep_nothing(
    client, world, engine, paid, content_type, payload, words
):
    before = [_count(engine, m) for m in (Statement, Deposit, JournalEntry)]
    r = _send(client, world, payload.encode(), content_type=content_type)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert words in r.json()["detail"] + json.dumps(r.json().get("errors", []))
    assert [_count(engine, m) for m in (Statement, Deposit, JournalEntry)] == before


@pytest.mark.parametrize(
    ("case", "content_type", "field"),
    [
        ("long reference", "application/json", "lines[0].bank_reference"),
        ("NUL in a name", "application/json", "lines[0].counterparty_name"),
        ("NUL in the account", "application/json", "account_no"),
        ("long reference", "text/csv", "line 2"),
    ],
)
def test_what_the_books_cannot_keep_is_422_on_both_engines(
    client, world, engine, paid, case, content_type, field
):
    """A bank reference longer than its column, or the NUL character in any text: PostgreSQL refused them
    mid-import and the API answered 404 "a value is out of range" (SQLite kept them). Both refuse the file
    before anything changes now, naming the place."""
    account_no, line = paid["account_no"], _line("HSB-0001", "265950.00")
    if case == "long reference":
        line["bank_reference"] = "R" * 65
    elif case == "NUL in a name":
        line["counterparty_name"] = "张\x00伟"
    else:
        account_no += "\x00"
    if content_type == "text/csv":
        payload = (
            "account_no,bank_reference,booked_on,direction,amount\n"
            f"{account_no},{line['bank_reference']},{TODAY},credit,265950.00\n"
        ).encode()
    else:
        payload = _statement(account_no, [line], "265950.00")
    before = [_count(engine, m) for m in (Statement, StatementLine, Deposit, JournalEntry)]
    r = _send(client, world, payload, content_type=content_type)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field], r.json()
    assert [_count(engine, m) for m in (Statement, StatementLine, Deposit, JournalEntry)] == before


def test_a_statement_for_another_banks_account_is_an_unknown_account(client, world, engine, paid):
    r = _send(client, world, _statement(paid["account_no"], [_line("Z", "1.00")], "1.00"), who="other_bank")
    assert r.status_code == 422
    assert "unknown account" in r.json()["detail"]
    assert _count(engine, Statement) == 0


SAMPLE_FILES = sorted(p for p in SAMPLES.glob("*/*") if p.suffix in (".xml", ".sta"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_real_sample_files_are_refused_cleanly_against_our_accounts(client, world, engine, paid, sample):
    content_type = "application/xml" if sample.suffix == ".xml" else "text/plain"
    r = _send(client, world, sample.read_bytes(), key=sample.name, content_type=content_type)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    if "wrong" in sample.name or "broken" in sample.name:
        assert "unknown account" not in detail  # refused for being broken, with the problem named
    elif "amount_formats" in sample.name:  # balances only, no account: the missing field is named
        assert ":25:" in detail and "unknown account" not in detail
    else:
        assert "unknown account" in detail or "currency EUR, account is CNY" in detail
    assert _count(engine, Statement) == 0 and _count(engine, Deposit) == 1


def test_the_cli_imports_a_csv_with_chinese_headers(engine, db_url, paid, tmp_path, monkeypatch, capsys):
    from escrow.cli import main

    csv = (
        "\ufeff账号,交易流水号,记账日期,借贷标志,交易金额,对方户名,对方账号,摘要\n"
        f'{paid["account_no"]},HSB-0001,{TODAY},贷,"265,950.00",张伟,6217000012345678,首付款\n'
    )
    path = tmp_path / "statement.csv"
    path.write_text(csv, encoding="utf-8")
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    assert main(["import-statement", str(path), "--bank", "HSB"]) == 0
    out = capsys.readouterr().out
    assert "reconciled, 1 matched" in out
    assert main(["import-statement", str(path), "--bank", "HSB"]) == 0
    assert "already imported" in capsys.readouterr().out
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(Voucher.status)) == "confirmed"


def test_the_cli_names_the_line_of_a_malformed_csv(db_url, paid, tmp_path, monkeypatch, capsys):
    from escrow.cli import main

    path = tmp_path / "bad.csv"
    path.write_text(
        "account_no,bank_reference,booked_on,direction,amount\n"
        f"{paid['account_no']},A,{TODAY},credit,1.00\n{paid['account_no']},B,2026-13-01,credit,1.00\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    assert main(["import-statement", str(path), "--bank", "HSB"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.csv" in err[0] and "line 3" in err[0]
