"""Statement parsers (escrow.feeds): the real-world sample files, our own fixtures, every malformed-row kind,
XXE safety, and a round trip of generated CSV statements."""

from __future__ import annotations

import csv
import gc
import io
import json
from contextlib import ExitStack
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escrow.feeds import (
    FeedError,
    ParsedStatement,
    StatementLine,
    csvfeed,
    detect_format,
    parse,
    parse_csv_stream,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "statements"


SAMPLES = (
    Path(__file__).parent.parent / "fixtures" / "samples"
)  # real files written by others; see its README


def sample(name: str) -> bytes:
    folder = "camt" if name.endswith(".xml") else "mt940"
    return (SAMPLES / folder / name).read_bytes()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def D(text: str) -> Decimal:
    return Decimal(text)


def only(statements: list[ParsedStatement]) -> ParsedStatement:
    assert len(statements) == 1
    return statements[0]


def assert_well_formed(statements: list[ParsedStatement]) -> None:
    """What every parser promises, whatever the file."""
    for statement in statements:
        refs = [line.bank_reference for line in statement.lines]
        assert len(set(refs)) == len(refs), "bank_reference unique within a statement"
        assert all(refs)
        for line in statement.lines:
            assert isinstance(line, StatementLine)
            assert type(line.booked_on) is date
            assert line.amount > 0 and line.amount == line.amount.quantize(D("0.01"))
            assert line.amount.as_tuple().exponent == -2
            assert line.direction in ("credit", "debit")
        for balance in (statement.opening_balance, statement.closing_balance):
            assert balance is None or balance.as_tuple().exponent == -2
        assert type(statement.statement_date) is date


# -- camt samples (genkgo/camt test data) --------------------------------------------------------------------


class TestCamtSamples:
    def test_v2_minimal(self) -> None:
        statement = only(parse(sample("camt053.v2.minimal.xml")))
        assert (statement.format, statement.account_no, statement.currency) == (
            "camt053",
            "NL26VAYB8060476890",
            "EUR",
        )
        assert statement.opening_balance == D("18.15")
        assert statement.closing_balance == D("-27.00")  # CLBD with DBIT is negative
        assert statement.statement_date == date(2007, 10, 18)  # FrToDt/ToDtTm
        assert statement.reference == "253EURNL26VAYB8060476890"
        (line,) = statement.lines
        assert (line.amount, line.direction, line.booked_on) == (D("8.85"), "credit", date(2014, 12, 31))
        assert (line.counterparty_name, line.counterparty_account) == ("NAME NAME", "NL56AGDH9619008421")
        assert line.remittance == "4654654654654654"  # no Ustrd: the structured creditor reference
        assert line.bank_reference == "253EURNL26VAYB8060476890/1"  # no AcctSvcrRef/EndToEndId/NtryRef
        assert line.currency == "EUR"

    def test_v2_multi_statement(self) -> None:
        first, second = parse(sample("camt053.v2.multi.statement.xml"))
        assert (first.opening_balance, first.closing_balance) == (D("18.15"), D("27.00"))
        assert (second.opening_balance, second.closing_balance) == (D("27.00"), D("20.00"))
        assert first.balances_agree() and second.balances_agree()
        assert second.statement_date == date(2014, 12, 31)  # no FrToDt: the CLBD date
        (credit,) = first.lines
        assert (credit.bank_reference, credit.amount, credit.direction) == ("000000001", D("8.85"), "credit")
        assert credit.remittance == "Transaction Description 1"
        (debit,) = second.lines
        assert (debit.bank_reference, debit.amount, debit.direction) == ("000000002", D("7.00"), "debit")
        # a debit's counterparty is the creditor
        assert (debit.counterparty_name, debit.counterparty_account) == (
            "Company Name 2",
            "NL56AGDH9619008421",
        )

    @pytest.mark.parametrize("name", ["camt053.v4.xml", "camt053.v8.xml"])
    def test_v4_v8(self, name: str) -> None:
        statement = only(parse(sample(name)))
        assert statement.account_no == "NL26VAYB8060476890"  # Acct/Id/Othr/Id
        assert statement.currency == "EUR"  # no Acct/Ccy: the opening balance's currency
        (line,) = statement.lines
        # the single TxDtls carries Amt 0 SEK: the entry's amount counts
        assert (line.amount, line.currency, line.direction) == (D("8.85"), "EUR", "credit")
        assert line.bank_reference == "AAAASESS-FP-CN_98765/01"
        assert line.booked_on == date(2014, 12, 31)  # v8: BookgDt/DtTm
        assert line.counterparty_name == "NAME NAME"  # v8: Dbtr/Pty/Nm

    def test_camt054_v2_notification(self) -> None:
        statement = only(parse(sample("camt054.v2.xml")))
        assert statement.format == "camt054"
        assert statement.account_no == "CH2801234000123456789"
        assert statement.opening_balance is None and statement.closing_balance is None
        (line,) = statement.lines  # three TxDtls without amounts: one line for the entry
        assert (line.amount, line.currency, line.direction) == (D("200000.00"), "SEK", "debit")
        assert line.bank_reference == "AAAASESS-FP-ACCR001"
        assert line.booked_on == date(2007, 10, 18)
        assert line.remittance.startswith("Unstructured Remittance Information V1; ")

    def test_camt054_v8_one_line_per_transaction(self) -> None:
        statement = only(parse(sample("camt054.v8.xml")))
        assert [line.amount for line in statement.lines] == [D("3.10"), D("3.20"), D("3.20")]
        assert {line.currency for line in statement.lines} == {"CHF"}
        assert {line.direction for line in statement.lines} == {"debit"}  # the entry's DBIT decides
        assert [line.counterparty_name for line in statement.lines] == [
            "Example Creditor 3 - V1",
            "Example Creditor 3 - V2",
            "Example Creditor 3 - V3",
        ]
        assert [line.bank_reference for line in statement.lines] == [
            "UXC06170000006PI00001EE00001",
            "UXC06170000006PI00001EE00002",
            "UXC06170000006PI00001EE00002#2",  # the sample repeats an EndToEndId
        ]
        assert [line.line_no for line in statement.lines] == [1, 2, 3]

    def test_wrong_is_refused(self) -> None:
        with pytest.raises(FeedError) as error:
            parse(sample("camt053.v2.wrong.xml"))
        assert error.value.line == 3
        assert (
            str(error.value) == "line 3: the camt.053 document has no Stmt element: it carries no statement"
        )

    @pytest.mark.parametrize(
        "name",
        [
            "camt053.v2.minimal.xml",
            "camt053.v2.multi.statement.xml",
            "camt053.v4.xml",
            "camt053.v8.xml",
            "camt054.v2.xml",
            "camt054.v8.xml",
        ],
    )
    def test_detected_and_well_formed(self, name: str) -> None:
        data = sample(name)
        assert detect_format(data) == name[:7].replace(".", "")
        assert detect_format(data, "application/xml") == detect_format(data, "text/xml; charset=utf-8")
        assert_well_formed(parse(data))


# -- MT940 samples (wolph/mt940 test data) -------------------------------------------------------------------


class TestMt940Samples:
    def test_amount_formats(self) -> None:
        data = sample("betterplace_amount_formats.sta")
        # six opening balances and nothing else: six balance-only fragments, no account named - refused,
        # naming the missing field :25: and where it was expected
        with pytest.raises(FeedError, match="no account identification field :25:") as error:
            parse(data)
        assert error.value.line == 1 and "before line 1 (:60F: (opening balance))" in str(error.value)
        statements = [only(parse(b":25:DE1\n" + balance)) for balance in data.splitlines()]
        assert [s.opening_balance for s in statements] == [
            D("380115.12"),
            D("380115.10"),
            D("380115.00"),
            D("0.12"),
            D("0.12"),
            D("1.12"),
        ]
        assert {(s.account_no, s.currency, s.statement_date) for s in statements} == {
            ("DE1", "EUR", date(2010, 3, 18))
        }
        assert all(not s.lines and s.closing_balance is None for s in statements)

    def test_sepa(self) -> None:
        data = sample("betterplace_sepa_mt9401.sta")
        statements = parse(data)
        assert len(statements) == data.count(b"\n:20:") + 1 == 26
        assert sum(len(s.lines) for s in statements) == data.count(b"\n:61:") == 97
        assert all(s.balances_agree() for s in statements)
        first = statements[0]
        assert (first.account_no, first.currency, first.reference) == (
            "50880050/0194774600888",
            "EUR",
            "T089413946000001",
        )
        assert (first.opening_balance, first.closing_balance) == (D("-1234718.36"), D("-1237628.23"))
        assert first.statement_date == date(2007, 9, 4)
        line = first.lines[0]
        assert (line.line_no, line.bank_reference, line.amount, line.direction, line.booked_on) == (
            5,
            "0724710345313905",
            D("300.00"),
            "credit",
            date(2007, 9, 4),
        )
        reversal = first.lines[5]  # :61:0709040904RCR204,88NRTINONREF - reversal of a credit
        assert (reversal.line_no, reversal.amount, reversal.direction) == (19, D("204.88"), "debit")
        assert reversal.remittance.endswith(" [reversal]")
        giro = statements[1].lines[0]
        assert giro.counterparty_name == "Richter Renate 70 Zeichen Beginn Fuellzeichen xxxxxxxx"
        assert giro.counterparty_account == "DE42100100100043921105"
        assert giro.amount == D("15000.05")

    def test_broken_is_refused(self) -> None:
        with pytest.raises(FeedError) as error:
            parse(sample("betterplace_sepa_snippet_broken.sta"))
        assert error.value.line == 6
        assert str(error.value).startswith(
            "line 6: field :25: (account identification) after the statement's"
        )

    def test_cmxl(self) -> None:
        first, second, third = parse(sample("cmxl_mt940.sta"))
        assert [len(s.lines) for s in (first, second, third)] == [11, 2, 3]
        assert (first.account_no, first.currency) == ("45050050/76198810", "DEM")
        assert (first.opening_balance, first.closing_balance) == (D("84349.74"), D("84437.04"))
        assert (first.lines[0].amount, first.lines[0].direction) == (D("6800.00"), "debit")
        assert first.lines[1].amount == D("620.30")
        assert [line.bank_reference for line in second.lines] == ["55555", "55555#2"]
        assert second.lines[0].booked_on == date(2002, 11, 2)  # entry date 1102, value date 021101
        assert (second.lines[1].counterparty_name, second.lines[1].direction) == ("MUELLER", "credit")
        assert third.currency == "PLN"
        interest = third.lines[2]
        assert (interest.amount, interest.direction) == (D("40.00"), "credit")
        assert interest.remittance == "Odsetki od lokaty nr 101000022086"

    @pytest.mark.parametrize("name", ["betterplace_sepa_mt9401.sta", "cmxl_mt940.sta", "mBank_mt940.sta"])
    def test_detected_and_well_formed(self, name: str) -> None:
        data = sample(name)
        assert detect_format(data) == "mt940"
        assert detect_format(data, "text/plain") == "mt940"
        assert_well_formed(parse(data))


# -- camt: our fixture, errors, safety -----------------------------------------------------------------------


class TestCamt:
    def test_cny_fixture(self) -> None:
        main, other = parse(fixture("camt053_cny.xml"), content_type="application/xml")
        assert_well_formed([main, other])
        assert (main.account_no, main.currency, main.statement_date) == (
            "131000000000000001",
            "CNY",
            date(2026, 11, 21),  # ToDtTm, not the next morning's CreDtTm
        )
        assert (main.opening_balance, main.closing_balance) == (D("1000000.00"), D("1380000.00"))
        assert main.balances_agree()
        refs = [line.bank_reference for line in main.lines]
        # the pending entry is left out; the batch gives one line per TxDtls
        assert refs == [
            "HS20261121000001",
            "HS20261121000002",
            "HS20261121000003-1",
            "MORTGAGE-0003",
            "HS20261121000004",
        ]
        deposit, release, mortgage_1, mortgage_2, reversal = main.lines
        assert (deposit.counterparty_name, deposit.counterparty_account) == ("张三", "6217000000000001")
        assert deposit.remittance == "缴款通知书 N2026110001 首付款"
        assert (release.direction, release.counterparty_name) == ("debit", "衡水建工集团有限公司")
        assert release.counterparty_account == "CN0000000000001310009999"
        assert (mortgage_1.amount, mortgage_2.amount) == (D("200000.00"), D("300000.00"))
        assert reversal.remittance == "冲正 HS20261121000001 [reversal]"
        assert (other.account_no, other.opening_balance, other.closing_balance) == (
            "CN0000000000131000000000002",
            D("-50.00"),  # PRCD with DBIT
            D("50.00"),
        )
        assert other.lines[0].bank_reference == "7"  # NtryRef
        assert other.lines[0].amount == D("100.00")

    def test_xxe_is_refused_and_reads_nothing(self) -> None:
        data = fixture("xxe.xml")
        with pytest.raises(FeedError) as error:
            parse(data)
        assert error.value.line == 2
        assert "DTD" in str(error.value)
        secret = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
        if secret:
            assert secret not in str(error.value)
        # and the parser itself never expands the entity, even before the DTD check
        from lxml import etree

        from escrow.feeds.camt import _parser

        root = etree.fromstring(data, _parser())
        text = "".join(root.itertext())
        if secret:
            assert secret not in text

    def test_entity_bomb_is_refused(self) -> None:
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol3;</Document>'
        )
        with pytest.raises(FeedError, match="DTD"):
            parse(bomb)

    def test_not_well_formed(self) -> None:
        data = fixture("camt053_cny.xml").replace(b"</Acct>", b"</Acc>", 1)
        with pytest.raises(FeedError, match=r"^line 19: the XML is not well-formed"):
            parse(data)

    def test_other_xml_is_refused(self) -> None:
        with pytest.raises(FeedError, match=r"not a camt\.053 or camt\.054"):
            parse(b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.03'/>")
        with pytest.raises(FeedError, match=r"camt\.052 is not supported"):
            parse(b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.052.001.08'/>")

    def test_kind_mismatch(self) -> None:
        with pytest.raises(FeedError, match=r"the document is camt\.053, not camt\.054"):
            parse(fixture("camt053_cny.xml"), "camt054")
        assert len(parse(fixture("camt053_cny.xml"), "camt")) == 2

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            (b'<Amt Ccy="CNY">300000.00</Amt>', b'<Amt Ccy="CNY">300000.001</Amt>', "more than two decimals"),
            (b'<Amt Ccy="CNY">300000.00</Amt>', b'<Amt Ccy="CNY">3e5</Amt>', "is not a decimal amount"),
            (b'<Amt Ccy="CNY">300000.00</Amt>', b'<Amt Ccy="CNY">0.00</Amt>', "must be greater than zero"),
            (
                b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <RvslInd>",
                b"<CdtDbtInd>IN</CdtDbtInd>\n<RvslInd>",
                "IN",
            ),
            (b"<Id><Othr><Id>131000000000000001</Id></Othr></Id>", b"", "names no account"),
            (b"<BookgDt><Dt>2026-11-21</Dt></BookgDt>\n        <ValDt>", b"<ValDt>", None),
        ],
    )
    def test_bad_entries(self, old: bytes, new: bytes, message: str | None) -> None:
        data = fixture("camt053_cny.xml")
        assert old in data
        data = data.replace(old, new, 1)
        if message is None:  # no booking date: the value date stands in
            assert parse(data)[0].lines[0].booked_on == date(2026, 11, 21)
            return
        with pytest.raises(FeedError, match=message) as error:
            parse(data)
        assert error.value.line is not None and str(error.value).startswith(f"line {error.value.line}: ")


