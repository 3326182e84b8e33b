"""The bureau's read pages through the real app on both engines: the city dashboard, the alert list with its
acknowledge and resolve forms, the project list (search, filters, sorting, pages, the HTMX fragment) and the
project page (the account, the nodes, the release cap in words, suspense items, the audit trail)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from escrow.app import build_context
from escrow.jobs import tasks
from escrow.store.db import UnitOfWork
from escrow.store.models import Alert, AuditEvent
from tests.conftest import OTHER_DEVELOPER_CODE, project_body
from tests.http.test_api_releases import TODAY, Steps, confirm, fund, release_body
from tests.web import post_form, sign_in

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the `today` fixture's day


@pytest.fixture
def browser(app, users):
    """`browser("reviewer")` → a TestClient signed in through the real login form, one per user. They are not
    entered as context managers: two running lifespans of one app hang when the second shuts down, and
    these share the app with the `client` fixture (each request then runs in its own portal)."""
    from litestar.testing import TestClient

    opened: dict[str, TestClient] = {}

    def signed_in(username: str) -> TestClient:
        if username not in opened:
            opened[username] = TestClient(app)
            sign_in(opened[username], username)
        return opened[username]

    return signed_in


def main_of(html: str) -> str:
    """The page's own content (without the layout's navigation)."""
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, f"figure {name} is on the page"
    return found.group(1).strip()


def stats_api(client, world, start: str, end: str) -> dict:
    r = client.get("/api/v1/stats", params={"from": start, "to": end}, headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    return r.json()


def open_project(client, world, key: str, **overrides) -> dict:
    r = client.post("/api/v1/projects", json=project_body(**overrides), headers=world.headers("admin", key))
    assert r.status_code == 201, r.text
    return r.json()


def suspense_deposit(flow, account_no: str, ref: str, amount: str, value_date: str = TODAY) -> dict:
    """Money the bank received for an unknown payment notice: it goes to suspense."""
    deposit = flow.deposit(
        account_no=account_no,
        bank_reference=ref,
        amount=amount,
        payer_name="李娜",
        notice_no="TZ000000000000999",
        channel="transfer",
        value_date=value_date,
    )
    assert deposit["status"] == "suspense", deposit
    return deposit


def confirm_agreement(client, world, account_no: str) -> None:
    """The bank confirms the account's tri-party agreement (else `agreement_unconfirmed` joins the alerts)."""
    body = {"agreement_no": f"衡监协-{account_no}", "opened_on": "2025-03-05"}
    r = client.post(
        f"/api/v1/accounts/{account_no}/confirmation",
        json=body,
        headers=world.headers("bank", f"agreement-{account_no}"),
    )
    assert r.status_code == 200, r.text


def sweep(engine, settings) -> None:
    ctx = build_context(settings, engine, lambda: NOW.date())
    assert tasks.run(tasks.BY_ID["alert-sweep"], engine, ctx, now=NOW) == "done"


# --- the dashboard ---------------------------------------------------------------------------------------


def test_dashboard_figures_are_the_stats_of_the_period_in_both_languages(
    client, world, browser, project, flow
):
    fund(flow, "1200000.00")
    suspense_deposit(flow, project["account_no"], "S-1", "5000.00")
    page = browser("reviewer").get("/?from=2025-01-01&to=2026-11-22&lang=en")
    assert page.status_code == 200
    expected = stats_api(client, world, "2025-01-01", "2026-11-22")
    assert expected["accounts_opened"] == 1 and expected["deposits_total"] == "1205000.00"
    assert figure(page.text, "accounts_opened") == "1"
    assert figure(page.text, "presale_area_m2") == "12,000.50"
    assert figure(page.text, "deposits_total") == "¥1,205,000.00"
    assert figure(page.text, "releases_total") == "¥0.00"
    assert figure(page.text, "balance_total") == "¥1,205,000.00"
    assert "Deposits received" in page.text and "From 1 Jan 2025 to 22 Nov 2026" in page.text

    chinese = browser("reviewer").get("/?from=2025-01-01&to=2026-11-22&lang=zh")
    assert figure(chinese.text, "deposits_total") == "¥1,205,000.00"
    assert "壹佰贰拾万伍仟元整" in chinese.text  # the key amounts in capital numerals
    assert "2025年1月1日" in chinese.text and "Deposits received" not in chinese.text

    # a period without the account's opening: nothing opened, but the balance at its end is what it was
    before = browser("reviewer").get("/?from=2026-01-01&to=2026-06-30&lang=en")
    expected = stats_api(client, world, "2026-01-01", "2026-06-30")
    assert expected["accounts_opened"] == 0
    assert figure(before.text, "accounts_opened") == "0"
    assert figure(before.text, "deposits_total") == f"¥{Decimal(expected['deposits_total']):,.2f}"


