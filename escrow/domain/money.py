"""Money is exact: Decimal with two places in the domain, integer fen in the database, strings on the wire."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from escrow.domain.errors import FieldError, InvalidInput

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# --- Bounds (configured, not quoted from the law: no rule names a largest payment) ----------------------
# A single amount (a payment, a price, a notice, a release or refund, a freeze, a key supervised amount, a
# statement line) is at most ¥10,000,000,000.00 (10**12 fen); an account's balance and the money it has
# received are each at most ¥1,000,000,000,000.00 (10**14 fen). Both are far above any real project (the
# whole demo city received about ¥7.3 billion over 191 accounts) and far below a signed 64-bit count of fen
# (2**63 − 1 ≈ 9.2·10**18): with 20,000 accounts at their limit a city sum stays below 2·10**18 fen.
LARGEST_AMOUNT_FEN = 10**12
LARGEST_ACCOUNT_TOTAL_FEN = 10**14
INT64_MAX = 2**63 - 1


def _fen_to_decimal(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


LARGEST_AMOUNT = _fen_to_decimal(LARGEST_AMOUNT_FEN)  # 10000000000.00
LARGEST_ACCOUNT_TOTAL = _fen_to_decimal(LARGEST_ACCOUNT_TOTAL_FEN)  # 1000000000000.00


def _at_most(limit: Decimal) -> str:
    """A pattern for decimal strings with at most two decimals from 0 up to `limit` (a power of ten)."""
    whole = str(int(limit))
    return rf"^((0|[1-9][0-9]{{0,{len(whole) - 2}}})(\.[0-9]{{1,2}})?|{whole}(\.00?)?)$"


def _positive_at_most(limit: Decimal) -> str:
    """As `_at_most`, without zero (0, 0.0, 0.00): an amount paid, greater than zero."""
    whole = str(int(limit))
    return rf"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{{0,{len(whole) - 2}}}(\.[0-9]{{1,2}})?|{whole}(\.00?)?)$"


# What the API takes: one amount, at most the largest single amount (the pattern says the limit exactly).
AMOUNT_PATTERN = _at_most(LARGEST_AMOUNT)
# What the API takes where money is paid (every amount of a request): greater than zero as well. The API
# decides by this pattern exactly (escrow.api.schemas): nothing around the number, no space, no newline.
PAYMENT_PATTERN = _positive_at_most(LARGEST_AMOUNT)
# What an account may hold (a statement's opening or closing balance).
ACCOUNT_TOTAL_PATTERN = _at_most(LARGEST_ACCOUNT_TOTAL)
# Any amount the books can hold or sum: at most 17 integer digits stays below 2**63 fen (a city's totals).
WIRE_PATTERN = r"^(0|[1-9][0-9]{0,16})(\.[0-9]{1,2})?$"
# What `parse_wire` reads before any bound: at most 16 integer digits (below 10**18 fen, inside 64 bits).
_WIRE = re.compile(r"^(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?$")


@dataclass(frozen=True)
class WireFormat:
    """How a Decimal of a view is written on the wire: a string matching `pattern`. The API's schema plugin
    reads it from the annotation, so a view's type is also its documented response schema."""

    pattern: str
    description: str


Money = Annotated[
    Decimal,
    WireFormat(
        WIRE_PATTERN,
        "CNY as a decimal string with at most two decimals, e.g. 1234.50 (an account's figures stay at most "
        f"{LARGEST_ACCOUNT_TOTAL}, a city's sums below 2^63 fen)",
    ),
]
SignedMoney = Annotated[
    Decimal,
    WireFormat("^-?" + WIRE_PATTERN.removeprefix("^"), "CNY as a decimal string; negative when short"),
]
Area = Annotated[
    Decimal, WireFormat(r"^(0|[1-9][0-9]*)\.[0-9]{2}$", "square metres as a decimal string with two decimals")
]


class MoneyError(ValueError):
    """An amount that is not a valid money value."""


