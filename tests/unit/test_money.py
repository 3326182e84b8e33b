"""Money is exact: Decimal in the domain, integer fen in the database, strings on the wire (DESIGN §4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain.money import MoneyError, from_fen, parse_wire, quantize, to_fen, to_wire

# The wire format allows 16 integer digits, i.e. fen up to 10**18 − 1, well inside a signed 64-bit integer.
MAX_FEN = 10**18 - 1
fens = st.integers(min_value=0, max_value=MAX_FEN)


@given(fens)
def test_fen_decimal_wire_round_trip(fen: int) -> None:
    amount = from_fen(fen)
    assert amount.as_tuple().exponent == -2
    assert to_fen(amount) == fen
    wire = to_wire(amount)
    assert wire == f"{fen // 100}.{fen % 100:02d}"
    parsed = parse_wire(wire, positive=False)
    assert parsed == amount
    assert to_fen(parsed) == fen


@given(fens.filter(lambda f: f > 0))
def test_positive_wire_amounts_parse(fen: int) -> None:
    assert to_fen(parse_wire(to_wire(from_fen(fen)))) == fen


@given(st.integers(min_value=0, max_value=10**16 - 1), st.integers(min_value=0, max_value=9))
def test_one_decimal_is_padded_to_two(yuan: int, tenths: int) -> None:
    amount = parse_wire(f"{yuan}.{tenths}", positive=False)
    assert to_wire(amount) == f"{yuan}.{tenths}0"
    assert to_fen(amount) == yuan * 100 + tenths * 10


def test_known_values() -> None:
    assert parse_wire("1234.50") == Decimal("1234.50")
    assert to_wire(parse_wire("1234.5")) == "1234.50"
    assert to_wire(parse_wire("7")) == "7.00"
    assert to_fen(Decimal("1234.50")) == 123450
    assert from_fen(1) == Decimal("0.01")
    assert to_wire(Decimal("100")) == "100.00"
    assert parse_wire("9999999999999999.99") == Decimal("9999999999999999.99")


@pytest.mark.parametrize("value", [1234, 1234.5, 0.1, True, False, None, Decimal("1.00"), b"1.00", ["1.00"]])
def test_numbers_and_non_strings_are_refused(value: object) -> None:
    with pytest.raises(MoneyError, match="decimal string"):
        parse_wire(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.234", "more than two decimals"),
        ("0.001", "more than two decimals"),
        ("-1.00", "must not be negative"),
        ("-0.01", "must not be negative"),
        ("abc", "decimal string"),
        ("", "decimal string"),
        ("1,234.00", "decimal string"),
        ("1e3", "decimal string"),
        ("NaN", "decimal string"),
        ("Infinity", "decimal string"),
        ("01.00", "decimal string"),
        (".50", "decimal string"),
        ("1.", "decimal string"),
        ("+1.00", "decimal string"),
        ("¥1.00", "decimal string"),
        ("１２.００", "decimal string"),  # full-width digits
        ("10000000000000000.00", "decimal string"),  # 17 integer digits: beyond 64-bit fen
    ],
)
def test_bad_strings_are_refused_with_a_readable_message(value: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_wire(value, positive=False)


@pytest.mark.parametrize("value", ["0", "0.00", "0.0"])
def test_zero_is_refused_when_positive_is_required(value: str) -> None:
    with pytest.raises(MoneyError, match="greater than zero"):
        parse_wire(value)
    assert parse_wire(value, positive=False) == Decimal("0.00")


def test_money_error_is_a_value_error() -> None:
    # Callers that validate input catch ValueError; MoneyError must stay one.
    with pytest.raises(ValueError):
        parse_wire(12)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=9))
def test_to_fen_refuses_fractions_of_a_fen(fen: int, thousandth: int) -> None:
    amount = from_fen(fen) + Decimal(thousandth) / 1000
    with pytest.raises(MoneyError, match="not a whole number of fen"):
        to_fen(amount)


def test_quantize_rounds_half_up_to_fen() -> None:
    assert quantize(Decimal("0.005")) == Decimal("0.01")
    assert quantize(Decimal("0.004")) == Decimal("0.00")
    assert quantize(Decimal("2.675")) == Decimal("2.68")