def test_dashboard_defaults_to_the_last_12_months_and_offers_quick_periods(browser, project):
    page = browser("director").get("/?lang=en")
    assert page.status_code == 200
    assert 'value="2025-12-01"' in page.text and 'value="2026-11-22"' in page.text
    assert "From 1 Dec 2025 to 22 Nov 2026" in page.text
    assert 'href="/?from=2025-01-01&amp;to=2025-12-31"' in page.text  # last year
    assert 'href="/?from=2026-10-01&amp;to=2026-10-31"' in page.text  # last month


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2025-13-01&to=2025-12-31", "from", "请按 YYYY-MM-DD 格式输入日期。"),
        ("from=2025-01-01&to=yesterday", "to", "请按 YYYY-MM-DD 格式输入日期。"),
        ("from=2025-12-31&to=2025-01-01", "to", "结束日期早于开始日期。"),
    ],
)
def test_a_bad_period_is_a_field_error_that_keeps_the_input(browser, project, query, field, message):
    page = browser("reviewer").get(f"/?{query}")
    assert page.status_code == 400
    assert f'id="e-{field}">{message}' in page.text
    for part in query.split("&"):
        name, value = part.split("=")
        assert f'name="{name}" type="date" value="{value}"' in page.text
    assert 'data-figure="deposits_total"' not in page.text


def test_dashboard_lists_what_waits_for_me_alerts_and_discrepancies(
    client, world, browser, engine, settings, flow
):
    site = open_project(client, world, "open-site", supervised_amount="10000000.00")
    fund(flow, "12000000.00")
    confirm(client, world, site["project_id"])
    steps = Steps(client, world)
    small = steps.applied(release_body(site["project_id"], "1000000.00"))
    big = steps.applied(release_body(site["project_id"], "2000000.00"))
    assert steps.decide(big["release_id"], "reviewer").status_code == 201
    fund(flow, "80000.00", n=2)
    r = client.post(
        "/api/v1/contracts/HT-F-2/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers("developer", "cancel"),
    )
    assert r.status_code == 201, r.text
    refund = f'href="/refunds/{r.json()["refund_id"]}"'
    # the reviewer has the first step of `small`; the approver the second step of `big`
    mine = main_of(browser("reviewer").get("/?lang=en").text)
    assert f'href="/releases/{small["release_id"]}"' in mine
    assert f'href="/releases/{big["release_id"]}"' not in mine
    assert refund in mine and "HT-F-2" in mine
    theirs = main_of(browser("approver").get("/?lang=en").text)
    assert f'href="/releases/{big["release_id"]}"' in theirs
    assert f'href="/releases/{small["release_id"]}"' not in theirs
    assert refund not in theirs
    assert "Nothing is waiting for your decision." in main_of(browser("auditor").get("/?lang=en").text)

    suspense_deposit(flow, site["account_no"], "S-OLD", "5000.00", value_date="2026-11-10")
    confirm_agreement(client, world, site["account_no"])
    sweep(engine, settings)
    statement = {
        "account_no": site["account_no"],
        "statement_date": TODAY,
        "opening_balance": "0.00",
        "closing_balance": "1.00",
        "lines": [],
    }
    r = client.post("/api/v1/statements", json=statement, headers=world.headers("bank", "st-1"))
    assert r.status_code == 201 and r.json()["status"] == "discrepancy", r.text
    page = main_of(browser("reviewer").get("/?lang=en").text)
    assert "2 not handled, 0 acknowledged" in page
    assert "Deposit in suspense too long" in page and "Deposit for an unknown payment notice" in page
    discrepancies = page.split('id="discrepancies"', 1)[1]
    assert f'href="/projects/{site["project_id"]}"' in discrepancies and site["account_no"] in discrepancies


# --- alerts ----------------------------------------------------------------------------------------------


