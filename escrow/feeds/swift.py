"""SWIFT MT940 customer statements, read with the mt-940 library (amounts are Decimal there, never float).

The library is forgiving to a fault: it drops unknown fields, lets a misplaced ``:25:`` overwrite the account,
merges a ``:61:`` without a transaction type into the one before, and ignores text after a balance amount. So
the file is first scanned here, field by field with its line numbers, and its structure checked (account
before the opening balance, transactions between the opening and the closing balance, a closing balance at
the end); the library then reads each statement's fields, and its results are checked again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import mt940
from mt940.models import Amount, Balance, Transactions

from escrow.feeds.model import (
    CREDIT,
    DEBIT,
    FeedError,
    ParsedStatement,
    StatementLine,
    kind_from_code,
    money,
    with_references,
)
from escrow.feeds.text import decode_text

_OPTIONS = mt940.Options.all()
# The library logs every value its patterns refuse at ERROR level, statement text included. Here a refusal
# becomes a FeedError naming the line, so those records are only noise (and would copy account data to logs).
logging.getLogger("mt940.tags").setLevel(logging.CRITICAL)
_TAG = re.compile(r":(\d\d[A-Z]?|NS):")
_ANY_FIELD = re.compile(r"^:(\d\d[A-Z]?|NS):", re.MULTILINE)
_KNOWN = frozenset("13 13D 20 21 25 28 28C 34F 60F 60M 61 62F 62M 64 65 86 90C 90D NS".split())  # noqa: SIM905
_PREAMBLE = 5
_TRANSMISSION = "\x01\x03"
_OPENING = {"60F", "60M"}
_CLOSING = {"62F", "62M"}
_CONTINUED = {"61", "86", "NS"}  # fields whose value may run over several lines
_BALANCE = re.compile(r"[CD][0-9]{6}[A-Z]{3}[0-9]+([,.][0-9]*)?")
_NO_REFERENCE = {"", "NONREF", "NOREF", "NOTPROVIDED"}
_NAMES = {
    "20": "transaction reference",
    "25": "account identification",
    "28C": "statement number",
    "60F": "opening balance",
    "60M": "opening balance",
    "61": "statement line",
    "62F": "closing balance",
    "62M": "closing balance",
    "64": "available balance",
    "65": "forward available balance",
    "86": "information to account owner",
}


def looks_like_mt940(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")
    return head.startswith("{1:") or _TAG.match(head) is not None


@dataclass
class _Field:
    tag: str
    line: int
    lines: list[str]

    @property
    def value(self) -> str:
        return "\n".join(self.lines)

    def joined(self) -> str:
        """The value with its line breaks removed (MT940 wraps long values at 65 characters)."""
        return "".join(self.lines).strip()

    def label(self) -> str:
        name = _NAMES.get(self.tag)
        return f":{self.tag}: ({name})" if name else f":{self.tag}:"


@dataclass
class _Block:
    start: int
    fields: list[_Field] = field(default_factory=list)
    opening: _Field | None = None
    closing: _Field | None = None
    account: _Field | None = None
    transactions: int = 0

    def text(self) -> str:
        return "\n".join(f":{f.tag}:{f.value}" for f in self.fields)


def _scan(text: str) -> tuple[list[_Block], int]:
    """Split into statements and check their structure; returns the blocks and the number of the last line."""
    blocks: list[_Block] = []
    block: _Block | None = None
    current: _Field | None = None
    last = 0
    preamble = 0
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def close(number: int | None = None) -> None:
        nonlocal block
        if block is not None and block.fields:
            if number is not None and block.transactions and block.closing is None:
                raise FeedError(
                    f"the statement from line {block.start} ends without its closing balance (:62F:)",
                    line=number,
                )
            blocks.append(block)
        block = None

    for number, raw in enumerate(physical, 1):
        # Bank systems wrap a message in the transmission characters SOH (0x01) and ETX (0x03): a file may
        # end with "-" + ETX (a Polish bank's export does), or carry them around the SWIFT envelope.
        line = raw.rstrip().strip(_TRANSMISSION).rstrip()
        if number == 1:
            line = line.lstrip("\ufeff")
        if not line.strip():
            continue
        last = number
        if line.startswith("{") and "{4:" in line:  # SWIFT envelope {1:…}{2:…}{4: - one message per statement
            close(number)
            current = None
            line = line[line.index("{4:") + 3 :]
            if not line.strip():
                continue
        if line.strip() == "-" or line.strip().startswith("-}"):
            close(number)
            current = None
            continue
        match = _TAG.match(line)
        if match and match.group(1) not in _KNOWN and current is not None and current.tag == "86":
            match = None  # ":99X:" inside free text, as the library reads it too
        if match is None:
            if current is None:
                # Some banks put a few header lines before each statement (ABN AMRO: "ABNANL2A", "940").
                preamble += 1
                if preamble <= _PREAMBLE:
                    continue
                raise FeedError(f"expected an MT940 field such as :20:, found {_preview(line)}", line=number)
            if current.tag not in _CONTINUED:
                raise FeedError(
                    f"unexpected text {_preview(line)} after field {current.label()}; expected a new field",
                    line=number,
                )
            current.lines.append(line)
            continue
        tag = match.group(1)
        preamble = 0
        if tag not in _KNOWN:
            raise FeedError(f"unknown MT940 field :{tag}:", line=number)
        current = _Field(tag, number, [line[match.end() :]])
        if tag == "20":
            if block is not None and block.transactions and block.closing is None:
                raise FeedError(
                    f"a new statement (:20:) starts before the statement from line {block.start} has its "
                    "closing balance (:62F:)",
                    line=number,
                )
            close()
        elif tag in _OPENING and block is not None and block.opening is not None:
            if block.transactions and block.closing is None:
                raise FeedError(
                    f"a second opening balance before the closing balance (:62F:) of the statement from line "
                    f"{block.start}",
                    line=number,
                )
            close()  # a file of balance-only fragments without :20: - each opening balance starts one
        if block is None:
            block = _Block(start=number)
        _place(block, current)
        block.fields.append(current)
    if block is not None and block.transactions and block.closing is None:
        raise FeedError(
            f"the file ends inside the statement that starts on line {block.start}: it has no closing "
            "balance (:62F:), so the file looks truncated",
            line=last,
        )
    close()
    return blocks, last


def _place(block: _Block, f: _Field) -> None:
    """Check that a field may stand where it does in its statement."""
    tag = f.tag
    if tag == "25":
        if block.transactions:
            raise FeedError(
                "field :25: (account identification) after the statement's transactions; the account comes "
                "before the opening balance, and a new statement starts with :20:",
                line=f.line,
            )
        if block.account is not None or block.opening is not None:
            raise FeedError(
                f"a second :25: (account identification) in the statement that starts on line {block.start}",
                line=f.line,
            )
        block.account = f
    elif tag in ("28", "28C", "21") and (block.opening is not None):
        raise FeedError(f"field {f.label()} after the opening balance", line=f.line)
    elif tag in _OPENING:
        block.opening = f
    elif tag == "61":
        if block.opening is None:
            raise FeedError("statement line :61: before the opening balance (:60F:)", line=f.line)
        if block.closing is not None:
            raise FeedError("statement line :61: after the closing balance (:62F:)", line=f.line)
        block.transactions += 1
    elif tag in _CLOSING:
        if block.closing is not None:
            raise FeedError(
                f"a second closing balance in the statement that starts on line {block.start}", line=f.line
            )
        block.closing = f
    if tag in _OPENING or tag in _CLOSING or tag in ("64", "65"):
        value = f.joined()
        if not _BALANCE.fullmatch(value):
            raise FeedError(
                f"field {f.label()} {_preview(value)} is not a balance such as C230131CNY1234,56", line=f.line
            )


def _preview(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_mt940(data: bytes, charset: str | None = None) -> list[ParsedStatement]:
    text = decode_text(data, charset)
    if not text.strip():
        raise FeedError("the file is empty", line=1)
    if not _ANY_FIELD.search(text) and "{4:" not in text:
        raise FeedError("the file is not MT940: no line starts with a field such as :20: or :61:", line=1)
    blocks, _ = _scan(text)
    if not blocks:
        raise FeedError("the file has no MT940 statement (no :20: or balance field)", line=1)
    statements = []
    for block in blocks:
        try:
            statements.append(_statement(block))
        except FeedError:
            raise
        except Exception as exc:  # a quirk of the library on damaged input: still a refusal, never a crash
            raise FeedError(
                f"the statement that starts on line {block.start} cannot be read ({type(exc).__name__})",
                line=block.start,
            ) from exc
    return statements


def _library_parse(block: _Block) -> Transactions:
    parsed = Transactions(options=_OPTIONS)
    try:
        parsed.parse(block.text())
    except Exception as exc:  # the library raises RuntimeError, ValueError, InvalidOperation…
        raise _locate(block, exc) from None
    return parsed


def _locate(block: _Block, exc: Exception) -> FeedError:
    """Find the field the library could not read by reading the fields one at a time."""
    for f in block.fields:
        probe = Transactions(options=_OPTIONS)
        tag = probe.tags.get(f.tag) or probe.tags.get(Transactions.normalize_tag_id(f.tag))
        if tag is None:
            continue
        try:
            tag(probe, tag.parse(probe, f.value.strip()))
        except Exception:
            hint = {
                "61": " (expected value date, optional entry date, C/D mark, amount and type, such as "
                "2301310131C1234,56NTRFNONREF)",
            }.get(f.tag, "")
            return FeedError(f"field {f.label()} {_preview(f.value)} cannot be read{hint}", line=f.line)
    return FeedError(
        f"the statement that starts on line {block.start} cannot be read ({exc})", line=block.start
    )


def _balance(
    parsed: Transactions, keys: tuple[str, ...], f: _Field | None
) -> tuple[Decimal | None, Balance | None]:
    for key in keys:
        balance = parsed.data.get(key)
        if isinstance(balance, Balance):
            if not isinstance(balance.amount, Amount):
                raise FeedError(f"field {f.label() if f else ''} has no amount", line=f.line if f else None)
            what = f"the {_NAMES.get(f.tag, 'balance')}" if f else "the balance"
            return money(balance.amount.amount, what, line=f.line if f else None, positive=False), balance
    return None, None


def _missing_account(block: _Block) -> FeedError:
    """A statement without its account: name the field :25: and the line it was expected before."""
    after = next((f for f in block.fields if f.tag not in ("20", "21")), None)
    where = f"before line {after.line} ({after.label()})" if after is not None else "after its :20:"
    return FeedError(
        f"the statement that starts on line {block.start} has no account identification field :25:; "
        f"it is expected {where}",
        line=after.line if after is not None else block.start,
    )


def _statement(block: _Block) -> ParsedStatement:
    if block.account is None or not block.account.joined():
        raise _missing_account(block)
    parsed = _library_parse(block)
    statement_fields = [f for f in block.fields if f.tag == "61"]
    if len(parsed.transactions) != len(statement_fields):
        culprit = statement_fields[0]
        for candidate, tx in zip(statement_fields, parsed.transactions, strict=False):
            if not tx.data.get("id"):
                culprit = candidate
                break
        raise FeedError(
            "statement line :61: lacks its transaction type (such as NTRF, NMSC) after the amount, so it "
            "cannot be told apart from the next one",
            line=culprit.line,
        )
    opening, opening_balance = _balance(
        parsed, ("final_opening_balance", "intermediate_opening_balance", "opening_balance"), block.opening
    )
    closing, closing_balance = _balance(
        parsed, ("final_closing_balance", "intermediate_closing_balance", "closing_balance"), block.closing
    )
    if opening is None and closing is None:
        raise FeedError(
            "the statement has neither an opening (:60F:) nor a closing (:62F:) balance", line=block.start
        )
    account_no = block.account.joined()
    reference = next((f.joined() for f in block.fields if f.tag == "20"), None)

    details: dict[int, str] = {}  # :61: line → its raw :86: text
    owner = None
    for f in block.fields:
        if f.tag == "61":
            owner = f.line
        elif f.tag == "86" and owner is not None:
            details[owner] = f.joined()
        elif f.tag in _CLOSING:
            owner = None

    tags = parsed.tags
    statement_tag = tags.get("61") or tags[61]
    lines: list[StatementLine] = []
    refs: list[str] = []
    for f, tx in zip(statement_fields, parsed.transactions, strict=True):
        data = tx.data
        amount_value = data.get("amount")
        booked_on = data.get("entry_date") or data.get("date")
        if not isinstance(amount_value, Amount) or not isinstance(booked_on, date):
            raise FeedError("statement line :61: has no amount or no date", line=f.line)
        amount = money(abs(amount_value.amount), "the amount", line=f.line)
        mark = (data.get("status") or "").upper()
        direction = CREDIT if mark in ("C", "RD") else DEBIT
        # the :61: type code: NINT/MINT interest, NCHG/MCHG charges (a reversal of either stays a payment)
        kind = kind_from_code(None if mark.startswith("R") else data.get("id"), direction)
        try:  # the :61: alone: its references, not merged with those of the :86:
            raw = statement_tag.parse(parsed, f.value.strip())
        except RuntimeError:
            raise FeedError(f"field :61: {_preview(f.value)} cannot be read", line=f.line) from None
        remittance = (
            _text(data.get("purpose")) or _text(details.get(f.line)) or _text(raw.get("extra_details"))
        )
        if mark.startswith("R"):
            remittance = f"{remittance} [reversal]" if remittance else "[reversal]"
        ref = next(
            (
                value
                for value in (_text(raw.get("bank_reference")), _text(raw.get("customer_reference")))
                if value.upper() not in _NO_REFERENCE
            ),
            f"{reference or account_no}/{f.line}",
        )
        refs.append(ref)
        lines.append(
            StatementLine(
                f.line,
                "",
                date(booked_on.year, booked_on.month, booked_on.day),  # a plain date, not mt940.models.Date
                amount,
                direction,
                _text(data.get("applicant_name")),
                _text(data.get("applicant_iban")),
                remittance,
                amount_value.currency,
                kind,
            )
        )
    lines = with_references(lines, refs)

    if opening is not None and closing is not None:
        movement = sum((ln.signed_amount for ln in lines), Decimal("0.00"))
        if opening + movement != closing:
            raise FeedError(
                f"the opening balance {opening} plus the statement lines ({movement:+}) gives "
                f"{opening + movement}, not the closing balance {closing}; the file is damaged or incomplete",
                line=block.closing.line if block.closing else block.start,
            )

    balance = closing_balance or opening_balance
    statement_date = balance.date if balance is not None else None
    if statement_date is None and lines:
        statement_date = max(ln.booked_on for ln in lines)
    currency = None
    for candidate in (closing_balance, opening_balance):
        if candidate is not None and isinstance(candidate.amount, Amount) and candidate.amount.currency:
            currency = candidate.amount.currency.upper()
            break
    return ParsedStatement(
        format="mt940",
        account_no=account_no,
        currency=currency,
        statement_date=date(statement_date.year, statement_date.month, statement_date.day),
        opening_balance=opening,
        closing_balance=closing,
        lines=lines,
        reference=reference,
    )


def _text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())
