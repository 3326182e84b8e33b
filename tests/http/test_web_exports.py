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
from tests.http.test_api_releases import Steps, confirm, fund, release_body
from tests.http.test_web_pages import (  # noqa: F401  (fixtures)
    alerted,
    browser,
    city,
    open_project,
    suspense_deposit,
)

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


# --- releases ------------------------------------------------------------------------------------------


@pytest.fixture
def applications(client, world, flow) -> dict:
    """A project named like a formula with three release applications, the first rejected."""
    site = open_project(client, world, "open-site", supervised_amount="10000000.00", name=FORMULA)
    fund(flow, "12000000.00")
    confirm(client, world, site["project_id"])
    steps = Steps(client, world)
    ids = [
        steps.applied(release_body(site["project_id"], amount))["release_id"]
        for amount in ("1000000.00", "1000000.00", "1234.56")
    ]
    assert steps.decide(ids[0], "reviewer", "reject", "材料不全").status_code == 201
    return {"site": site, "ids": ids}


def test_the_release_list_downloads_with_its_filters(web, applications):
    reviewer = web("reviewer")
    rows = read_csv(reviewer.get("/releases?status=rejected&format=csv"))
    assert rows[0] == [
        "编号",
        "项目",
        "开发企业",
        "拨付类别",
        "节点",
        "金额（元）",
        "提交时间",
        "状态",
        "下一环节",
    ]
    assert [row[0] for row in rows[1:]] == [str(applications["ids"][0])]
    assert rows[1][1] == "'" + FORMULA and rows[1][5] == "1000000.00" and rows[1][7] == "已驳回"
    assert rows[1][4] == "主体结构完成二分之一" and rows[1][8] == ""
    cells, sheet = read_xlsx(
        reviewer.get(f"/releases?project={applications['site']['project_id']}&format=xlsx&lang=en")
    )
    assert cells[0][:4] == ["No.", "Project", "Developer", "Kind of release"]
    assert sorted(row[0] for row in cells[1:]) == applications["ids"]
    assert {row[1] for row in cells[1:]} == {FORMULA} and sheet.cell(2, 2).data_type == "s"
    by_id = {row[0]: row for row in cells[1:]}
    assert Decimal(str(by_id[applications["ids"][2]][5])) == Decimal("1234.56")
    assert (
        by_id[applications["ids"][1]][7] == "Under review" and "Reviewer" in by_id[applications["ids"][1]][8]
    )
    assert (
        len(read_csv(reviewer.get(f"/releases?project={applications['site']['project_id'] + 1}&format=csv")))
        == 1
    )
    page = reviewer.get("/releases?status=submitted")
    assert 'href="/releases?status=submitted&amp;format=xlsx"' in page.text
    assert web("dev-staff").get("/releases?format=csv").status_code == 403
    assert reviewer.get("/releases?format=json&lang=en").status_code == 400


# --- refunds -------------------------------------------------------------------------------------------


def test_the_refund_list_downloads_with_its_filter_and_the_buyer_masked(client, world, web, project, flow):
    contract = flow.contract(buyer_name="=1+2")
    notice = flow.notice(contract["contract_no"], "265950.00")
    paid = flow.deposit(
        account_no=project["account_no"],
        bank_reference="HSB-PAID",
        amount="265950.00",
        payer_name="=1+2",
        notice_no=notice["notice_no"],
        kind="down_payment",
        channel="transfer",
        value_date="2026-11-22",
    )
    assert paid["status"] == "accepted", paid
    r = client.post(
        f"/api/v1/contracts/{contract['contract_no']}/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers("developer", "cancel"),
    )
    assert r.status_code == 201, r.text
    refund_id = r.json()["refund_id"]
    reviewer = web("reviewer")
    rows = read_csv(reviewer.get("/refunds?status=submitted&format=csv&lang=en"))
    assert rows[0][:3] == ["No.", "Contract", "Buyer"]
    assert rows[1][:5] == [str(refund_id), "HT-2025-0001", "'=***", "桃城·安居花园一期", "265950.00"]
    assert rows[1][6] == "Under review"
    cells, sheet = read_xlsx(reviewer.get("/refunds?format=xlsx&lang=zh"))
    assert cells[0][:3] == ["编号", "合同", "买受人"] and cells[1][2] == "=***"
    assert sheet.cell(2, 3).data_type == "s" and cells[1][6] == "审核中"
    assert len(read_csv(reviewer.get("/refunds?status=rejected&format=csv"))) == 1
    assert 'href="/refunds?status=submitted&amp;format=csv"' in reviewer.get("/refunds?status=submitted").text
    assert web("dev-staff").get("/refunds?format=xlsx").status_code == 403


# --- alerts --------------------------------------------------------------------------------------------


