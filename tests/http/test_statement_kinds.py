"""Statements as banks send them (CONTRACT.md §9, issue 11): interest (结息) and fees (手续费) in all four
formats booked as the account's own movements and reconciled; camt.054 notifications; statements outside the
account's life; a ZIP of camt files; media types no parser reads; the MT940 ETX trailer and a missing :25:."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.services import auditing
from escrow.store.db import UnitOfWork
from escrow.store.models import Deposit, JournalEntry, Statement, StatementLine, SupervisedAccount

SAMPLES = Path(__file__).parent.parent / "fixtures" / "samples"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "statements"
TODAY = "2026-11-22"
MODELS = (Statement, StatementLine, Deposit, JournalEntry)


def _counts(engine) -> list[int]:
    with UnitOfWork(engine, readonly=True) as uow:
        return [uow.session.scalar(select(func.count()).select_from(m)) for m in MODELS]


def _books(engine, account_no: str) -> tuple[ledger.Balances, list[ledger.Entry]]:
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(account_no)
        return uow.journal.balances(account.id), uow.journal.entries(account.id)


@pytest.fixture
def paid(project, flow) -> dict:
    """One accepted deposit of 265,950.00 with its voucher, on the project's account (opened 2025-03-05)."""
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
    return {
        "account_no": notice["account_no"],
        "deposit": deposit,
        "notice": notice,
        "project_id": project["project_id"],
    }


def _line(ref: str, amount: str, direction: str = "credit", remittance: str = "", **extra) -> dict:
    return {
        "bank_reference": ref,
        "booked_on": TODAY,
        "amount": amount,
        "direction": direction,
        "counterparty_name": "",
        "counterparty_account": "",
        "remittance": remittance,
        **extra,
    }


def _json(account_no: str, lines: list[dict], closing: str | None, date: str = TODAY) -> bytes:
    body = {"account_no": account_no, "statement_date": date, "closing_balance": closing, "lines": lines}
    return json.dumps(body).encode()