@pytest.fixture
def alerted(client, world, flow, engine, settings, project) -> dict[str, Alert]:
    """Two warnings on one deposit in suspense: an unknown payment notice, and overdue in suspense."""
    suspense_deposit(flow, project["account_no"], "S-OLD", "5000.00", value_date="2026-11-10")
    confirm_agreement(client, world, project["account_no"])
    sweep(engine, settings)
    with UnitOfWork(engine, readonly=True) as uow:
        return {a.rule: a for a in uow.session.scalars(select(Alert).order_by(Alert.id))}


def test_alerts_are_listed_with_translated_rules_and_filters(browser, alerted, project):
    assert set(alerted) == {"deposit_unknown_notice", "suspense_overdue"}
    page = browser("auditor").get("/alerts")
    assert page.status_code == 200
    body = main_of(page.text)
    assert "存入款项挂账超期" in body and "缴款通知书不存在的存入" in body
    assert body.count('<tr id="alert-') == 2
    assert f'href="/projects/{project["project_id"]}"' in body
    assert "/acknowledge" not in body and "/resolve" not in body  # the auditor only reads

    one = main_of(browser("auditor").get("/alerts?rule=suspense_overdue&lang=en").text)
    assert one.count('<tr id="alert-') == 1 and f'id="alert-{alerted["suspense_overdue"].id}"' in one
    assert "1 alerts" in one
    none = main_of(browser("auditor").get("/alerts?state=resolved&lang=en").text)
    assert 'id="alert-' not in none and "No alert matches." in none
    assert main_of(browser("auditor").get("/alerts?severity=warning").text).count('<tr id="alert-') == 2
    assert 'id="alert-' not in main_of(browser("auditor").get("/alerts?severity=critical").text)

    bad = browser("auditor").get("/alerts?severity=nope&lang=en")
    assert bad.status_code == 400 and 'id="e-severity">Choose one of the listed values.' in bad.text


def test_acknowledge_and_resolve_alerts_through_the_forms(browser, alerted, engine):
    reviewer = browser("reviewer")
    page = reviewer.get("/alerts?rule=suspense_overdue")
    alert = alerted["suspense_overdue"]
    assert f'action="/alerts/{alert.id}/resolve"' in page.text
    assert f'formaction="/alerts/{alert.id}/acknowledge"' in page.text
    back = "/alerts?rule=suspense_overdue"
    r = post_form(reviewer, f"/alerts/{alert.id}/acknowledge", {"comment": "正在核实", "back": back})
    assert r.status_code == 303 and r.headers["location"] == f"{back}&done=alert_acknowledged"
    done = reviewer.get(r.headers["location"])
    assert "已确认该预警" in done.text and "已确认" in done.text
    assert f'formaction="/alerts/{alert.id}/acknowledge"' not in done.text  # acknowledged already

    r = post_form(
        reviewer, f"/alerts/{alert.id}/resolve", {"comment": "已退回付款人", "back": "https://evil.example"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/alerts?done=alert_resolved"
    with UnitOfWork(engine, readonly=True) as uow:
        stored = uow.session.get(Alert, alert.id)
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_type == "alert").order_by(AuditEvent.id)
        ).all()
    assert stored.state == "resolved"
    assert [(e.action, e.details.get("comment")) for e in events][-2:] == [
        ("alert.acknowledged", "正在核实"),
        ("alert.resolved", "已退回付款人"),
    ]
    again = post_form(reviewer, f"/alerts/{alert.id}/resolve?lang=en", {})
    assert again.status_code == 409 and "This alert is already resolved." in again.text

    long = post_form(
        reviewer, f"/alerts/{alerted['deposit_unknown_notice'].id}/resolve", {"comment": "x" * 501}
    )
    assert long.status_code == 422 and "At most 500 characters." in long.text  # the session chose English
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.get(Alert, alerted["deposit_unknown_notice"].id).state == "open"


def test_alert_forms_are_refused_to_roles_that_may_not_handle_them(browser, alerted, engine):
    alert = alerted["suspense_overdue"]
    for username in ("auditor", "inspector"):
        r = post_form(browser(username), f"/alerts/{alert.id}/acknowledge", {})
        assert r.status_code == 403
        assert post_form(browser(username), f"/alerts/{alert.id}/resolve", {}).status_code == 403
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.get(Alert, alert.id).state == "open"
    assert post_form(browser("director"), "/alerts/99999999999/resolve", {}).status_code == 404


# --- the project list ------------------------------------------------------------------------------------