# -- MT940: our fixture and the garbage the library would let through ----------------------------------------


class TestMt940:
    def test_cny_fixture(self) -> None:
        statement = only(parse(fixture("cny.sta"), filename="cny.sta"))
        assert_well_formed([statement])
        assert (statement.account_no, statement.currency, statement.reference) == (
            "131000000000000001",
            "CNY",
            "HS20261121",
        )
        assert (statement.opening_balance, statement.closing_balance) == (D("1000000.00"), D("880000.00"))
        assert statement.statement_date == date(2026, 11, 21)
        deposit, release, reversal = statement.lines
        assert (deposit.line_no, deposit.bank_reference, deposit.amount, deposit.direction) == (
            5,
            "HS20261121000001",
            D("300000.00"),
            "credit",
        )
        assert deposit.remittance == "张三 缴款通知书 N2026110001"
        assert (release.direction, release.amount) == ("debit", D("120000.00"))
        assert (reversal.direction, reversal.remittance) == ("debit", "冲正 HS20261121000001 [reversal]")

    @pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
    def test_chinese_encodings(self, encoding: str) -> None:
        data = fixture("cny.sta").decode().encode(encoding)
        assert parse(data, "mt940")[0].lines[0].remittance == "张三 缴款通知书 N2026110001"

    def test_latin1(self) -> None:
        data = fixture("cny.sta").decode().replace("张三", "Müller").encode("latin-1", errors="replace")
        assert parse(data, "mt940")[0].lines[0].remittance.startswith("Müller ")

    def test_swift_envelope_and_crlf(self) -> None:
        text = fixture("cny.sta").decode().replace("\n-\n", "\n-}")
        data = "{1:F01HSBKCNBJAXXX0000000000}{2:O9400000000000HSBKCNBJAXXX00000000000000000000N}{4:\n" + text
        statement = only(parse(data.replace("\n", "\r\n").encode()))
        assert statement.closing_balance == D("880000.00")
        assert statement.lines[0].line_no == 6

    @pytest.mark.parametrize(
        ("edit", "line", "message"),
        [
            # cut before the closing balance: truncated
            (lambda t: t.split(":62F:")[0], 10, "the file looks truncated"),
            (lambda t: t.split(":62F:")[0] + "-\n:20:X\n", 11, "ends without its closing balance"),
            # cut inside the closing amount: the balance no longer adds up
            (lambda t: t.replace("880000,00", "88000"), 11, "not the closing balance 88000.00"),
            (lambda t: t.replace(":60F:C261120CNY1000000,00\n", ""), 4, ":61: before the opening balance"),
            (lambda t: t.replace(":28C:00325/001", ":99:x"), 3, "unknown MT940 field :99:"),
            (
                lambda t: t.replace(":28C:00325/001", ":28C:00325/001\ngarbage"),
                4,
                "unexpected text 'garbage'",
            ),
            (lambda t: t.replace("CNY880000,00", "CNY880000,00X"), 11, "is not a balance"),
            (lambda t: t.replace(":60F:C261120", ":60F:X261120"), 4, "is not a balance"),
            (
                lambda t: t.replace("C300000,00NTRFNONREF//HS20261121000001", "C300000,00"),
                5,
                "transaction type",
            ),
            (lambda t: t.replace(":61:2611211121D", ":61:26112D"), 7, "cannot be read"),
            (lambda t: t.replace("C300000,00NTRF", "C300000,001NTRF"), 5, "more than two decimals"),
            (
                lambda t: t.replace(
                    ":62F:", ":61:2611211121C1,00NTRFX//Y\n:61:2611211121C1,00NTRFX//Y\n:62F:"
                ).replace("880000,00", "880002,00"),
                None,
                None,
            ),
            (lambda t: t.replace(":25:131000000000000001\n", ""), 2, "no account identification field :25:"),
            (lambda t: "hello\n" * 6 + t, 6, "expected an MT940 field"),
            (
                lambda t: t + ":20:NEXT\n:25:1\n:60F:C261121CNY1,00\n:61:2611211121C1,00NTRFX\n",
                16,
                "truncated",
            ),
        ],
    )
    def test_garbage_is_refused(self, edit, line: int | None, message: str | None) -> None:
        data = edit(fixture("cny.sta").decode()).encode()
        if message is None:  # the control case: a valid edit still parses (and repeated refs get #2)
            refs = [ln.bank_reference for ln in only(parse(data, "mt940")).lines]
            assert refs[-2:] == ["Y", "Y#2"]
            return
        with pytest.raises(FeedError, match=message) as error:
            parse(data, "mt940")
        assert error.value.line == line
        assert str(error.value).startswith(f"line {line}: ")

    def test_empty(self) -> None:
        with pytest.raises(FeedError, match="empty"):
            parse(b"  \n", "mt940")