def _send(client, world, data: bytes, key="s1", content_type="application/json", who="bank"):
    headers = {**world.headers(who, key)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post("/api/v1/statements", content=data, headers=headers)


# -- four formats, one day: the buyer's payment, the quarter's interest and a fee ----------------------------

DEPOSIT, INTEREST, FEE = "265950.00", "812.34", "15.00"
CLOSING = str(Decimal(DEPOSIT) + Decimal(INTEREST) - Decimal(FEE))  # 266747.34


def camt(
    account_no: str,
    entries: list[tuple[str, str, str, str | None]],
    *,
    kind: str = "053",
    closing: str | None = None,
    day: str = TODAY,
) -> bytes:
    """A camt.053 statement or camt.054 notification: entries (reference, amount, CRDT|DBIT, family/sub-family
    code such as "ACMT/MCOP/INTR" or "PRTRY:NCHG" or None)."""
    tag, message = ("Stmt", "BkToCstmrStmt") if kind == "053" else ("Ntfctn", "BkToCstmrDbtCdtNtfctn")
    balance = ""
    if closing is not None:
        balance = (
            f"<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy='CNY'>{closing}</Amt>"
            f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
        )
    body = ""
    for ref, amount, indicator, code in entries:
        code_xml = ""
        if code and code.startswith("PRTRY:"):
            code_xml = f"<BkTxCd><Prtry><Cd>{code[6:]}</Cd><Issr>SWIFT</Issr></Prtry></BkTxCd>"
        elif code:
            domain, family, sub = code.split("/")
            code_xml = (
                f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly>"
                "</Domn></BkTxCd>"
            )
        body += (
            f"<Ntry><Amt Ccy='CNY'>{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>{code_xml}</Ntry>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.08'>"
        f"<{message}><GrpHdr><MsgId>M-{day}</MsgId><CreDtTm>{day}T18:00:00+08:00</CreDtTm></GrpHdr>"
        f"<{tag}><Id>{kind}-{day}</Id><CreDtTm>{day}T18:00:00+08:00</CreDtTm><Acct><Id><Othr><Id>{account_no}"
        f"</Id></Othr></Id><Ccy>CNY</Ccy></Acct>{balance}{body}</{tag}></{message}></Document>"
    ).encode()


def _in_json(account_no: str) -> tuple[bytes, str]:
    lines = [
        _line("HSB-0001", DEPOSIT),
        _line("INT-2026Q4", INTEREST, kind="interest", remittance="Q4"),
        _line("FEE-1122", FEE, "debit", kind="fee"),
    ]
    return _json(account_no, lines, CLOSING), "application/json"


def _in_csv(account_no: str) -> tuple[bytes, str]:
    text = (
        "账号,交易流水号,记账日期,借贷标志,交易金额,对方户名,对方账号,摘要\n"
        f"{account_no},HSB-0001,{TODAY},贷,{DEPOSIT},张伟,6217000012345678,首付款\n"
        f"{account_no},INT-2026Q4,{TODAY},贷,{INTEREST},,,第四季度结息\n"
        f"{account_no},FEE-1122,{TODAY},借,{FEE},,,跨行汇款手续费\n"
        f"{account_no},,{TODAY},期末余额,{CLOSING},,,\n"
    )
    return text.encode(), "text/csv"


def _in_csv_kind_column(account_no: str) -> tuple[bytes, str]:
    text = (
        "account_no,bank_reference,booked_on,direction,amount,remittance,kind\n"
        f"{account_no},HSB-0001,{TODAY},credit,{DEPOSIT},down payment,\n"
        f"{account_no},INT-2026Q4,{TODAY},credit,{INTEREST},quarter,interest\n"
        f"{account_no},FEE-1122,{TODAY},debit,{FEE},,fee\n"
        f"{account_no},,{TODAY},closing,{CLOSING},,\n"
    )
    return text.encode(), "text/csv"


def _in_mt940(account_no: str) -> tuple[bytes, str]:
    mt = (
        ":20:HS20261122\n"
        f":25:{account_no}\n"
        ":28C:00326/001\n"
        ":60F:C261121CNY0,00\n"
        ":61:2611221122C265950,00NTRFNONREF//HSB-0001\n"
        ":86:张伟 首付款\n"
        ":61:2611221122C812,34NINTNONREF//INT-2026Q4\n"
        ":86:Q4\n"
        ":61:2611221122D15,00NCHGNONREF//FEE-1122\n"
        ":62F:C261122CNY266747,34\n"
        "-\x03\n"  # the ETX trailer bank systems append
    )
    return mt.encode(), "text/plain"


def _in_camt(account_no: str) -> tuple[bytes, str]:
    entries = [
        ("HSB-0001", DEPOSIT, "CRDT", "PMNT/RCDT/DMCT"),
        ("INT-2026Q4", INTEREST, "CRDT", "ACMT/MCOP/INTR"),
        ("FEE-1122", FEE, "DBIT", "ACMT/MDOP/CHRG"),
    ]
    return camt(account_no, entries, closing=CLOSING), "application/xml"


def _in_camt_proprietary(account_no: str) -> tuple[bytes, str]:
    entries = [
        ("HSB-0001", DEPOSIT, "CRDT", None),
        ("INT-2026Q4", INTEREST, "CRDT", "PRTRY:NINT"),
        ("FEE-1122", FEE, "DBIT", "PRTRY:NCHG"),
    ]
    return camt(account_no, entries, closing=CLOSING), "application/xml"


FORMATS = {
    "json": _in_json,
    "csv words": _in_csv,
    "csv kind column": _in_csv_kind_column,
    "mt940": _in_mt940,
    "camt": _in_camt,
    "camt proprietary": _in_camt_proprietary,
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_interest_and_fees_are_booked_as_their_own_and_the_statement_reconciles(
    client, world, engine, paid, fmt
):
    data, content_type = FORMATS[fmt](paid["account_no"])
    before = _counts(engine)
    r = _send(client, world, data, content_type=content_type)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["matched"], body["bank_only"], body["books_only"]) == (3, 0, 0), body
    assert (body["balance_difference"], body["status"]) == ("0.00", "reconciled")
    balances, entries = _books(engine, paid["account_no"])
    # never buyer money, never suspense: no deposit was added; one interest and one fee entry were
    assert _counts(engine)[2:] == [before[2], before[3] + 2]
    assert (balances.cash, balances.interest, balances.fees) == (26_674_734, 81_234, 1_500)
    assert (balances.suspense, balances.buyer_funds) == (0, 26_595_000)
    kinds = {e.kind: e.reference for e in entries}
    assert kinds[ledger.EntryKind.INTEREST] == "interest:INT-2026Q4"
    assert kinds[ledger.EntryKind.FEE] == "fee:FEE-1122"
    assert ledger.balance_equals_flows(entries) and ledger.balance_never_negative(entries)
    # releases are not paused; the city's deposit figures count the buyer's payment only
    account = client.get(f"/api/v1/accounts/{paid['account_no']}", headers=world.headers("bank")).json()
    assert account["reconciliation"]["status"] == "reconciled"
    assert account["balance"] == CLOSING
    stats = client.get(f"/api/v1/stats?from={TODAY}&to={TODAY}", headers=world.headers("admin")).json()
    assert stats["deposits_total"] == DEPOSIT
    # the same file again changes nothing
    again = _send(client, world, data, key="s2", content_type=content_type)
    assert again.status_code == 200 and again.json() == body
    assert _counts(engine)[3] == before[3] + 2
    # the audit replay (INV-2: a fee moves cash out, interest in) finds the books whole, every entry claimed
    report = auditing.verify(engine)
    assert report.ok, report.lines()


def test_the_monthly_report_and_the_project_page_show_interest_and_fees(
    app, client, world, engine, paid, web
):
    from escrow.reports import data as report_data

    data, _ = _in_json(paid["account_no"])
    assert _send(client, world, data).status_code == 201
    with UnitOfWork(engine, readonly=True) as uow:
        month = report_data.monthly(uow, app.state.runtime.ctx, paid["account_no"], 2026, 11)
    assert (month["interest"], month["fees"]) == (Decimal(INTEREST), Decimal(FEE))
    assert month["closing"] == Decimal(CLOSING) and month["total_in"] == Decimal(DEPOSIT) + Decimal(INTEREST)
    summary = {s["label"]: s["amount"] for s in month["summary"]}
    assert summary["银行手续费"] == Decimal(FEE) and Decimal(INTEREST) in summary.values()
    listing = month["movements"]["header"] + "".join(month["movements"]["chunks"])
    assert "INT-2026Q4" in listing and "FEE-1122" in listing and "银行手续费" in listing
    reviewer = web("reviewer")
    page = reviewer.get(f"/projects/{paid['project_id']}?lang=en").text
    assert "interest ¥812.34, fees ¥15.00 (never buyers' money)" in page.replace("&#39;", "'")
    page = reviewer.get(f"/projects/{paid['project_id']}?lang=zh").text
    assert "结息 ¥812.34，手续费 ¥15.00" in page


def test_a_later_statement_showing_booked_interest_matches_it(client, world, engine, paid):
    data, _ = _in_json(paid["account_no"])
    assert _send(client, world, data).status_code == 201
    lines = [  # a corrected statement of the day shows the bank's lines again, and one fee more
        _line("INT-2026Q4", INTEREST, kind="interest"),
        _line("FEE-1122", FEE, "debit", kind="fee"),
        _line("FEE-1123", "3.00", "debit", kind="fee"),
    ]
    closing = str(Decimal(CLOSING) - 3)
    r = _send(client, world, _json(paid["account_no"], lines, closing), key="s2")
    assert r.status_code == 201, r.text
    assert (r.json()["matched"], r.json()["status"]) == (3, "reconciled")
    balances, entries = _books(engine, paid["account_no"])
    assert [e.kind for e in entries].count(ledger.EntryKind.FEE) == 2
    assert balances.fees == 1_800 and ledger.balance_equals_flows(entries)


def test_a_fee_the_books_cannot_pay_is_not_booked_and_is_a_discrepancy(client, world, engine, paid):
    lines = [_line("HSB-0001", DEPOSIT), _line("FEE-BIG", "300000.00", "debit", kind="fee")]
    r = _send(client, world, _json(paid["account_no"], lines, None))
    assert r.status_code == 201, r.text
    assert (r.json()["matched"], r.json()["bank_only"], r.json()["status"]) == (1, 1, "discrepancy")
    balances, _ = _books(engine, paid["account_no"])
    assert (balances.cash, balances.fees) == (26_595_000, 0)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (_line("X", "1.00", "debit", kind="interest"), "lines[0].kind"),
        (_line("X", "1.00", "credit", kind="fee"), "lines[0].kind"),
        (_line("X", "1.00", "credit", kind="bonus"), "lines[0].kind"),
    ],
)
def test_a_kind_against_its_direction_is_422_naming_the_field(client, world, engine, paid, line, field):
    before = _counts(engine)
    r = _send(client, world, _json(paid["account_no"], [line], None))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert _counts(engine) == before


