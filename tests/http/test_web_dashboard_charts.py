"""The dashboard's period, charts and risk panel through the real app on both engines: the default period
is the last 12 months ending on the app's today, a quick range changes the months charted, and each risk
(an account near its retention floor, an approved payment not executed in time, suspense older than the rule
book allows, a guarantee expiring) is listed with its count and a link to its project."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from escrow.store.db import UnitOfWork
from escrow.store.models import PaymentInstruction
from tests.http.test_api_releases import TODAY, confirm, fund, release_body
from tests.http.test_guarantees import register
from tests.http.test_web_pages import browser, suspense_deposit  # noqa: F401  (browser: a fixture)


def chart_rows(html: str, key: str) -> list[list[str]]:
    """The rows of the table beside a chart (its figures for screen readers): label, then amounts."""
    figure = html.split(f'id="chart-{key}"', 1)[1].split("</figure>", 1)[0]
    body = figure.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def risk_count(html: str, key: str) -> int:
    found = re.search(rf'data-risk-count="{key}">(\d+)<', html)
    assert found, f"the risk panel has {key}"
    return int(found.group(1))


def risk_block(html: str, key: str) -> str:
    return html.split(f'id="risk-{key}"', 1)[1].split("</div>", 1)[0]


def test_the_default_period_is_the_last_12_months_ending_on_the_apps_today(browser, project, flow):  # noqa: F811
    fund(flow, "1200000.00")
    page = browser("director").get("/?lang=en")
    assert page.status_code == 200
    # today (the app's clock) is 2026-11-22: this month and the eleven before it
    assert 'name="from" type="date" value="2025-12-01"' in page.text
    assert 'name="to" type="date" value="2026-11-22"' in page.text
    assert 'href="/?from=2025-12-01&amp;to=2026-11-22" aria-current="true">Last 12 months<' in page.text
    months = chart_rows(page.text, "monthly")
    assert [m[0] for m in months] == [f"2025-{12}"] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert months[-1] == ["2026-11", "1,200,000.00", "0.00"]
    assert all(m[1:] == ["0.00", "0.00"] for m in months[:-1])
    assert "<svg" in page.text and 'role="img"' in page.text and "Deposits and releases by month" in page.text
    # the bank chart: the project's bank with the balance at the period's end
    (bank,) = chart_rows(page.text, "banks")
    assert bank[1] == "1,200,000.00"


def test_quick_ranges_and_a_custom_period_are_kept_in_the_url(browser, project, flow):  # noqa: F811
    fund(flow, "1200000.00")
    page = browser("director").get("/?lang=en")
    for label, start in (
        ("This month", "2026-11-01"),
        ("Last 3 months", "2026-09-01"),
        ("This year", "2026-01-01"),
    ):
        assert f'href="/?from={start}&amp;to=2026-11-22">{label}<' in page.text
    assert 'href="/?from=2025-01-01&amp;to=2025-12-31">Last year<' in page.text
    three = browser("director").get("/?from=2026-09-01&to=2026-11-22&lang=en")
    assert three.status_code == 200
    assert 'aria-current="true">Last 3 months<' in three.text
    assert chart_rows(three.text, "monthly") == [
        ["2026-09", "0.00", "0.00"],
        ["2026-10", "0.00", "0.00"],
        ["2026-11", "1,200,000.00", "0.00"],
    ]
    custom = browser("director").get("/?from=2026-10-15&to=2026-10-31&lang=zh")
    assert custom.status_code == 200
    assert 'name="from" type="date" value="2026-10-15"' in custom.text
    assert 'aria-current="true"' not in custom.text
    assert chart_rows(custom.text, "monthly") == [["2026-10", "0.00", "0.00"]]
    assert "按月入账与拨付" in custom.text and "Deposits and releases by month" not in custom.text
    (bank,) = chart_rows(custom.text, "banks")
    assert bank[1] == "0.00"  # the money arrived after the period's end
    # centuries: the figures, but no month-by-month chart of them
    wide = browser("director").get("/?from=0001-01-01&to=2026-11-22&lang=en")
    assert wide.status_code == 200 and chart_rows(wide.text, "monthly") == [["No figures for this period."]]


def test_the_risk_panel_is_empty_for_a_city_in_order(browser, project, flow):  # noqa: F811
    fund(flow, "1200000.00")
    page = browser("reviewer").get("/?lang=en")
    for key in ("near_floor", "overdue", "suspense", "guarantees"):
        assert risk_count(page.text, key) == 0
    assert "at most 10% of the required cash retention" in page.text


def _released(client, world, project_id: int, amount: str, roles: tuple[str, ...]) -> int:
    """A node release of `amount` approved along `roles`: the id of its pending payment instruction."""
    headers = world.headers("developer", f"rel-{amount}")
    r = client.post("/api/v1/releases", json=release_body(project_id, amount=amount), headers=headers)
    assert r.status_code == 201, r.text
    for who in roles:
        d = client.post(
            f"/api/v1/releases/{r.json()['release_id']}/decisions",
            json={"decision": "approve", "comment": "ok"},
            headers=world.headers(who, f"d-{amount}-{who}"),
        )
        assert d.status_code == 201, d.text
    pending = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    return pending[-1]["instruction_id"]


def _execute(client, world, instruction_id: int) -> None:
    r = client.post(
        f"/api/v1/instructions/{instruction_id}/execution",
        json={"bank_reference": f"PAY-{instruction_id}", "executed_on": TODAY},
        headers=world.headers("bank", f"exec-{instruction_id}"),
    )
    assert r.status_code in (200, 201), r.text


def test_an_account_near_its_retention_floor(client, world, browser, project, flow):  # noqa: F811
    """Key amount 30,000,000.00 received in full, half the structure confirmed: retention 21,000,000.00,
    releasable 9,000,000.00. A release of all but 1.00 of it leaves a headroom ≤ 10% of the retention."""
    fund(flow, "30000000.00")
    confirm(client, world, project["project_id"])
    page = browser("reviewer").get("/?lang=en")
    assert risk_count(page.text, "near_floor") == 0  # nothing has left the account yet: not listed
    roles = ("reviewer", "approver", "director")
    _execute(client, world, _released(client, world, project["project_id"], "8999999.00", roles))
    page = browser("reviewer").get("/?lang=en")
    assert risk_count(page.text, "near_floor") == 1
    block = risk_block(page.text, "near_floor")
    assert f'href="/projects/{project["project_id"]}"' in block and project["account_no"] in block
    assert "Releasable now ¥1.00" in block and "Required cash retention ¥21,000,000.00" in block
    chinese = browser("reviewer").get("/?lang=zh")
    assert risk_count(chinese.text, "near_floor") == 1 and "接近留存底线的监管账户" in chinese.text


def test_an_approved_payment_not_executed_in_time(client, world, engine, browser, project, flow):  # noqa: F811
    fund(flow, "30000000.00")
    confirm(client, world, project["project_id"])
    instruction_id = _released(client, world, project["project_id"], "1000000.00", ("reviewer", "approver"))
    page = browser("approver").get("/?lang=en")
    assert risk_count(page.text, "overdue") == 0  # approved today: not late
    # approved ten days before the app's today: past the rule book's 2 working days
    approved = datetime.combine(date.fromisoformat(TODAY) - timedelta(days=10), datetime.min.time(), UTC)
    with UnitOfWork(engine) as uow:
        uow.session.execute(
            update(PaymentInstruction)
            .where(PaymentInstruction.id == instruction_id)
            .values(created_at=approved)
        )
        uow.commit()
    page = browser("approver").get("/?lang=en")
    assert risk_count(page.text, "overdue") == 1
    block = risk_block(page.text, "overdue")
    assert f'href="/projects/{project["project_id"]}"' in block
    assert 'href="/releases/' in block and f"Payment instruction {instruction_id}" in block


def test_suspense_older_than_the_rule_book_allows(browser, project, flow):  # noqa: F811
    old = (date.fromisoformat(TODAY) - timedelta(days=6)).isoformat()  # hengshui@2024.1: 5 days at most
    suspense_deposit(flow, project["account_no"], "S-OLD", "5000.00", value_date=old)
    suspense_deposit(flow, project["account_no"], "S-NEW", "3000.00")
    page = browser("reviewer").get("/?lang=en")
    assert risk_count(page.text, "suspense") == 1
    block = risk_block(page.text, "suspense")
    assert f'href="/projects/{project["project_id"]}"' in block and "Deposit 1" in block


def test_a_guarantee_expiring_within_30_days(client, world, browser, project, flow):  # noqa: F811
    fund(flow, "30000000.00")
    soon = (date.fromisoformat(TODAY) + timedelta(days=20)).isoformat()
    later = (date.fromisoformat(TODAY) + timedelta(days=200)).isoformat()
    pid = project["project_id"]
    for no, until in (("BH-SOON", soon), ("BH-LATER", later)):
        r = register(
            client, world, pid, no=no, amount="1000000.00", valid_from="2026-11-01", valid_until=until
        )
        assert r.status_code == 201, r.text
    page = browser("admin").get("/?lang=en")
    assert risk_count(page.text, "guarantees") == 1
    block = risk_block(page.text, "guarantees")
    assert f'href="/projects/{pid}#guarantees"' in block and "Bank guarantee" in block