def parse_wire(value: object, *, positive: bool = True) -> Decimal:
    """Parse an amount as it arrives on the wire: a decimal string with at most two decimals.

    A number (int or float) is refused on purpose: JSON numbers lose precision in many clients.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise MoneyError('must be a decimal string such as "1234.50", not a number')
    text = value.strip()
    if text.startswith("-"):
        raise MoneyError("must not be negative")
    if not _WIRE.match(text):
        if re.match(r"^[0-9]+\.[0-9]{3,}$", text):
            raise MoneyError("has more than two decimals")
        raise MoneyError('must be a decimal string such as "1234.50"')
    amount = Decimal(text).quantize(CENT)
    if positive and amount <= 0:
        raise MoneyError("must be greater than zero")
    return amount


def above_largest_amount(amount: Decimal) -> bool:
    """Whether one amount is above the largest single amount (LARGEST_AMOUNT)."""
    return amount > LARGEST_AMOUNT


def check_amount(amount: Decimal, field: str = "amount") -> Decimal:
    """The amount, or a 422 naming the largest single amount (rule `largest_amount`)."""
    if above_largest_amount(amount):
        raise InvalidInput(
            f"{field} {to_wire(amount)} is above the largest single amount {LARGEST_AMOUNT}",
            rule="largest_amount",
            errors=[largest_amount_error(field)],
        )
    return amount


def largest_amount_error(field: str) -> FieldError:
    return FieldError.coded(field, "above_largest_amount", limit=LARGEST_AMOUNT)


def statement_amount_problem(amount: Decimal, *, balance: bool = False) -> str | None:
    """What is wrong with an amount read from a bank statement, naming the limit (None: nothing): a line
    above the largest single amount, or (`balance`) an opening or closing balance beyond the largest account
    total either way. The statement importer refuses the whole file with it (the feeds may call it too)."""
    if balance and abs(amount) > LARGEST_ACCOUNT_TOTAL:
        return f"the balance {to_wire(amount)} is beyond the largest account total {LARGEST_ACCOUNT_TOTAL}"
    if not balance and above_largest_amount(amount):
        return f"the amount {to_wire(amount)} is above the largest single amount {LARGEST_AMOUNT}"
    return None


def above_account_total(
    *, balance_fen: int, received_fen: int, adding_fen: int, received: bool = True
) -> bool:
    """Whether money coming into an account (a deposit, a statement credit, interest) would take its balance,
    or the money it has received from payers (`received`: interest is not), above the largest account
    total."""
    return balance_fen + adding_fen > LARGEST_ACCOUNT_TOTAL_FEN or (
        received and received_fen + adding_fen > LARGEST_ACCOUNT_TOTAL_FEN
    )


def check_account_total(
    field: str, *, balance_fen: int, received_fen: int, adding_fen: int, received: bool = True
) -> None:
    """A 422 naming the largest account total (rule `largest_account_total`) when `adding_fen` more would
    take the account's balance, or (when the money counts as received from payers) the money it has
    received, above LARGEST_ACCOUNT_TOTAL. Interest is not received from payers: `received=False`."""
    if above_account_total(
        balance_fen=balance_fen, received_fen=received_fen, adding_fen=adding_fen, received=received
    ):
        raise InvalidInput(
            f"{to_wire(from_fen(adding_fen))} more would take the account above the largest account total "
            f"{LARGEST_ACCOUNT_TOTAL}",
            rule="largest_account_total",
            errors=[FieldError.coded(field, "above_account_total", limit=LARGEST_ACCOUNT_TOTAL)],
        )


def to_wire(amount: Decimal) -> str:
    return str(quantize(amount))


def quantize(amount: Decimal) -> Decimal:
    """Round to fen. Used only where a rate multiplies an amount (retention shares, coefficients)."""
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # pragma: no cover - only for absurd magnitudes
        raise MoneyError(f"cannot represent {amount!r} in fen") from exc


def to_fen(amount: Decimal) -> int:
    """Decimal yuan → integer fen. Refuses anything that is not a whole number of fen."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise MoneyError(f"{amount} is not a whole number of fen")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return _fen_to_decimal(fen)


def hundredths(value: Decimal, *, what: str) -> int:
    """A two-place quantity (an area in m²) as an integer count of hundredths; refuses a third decimal."""
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{what} has more than two decimals")
    return int(scaled)


def parse_decimal(value: object, *, what: str) -> Decimal:
    """Parse a non-money decimal (area, share, coefficient) given as a string."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MoneyError(f"{what} must be a decimal string")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"{what} must be a decimal string") from exc