# -- camt.054: notifications of single movements -------------------------------------------------------------


def test_a_camt054_notification_books_and_matches_but_never_marks_books_only(
    client, world, engine, paid, flow
):
    other = flow.deposit(
        account_no=paid["account_no"],
        bank_reference="HSB-0002",
        amount="1000.00",
        payer_name="李娜",
        notice_no=None,
        kind="other",
        channel="transfer",
        value_date=TODAY,
    )
    assert other["status"] in ("accepted", "suspense")
    entries = [
        ("HSB-0001", DEPOSIT, "CRDT", None),
        ("INT-2026Q4", INTEREST, "CRDT", "ACMT/MCOP/INTR"),
        ("HSB-NEW", "50.00", "CRDT", None),
    ]
    r = _send(client, world, camt(paid["account_no"], entries, kind="054"), content_type="application/xml")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["matched"], body["bank_only"], body["books_only"]) == (2, 1, 0)
    assert (body["balance_difference"], body["status"]) == ("0.00", "reconciled")
    account = client.get(f"/api/v1/accounts/{paid['account_no']}", headers=world.headers("bank")).json()
    assert account["reconciliation"]["status"] == "reconciled"
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(Statement.format)) == "camt054"
        voucher = uow.deposits.voucher_by_no(paid["deposit"]["voucher"]["voucher_no"])
    assert voucher.status == "confirmed"


