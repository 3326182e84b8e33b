"""Lists as downloads: `?format=csv` or `?format=xlsx` on a list page answers with the rows its filters
select — all of them, not one page, up to MAX_ROWS — as a file named after the list and today
(`projects-2026-12-07.csv`), headings in the page's language (CONTRACT.md §10).

A cell a spreadsheet would read as a formula (leading `=`, `+`, `-`, `@`, tab or CR) is written as text: in
CSV with a `'` before it, in XLSX as a string cell. Amounts stay exact: a decimal string ("1234.50") in CSV;
in XLSX a number (format 0.00) where the cell's double read to 15 significant digits is that very decimal —
every amount below ten trillion yuan — else the decimal string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import xlsxwriter
from litestar import Request, Response

from escrow.web.shell import pages
from escrow.web.shell.labels import N_

MAX_ROWS = 50_000  # a download holds at most this many rows; beyond it the filters must narrow the list
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | date | None


class Refused(Exception):
    """A download that cannot be given: the error page says why (in the user's language), status 400."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(title)
        self.title, self.detail = title, detail


@dataclass(frozen=True)
class Table:
    """What a download holds: the headings (already in the page's language) and the rows."""

    headings: Sequence[str]
    rows: Iterable[Sequence[Cell]]


UNKNOWN_FORMAT = N_("This download format is not offered")
UNKNOWN_FORMAT_DETAIL = N_("Choose format=csv or format=xlsx.")
TOO_MANY = N_("The list is too long to download")
TOO_MANY_DETAIL = N_(
    "%(count)s rows match; a download holds at most %(most)s. Narrow the filters and try again."
)


def requested(request: Request) -> str | None:
    """The format asked for by `?format=`, None for the page itself; Refused for a format not offered."""
    wanted = request.query_params.get("format")
    if wanted is None or wanted == "":
        return None
    if wanted not in FORMATS:
        _ = pages.gettext(request)
        raise Refused(_(UNKNOWN_FORMAT), _(UNKNOWN_FORMAT_DETAIL))
    return wanted


def check_size(total: int, _: Any) -> None:
    """Refused when more rows match than a download holds."""
    if total > MAX_ROWS:
        raise Refused(_(TOO_MANY), _(TOO_MANY_DETAIL, count=total, most=MAX_ROWS))


async def download(request: Request, name: str, fmt: str, table: Table) -> Response:
    """The file answer: `name-YYYY-MM-DD.csv|xlsx` as an attachment (written off the event loop: a long
    list takes a moment)."""
    content = await pages.run(to_csv if fmt == "csv" else to_xlsx, table)
    filename = f"{name}-{pages.ctx(request).today().isoformat()}.{fmt}"
    return Response(
        content=content,
        media_type=FORMATS[fmt],
        headers={
            **pages.HEADERS,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


# --- CSV ----------------------------------------------------------------------------------------------------


def csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # the decimal itself: never through a float
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens Chinese text as Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in table.headings])
    for row in table.rows:
        writer.writerow([csv_text(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- XLSX ---------------------------------------------------------------------------------------------------


def exact_number(value: Decimal) -> float | None:
    """The float a number cell holds for this amount, None where it cannot stand for it exactly (the cell
    then holds the decimal as a string). A decimal of at most 15 significant digits (DBL_DIG) comes back
    from its nearest double rounded to 15 digits, which is what a spreadsheet keeps and shows: the same
    double as a clerk typing the amount would get. The text XlsxWriter writes (`%.16G`) must give back that
    double."""
    if len(value.as_tuple().digits) > 15:
        return None
    number = float(value)
    if float(f"{number:.16G}") != number or Decimal(f"{number:.15G}") != value:
        return None
    return number


def to_xlsx(table: Table) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    amount = book.add_format({"num_format": "0.00"})
    for col, heading in enumerate(table.headings):
        sheet.write_string(0, col, heading, bold)
    for r, row in enumerate(table.rows, start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, Decimal):
                number = exact_number(value)
                if number is None:
                    sheet.write_string(r, col, format(value, "f"))
                else:
                    sheet.write_number(r, col, number, amount)
            elif isinstance(value, int) and abs(value) < 2**53:
                sheet.write_number(r, col, value)
            elif isinstance(value, date):
                sheet.write_datetime(r, col, value, day)
            else:
                # always a string cell: "=…" stays text, never a formula
                sheet.write_string(r, col, str(value))
    book.close()
    return out.getvalue()
