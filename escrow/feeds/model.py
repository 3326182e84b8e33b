"""The parsed form every statement format is turned into, and the error every parser raises."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CREDIT = "credit"
DEBIT = "debit"
FORMATS = ("camt053", "camt054", "mt940", "csv", "json")
# What a line is (CONTRACT.md §9): a payment (the default), the bank's interest (结息) or its fee (手续费).
PAYMENT = "payment"
INTEREST = "interest"
FEE = "fee"
KINDS = (PAYMENT, INTEREST, FEE)
# The direction each kind other than a payment has: interest comes in, a fee goes out.
KIND_DIRECTION = {INTEREST: "credit", FEE: "debit"}
# Words of the 摘要 (remittance) that name interest or a fee, as Chinese banks write them.
INTEREST_WORDS = ("结息", "利息")
FEE_WORDS = ("手续费", "服务费")
# At most 16 integer digits keeps every amount inside a signed 64-bit count of fen (see escrow.domain.money).
MAX_INTEGER_DIGITS = 16


class FeedError(ValueError):
    """A statement file that cannot be read. Nothing of it may be kept.

    ``str(error)`` is one readable sentence; for a problem at a known place in a line-based file (CSV, MT940,
    and XML, whose elements know their source line) it starts with ``"line N: "`` and ``line`` is N. For JSON,
    ``field`` names the offending member (``"lines[3].amount"``) and the sentence starts with it.
    """

    line: int | None
    field: str | None
    detail: str

    def __init__(self, detail: str, *, line: int | None = None, field: str | None = None) -> None:
        self.line = line
        self.field = field
        self.detail = detail
        if line is not None:
            message = f"line {line}: {detail}"
        elif field is not None:
            message = f"{field}: {detail}"
        else:
            message = detail
        super().__init__(message)


class UnsupportedMedia(FeedError):
    """A body in a media type no parser reads (a PDF, an image): the API answers 415, not 422."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booking on the statement: money in (``credit``) or out (``debit``) of the account."""

    line_no: int  # 1-based: the physical line (CSV, MT940 :61:) or the index of the line in its statement
    bank_reference: str  # unique within the statement (and, for CSV, within the file)
    booked_on: date
    amount: Decimal  # > 0, exactly two decimals
    direction: str  # "credit" | "debit"
    counterparty_name: str
    counterparty_account: str
    remittance: str
    currency: str | None = None  # the line's own currency where the file says (camt Amt/@Ccy, CSV column)
    kind: str = PAYMENT  # one of KINDS: interest is always a credit, a fee always a debit

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == CREDIT else -self.amount


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    format: str  # one of FORMATS
    account_no: str
    currency: str | None
    statement_date: date
    opening_balance: Decimal | None  # signed
    closing_balance: Decimal | None  # signed
    lines: list[StatementLine]
    reference: str | None = None  # the statement's own id where the file has one (camt Stmt/Id, MT940 :20:)

    def movement(self) -> Decimal:
        """Credits minus debits over all lines."""
        total = ZERO
        for line in self.lines:
            total += line.amount if line.direction == CREDIT else -line.amount
        return total

    def balances_agree(self) -> bool | None:
        """Whether opening balance + movement = closing balance; None when a balance is missing."""
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.opening_balance + self.movement() == self.closing_balance


def money(value: Decimal, what: str, *, line: int | None = None, positive: bool = True) -> Decimal:
    """Check a Decimal is a finite whole number of fen (> 0 if ``positive``); return it with two places."""
    if not value.is_finite():
        raise FeedError(f"{what} {value} is not a number", line=line)
    try:
        exact = value.quantize(CENT)
    except InvalidOperation:
        raise FeedError(f"{what} {value} is too large", line=line) from None
    if exact != value:
        raise FeedError(f"{what} {value} has more than two decimals", line=line)
    if len(str(abs(exact.to_integral_value()))) > MAX_INTEGER_DIGITS:
        raise FeedError(f"{what} {value} is too large", line=line)
    if positive and exact <= 0:
        raise FeedError(f"{what} {value} must be greater than zero", line=line)
    return exact


