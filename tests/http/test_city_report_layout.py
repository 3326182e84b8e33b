"""The city report PDF on both engines: the issuing authority in its heading and by the seal, the charts of
the dashboard embedded as SVG, and the column headers of the account listing repeated on every page it
continues on (read back per page with pdftotext)."""

from __future__ import annotations

import subprocess
from datetime import date

from escrow import reports
from escrow.config import Settings
from escrow.store.db import UnitOfWork
from tests.conftest import project_body
from tests.http.test_reports import flat, pdf_text

ACCOUNTS = 80  # more than a page of the listing (about 60 lines fit on an A4 page)


def pages_of(content: bytes) -> list[str]:
    """The text of each page (pdftotext separates pages by form feeds), squeezed of spaces."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return [flat(page) for page in done.stdout.decode().split("\f") if page.strip()]


def open_many(client, world, n: int) -> None:
    for i in range(1, n + 1):
        body = project_body(
            name=f"桃城·安居花园{i:03d}期",
            permit_no=f"衡预售2025-{i:03d}",
            account_no=f"62220000888{i:05d}",
            supervised_amount="1000000.00",
        )
        r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{i}"))
        assert r.status_code == 201, r.text


def render_city(engine, ctx) -> bytes:
    with UnitOfWork(engine, readonly=True) as uow:
        return reports.render("city", uow, ctx, start=date(2025, 1, 1), end=date(2025, 12, 31))[1]


def test_the_listing_repeats_its_column_headers_on_every_page(app, client, world, engine):
    open_many(client, world, ACCOUNTS)
    content = render_city(engine, app.state.runtime.ctx)
    pages = pages_of(content)
    listing = [p for p in pages if "62220000888" in p]  # the pages the account listing is on
    assert len(listing) >= 2, f"the listing spans {len(listing)} page(s)"
    header = "监管账号项目开发企业开户日期期间入账期间拨付期末余额"
    for number, page in enumerate(listing, 1):
        assert header in page, f"page {number} of the listing has no column headers"
    # every account once, on some page
    assert all(sum(f"62220000888{i:05d}" in p for p in pages) == 1 for i in range(1, ACCOUNTS + 1))


def test_the_report_names_its_issuing_authority_and_shows_the_charts(app, client, world, engine):
    open_many(client, world, 2)
    ctx = app.state.runtime.ctx
    content = render_city(engine, ctx)
    text = flat(pdf_text(content))
    assert text.count("衡水市住房和城乡建设局") == 2  # in the heading and by the seal
    assert "（盖章）" in text
    for title in ("按月入账与拨付", "期末各监管银行监管余额", "各监管银行留存资金覆盖情况（当前）"):
        assert title in text  # each chart's legend and title, drawn from its SVG
    with UnitOfWork(engine, readonly=True) as uow:
        html = reports.html("city", uow, ctx, start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3
    assert '<thead><tr><th><pre class="listing narrow listing-head">' in html


def test_the_authority_is_a_setting():
    assert Settings.from_env({}).bureau_name == "衡水市住房和城乡建设局"
    named = Settings.from_env({"ESCROW_BUREAU_NAME": "某市住房和城乡建设局"})
    assert named.bureau_name == "某市住房和城乡建设局"
    assert Settings.from_env({"ESCROW_JURISDICTION": "elsewhere"}).bureau_name == ""