@pytest.fixture
def city(client, world, flow, project) -> dict[str, dict]:
    """Three projects: the world's shell-housing project (half of the structure confirmed, a discrepancy
    on its statement), another developer's, and a finished-interior one with money on its account."""
    harbour = open_project(
        client,
        world,
        "open-harbour",
        developer_credit_code=OTHER_DEVELOPER_CODE,
        name="Harbour View",
        permit_no="衡预售2025-777",
        account_no="6222000099990001",
        opened_on="2025-06-01",
    )
    lake = open_project(
        client,
        world,
        "open-lake",
        name="滨湖新城",
        permit_no="衡预售2025-003",
        account_no="6222000033330003",
        finish="finished",
        opened_on="2025-04-01",
    )
    contract = flow.contract(
        permit_no=lake["permit_no"], contract_no="HT-L-1", unit="L-1", total_price="300000.00"
    )
    notice = flow.notice(contract["contract_no"], "300000.00", kind="full")
    deposit = flow.deposit(
        account_no=lake["account_no"],
        bank_reference="LAKE-1",
        amount="300000.00",
        payer_name="张伟",
        notice_no=notice["notice_no"],
        kind="full",
        channel="transfer",
        value_date=TODAY,
    )
    assert deposit["status"] == "accepted", deposit
    confirm(client, world, project["project_id"])
    statement = {
        "account_no": project["account_no"],
        "statement_date": TODAY,
        "opening_balance": "0.00",
        "closing_balance": "1.00",
        "lines": [],
    }
    r = client.post("/api/v1/statements", json=statement, headers=world.headers("bank", "st-1"))
    assert r.status_code == 201, r.text
    return {"garden": project, "harbour": harbour, "lake": lake}


def listed(html: str) -> list[str]:
    """The project names in the results table, in order."""
    return re.findall(r'<td><a href="/projects/\d+">([^<]+)</a>', html)


def test_project_search_finds_by_name_permit_account_and_developer(browser, city):
    client = browser("reviewer")
    for q in ("Harbour", "2025-777", "99990001", "Other Developer", "harbour view"):
        page = client.get("/projects", params={"q": q})
        assert page.status_code == 200
        assert listed(page.text) == ["Harbour View"], q
    assert listed(client.get("/projects", params={"q": "安居花园"}).text) == ["桃城·安居花园一期"]
    assert listed(client.get("/projects", params={"q": "100%_"}).text) == []  # no wildcards from the box
    assert sorted(listed(client.get("/projects").text)) == sorted(
        ["桃城·安居花园一期", "Harbour View", "滨湖新城"]
    )


def test_project_filters(browser, city):
    client = browser("reviewer")
    assert listed(client.get("/projects?finish=finished").text) == ["滨湖新城"]
    assert listed(client.get("/projects?recon=discrepancy").text) == ["桃城·安居花园一期"]
    assert sorted(listed(client.get("/projects?recon=pending").text)) == ["Harbour View", "滨湖新城"]
    assert listed(client.get("/projects?node=half_structure").text) == ["桃城·安居花园一期"]
    assert sorted(listed(client.get("/projects?node=none").text)) == ["Harbour View", "滨湖新城"]
    assert listed(client.get("/projects?node=topped_out").text) == []
    assert len(listed(client.get("/projects?status=active").text)) == 3
    assert listed(client.get("/projects?status=frozen").text) == []
    page = client.get("/projects?status=active&finish=shell&q=Harbour")
    assert listed(page.text) == ["Harbour View"]
    bad = client.get("/projects?status=sleeping&lang=en")
    assert bad.status_code == 400 and 'id="e-status">Choose one of the listed values.' in bad.text
    assert len(listed(bad.text)) == 3  # the bad filter is left out, the others still apply


def test_project_list_sorts_and_shows_the_balance_of_the_books(client, world, browser, city):
    reviewer = browser("reviewer")
    by_name = listed(reviewer.get("/projects?sort=name").text)
    assert by_name == sorted(by_name)
    assert listed(reviewer.get("/projects?sort=-name").text) == by_name[::-1]
    assert listed(reviewer.get("/projects?sort=-balance").text)[0] == "滨湖新城"
    assert listed(reviewer.get("/projects?sort=opened").text) == [
        "桃城·安居花园一期",
        "滨湖新城",
        "Harbour View",
    ]
    page = reviewer.get("/projects?q=滨湖")
    account = client.get(
        f"/api/v1/accounts/{city['lake']['account_no']}", headers=world.headers("bank")
    ).json()
    assert account["balance"] == "300000.00"
    assert '<td class="num">300,000.00</td>' in page.text
    # the header links reverse the order of the column sorted by
    assert 'href="/projects?q=%E6%BB%A8%E6%B9%96&amp;sort=-name"' in page.text


