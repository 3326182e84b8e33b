"""Closure (解除监管, CONTRACT §8) from the bureau's side in a real browser (Debian's chromium driven by
Playwright) against a live server, on both engines like the rest of the suite: with a node still missing the
project page names it and the admin's order is refused on the page; once every node is confirmed the admin
orders the closing payout (ticking the confirmation), the page shows it waiting, the bank pays it through its
API, and the page then shows the account closed."""

from __future__ import annotations

import re

from tests.browser.conftest import NODE_EVIDENCE, Live

PAYEE = ("衡水安居置业有限公司", "1300009999000011112222", "中国银行衡水分行")


def fill_closure(page) -> None:
    page.fill("#closure-form #f-payee_name", PAYEE[0])
    page.fill("#closure-form #f-payee_account_no", PAYEE[1])
    page.fill("#closure-form #f-payee_bank_name", PAYEE[2])
    page.fill("#closure-form #f-reason", "项目已完成不动产首次登记，申请解除监管")
    page.check("#closure-form input[name=confirm]")


def test_an_admin_closes_a_finished_project(live: Live, page_as, shot):
    project = live.open_project(supervised_amount="1000000.00")
    pid = project["project_id"]
    assert live.pay(project, "300000.00")["status"] == "accepted"
    nodes = list(NODE_EVIDENCE)
    for node in nodes[:-1]:
        live.confirm(project, node, reached_on="2025-06-01")

    # 1. One node is missing: the page says so, and the order is refused on the page, nothing kept.
    admin = page_as("admin", locale="en-US")
    admin.goto(f"/projects/{pid}?lang=en#ending")
    assert "First real-estate registration completed is not confirmed yet" in admin.inner_text("#ending")
    fill_closure(admin)
    admin.click("#closure-form button[type=submit]")
    admin.wait_for_selector("#closure-refused")
    assert "Not possible yet" in admin.inner_text("#ending")
    shot(admin, "closure-refused-en")
    assert live.api.get("/api/v1/instructions", headers=live.key("bank")).json() == []

    # 2. The last node confirmed, the admin orders the closing payout.
    live.confirm(project, nodes[-1], reached_on="2025-06-01")
    admin.goto(f"/projects/{pid}?lang=en#ending")
    assert "supervision may end" in admin.inner_text("#ending")
    fill_closure(admin)
    admin.click("#closure-form button[type=submit]")
    admin.wait_for_url(re.compile(rf"/projects/{pid}(\?.*)?$"))
    assert "The closing payout of ¥300,000.00" in admin.inner_text("#ending-pending")
    shot(admin, "closure-ordered-en")

    # 3. The bank sees it with the others and pays it; the page shows the account closed.
    (instruction,) = live.api.get("/api/v1/instructions?status=pending", headers=live.key("bank")).json()
    assert (instruction["kind"], instruction["amount"]) == ("closure", "300000.00")
    r = live.api.post(
        f"/api/v1/instructions/{instruction['instruction_id']}/execution",
        json={"bank_reference": "HSB-CLOSE-B1", "executed_on": live.today.isoformat()},
        headers=live.key("bank"),
    )
    assert r.status_code == 201, r.text
    admin.goto(f"/projects/{pid}?lang=zh")
    assert "已于" in admin.inner_text("#ending-closed")
    assert admin.locator("#closure-form").count() == 0
    shot(admin, "closure-closed-zh")
