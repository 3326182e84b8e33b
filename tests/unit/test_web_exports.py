"""escrow.web.shell.exports without the app: formula-like text and exact amounts in both file formats."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.web.shell import exports

TABLE = exports.Table(
    ["名称", "Amount"],
    [
        ["=SUM(A1:A2)", Decimal("1234.50")],
        ["+86 138", Decimal("-0.01")],
        ["-1+2", Decimal("12345678901234567.89")],  # more digits than a float holds: written as text
        ["@cmd", None],
        ["\tTAB", Decimal("0.10")],
        ["\rCR", 7],
        ["plain 文本", date(2026, 12, 7)],
    ],
)


def test_csv_has_a_bom_prefixes_formula_like_text_and_keeps_amounts_exact():
    data = exports.to_csv(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["名称", "Amount"],
        ["'=SUM(A1:A2)", "1234.50"],
        ["'+86 138", "-0.01"],
        ["'-1+2", "12345678901234567.89"],
        ["'@cmd", ""],
        ["'\tTAB", "0.10"],
        ["'\rCR", "7"],
        ["plain 文本", "2026-12-07"],
    ]


def test_xlsx_writes_text_as_string_cells_and_numbers_only_when_exact():
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(TABLE))).active
    texts = [sheet.cell(r, 1) for r in range(2, 9)]
    assert [c.value for c in texts] == [
        "=SUM(A1:A2)",
        "+86 138",
        "-1+2",
        "@cmd",
        "\tTAB",
        "_x000D_CR",  # the file format's escape of CR, which Excel reads back as CR
        "plain 文本",
    ]
    assert {c.data_type for c in texts} == {"s"}  # never a formula
    assert sheet.cell(2, 2).data_type == "n" and sheet.cell(2, 2).number_format == "0.00"
    assert sheet.cell(3, 2).value == -0.01
    assert sheet.cell(4, 2).data_type == "s" and sheet.cell(4, 2).value == "12345678901234567.89"
    assert sheet.cell(5, 2).value is None
    assert sheet.cell(7, 2).value == 7
    assert sheet.cell(8, 2).value.date() == date(2026, 12, 7)


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2))
def test_an_amount_written_as_a_number_is_that_very_decimal(amount):
    number = exports.exact_number(amount)
    assert number is not None  # every amount up to a trillion yuan has its number cell
    written = float(f"{number:.16G}")  # the cell's text, as a spreadsheet reads it
    assert Decimal(f"{written:.15G}") == amount  # … and the 15 digits it keeps: the amount to the fen


@pytest.mark.parametrize("amount", ["12345678901234567.89", "0.1234567890123456"])
def test_an_amount_no_float_carries_exactly_has_no_number(amount):
    assert exports.exact_number(Decimal(amount)) is None