def test_the_alert_list_downloads_with_its_filters(web, alerted):  # noqa: F811
    auditor = web("auditor")
    rows = read_csv(auditor.get("/alerts?format=csv&lang=en"))
    assert rows[0] == ["Severity", "Rule", "Subject", "Account", "State", "Opened", "Recorded text"]
    assert sorted(row[1] for row in rows[1:]) == [
        "Deposit for an unknown payment notice",
        "Deposit in suspense too long",
    ]
    assert {row[0] for row in rows[1:]} == {"Warning"} and {row[4] for row in rows[1:]} == {"Not handled"}
    one = read_csv(auditor.get("/alerts?rule=suspense_overdue&format=csv&lang=zh"))
    assert one[0][:2] == ["级别", "规则"] and [row[1] for row in one[1:]] == ["存入款项挂账超期"]
    assert len(read_csv(auditor.get("/alerts?state=resolved&format=csv"))) == 1
    cells, _sheet = read_xlsx(auditor.get("/alerts?state=all&format=xlsx"))
    assert len(cells) == 3 and cells[1][3] == "6222000011112222"
    page = auditor.get("/alerts?severity=warning")
    assert 'href="/alerts?severity=warning&amp;format=csv"' in page.text
    bad = auditor.get("/alerts?severity=loud&format=csv&lang=en")
    assert bad.status_code == 400 and "Choose one of the listed values." in bad.text
    assert web("dev-staff").get("/alerts?format=csv").status_code == 403


# --- a project's deposits ------------------------------------------------------------------------------


def test_a_projects_deposits_download_in_full(web, project, flow):
    for n in range(3):
        suspense_deposit(flow, project["account_no"], f"S-{n}", f"{n + 1}000.05")
    flow.deposit(
        account_no=project["account_no"],
        bank_reference="S-F",
        amount="7.10",
        payer_name=FORMULA,
        notice_no="TZ000000000000999",
        channel="transfer",
        value_date="2026-11-22",
    )
    reviewer = web("reviewer")
    url = f"/projects/{project['project_id']}/deposits"
    r = reviewer.get(f"{url}?format=csv&lang=en")
    assert filename(r) == f"deposits-{project['project_id']}-2026-11-22.csv"
    rows = read_csv(r)
    assert rows[0][:3] == ["Value date", "Bank reference", "Payer"]
    assert sorted(row[1] for row in rows[1:]) == ["S-0", "S-1", "S-2", "S-F"]
    by_ref = {row[1]: row for row in rows[1:]}
    assert by_ref["S-1"][5] == "2000.05" and by_ref["S-1"][6] == "In suspense"
    assert by_ref["S-F"][2] == "'" + FORMULA
    cells, _sheet = read_xlsx(reviewer.get(f"{url}?format=xlsx&lang=zh"))
    assert cells[0][0] == "入账日期" and {row[2] for row in cells[1:]} >= {FORMULA}
    assert f'href="{url}?format=csv"' in reviewer.get(f"/projects/{project['project_id']}").text
    assert reviewer.get(url, follow_redirects=False).status_code == 303
    assert reviewer.get("/projects/999999/deposits?format=csv").status_code == 404
    assert web("dev-staff").get(f"{url}?format=csv").status_code == 403


# --- the developer's contracts -------------------------------------------------------------------------


def test_a_developer_downloads_only_its_own_contracts(web, project, flow):
    flow.contract(buyer_name="=HYPERLINK", unit="-1+2")
    flow.contract(contract_no="HT-2025-0002", unit="3-2-1802", total_price="1234567.89")
    staff = web("dev-staff")
    rows = read_csv(staff.get("/developer/contracts?format=csv&lang=en"))
    assert rows[0][:3] == ["Contract no.", "Project", "Buyer"]
    assert sorted(row[0] for row in rows[1:]) == ["HT-2025-0001", "HT-2025-0002"]
    by_no = {row[0]: row for row in rows[1:]}
    assert by_no["HT-2025-0001"][2] == "'=*********" and by_no["HT-2025-0001"][4] == "'-1+2"
    assert by_no["HT-2025-0002"][6] == "1234567.89" and by_no["HT-2025-0002"][5] == "98.50"
    assert "1101" in by_no["HT-2025-0002"][3] and "110101199003070011" not in r_text(rows)
    only = read_csv(staff.get("/developer/contracts?q=HT-2025-0002&format=csv&lang=zh"))
    assert [row[0] for row in only[1:]] == ["HT-2025-0002"] and only[0][0] == "合同编号"
    cells, _sheet = read_xlsx(staff.get("/developer/contracts?format=xlsx"))
    assert {row[4] for row in cells[1:]} == {"-1+2", "3-2-1802"}
    assert (
        'href="/developer/contracts?q=0002&amp;format=csv"' in staff.get("/developer/contracts?q=0002").text
    )
    assert read_csv(web("other-dev-staff").get("/developer/contracts?format=csv"))[1:] == []
    assert web("reviewer").get("/developer/contracts?format=csv").status_code == 403


def r_text(rows: list[list[str]]) -> str:
    return "\n".join(",".join(row) for row in rows)
