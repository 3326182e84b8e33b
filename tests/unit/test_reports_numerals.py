"""Amounts in Chinese capital numerals (大写金额) on the voucher and the notice: examples from the PBoC's
rules for filling in vouchers, and properties checked by hypothesis against an independent reader."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from escrow.reports.numerals import MAX_FEN, capital_amount

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = {"拾": 10, "佰": 100, "仟": 1000}
GROUPS = {"兆": 10**12, "亿": 10**8, "万": 10**4}


def read_capital(text: str) -> Decimal:
    """An independent reader of capital amounts: 壹拾贰万元整 → 120000.00."""
    assert text.endswith(("整", "分")), text
    body = text.removesuffix("整")
    yuan_text, has_yuan, rest = body.partition("元")
    if not has_yuan:
        yuan_text, rest = "", body
    total = section = number = 0
    for ch in yuan_text.replace("万亿", "兆"):
        if ch in DIGITS:
            number = DIGITS.index(ch)
        elif ch in UNITS:
            assert number, f"a unit without its digit in {text}"
            section += number * UNITS[ch]
            number = 0
        elif ch in GROUPS:
            total += (section + number) * GROUPS[ch]
            section = number = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text}")
    yuan = total + section + number
    jiao = fen = 0
    rest = rest.removeprefix("零")
    if "角" in rest:
        jiao_text, _, rest = rest.partition("角")
        jiao = DIGITS.index(jiao_text)
    if rest:
        assert rest.endswith("分"), text
        fen = DIGITS.index(rest.removesuffix("分"))
    return Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("120000.00", "壹拾贰万元整"),
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("0.00", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("0.35", "叁角伍分"),
        ("1.00", "壹元整"),
        ("1.50", "壹元伍角整"),
        ("10.00", "壹拾元整"),
        ("10.05", "壹拾元零伍分"),
        ("1004.00", "壹仟零肆元整"),
        ("1040.00", "壹仟零肆拾元整"),
        ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),  # the PBoC's example
        ("325.04", "叁佰贰拾伍元零肆分"),  # the PBoC's example
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),  # the PBoC's example
        ("107000.53", "壹拾万柒仟元零伍角叁分"),  # the PBoC's example
        ("100001.00", "壹拾万零壹元整"),
        ("886500.00", "捌拾捌万陆仟伍佰元整"),
        ("100000000.00", "壹亿元整"),
        ("100010000.00", "壹亿零壹万元整"),
        ("1001000.00", "壹佰万壹仟元整"),
        ("100001000.00", "壹亿零壹仟元整"),
        ("100100.00", "壹拾万零壹佰元整"),
        ("7285623257.00", "柒拾贰亿捌仟伍佰陆拾贰万叁仟贰佰伍拾柒元整"),
        ("1000000000000.00", "壹万亿元整"),
        ("9999999999999999.99", "玖仟玖佰玖拾玖万亿玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_known_amounts(amount, words):
    assert capital_amount(Decimal(amount)) == words
    assert read_capital(words) == Decimal(amount)


@pytest.mark.parametrize("bad", ["-1.00", "0.001", "12.345", "10000000000000000.00", "NaN", "Infinity"])
def test_what_cannot_be_written_is_refused(bad):
    with pytest.raises(ValueError):
        capital_amount(Decimal(bad))


amounts = st.integers(min_value=0, max_value=MAX_FEN).map(lambda fen: Decimal(fen) / 100)


@given(amounts)
@example(Decimal("100000000.01"))
@example(Decimal("10.10"))
def test_capital_numerals_read_back_to_the_amount(amount):
    assert read_capital(capital_amount(amount)) == amount


@given(amounts)
@example(Decimal("1000000001.00"))
def test_capital_numerals_follow_the_writing_rules(amount):
    words = capital_amount(amount)
    fen = int(amount * 100)
    assert set(words) <= set(DIGITS + "拾佰仟万亿元角分整"), words
    assert "零零" not in words  # consecutive zeros are one 零
    if fen:  # 零 is never a unit's digit
        assert not any(f"零{u}" in words for u in "拾佰仟万亿元角分整"), words
    assert words.endswith("整") == (fen % 10 == 0)  # stops at 元 or 角: 整; has 分: no 整
    assert ("元" in words) == (fen >= 100 or fen == 0)
    assert words.startswith("零") == (fen == 0)
    if fen >= 10:  # a leading ten is written with its 壹: 壹拾…, never 拾…
        assert not words.startswith("拾")


def test_a_decimal_string_is_accepted():
    assert capital_amount("265950.00") == "贰拾陆万伍仟玖佰伍拾元整"