def kind_from_words(text: str, direction: str) -> str:
    """The kind the 摘要 words name (结息/利息: interest; 手续费/服务费: fee), where the direction fits it (an
    interest credit, a fee debit); a payment otherwise. A line whose words and direction disagree (a fee
    refunded, interest taken back) stays a payment, so that reconciliation shows it to a person."""
    if direction == CREDIT and any(word in text for word in INTEREST_WORDS):
        return INTEREST
    if direction == DEBIT and any(word in text for word in FEE_WORDS):
        return FEE
    return PAYMENT


def kind_from_code(code: str | None, direction: str) -> str:
    """The kind a bank transaction code names, where the direction fits it: the SWIFT MT940 :61: type codes
    NINT/MINT/FINT (interest) and NCHG/MCHG/FCHG (charges), also used as camt proprietary codes."""
    if not code:
        return PAYMENT
    code = code.strip().upper()
    if len(code) == 4 and code[0] in "NMF":
        if code[1:] == "INT" and direction == CREDIT:
            return INTEREST
        if code[1:] == "CHG" and direction == DEBIT:
            return FEE
    return PAYMENT


def unique_references(refs: list[str]) -> list[str]:
    """Make references unique within one statement: a repeat gets "#2", "#3"… (the first keeps its value)."""
    seen: dict[str, int] = {}
    taken = set(refs)
    out = []
    for ref in refs:
        count = seen.get(ref, 0) + 1
        seen[ref] = count
        if count == 1:
            out.append(ref)
            continue
        candidate = f"{ref}#{count}"
        while candidate in taken:
            count += 1
            candidate = f"{ref}#{count}"
        seen[ref] = count
        taken.add(candidate)
        out.append(candidate)
    return out


class _LineTwin:
    """Builds StatementLine instances without the frozen dataclass __init__ (≈2 µs: nine object.__setattr__).

    A slots class with the very same slots has the same memory layout, so an instance filled here can take
    StatementLine as its class: the result is an ordinary frozen StatementLine, about three times cheaper to
    make. Used on the CSV path, where a file has a million lines.
    """

    __slots__ = StatementLine.__slots__

    def __init__(
        self,
        line_no: int,
        bank_reference: str,
        booked_on: date,
        amount: Decimal,
        direction: str,
        counterparty_name: str,
        counterparty_account: str,
        remittance: str,
        currency: str | None = None,
        kind: str = PAYMENT,
    ) -> None:
        self.line_no = line_no
        self.bank_reference = bank_reference
        self.booked_on = booked_on
        self.amount = amount
        self.direction = direction
        self.counterparty_name = counterparty_name
        self.counterparty_account = counterparty_account
        self.remittance = remittance
        self.currency = currency
        self.kind = kind
        _set_class(self, "__class__", StatementLine)


_set_class = object.__setattr__


def _pick_line_factory():
    probe = (1, "r", date(2000, 1, 1), Decimal("1.00"), CREDIT, "n", "a", "t", None, PAYMENT)
    try:
        fast = _LineTwin(*probe)
    except TypeError:  # pragma: no cover - an interpreter that refuses the layout-compatible class switch
        return StatementLine
    if type(fast) is StatementLine and fast == StatementLine(*probe):
        return _LineTwin
    return StatementLine  # pragma: no cover


# Call it exactly like StatementLine(...) (positional or keyword); returns a StatementLine.
new_line = _pick_line_factory()


def with_references(
    lines: list[StatementLine], refs: list[str], *, renumber: bool = False
) -> list[StatementLine]:
    """The lines with their references (`refs`, one a line) made unique within the statement; `renumber`
    numbers the lines 1, 2, … in statement order (camt, whose lines are entries rather than text lines)."""
    unique = unique_references(refs)
    return [
        replace(ln, bank_reference=ref, line_no=number if renumber else ln.line_no)
        for number, (ln, ref) in enumerate(zip(lines, unique, strict=True), 1)
    ]
