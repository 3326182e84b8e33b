"""Amounts in Chinese capital numerals (大写金额), as banks and the bureau write them on forms.

The rules of the PBoC's payment and settlement measures (《支付结算办法》, 附一
正确填写票据和结算凭证的基本规定):

- digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟, group units 万 亿 (and 万亿 for the 13th–16th digits);
  the leading 1 of a ten is written: 10 → 壹拾, 120000 → 壹拾贰万;
- zeros between digits are written as one 零 however many there are (1004 → 壹仟零肆, 100001 → 壹拾万零壹),
  except zeros that only end a 万 or 亿 group before a 仟, which the rules allow to leave out and the PBoC's
  own example does (107000.53 → 壹拾万柒仟元零伍角叁分);
- 元 ends the yuan part; an amount that stops at 元 or 角 ends with 整 (120000.00 → 壹拾贰万元整,
  1.50 → 壹元伍角整); an amount with 分 has no 整;
- when the yuan part ends in 0 and 角 is not zero, or 角 is zero and 分 is not, 零 follows 元
  (1680.32 → 壹仟陆佰捌拾元零叁角贰分, 325.04 → 叁佰贰拾伍元零肆分);
- less than one yuan has no 元 (0.05 → 伍分); nothing at all is 零元整.
"""

from __future__ import annotations

from decimal import Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")
MAX_FEN = 10**18 - 1  # 16 yuan digits, as the wire format allows


def _yuan_words(yuan: int) -> str:
    """The integer part without 元: 1004 → 壹仟零肆, 107000 → 壹拾万柒仟, 100010000 → 壹亿零壹万."""
    digits = str(yuan)
    out: list[str] = []
    zero_pending = False
    group_has_digit = False
    last_group = -1  # the group whose unit (万, 亿, 万亿) was written last, if nothing followed it yet
    for i, ch in enumerate(digits):
        position = len(digits) - 1 - i
        digit = int(ch)
        if digit == 0:
            zero_pending = bool(out)
        else:
            # zeros that only end the group above, before a 仟: no 零 (the PBoC's 107000.53 → 壹拾万柒仟元…)
            after_group = position % 4 == 3 and last_group == position // 4 + 1
            if zero_pending and not after_group:
                out.append("零")
            zero_pending = False
            last_group = -1
            out.append(DIGITS[digit] + _UNITS[position % 4])
            group_has_digit = True
        if position % 4 == 0 and position:
            if group_has_digit:
                out.append(_GROUPS[position // 4])
                last_group = position // 4
            group_has_digit = False
    return "".join(out)


def capital_amount(amount: Decimal | int | str) -> str:
    """An amount of CNY in capital numerals: Decimal("120000.00") → 壹拾贰万元整.

    Accepts a Decimal (or a decimal string) with at most two decimals, 0 ≤ amount < 10¹⁶ yuan.
    """
    value = Decimal(amount)
    if not value.is_finite() or value < 0:
        raise ValueError(f"cannot write {amount!r} in capital numerals: not a non-negative amount")
    fen_total = value * 100
    if fen_total != fen_total.to_integral_value():
        raise ValueError(f"cannot write {amount!r} in capital numerals: more than two decimals")
    fen_total = int(fen_total)
    if fen_total > MAX_FEN:
        raise ValueError(f"cannot write {amount!r} in capital numerals: too large")
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if fen_total == 0:
        return "零元整"
    out = _yuan_words(yuan) + "元" if yuan else ""
    if jiao:
        if yuan and yuan % 10 == 0:
            out += "零"
        out += DIGITS[jiao] + "角"
    elif fen and yuan:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    else:
        out += "整"
    return out


def money(value: Decimal | str | int | None) -> str:
    """ "1234567.5" → "1,234,567.50" (the pages' and the PDFs' way of writing an amount)."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


def capital(value: Decimal | str | None) -> str:
    """ "120000.00" → 壹拾贰万元整."""
    return "" if value is None or value == "" else capital_amount(Decimal(value))