def test_project_list_pages_hold_25_and_stay_in_the_url(client, world, browser, project, engine):
    for n in range(27):
        open_project(
            client,
            world,
            f"open-{n}",
            name=f"Block {n:02d}",
            permit_no=f"衡预售2025-{100 + n}",
            account_no=f"62220000555{n:05d}",
        )
    reviewer = browser("reviewer")
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        first = reviewer.get("/projects?q=Block&sort=name&lang=en")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    # the rows come with their maintained balances (never the whole journal's sum)
    # 9: the page header's count of unread notifications is one of them
    assert len(statements) <= 9, "the list takes a fixed number of queries, not one per project"
    assert listed(first.text) == [f"Block {n:02d}" for n in range(25)]
    assert "27 projects found" in first.text and "1 / 2" in first.text
    assert 'href="/projects?q=Block&amp;sort=name&amp;page=2"' in first.text
    second = reviewer.get("/projects?q=Block&sort=name&page=2")
    assert listed(second.text) == ["Block 25", "Block 26"] and "2 / 2" in second.text
    past = reviewer.get("/projects?q=Block&sort=name&page=9")
    assert listed(past.text) == ["Block 25", "Block 26"]
    for page in ("abc", "0", "-1", "99999999999"):
        assert listed(reviewer.get(f"/projects?sort=name&page={page}").text)[0] == "Block 00", page


