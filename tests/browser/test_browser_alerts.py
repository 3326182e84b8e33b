"""The alert page in a real browser, in Chinese and in English: its summary by rule, ticking every alert of
the page with one box, acknowledging the ticked ones at once, then resolving all that a filter matches —
and the counts on the page following each step. Screenshots: alerts-bulk-*-zh / -en."""

from __future__ import annotations

import pytest

from tests.alert_seed import seed_alerts

WORDS = {
    "zh": {
        "acknowledged": "已接收处理 4 条预警。",
        "count": "共 {n} 条预警",
        "state": "处理中",
        "day": "缺 2026-11-18 的银行对账单",
        "resolved": "已解决 5 条预警。",
    },
    "en": {
        "acknowledged": "4 alerts acknowledged.",
        "count": "{n} alerts",
        "state": "Acknowledged",
        "day": "No bank statement for 2026-11-18",
        "resolved": "5 alerts resolved.",
    },
}


def summary_count(page, rule: str) -> str:
    return page.inner_text(f"#by-rule tr[data-rule='{rule}'] td.num")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reviewer_acknowledges_ticked_alerts_then_resolves_a_filter(live, engine, page_as, shot, lang):
    words = WORDS[lang]
    north = live.open_project(name="北城·和园", permit_no="衡预售2025-101", account_no="6222000011110101")
    south = live.open_project(name="南湖·景苑", permit_no="衡预售2025-102", account_no="6222000011110102")
    seed_alerts(engine, north, south)
    page = page_as("reviewer")
    page.goto(f"/alerts?rule=statement_missing&lang={lang}")
    assert summary_count(page, "statement_missing") == "5"
    assert page.inner_text("p.result-count") == words["count"].format(n=5)
    assert words["day"] in page.inner_text("table.alerts") and "北城·和园" in page.inner_text("table.alerts")

    boxes = page.locator("input[name='alert_id'][form='bulk']")
    page.check("#select-all")
    assert [boxes.nth(i).is_checked() for i in range(boxes.count())] == [True] * 5
    boxes.nth(0).uncheck()
    page.fill("#bulk-comment", "正在联系银行" if lang == "zh" else "calling the banks")
    shot(page, f"alerts-bulk-selected-{lang}")
    page.click("#bulk button[value='acknowledge']")
    page.wait_for_url("**bulk=acknowledge**")
    assert page.inner_text(".flash") == words["acknowledged"]
    assert page.locator(f"table.alerts .badge:text-is('{words['state']}')").count() == 4

    page.select_option("#f-state", "open")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**state=open**")
    assert summary_count(page, "statement_missing") == "1"  # the summary counts what is still open
    assert page.inner_text("p.result-count") == words["count"].format(n=1)
    shot(page, f"alerts-bulk-acknowledged-{lang}")

    page.goto(f"/alerts?rule=statement_missing&lang={lang}")
    page.click("#bulk-all button[value='resolve']")
    page.wait_for_url("**bulk=resolve**")
    assert page.inner_text(".flash") == words["resolved"]
    assert page.inner_text("p.result-count") == words["count"].format(n=0)
    assert page.locator("#by-rule tr[data-rule='statement_missing']").count() == 0
    shot(page, f"alerts-bulk-resolved-{lang}")

    # what is left, by project: each project's one remaining alert and the client address's
    page.goto(f"/alerts?lang={lang}")
    page.click("#summary a[href*='group=project']")
    page.wait_for_url("**group=project**")
    north_row = page.locator(f"#by-project tr[data-project='{north['project_id']}']")
    assert north_row.locator("td.num").inner_text() == "1"
    assert "北城·和园" in north_row.inner_text() and north["account_no"] in north_row.inner_text()
    assert page.locator("#by-project tbody tr").count() == 3
    shot(page, f"alerts-by-project-{lang}")
