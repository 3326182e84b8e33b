"""The web lists as downloads (`?format=csv|xlsx`, CONTRACT.md §10) through the real app on both engines:
the rows the page's filters select (all of them, not one page), headings and status words in the page's
language, formula-like cells written as text, exact amounts, the bound, an unknown format, and who may
download what."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from escrow.web.shell import exports
from tests.http.test_web_pages import browser, city, open_project  # noqa: F401  (fixtures)

FORMULA = '=HYPERLINK("http://evil.example","click")'


def read_csv(response) -> list[list[str]]:
    """The CSV download's rows (the byte-order mark checked and taken off)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads Chinese"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:])))


def read_xlsx(response) -> tuple[list[list], openpyxl.worksheet.worksheet.Worksheet]:
    """The XLSX download's rows as openpyxl reads them, and its sheet (to look at cell types)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)], sheet


def filename(response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    return disposition.split('filename="', 1)[1].rstrip('"')


# --- the project list ----------------------------------------------------------------------------------


def test_project_list_downloads_every_row_its_filters_select_as_csv(browser, city):  # noqa: F811
    reviewer = browser("reviewer")
    r = reviewer.get("/projects?finish=finished&lang=en&format=csv")
    assert filename(r) == "projects-2026-11-22.csv"
    rows = read_csv(r)
    assert rows[0] == [
        "Project",
        "Pre-sale permit no.",
        "Developer",
        "Finish",
        "Account no.",
        "Account status",
        "Reconciliation",
        "Highest confirmed node",
        "Opened on",
        "Balance (¥)",
    ]
    assert rows[1:] == [
        [
            "滨湖新城",
            "衡预售2025-003",
            "衡水安居置业有限公司",
            "Finished interior",
            "6222000033330003",
            "Active",
            "No statement yet",
            "",
            "2025-04-01",
            "300000.00",
        ]
    ]
    chinese = read_csv(reviewer.get("/projects?recon=discrepancy&format=csv&lang=zh"))
    assert chinese[0][:4] == ["项目", "预售许可证号", "开发企业", "交付标准"]
    assert [row[0] for row in chinese[1:]] == ["桃城·安居花园一期"]
    assert chinese[1][3] == "毛坯房" and chinese[1][6] == "对账不符"
    assert chinese[1][7] == "主体结构完成二分之一"
    everything = read_csv(reviewer.get("/projects?sort=-name&format=csv"))
    assert [row[0] for row in everything[1:]] == sorted(
        ["桃城·安居花园一期", "Harbour View", "滨湖新城"], reverse=True
    )


def test_project_list_downloads_as_xlsx_with_exact_amounts(browser, city):  # noqa: F811
    r = browser("reviewer").get("/projects?sort=-balance&format=xlsx&lang=en")
    assert filename(r) == "projects-2026-11-22.xlsx"
    rows, sheet = read_xlsx(r)
    assert rows[0][0] == "Project" and rows[0][-1] == "Balance (¥)"
    assert rows[1][0] == "滨湖新城" and rows[1][3] == "Finished interior"
    assert Decimal(str(rows[1][-1])) == Decimal("300000.00") and sheet.cell(2, 10).data_type == "n"
    assert sheet.cell(2, 10).number_format == "0.00"
    assert rows[1][8].date().isoformat() == "2025-04-01"
    assert len(rows) == 4


def test_all_rows_are_downloaded_not_one_page(client, world, browser, project):  # noqa: F811
    for n in range(27):
        open_project(
            client,
            world,
            f"open-{n}",
            name=f"Block {n:02d}",
            permit_no=f"衡预售2025-{100 + n}",
            account_no=f"62220000555{n:05d}",
        )
    rows = read_csv(browser("reviewer").get("/projects?q=Block&sort=name&page=2&format=csv"))
    assert [row[0] for row in rows[1:]] == [f"Block {n:02d}" for n in range(27)]


def test_formula_like_cells_come_out_as_text(client, world, browser, project):  # noqa: F811
    for n, name in enumerate((FORMULA, "-1+2"), start=1):
        open_project(
            client,
            world,
            f"f-{n}",
            name=name,
            permit_no=f"衡预售2025-20{n}",
            account_no=f"622200007777000{n}",
        )
    reviewer = browser("reviewer")
    rows = read_csv(reviewer.get("/projects?sort=name&format=csv"))
    names = [row[0] for row in rows[1:]]
    assert "'" + FORMULA in names and "'-1+2" in names and "桃城·安居花园一期" in names
    cells, sheet = read_xlsx(reviewer.get("/projects?sort=name&format=xlsx"))
    found = {row[0]: n for n, row in enumerate(cells[1:], start=2)}
    assert FORMULA in found and "-1+2" in found
    for name in (FORMULA, "-1+2"):
        assert sheet.cell(found[name], 1).data_type == "s"  # a string cell: text, never a formula


def test_an_unknown_format_is_a_clear_400_page(browser, city):  # noqa: F811
    for lang, words in (("en", "This download format is not offered"), ("zh", "不提供这种下载格式")):
        r = browser("reviewer").get(f"/projects?format=pdf&lang={lang}")
        assert r.status_code == 400 and words in r.text
        assert r.headers["content-type"].startswith("text/html")


def test_a_download_beyond_the_bound_is_refused_with_a_clear_message(browser, city, monkeypatch):  # noqa: F811
    monkeypatch.setattr(exports, "MAX_ROWS", 2)
    r = browser("reviewer").get("/projects?format=csv&lang=en")
    assert r.status_code == 400
    assert "3 rows match; a download holds at most 2. Narrow the filters and try again." in r.text
    assert read_csv(browser("reviewer").get("/projects?finish=shell&format=csv")).__len__() == 3


def test_a_bad_filter_shows_the_page_with_its_error_instead_of_a_file(browser, city):  # noqa: F811
    r = browser("reviewer").get("/projects?status=sleeping&format=csv&lang=en")
    assert r.status_code == 400 and "Choose one of the listed values." in r.text


def test_the_list_page_links_its_downloads_with_its_filters(browser, city):  # noqa: F811
    page = browser("reviewer").get("/projects?finish=finished&sort=-name&page=1")
    assert 'href="/projects?finish=finished&amp;sort=-name&amp;format=csv"' in page.text
    assert 'href="/projects?finish=finished&amp;sort=-name&amp;format=xlsx"' in page.text
    assert "下载 CSV" in page.text and "下载 Excel" in page.text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_download_needs_the_pages_permission(web, city, fmt):  # noqa: F811
    r = web("dev-staff").get(f"/projects?format={fmt}", follow_redirects=False)
    assert r.status_code == 403 and "attachment" not in r.headers.get("content-disposition", "")