def test_the_search_box_updates_the_results_with_htmx(browser, city):
    client = browser("reviewer")
    full = client.get("/projects")
    assert 'hx-get="/projects"' in full.text and 'hx-target="#results"' in full.text
    assert 'hx-trigger="input changed delay:300ms, search"' in full.text and 'hx-push-url="true"' in full.text
    fragment = client.get("/projects?q=Harbour", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and '<nav class="main-nav"' not in fragment.text
    assert listed(fragment.text) == ["Harbour View"]
    restored = client.get(
        "/projects?q=Harbour", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.text  # history restore needs the whole page


# --- the project page ------------------------------------------------------------------------------------


@pytest.fixture
def funded(client, world, flow, project) -> dict:
    """1,200,000.00 received and 5,000.00 in suspense; half of the main structure confirmed."""
    fund(flow, "1200000.00")
    suspense_deposit(flow, project["account_no"], "S-1", "5000.00")
    confirm(client, world, project["project_id"])
    return project


def test_project_page_shows_the_account_nodes_and_the_cap_in_words(client, world, browser, funded):
    url = f"/projects/{funded['project_id']}"
    page = browser("reviewer").get(url + "?lang=en")
    assert page.status_code == 200
    body = main_of(page.text)
    account = client.get(f"/api/v1/accounts/{funded['account_no']}", headers=world.headers("bank")).json()
    assert account["balance"] == "1205000.00" and account["required_retention"] == "21000000.00"
    assert funded["account_no"] in body and "衡水银行 (HSB)" in body and "Active" in body
    assert "¥1,205,000.00" in body and "¥30,000,000.00" in body and "¥21,000,000.00" in body
    # the rule book in words (title and version), linking to its page
    assert 'Under the rule book <a class="rulebook" href="/rules/hengshui/2024.1">Hengshui Measures' in body
    assert "(version 2024.1)</a>" in body and "hengshui@2024.1" not in body
    assert (
        "Key supervised amount ¥30,000,000.00 × 70% retained once “Half of the main structure completed” is "
        "confirmed" in body
    )
    link = '<a class="rule" href="/rules/hengshui/2024.1#nodes.half_structure.retention">'
    assert f"{link}Share retained at the node “Half of the main structure completed”</a>" in body
    assert "received but not yet assigned to a contract" in body and "5,000.00" in body
    assert "The terms leave less than nothing, so nothing is releasable." in body
    assert "Half of the main structure completed" in body and "Reached on 1 Jun 2025" in body
    assert "/nodes/topped_out/confirm" not in body  # only an inspector confirms

    chinese = main_of(browser("reviewer").get(url + "?lang=zh").text)
    assert "主体结构完成二分之一" in chinese and "衡水市商品房预售资金监督管理办法（2024.1 版）" in chinese
    assert "重点监管资金 ¥30,000,000.00 × 留存比例 70%（“主体结构完成二分之一”节点已确认）" in chinese
    assert "壹佰贰拾万伍仟元整" in chinese  # the balance in capital numerals
    assert "key supervised amount" not in chinese and "Half of the main structure" not in chinese

    inspector = main_of(browser("inspector").get(url).text)
    assert f'href="/projects/{funded["project_id"]}/nodes/topped_out/confirm"' in inspector
    assert (
        "/nodes/half_structure/confirm" not in inspector
        and "/nodes/completion_report/confirm" not in inspector
    )


def test_project_page_lists_money_movements_and_suspense_items_with_resolve_links(
    client, world, browser, flow, engine
):
    site = open_project(client, world, "open-site", supervised_amount="1000000.00")
    fund(flow, "1200000.00")
    fund(flow, "80000.00", n=2)
    suspense_deposit(flow, site["account_no"], "S-1", "5000.00")
    confirm(client, world, site["project_id"])
    release = Steps(client, world).applied(release_body(site["project_id"], "100000.00"))
    r = client.post(
        "/api/v1/contracts/HT-F-2/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers("developer", "c"),
    )
    assert r.status_code == 201, r.text
    refund_id = r.json()["refund_id"]
    freeze = {
        "account_no": site["account_no"],
        "authority": "衡水市桃城区人民法院",
        "order_no": "(2026)冀1102执1号",
        "amount": "20000.00",
        "ordered_on": "2026-11-20",
    }
    assert client.post("/api/v1/freezes", json=freeze, headers=world.headers("bank", "f")).status_code == 201
    statement = {
        "account_no": site["account_no"],
        "statement_date": TODAY,
        "opening_balance": "0.00",
        "closing_balance": "1285000.00",
        "lines": [],
    }
    assert (
        client.post("/api/v1/statements", json=statement, headers=world.headers("bank", "s")).status_code
        == 201
    )

    url = f"/projects/{site['project_id']}"
    page = main_of(browser("reviewer").get(url + "?lang=en").text)
    assert "The latest 3 of 3 deposits, with their vouchers." in page
    assert "FUND-1" in page and "FUND-2" in page and "In suspense" in page and "Issued" in page
    assert f'href="/releases/{release["release_id"]}"' in page and "Under review" in page
    assert f'href="/refunds/{refund_id}"' in page and "HT-F-2" in page
    assert "(2026)冀1102执1号" in page and "In force" in page and "20,000.00" in page
    assert "Discrepancy" in page  # the statement shows none of the books' three deposits
    with UnitOfWork(engine, readonly=True) as uow:
        deposit = uow.deposits.by_reference(uow.parties.bank_by_code("HSB").id, "S-1")
    resolve = f'href="/projects/{site["project_id"]}/suspense/{deposit.id}"'
    assert resolve in page and "Payment notice exists and is open" in page
    assert resolve in browser("approver").get(url).text
    for username in ("auditor", "director", "inspector", "admin"):
        assert resolve not in browser(username).get(url).text, username


def test_the_audit_trail_is_shown_only_to_roles_that_may_see_it(browser, funded):
    url = f"/projects/{funded['project_id']}"
    for username in ("admin", "director", "auditor"):
        trail = main_of(browser(username).get(url + "?lang=en").text).split('id="audit-trail"', 1)[1]
        assert "opened project #" in trail and "confirmed the node “Half of the main structure" in trail
        assert "booked payment #" in trail and "into suspense: its payer is not yet known" in trail
    for username in ("reviewer", "approver", "inspector"):
        page = browser(username).get(url).text
        assert 'id="audit-trail"' not in page and "project.opened" not in page


def test_an_unknown_project_is_the_404_page(browser, project):
    client = browser("reviewer")
    for path in ("/projects/999999", "/projects/99999999999", "/projects/0"):
        page = client.get(path + "?lang=en")
        assert page.status_code == 404, path
        assert "Not found" in page.text and "<html" in page.text


def test_developer_staff_may_see_none_of_these_pages(browser, funded):
    staff = browser("dev-staff")
    for path in ("/", "/alerts", "/projects", f"/projects/{funded['project_id']}", "/projects?q=x"):
        r = staff.get(path, follow_redirects=False)
        assert r.status_code == 403, path
    assert post_form(staff, "/alerts/1/acknowledge", {}).status_code == 403
    assert post_form(staff, "/alerts/1/resolve", {}).status_code == 403