def test_a_notification_cannot_clear_an_end_of_day_discrepancy(client, world, paid):
    r = _send(client, world, _json(paid["account_no"], [], "0.00"), key="s0")
    assert r.json()["status"] == "discrepancy"
    note = camt(paid["account_no"], [("INT-1", "1.00", "CRDT", "ACMT/MCOP/INTR")], kind="054")
    r = _send(client, world, note, key="s2", content_type="application/xml")
    assert (r.json()["books_only"], r.json()["status"]) == (0, "discrepancy")
    # an unexplained debit in a notification is a discrepancy of its own
    note = camt(paid["account_no"], [("OUT-1", "5.00", "DBIT", None)], kind="054")
    r = _send(client, world, note, key="s3", content_type="application/xml")
    assert (r.json()["bank_only"], r.json()["status"]) == (1, "discrepancy")


# -- the account's life --------------------------------------------------------------------------------------


def test_a_statement_dated_before_the_account_was_opened_is_422(client, world, engine, paid):
    before = _counts(engine)
    old = json.dumps(
        {
            "account_no": paid["account_no"],
            "statement_date": "2024-12-31",
            "lines": [_line("OLD-1", "10.00") | {"booked_on": "2024-12-31"}],
        }
    ).encode()
    r = _send(client, world, old)
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "statement_before_opening"
    assert "2025-03-05" in r.json()["detail"] and r.json()["errors"][0]["field"] == "statement_date"
    # dated after the opening, but with a line booked before it
    line = _line("OLD-2", "10.00") | {"booked_on": "2025-03-04"}
    r = _send(client, world, _json(paid["account_no"], [_line("HSB-0001", DEPOSIT), line], None), key="s2")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[1]"
    assert _counts(engine) == before


def test_a_statement_for_a_closed_account_is_409(client, world, engine, paid):
    with UnitOfWork(engine) as uow:
        account = uow.session.scalar(
            select(SupervisedAccount).where(SupervisedAccount.account_no == paid["account_no"])
        )
        account.status = "closed"
        uow.commit()
    before = _counts(engine)
    r = _send(client, world, _json(paid["account_no"], [_line("HSB-0001", DEPOSIT)], DEPOSIT))
    assert r.status_code == 409, r.text
    assert r.json()["rule"] == "account_closed" and "closed" in r.json()["detail"]
    assert _counts(engine) == before


# -- a ZIP of camt files; media types no parser reads --------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("content_type", ["application/zip", "application/octet-stream", None])
def test_a_zip_of_camt_files_imports_every_file(client, world, engine, paid, content_type):
    account_no = paid["account_no"]
    notification = camt(account_no, [("HSB-0001", DEPOSIT, "CRDT", None)], kind="054", day="2026-11-22")
    statement = camt(
        account_no,
        [("HSB-0001", DEPOSIT, "CRDT", None), ("INT-2026Q4", INTEREST, "CRDT", "ACMT/MCOP/INTR")],
        closing=str(Decimal(DEPOSIT) + Decimal(INTEREST)),
    )
    data = _zip({"1122/notification.xml": notification, "1122/statement.xml": statement})
    r = _send(client, world, data, content_type=content_type)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(s["status"], s["matched"]) for s in body["statements"]] == [("reconciled", 1), ("reconciled", 2)]
    with UnitOfWork(engine, readonly=True) as uow:
        formats = list(uow.session.scalars(select(Statement.format).order_by(Statement.id)))
    assert formats == ["camt054", "camt053"]