# -- CSV -----------------------------------------------------------------------------------------------------

HEADER = (
    "account_no,bank_reference,booked_on,direction,amount,counterparty_name,counterparty_account,remittance\n"
)


class TestCsv:
    def test_english_reordered_extra_columns_balances_accounts(self) -> None:
        acc2, acc1 = parse(fixture("english.csv"), content_type="text/csv")
        assert_well_formed([acc2, acc1])
        assert (acc2.account_no, acc2.opening_balance, acc2.closing_balance) == (
            "ACC-2",
            D("-50.00"),
            D("50.00"),
        )
        assert acc2.statement_date == date(2026, 11, 21)  # the closing row's date
        assert acc2.balances_agree()
        assert [(ln.line_no, ln.bank_reference, ln.amount, ln.direction) for ln in acc2.lines] == [
            (5, "HS-3", D("100.00"), "credit")
        ]
        assert acc1.opening_balance is None and acc1.closing_balance is None
        assert acc1.statement_date == date(2026, 11, 22)  # no closing row: the last booking date
        assert [(ln.line_no, ln.amount, ln.direction) for ln in acc1.lines] == [
            (3, D("300000.00"), "credit"),
            (4, D("120000.50"), "debit"),
            (6, D("200000.00"), "credit"),
        ]
        release = acc1.lines[1]
        assert release.counterparty_name == "Hengshui Construction Group Co., Ltd."
        assert release.remittance == "release R-2026-0007, first node"
        assert acc1.format == "csv" and acc1.currency is None

    def test_chinese_headers_with_bom(self) -> None:
        data = fixture("chinese.csv")
        assert data.startswith(b"\xef\xbb\xbf")
        statement = only(parse(data, filename="流水.csv"))
        assert (statement.opening_balance, statement.closing_balance) == (D("1000000.00"), D("1180000.00"))
        assert statement.balances_agree()
        deposit, release = statement.lines
        assert (deposit.line_no, deposit.direction, deposit.amount, deposit.booked_on) == (
            3,
            "credit",
            D("300000.00"),  # "300,000.00"
            date(2026, 11, 21),  # 20261121
        )
        assert (release.direction, release.amount, release.remittance) == (
            "debit",
            D("120000.00"),
            "拨付,R-2026-0007",
        )
        assert deposit.counterparty_name == "张三"

    def test_gb18030_export(self) -> None:
        data = fixture("chinese.csv")[3:].decode().encode("gb18030")
        assert only(parse(data, "csv")).lines[1].counterparty_name == "衡水建工集团有限公司"

    def test_not_utf8(self) -> None:
        data = (HEADER + "A,R1,2026-11-21,credit,1.00,M\xfcller,,\n").encode("latin-1")
        with pytest.raises(FeedError, match=r"^line 2: the file is not UTF-8 text"):
            parse(data, "csv")

    def test_crlf_quoted_newlines_and_blank_lines(self) -> None:
        text = (
            HEADER
            + 'A,R1,2026-11-21,credit,1.00,"two\r\nline name",,\r\n'
            + "\r\n"
            + "A,R2,2026-11-21,debit,2.00,,,\r\n"
            + ",,,,,,,\r\n"
        )
        statement = only(parse(text.encode(), "csv"))
        assert [ln.line_no for ln in statement.lines] == [2, 5]
        assert statement.lines[0].counterparty_name == "two\r\nline name"

    @pytest.mark.parametrize(
        ("word", "direction"),
        [("credit", "credit"), ("CR", "credit"), ("c", "credit"), ("贷", "credit"), (" Debit ", "debit"),
         ("dr", "debit"), ("D", "debit"), ("借", "debit")],
    )  # fmt: skip
    def test_direction_words(self, word: str, direction: str) -> None:
        data = (HEADER + f"A,R1,2026-11-21,{word},1.00,,,\n").encode()
        assert only(parse(data, "csv")).lines[0].direction == direction

    @pytest.mark.parametrize(
        ("text", "amount"),
        [("1234.50", "1234.50"), ("1234.5", "1234.50"), ("1234", "1234.00"), ("1,234.50", "1234.50"),
         ("1,234,567", "1234567.00"), (" 7.00 ", "7.00"), ("0.01", "0.01"), (".5", "0.50")],
    )  # fmt: skip
    def test_amount_forms(self, text: str, amount: str) -> None:
        data = (HEADER + f'A,R1,2026-11-21,credit,"{text}",,,\n').encode()
        parsed = only(parse(data, "csv")).lines[0].amount
        assert parsed == D(amount) and str(parsed) == amount

    @pytest.mark.parametrize("text", ["2026-11-21", "20261121", "2026/11/21", " 2026-11-21 "])
    def test_date_forms(self, text: str) -> None:
        data = (HEADER + f"A,R1,{text},credit,1.00,,,\n").encode()
        assert only(parse(data, "csv")).lines[0].booked_on == date(2026, 11, 21)

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ("A,,2026-11-21,credit,1.00,,,", "bank_reference is empty"),
            (",R9,2026-11-21,credit,1.00,,,", "account_no is empty"),
            ("A,R9,,credit,1.00,,,", "booked_on is empty"),
            ("A,R9,2026-11-21,,1.00,,,", "direction is empty"),
            ("A,R9,2026-11-21,credit,,,,", "amount is empty"),
            ("A,R9,2026-13-01,credit,1.00,,,", "booked_on '2026-13-01' is not a date"),
            ("A,R9,21/11/2026,credit,1.00,,,", "booked_on '21/11/2026' is not a date"),
            ("A,R9,2026-11-21,credit,12.345,,,", "amount '12.345' has more than two decimals"),
            ("A,R9,2026-11-21,credit,abc,,,", "amount 'abc' is not a decimal amount"),
            ("A,R9,2026-11-21,credit,-5.00,,,", "amount '-5.00' must be greater than zero"),
            ("A,R9,2026-11-21,credit,0.00,,,", "amount '0.00' must be greater than zero"),
            ('A,R9,2026-11-21,credit,"1,2345.00",,,', "is not a decimal amount"),
            ("A,R9,2026-11-21,credit,1e5,,,", "is not a decimal amount"),
            ("A,R9,2026-11-21,credit,NaN,,,", "is not a decimal amount"),
            ("A,R9,2026-11-21,credit,12345678901234567.00,,,", "is too large"),
            ("A,R9,2026-11-21,in,1.00,,,", "direction 'in' is not credit/debit"),
            (
                "A,R1,2026-11-21,credit,1.00,,,",
                "bank_reference 'R1' appears twice in the file (first on line 2)",
            ),
            ("A,R9,2026-11-21,credit,1.00", "the row has 5 columns but the header has 8"),
            ("A,R9,2026-11-21,credit,1.00,Smith, John,6217,note", "an unquoted comma"),
            ("A,,2026-11-21,opening,abc,,,", "opening balance 'abc' is not a decimal amount"),
            ("A,,2026-11-21,opening,,,,", "the opening balance row has no amount"),
            ("A,,2026-11-21,closing,1.00,,,\nA,,2026-11-21,closing,1.00,,,", "a second closing balance row"),
        ],
    )
    def test_malformed_row_names_its_physical_line(self, row: str, message: str) -> None:
        # line 2 is a good row whose name spans two physical lines; the bad row starts on line 4 (or 5)
        text = HEADER + 'A,R1,2026-11-21,credit,1.00,"multi\nline",,\n' + row + "\n"
        expected_line = 4 if "second closing" not in message else 5
        gc_was = gc.isenabled()
        with pytest.raises(FeedError) as error:
            parse(text.encode(), "csv")
        assert error.value.line == expected_line
        assert str(error.value).startswith(f"line {expected_line}: ")
        assert message in str(error.value)
        assert gc.isenabled() == gc_was

    @pytest.mark.parametrize("missing", ["account_no", "bank_reference", "booked_on", "direction", "amount"])
    def test_missing_required_column(self, missing: str) -> None:
        header = HEADER.replace(missing, "something_else")
        with pytest.raises(FeedError) as error:
            parse((header + "A,R1,2026-11-21,credit,1.00,,,\n").encode(), "csv")
        assert error.value.line == 1
        assert f"lacks the required column {missing}" in str(error.value)

    def test_missing_chinese_column_and_optional_columns(self) -> None:
        with pytest.raises(FeedError, match=r"column amount \(交易金额\)"):
            parse("账号,交易流水号,记账日期,借贷标志\nA,R,2026-11-21,贷\n".encode(), "csv")
        # the descriptive columns may be left out altogether
        statement = only(
            parse(b"amount,direction,booked_on,bank_reference,account_no\n5,D,2026-11-21,R,A\n", "csv")
        )
        assert statement.lines[0] == StatementLine(2, "R", date(2026, 11, 21), D("5.00"), "debit", "", "", "")

    def test_title_rows_before_the_header(self) -> None:
        text = (
            "交易明细\n账号: 131000000000000001,,\n\n"
            + HEADER
            + "A,R1,2026-11-21,credit,1.00,,,\nA,R1,20261121,credit,1,,,\n"
        )
        with pytest.raises(FeedError, match=r"^line 6: bank_reference 'R1' appears twice .*first on line 5"):
            parse(text.encode(), "csv")

    def test_duplicate_header_column(self) -> None:
        with pytest.raises(FeedError, match="column amount appears twice"):
            parse(("amount,交易金额," + HEADER).encode(), "csv")

    def test_header_only_and_empty(self) -> None:
        with pytest.raises(FeedError, match="no rows"):
            parse(HEADER.encode(), "csv")
        with pytest.raises(FeedError, match="empty"):
            parse(b"", "csv")

    def test_balance_only_account(self) -> None:
        statement = only(
            parse((HEADER + "A,,2026-11-20,期初,-1.50,,,\nA,,2026-11-21,期末余额,-1.50,,,\n").encode())
        )
        assert (statement.opening_balance, statement.closing_balance) == (D("-1.50"), D("-1.50"))
        assert statement.lines == [] and statement.statement_date == date(2026, 11, 21)
        with pytest.raises(FeedError, match="no date"):
            parse((HEADER + "A,,,opening,1.00,,,\n").encode(), "csv")

    def test_currency_column(self) -> None:
        header = HEADER.strip() + ",currency\n"
        statement = only(parse((header + "A,R1,2026-11-21,credit,1.00,,,,cny\n").encode(), "csv"))
        assert statement.currency == "CNY" and statement.lines[0].currency == "CNY"
        with pytest.raises(FeedError, match=r"^line 3: account A mixes currencies CNY and EUR"):
            parse(
                (header + "A,R1,2026-11-21,credit,1.00,,,,CNY\nA,R2,2026-11-21,credit,1.00,,,,EUR\n").encode()
            )

    def test_plain_chunks_take_the_fast_path(self) -> None:
        rows = "".join(
            f"A,R{i},2026-11-{1 + i % 28:02d},{'credit' if i % 3 else 'debit'},{i + 1}.05,,,\n"
            for i in range(40)
        )
        with (
            patch.object(csvfeed, "_CHUNK", 8),
            patch.object(csvfeed._Rows, "_slow", side_effect=AssertionError),
        ):
            statement = only(parse((HEADER + rows).encode(), "csv"))
        assert [ln.line_no for ln in statement.lines] == list(range(2, 42))
        last = StatementLine(41, "R39", date(2026, 11, 12), D("40.05"), "debit", "", "", "")
        assert statement.lines[-1] == last
        # a bad row in a later chunk is still found, on its line, by the row-by-row path
        bad = HEADER + rows + "A,R99,2026-11-21,credit,1.001,,,\n"
        with (
            patch.object(csvfeed, "_CHUNK", 8),
            pytest.raises(FeedError, match=r"^line 42: amount '1\.001' has"),
        ):
            parse(bad.encode(), "csv")

    def test_stream(self) -> None:
        with io.StringIO(HEADER + "A,R1,2026-11-21,credit,1.00,,,\n", newline="") as stream:
            assert only(parse_csv_stream(stream)).lines[0].amount == D("1.00")

    def test_lines_are_frozen_dataclasses(self) -> None:
        line = only(parse((HEADER + "A,R1,2026-11-21,credit,1.00,,,\n").encode())).lines[0]
        assert type(line) is StatementLine
        assert line == StatementLine(2, "R1", date(2026, 11, 21), D("1.00"), "credit", "", "", "")
        with pytest.raises(AttributeError):
            line.amount = D("2.00")  # type: ignore[misc]
        assert hash(line) == hash(StatementLine(2, "R1", date(2026, 11, 21), D("1.00"), "credit", "", "", ""))


_cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12).map(
    str.strip
)
_directions = st.sampled_from(["credit", "debit", "CR", "DR", "贷", "借", "Credit", "d"])


@st.composite
def _statement_rows(draw):
    accounts = draw(
        st.lists(st.text("0123456789ABC-", min_size=1, max_size=6), min_size=1, max_size=3, unique=True)
    )
    n = draw(st.integers(0, 25))
    refs = draw(st.lists(st.text("0123456789ABCDEFGH/-_.", min_size=1, max_size=10), min_size=n, max_size=n,
                         unique=True))  # fmt: skip
    rows = []
    for ref in refs:
        amount = draw(st.decimals(D("0.01"), D("99999999999.99"), places=2))
        booked = draw(st.dates(date(1990, 1, 1), date(2099, 12, 31)))
        rows.append(
            {
                "account_no": draw(st.sampled_from(accounts)),
                "bank_reference": ref,
                "booked_on": draw(
                    st.sampled_from(
                        [booked.isoformat(), booked.strftime("%Y%m%d"), booked.strftime("%Y/%m/%d")]
                    )
                ),
                "direction": draw(_directions),
                "amount": draw(st.sampled_from([f"{amount:.2f}", f"{amount:,.2f}", f"{amount:f}"])),
                "counterparty_name": draw(_cell),
                "counterparty_account": draw(_cell),
                "remittance": draw(_cell),
                "_booked": booked,
                "_amount": amount,
            }
        )
    balances = {}
    for account in accounts:
        if draw(st.booleans()):
            balances[account] = draw(st.decimals(D("-99999999.99"), D("99999999.99"), places=2))
    columns = draw(st.permutations(
        ["account_no", "bank_reference", "booked_on", "direction", "amount", "counterparty_name",
         "counterparty_account", "remittance", "ignored"]
    ))  # fmt: skip
    return accounts, rows, balances, columns


