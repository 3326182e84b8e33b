"""Money is exact: Decimal with two places in the domain, integer fen in the database, strings on the wire."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# At most 16 integer digits keeps every amount inside a signed 64-bit count of fen.
WIRE_PATTERN = r"^(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?$"
_WIRE = re.compile(WIRE_PATTERN)


@dataclass(frozen=True)
class WireFormat:
    """How a Decimal of a view is written on the wire: a string matching `pattern`. The API's schema plugin
    reads it from the annotation, so a view's type is also its documented response schema."""

    pattern: str
    description: str


Money = Annotated[
    Decimal, WireFormat(WIRE_PATTERN, "CNY as a decimal string with at most two decimals, e.g. 1234.50")
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
    return (Decimal(fen) / 100).quantize(CENT)


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