def test_a_zip_with_an_unreadable_member_is_422_naming_it_and_keeps_nothing(client, world, engine, paid):
    good = camt(paid["account_no"], [("HSB-0001", DEPOSIT, "CRDT", None)], closing=DEPOSIT)
    before = _counts(engine)
    for name, content in (
        ("readme.txt", b"hello"),
        ("camt053.v2.wrong.xml", (SAMPLES / "camt" / "camt053.v2.wrong.xml").read_bytes()),
    ):
        r = _send(
            client, world, _zip({"good.xml": good, name: content}), key=name, content_type="application/zip"
        )
        assert r.status_code == 422, r.text
        assert name in r.json()["detail"] and r.json()["errors"][0]["field"] == name
    r = _send(client, world, b"PK\x03\x04 not really a zip", key="bad", content_type="application/zip")
    assert r.status_code == 422 and "ZIP" in r.json()["detail"]
    assert _counts(engine) == before


def test_the_vendored_zip_of_camt_samples_is_read_and_refused_cleanly(client, world, engine, paid):
    data = (SAMPLES / "zip" / "genkgo_camt_samples.zip").read_bytes()
    r = _send(client, world, data, content_type="application/zip")
    assert r.status_code == 422, r.text
    assert "unknown account" in r.json()["detail"] or "currency EUR" in r.json()["detail"]
    assert _counts(engine)[0] == 0


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        (None, b"%PDF-1.4\n"),
        ("application/octet-stream", b"\x89PNG\r\n\x1a\n"),
    ],
)
def test_a_media_type_no_parser_reads_is_415(client, world, engine, paid, content_type, data):
    before = _counts(engine)
    r = _send(client, world, data, content_type=content_type)
    assert r.status_code == 415, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("unsupported-media-type")
    assert "application/zip" in r.json()["detail"]
    assert _counts(engine) == before


# -- MT940 as banks send it ----------------------------------------------------------------------------------


def test_mt940_without_25_is_422_naming_the_field_and_its_line(client, world, engine, paid):
    data, _ = _in_mt940(paid["account_no"])
    data = data.replace(f":25:{paid['account_no']}\n".encode(), b"")
    r = _send(client, world, data, content_type="text/plain")
    assert r.status_code == 422, r.text
    assert ":25:" in r.json()["detail"] and "unknown account" not in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "line 2"


def test_the_polish_bank_file_with_its_etx_trailer_is_read(client, world, engine, paid):
    """wolph/mt940's mBank sample ends with "-" + ETX: read, and refused for its foreign account only."""
    data = (SAMPLES / "mt940" / "mBank_mt940.sta").read_bytes()
    assert data.rstrip().endswith(b"-\x03")
    r = _send(client, world, data, content_type="text/plain")
    assert r.status_code == 422
    assert "unknown account PL29114010810000267002001002" in r.json()["detail"]


# -- a property: any mix of interest and fees keeps the books whole and reconciles ---------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moves=st.lists(
        st.tuples(st.sampled_from(["interest", "fee"]), st.integers(min_value=1, max_value=200_000)),
        min_size=1,
        max_size=6,
    )
)
def test_any_mix_of_interest_and_fees_keeps_balance_equal_to_the_journal_and_reconciles(
    client, world, engine, paid, moves
):
    balances, _ = _books(engine, paid["account_no"])
    cash = balances.cash
    with UnitOfWork(engine, readonly=True) as uow:  # the deposit is on the first statement only
        first = not uow.session.scalar(select(func.count()).select_from(Statement))
    lines = [_line("HSB-0001", DEPOSIT)] if first else []
    with UnitOfWork(engine, readonly=True) as uow:  # references never used before, in any example
        n = uow.session.scalar(select(func.count()).select_from(JournalEntry))
    for kind, fen in moves:
        ref = f"{kind.upper()}-{n}-{len(lines)}"
        amount = f"{Decimal(fen) / 100:.2f}"
        lines.append(_line(ref, amount, "credit" if kind == "interest" else "debit", kind=kind))
        cash += fen if kind == "interest" else -fen
    closing = f"{Decimal(cash) / 100:.2f}"
    r = _send(client, world, _json(paid["account_no"], lines, closing), key=f"p-{n}")
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["balance_difference"]) == ("reconciled", "0.00")
    balances, entries = _books(engine, paid["account_no"])
    assert balances.cash == cash and balances.suspense == 0
    assert ledger.balance_equals_flows(entries) and ledger.balance_never_negative(entries)