@settings(max_examples=80, deadline=None)
@given(_statement_rows(), st.booleans(), st.booleans(), st.sampled_from([1, 3, 512]), st.booleans())
def test_generated_csv_round_trips(generated, bom: bool, crlf: bool, chunk: int, row_by_row: bool) -> None:
    """Whatever the chunk size, and whether plain chunks take the column-wise fast path or not."""
    with ExitStack() as patches:
        patches.enter_context(patch.object(csvfeed, "_CHUNK", chunk))
        if row_by_row:
            patches.enter_context(patch.object(csvfeed._Rows, "_fast", lambda *_: False))
        _round_trip(generated, bom, crlf)


def _round_trip(generated, bom: bool, crlf: bool) -> None:
    _, rows, balances, columns = generated
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(columns)
    expected: dict[str, list[StatementLine]] = {}
    order: list[str] = []
    for account, balance in balances.items():
        writer.writerow([{"account_no": account, "direction": "closing", "amount": str(balance),
                          "booked_on": "2100-01-01"}.get(c, "") for c in columns])  # fmt: skip
        order.append(account)
    for row in rows:
        start = out.getvalue().count("\n") + 1  # the physical line the row starts on
        writer.writerow([row.get(c, "x") if c != "ignored" else "zz,z" for c in columns])
        direction = "credit" if row["direction"].lower() in ("credit", "cr", "贷") else "debit"
        expected.setdefault(row["account_no"], []).append(
            StatementLine(
                start,
                row["bank_reference"],
                row["_booked"],
                row["_amount"],
                direction,
                row["counterparty_name"],
                row["counterparty_account"],
                row["remittance"],
            )
        )
        if row["account_no"] not in order:
            order.append(row["account_no"])
    data = out.getvalue().encode()
    if bom:
        data = b"\xef\xbb\xbf" + data
    if not order:
        with pytest.raises(FeedError, match="no rows"):
            parse(data, "csv")
        return
    statements = parse(data, "csv")
    assert [s.account_no for s in statements] == order
    for statement in statements:
        assert statement.lines == expected.get(statement.account_no, [])
        assert statement.closing_balance == balances.get(statement.account_no)
        assert statement.opening_balance is None
    assert_well_formed(statements)


