"""The inbox in a real browser: a release application puts an unread count on the reviewer's header, the
inbox says it in Chinese and opening it goes to the release (the count gone); the approver, told of the next
step, reads the inbox in English and marks everything read."""

from __future__ import annotations

import re

from tests.browser.conftest import Live
from tests.http.test_api_releases import release_body


def test_the_badge_and_the_inbox_in_both_languages(live: Live, page_as, shot):
    project = live.open_project(supervised_amount="10000000.00")
    live.pay(project, "12000000.00")
    live.confirm(project, "half_structure")
    r = live.api.post(
        "/api/v1/releases", json=release_body(project["project_id"]), headers=live.key("developer")
    )
    assert r.status_code == 201, r.text
    rid = r.json()["release_id"]

    reviewer = page_as("reviewer")
    reviewer.goto("/releases")
    badge = reviewer.locator(".who .inbox-link .unread-count")
    assert badge.inner_text() == "1"
    reviewer.click(".who .inbox-link")
    reviewer.wait_for_url("**/inbox")
    assert reviewer.inner_text("main h1") == "消息"
    item = reviewer.locator(".inbox-list li.unread a")
    assert re.fullmatch(rf"桃城·安居花园一期的拨付申请 #{rid} 等待您办理：.+。", item.inner_text())
    shot(reviewer, "notify-inbox-zh")
    item.click()
    reviewer.wait_for_url(f"**/releases/{rid}")
    assert reviewer.locator(".who .inbox-link .unread-count").count() == 0  # read on opening
    reviewer.check("input[name=decision][value=approve]")
    decision = reviewer.locator(f"form[action='/releases/{rid}/decision']")
    decision.locator("button[type=submit]").click()
    decision.wait_for(state="detached")  # step 1 taken: the page offers this reviewer no form any more

    approver = page_as("approver")
    approver.goto("/inbox?lang=en")
    assert approver.inner_text("main h1") == "Inbox"
    assert approver.locator(".who .inbox-link .unread-count").inner_text() == "1"
    text = approver.inner_text(".inbox-list li.unread a")
    assert re.fullmatch(rf"Release #{rid} of 桃城·安居花园一期 is waiting for your step: .+\.", text)
    shot(approver, "notify-inbox-en")
    approver.click("form[action='/inbox/read'] button[type=submit]")
    approver.wait_for_url("**/inbox?done=inbox_read")
    assert approver.inner_text(".flash") == "All notifications are marked read."
    assert approver.locator(".inbox-list li.unread").count() == 0
    assert approver.locator(".who .inbox-link .unread-count").count() == 0
    shot(approver, "notify-inbox-read-en")
