"""The project list's downloads in a real browser, in Chinese and in English: a filter chosen on the page
(the results update with HTMX) carries into the download links, and the files hold just the rows it
selects, headings in the page's language."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

HEADINGS = {
    "zh": ["项目", "预售许可证号", "开发企业", "交付标准"],
    "en": ["Project", "Pre-sale permit no.", "Developer", "Finish"],
}
FINISHED = {"zh": "精装修", "en": "Finished interior"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_project_list_downloads_what_its_filters_select(live, page_as, shot, lang):
    live.open_project()
    live.open_project(
        name="滨湖新城", permit_no="衡预售2025-003", account_no="6222000033330003", finish="finished"
    )
    page = page_as("reviewer")
    page.goto(f"/projects?lang={lang}")
    page.select_option("#f-finish", "finished")
    csv_link = page.locator("a[data-download=csv]")
    expect(csv_link).to_have_attribute("href", "/projects?finish=finished&format=csv")
    shot(page, f"exports-projects-{lang}")

    with page.expect_download() as started:
        csv_link.click()
    download = started.value
    assert download.suggested_filename == f"projects-{live.today.isoformat()}.csv"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == HEADINGS[lang]
    assert [(row[0], row[3]) for row in rows[1:]] == [("滨湖新城", FINISHED[lang])]

    with page.expect_download() as started:
        page.click("a[data-download=xlsx]")
    download = started.value
    assert download.suggested_filename == f"projects-{live.today.isoformat()}.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0][:4] == HEADINGS[lang]
    assert [(row[0], row[3]) for row in cells[1:]] == [("滨湖新城", FINISHED[lang])]