# -- JSON ----------------------------------------------------------------------------------------------------


def _json(**changes) -> dict:
    doc = json.loads(fixture("statement.json"))
    for key, value in changes.items():
        doc[key] = value
    return doc


class TestJson:
    def test_fixture(self) -> None:
        statement = only(parse(fixture("statement.json"), content_type="application/json"))
        assert_well_formed([statement])
        assert (statement.format, statement.account_no, statement.currency, statement.statement_date) == (
            "json",
            "131000000000000001",
            "CNY",
            date(2026, 11, 21),
        )
        assert (statement.opening_balance, statement.closing_balance) == (D("1000000.00"), D("1180000.00"))
        assert statement.balances_agree()
        first, second = statement.lines
        assert (first.line_no, first.bank_reference, first.amount, first.direction) == (
            1,
            "HS20261121000001",
            D("300000.00"),
            "credit",
        )
        assert (second.amount, second.remittance) == (D("120000.00"), "")

    def test_number_is_refused(self) -> None:
        doc = _json()
        doc["lines"] = [dict(doc["lines"][i % 2], bank_reference=f"R{i}") for i in range(4)]
        doc["lines"][3]["amount"] = 300000.0
        with pytest.raises(FeedError) as error:
            parse(json.dumps(doc).encode())
        assert str(error.value).startswith("lines[3].amount: must be a decimal string")
        assert error.value.field == "lines[3].amount" and error.value.line is None
        with pytest.raises(FeedError, match=r"^opening_balance: must be a decimal string"):
            parse(json.dumps(_json(opening_balance=1000000)).encode())

    @pytest.mark.parametrize(
        ("path", "value", "message"),
        [
            (("lines", 0, "amount"), "-1.00", "lines[0].amount: must not be negative"),
            (("lines", 0, "amount"), "1.001", "lines[0].amount: has more than two decimals"),
            (("lines", 0, "amount"), "0", "lines[0].amount: must be greater than zero"),
            (("lines", 1, "direction"), "in", 'lines[1].direction: must be "credit" or "debit"'),
            (
                ("lines", 1, "bank_reference"),
                "HS20261121000001",
                "lines[1].bank_reference: 'HS20261121000001' re",
            ),
            (("lines", 1, "bank_reference"), None, "lines[1].bank_reference: is required"),
            (("lines", 0, "booked_on"), "2026-02-30", "lines[0].booked_on: '2026-02-30' is not a date"),
            (("lines", 0, "counterparty_name"), 5, "lines[0].counterparty_name: must be a string"),
            (("account_no",), "", "account_no: must not be empty"),
            (("lines",), {}, "lines: must be a list"),
            (("statement_date",), "21.11.2026", "statement_date: '21.11.2026' is not a date"),
        ],
    )
    def test_invalid(self, path: tuple, value, message: str) -> None:
        doc = _json()
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(FeedError) as error:
            parse(json.dumps(doc).encode(), "json")
        assert str(error.value).startswith(message)

    def test_signed_balances_and_defaults(self) -> None:
        doc = _json(opening_balance="-5.00", closing_balance=None, statement_date=None)
        statement = only(parse(json.dumps(doc).encode()))
        assert (statement.opening_balance, statement.closing_balance) == (D("-5.00"), None)
        assert statement.statement_date == date(2026, 11, 21)  # the last booking date
        with pytest.raises(FeedError, match="statement_date: is required when the statement has no lines"):
            parse(json.dumps(_json(lines=[], statement_date=None)).encode())

    def test_list_and_syntax(self) -> None:
        assert len(parse(json.dumps([_json(), _json(account_no="2")]).encode())) == 2
        with pytest.raises(FeedError, match=r"^\[1\]\.account_no: is required"):
            parse(json.dumps([_json(), _json(account_no=None)]).encode())
        with pytest.raises(FeedError, match=r"^line 2: the JSON is not well-formed"):
            parse(b'{"account_no": "1",\n "lines": [,]}', "json")
        with pytest.raises(FeedError, match="appears twice"):
            parse(b'{"account_no": "1", "account_no": "2", "lines": []}', "json")


# -- format detection ----------------------------------------------------------------------------------------


class TestDetect:
    @pytest.mark.parametrize(
        ("content_type", "name", "expected"),
        [
            ("application/xml", "camt053_cny.xml", "camt053"),
            ("text/xml; charset=utf-8", "camt053_cny.xml", "camt053"),
            ("text/plain", "cny.sta", "mt940"),
            ("text/csv; charset=utf-8", "english.csv", "csv"),
            ("application/json", "statement.json", "json"),
            (None, "camt053_cny.xml", "camt053"),
            (None, "cny.sta", "mt940"),
            (None, "english.csv", "csv"),
            (None, "chinese.csv", "csv"),
            (None, "statement.json", "json"),
            ("application/octet-stream", "cny.sta", "mt940"),
        ],
    )
    def test_detect(self, content_type: str | None, name: str, expected: str) -> None:
        assert detect_format(fixture(name), content_type) == expected

    def test_content_type_wins_and_filename_hints(self) -> None:
        assert detect_format(b"whatever", "text/plain") == "mt940"
        assert detect_format(b"whatever", None, "statement.sta") == "mt940"
        assert detect_format(b"whatever", None, "statement.JSON") == "json"
        assert detect_format(b"whatever", None, "statement.dat") == "csv"
        with pytest.raises(FeedError, match="not a camt"):
            detect_format(b"<html/>")

    def test_unknown_format(self) -> None:
        with pytest.raises(FeedError, match="unknown statement format 'pdf'"):
            parse(b"x", "pdf")


# -- line kinds, ZIP files, unreadable media, the ETX trailer (CONTRACT.md §9) -------------------------------


class TestKinds:
    def test_json_kind_field(self) -> None:
        doc = {
            "account_no": "A1",
            "statement_date": "2026-11-22",
            "lines": [
                {"bank_reference": "P", "booked_on": "2026-11-22", "amount": "1.00", "direction": "credit"},
                {
                    "bank_reference": "I",
                    "booked_on": "2026-11-22",
                    "amount": "2.00",
                    "direction": "credit",
                    "kind": "interest",
                },
                {
                    "bank_reference": "F",
                    "booked_on": "2026-11-22",
                    "amount": "3.00",
                    "direction": "debit",
                    "kind": "fee",
                },
            ],
        }
        assert [ln.kind for ln in only(parse(json.dumps(doc).encode())).lines] == [
            "payment",
            "interest",
            "fee",
        ]
        doc["lines"][2]["direction"] = "credit"
        with pytest.raises(FeedError) as error:
            parse(json.dumps(doc).encode())
        assert error.value.field == "lines[2].kind" and "is a debit" in str(error.value)

    @pytest.mark.parametrize(
        ("remittance", "direction", "kind"),
        [
            ("2026年第四季度结息", "credit", "interest"),
            ("活期利息", "credit", "interest"),
            ("汇款手续费", "debit", "fee"),
            ("账户管理服务费", "debit", "fee"),
            ("首付款", "credit", "payment"),
            ("手续费退回", "credit", "payment"),  # a fee refunded: the words and the direction disagree
            ("利息冲回", "debit", "payment"),
        ],
    )
    def test_csv_kind_from_the_remittance_words(self, remittance: str, direction: str, kind: str) -> None:
        data = f"{HEADER}A1,R1,2026-11-22,{direction},1.00,,,{remittance}\n".encode()
        assert only(parse(data, "csv")).lines[0].kind == kind

    def test_csv_kind_column_and_its_errors(self) -> None:
        head = "account_no,bank_reference,booked_on,direction,amount,remittance,kind\n"
        rows = (
            "A1,R1,2026-11-22,credit,1.00,x,interest\n"
            "A1,R2,2026-11-22,debit,1.00,x,手续费\n"
            "A1,R3,2026-11-22,credit,1.00,结息,\n"
        )
        assert [ln.kind for ln in only(parse((head + rows).encode(), "csv")).lines] == [
            "interest",
            "fee",
            "interest",
        ]
        for bad, words in (("credit,1.00,x,fee", "is a debit"), ("credit,1.00,x,bonus", "not payment")):
            with pytest.raises(FeedError, match=words) as error:
                parse((head + rows + f"A1,R9,2026-11-22,{bad}\n").encode(), "csv")
            assert error.value.line == 5

    def test_csv_fast_path_finds_the_words_and_needs_no_remittance_column(self) -> None:
        head = "account_no,bank_reference,booked_on,direction,amount,remittance\n"
        rows = "".join(f"A1,R{i},2026-11-22,credit,1.00,购房款\n" for i in range(600))
        rows += "A1,INT,2026-11-22,credit,1.00,结息\n"
        lines = only(parse((head + rows).encode(), "csv")).lines
        assert [ln.kind for ln in lines].count("interest") == 1 and lines[-1].kind == "interest"
        bare = "account_no,bank_reference,booked_on,direction,amount\nA1,R1,2026-11-22,credit,1.00\n"
        assert only(parse(bare.encode(), "csv")).lines[0].kind == "payment"

    def test_mt940_type_codes(self) -> None:
        text = (
            ":20:S\n:25:A1\n:60F:C261121CNY100,00\n"
            ":61:2611221122C1,00NINTNONREF//I1\n:61:2611221122D2,00NCHGNONREF//F1\n"
            ":61:2611221122C3,00MINTNONREF//I2\n:61:2611221122D4,00MCHGNONREF//F2\n"
            ":61:2611221122C5,00NTRFNONREF//P1\n:61:2611221122C6,00NCHGNONREF//P2\n"
            ":62F:C261122CNY109,00\n-\x03\n"
        )
        lines = only(parse(text.encode(), "mt940")).lines
        assert [ln.kind for ln in lines] == ["interest", "fee", "interest", "fee", "payment", "payment"]

    def test_camt_bank_transaction_codes(self) -> None:
        def entry(indicator: str, code: str) -> str:
            return (
                f"<Ntry><Amt Ccy='CNY'>1.00</Amt><CdtDbtInd>{indicator}</CdtDbtInd>"
                f"<BookgDt><Dt>2026-11-22</Dt></BookgDt><BkTxCd>{code}</BkTxCd></Ntry>"
            )

        def domain(family: str, sub: str) -> str:
            return f"<Domn><Cd>ACMT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn>"

        entries = [
            entry("CRDT", domain("MCOP", "INTR")),
            entry("CRDT", domain("INTR", "OTHR")),
            entry("DBIT", domain("MDOP", "CHRG")),
            entry("DBIT", domain("CHRG", "OTHR")),
            entry("CRDT", "<Prtry><Cd>NINT</Cd></Prtry>"),
            entry("DBIT", "<Prtry><Cd>NCHG</Cd></Prtry>"),
            entry("CRDT", domain("RCDT", "DMCT")),
            entry("CRDT", domain("MDOP", "CHRG")),  # a charge refunded stays a payment
        ]
        xml = (
            "<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'><BkToCstmrStmt><Stmt><Id>S</Id>"
            "<CreDtTm>2026-11-22T18:00:00</CreDtTm><Acct><Id><Othr><Id>A1</Id></Othr></Id></Acct>"
            + "".join(entries)
            + "</Stmt></BkToCstmrStmt></Document>"
        )
        kinds = [ln.kind for ln in only(parse(xml.encode())).lines]
        assert kinds == ["interest", "interest", "fee", "fee", "interest", "fee", "payment", "payment"]

    def test_digest_inputs_of_the_samples_are_payments(self) -> None:
        for path in sorted(SAMPLES.glob("*/*")):
            if path.suffix in (".xml", ".sta") and "wrong" not in path.name and "broken" not in path.name:
                if "amount_formats" in path.name:
                    continue
                for statement in parse(path.read_bytes()):
                    assert {ln.kind for ln in statement.lines} <= {"payment", "interest", "fee"}


class TestMt940AsBanksSendIt:
    def test_the_mbank_file_ends_with_etx_and_is_read(self) -> None:
        data = sample("mBank_mt940.sta")
        assert data.rstrip(b"\r\n").endswith(b"-\x03")
        statement = only(parse(data))
        assert (statement.account_no, statement.currency, len(statement.lines)) == (
            "PL29114010810000267002001002",
            "PLN",
            3,
        )
        assert (statement.opening_balance, statement.closing_balance) == (D("0.40"), D("0.43"))

    @pytest.mark.parametrize("trailer", ["-\x03", "-\x03\n", "-\x03\r\n", "-\n\x03", "\x03"])
    def test_etx_trailers(self, trailer: str) -> None:
        data = fixture("cny.sta").decode().rstrip("-\n") + "\n" + trailer
        assert len(only(parse(data.encode(), "mt940")).lines) == 3

    def test_a_missing_25_names_the_field_and_where_it_was_expected(self) -> None:
        text = fixture("cny.sta").decode().replace(":25:131000000000000001\n", "")
        with pytest.raises(FeedError) as error:
            parse(text.encode(), "mt940")
        assert error.value.line == 2
        assert "has no account identification field :25:" in str(error.value)
        assert "starts on line 1" in str(error.value) and "before line 2" in str(error.value)


class TestZip:
    @staticmethod
    def zipped(members: dict[str, bytes]) -> bytes:
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members.items():
                archive.writestr(name, content)
        return buffer.getvalue()

    def test_the_vendored_zip_of_camt_samples(self) -> None:
        data = (SAMPLES / "zip" / "genkgo_camt_samples.zip").read_bytes()
        assert detect_format(data) == "zip" == detect_format(data, "application/zip")
        statements = parse(data)
        assert [s.format for s in statements] == ["camt053", "camt053", "camt054"]
        assert_well_formed(statements)

    def test_every_member_parsed_in_order(self) -> None:
        data = self.zipped({"a.xml": fixture("camt053_cny.xml"), "__MACOSX/._a.xml": b"\x00", "dir/": b""})
        direct = [s.account_no for s in parse(fixture("camt053_cny.xml"))]
        assert [s.account_no for s in parse(data, content_type="application/zip")] == direct

    @pytest.mark.parametrize(
        ("members", "words"),
        [
            ({"a.xml": b"<Document>no camt</Document>"}, "ZIP member 'a.xml' is not a camt XML document"),
            ({"b.csv": b"account_no,x\n"}, "ZIP member 'b.csv' is not a camt"),
            ({}, "holds no file"),
            ({"inner.zip": b"PK\x03\x04rest"}, "is itself a ZIP file"),
        ],
    )
    def test_unreadable_members_are_named(self, members: dict[str, bytes], words: str) -> None:
        with pytest.raises(FeedError, match=words):
            parse(self.zipped(members), content_type="application/zip")

    def test_a_broken_camt_member_is_named_with_its_line(self) -> None:
        data = self.zipped(
            {"ok.xml": fixture("camt053_cny.xml"), "wrong.xml": sample("camt053.v2.wrong.xml")}
        )
        with pytest.raises(FeedError) as error:
            parse(data, "zip")
        assert error.value.field == "wrong.xml" and str(error.value).startswith(
            "wrong.xml: ZIP member 'wrong.xml'"
        )

    def test_not_a_zip(self) -> None:
        with pytest.raises(FeedError, match="the ZIP file cannot be read"):
            parse(b"PK\x03\x04 truncated", content_type="application/zip")

    def test_bombs_are_refused_before_they_inflate(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from escrow.feeds import zipfeed

        monkeypatch.setattr(zipfeed, "MAX_MEMBERS", 3)
        many = self.zipped({f"{i}.xml": fixture("camt053_cny.xml") for i in range(4)})
        with pytest.raises(FeedError, match="holds 4 files; at most 3"):
            parse(many, "zip")
        monkeypatch.setattr(zipfeed, "MAX_TOTAL_BYTES", 1 << 20)
        bomb = self.zipped({"zeros.xml": b"\x00" * (4 << 20)})  # 4 MiB of zeros: a few KiB deflated
        assert len(bomb) < 10_000
        with pytest.raises(FeedError, match="would inflate to 4194304 bytes"):
            parse(bomb, "zip")


class TestUnreadableMedia:
    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            (b"%PDF-1.7\n", "application/pdf"),
            (b"%PDF-1.7\n", None),
            (b"\x89PNG\r\n\x1a\n", "image/png"),
            (b"GIF89a", "application/octet-stream"),
            (b"anything", "image/jpeg"),
            (b"anything", "application/msword"),
        ],
    )
    def test_refused_as_unsupported_media(self, data: bytes, content_type: str | None) -> None:
        from escrow.feeds import UnsupportedMedia

        with pytest.raises(UnsupportedMedia, match="application/zip"):
            parse(data, content_type=content_type)

    def test_a_csv_labelled_as_excel_is_still_read(self) -> None:
        data = f"{HEADER}A1,R1,2026-11-22,credit,1.00,,,x\n".encode()
        assert detect_format(data, "application/vnd.ms-excel") == "csv"
