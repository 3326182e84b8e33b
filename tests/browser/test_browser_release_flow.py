"""The release workflow end to end in a real browser (Debian's chromium driven by Playwright) against a live
server: an inspector confirms a node with evidence, the developer's staff apply for a release with payees and
a document, a reviewer and an approver (two different people) approve it, and the bank then sees the payment
instruction through its API. Along the way the language is switched, and screenshots of the main pages are
saved under test-artefacts/screenshots/.

Runs on both engines like the rest of the suite: the browser talks to a uvicorn server in this process whose
app uses the test's database."""

from __future__ import annotations

import re

from tests.browser.conftest import Live

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_node_release_four_eyes_and_the_bank_instruction(live: Live, page_as, shot):
    project = live.open_project(supervised_amount="10000000.00")
    pid = project["project_id"]
    assert live.pay(project, "12000000.00")["status"] == "accepted"

    # 1. The inspector confirms "half of the main structure" with the evidence files the rule book asks for.
    inspector = page_as("inspector")
    inspector.goto(f"/projects/{pid}")
    shot(inspector, "project-page-zh")
    inspector.click(f"a[href='/projects/{pid}/nodes/half_structure/confirm']")
    inspector.fill("#f-reached_on", "2025-06-01")
    for file_input in inspector.locator("input[type=file]").all():
        file_input.set_input_files({"name": "evidence.pdf", "mimeType": "application/pdf", "buffer": PDF})
    shot(inspector, "node-confirmation-zh")
    inspector.click("form[enctype='multipart/form-data'] button[type=submit]")
    inspector.wait_for_url(re.compile(rf"/projects/{pid}(\?.*)?$"))
    account = live.api.get(f"/api/v1/accounts/{project['account_no']}", headers=live.key("bank")).json()
    assert account["releasable"] == "5000000.00"  # retention fell to 70 % of the key amount

    # 2. The developer's staff apply for 3,000,000.00 to a builder and a supplier, with the wage statement.
    developer = page_as("dev-staff")
    developer.goto(f"/developer/releases/new?project_id={pid}")
    developer.select_option("#f-node_code", "half_structure")
    developer.fill("#f-amount", "3000000.00")
    developer.fill("#f-purpose", "主体结构施工进度款")
    rows = developer.locator("#payee-rows tr.payee")
    for i, (name, account_no, bank, role, amount) in enumerate(
        (
            (
                "衡水建工集团有限公司",
                "1300001111222233334444",
                "中国建设银行衡水分行",
                "construction",
                "2000000.00",
            ),
            (
                "河北冀钢建材有限公司",
                "1300005555666677778888",
                "中国工商银行衡水分行",
                "materials",
                "1000000.00",
            ),
        )
    ):
        row = rows.nth(i)
        row.locator("input[name=payee_name]").fill(name)
        row.locator("input[name=payee_account_no]").fill(account_no)
        row.locator("input[name=payee_bank_name]").fill(bank)
        row.locator("select[name=payee_role]").select_option(role)
        row.locator("input[name=payee_amount]").fill(amount)
    developer.set_input_files(
        "#f-doc_wage_arrears_statement",
        {"name": "工资支付情况说明.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    shot(developer, "release-application-zh")
    developer.click("form.release-form button[type=submit]")
    developer.wait_for_url(re.compile(r"/developer/releases/\d+"))
    release_id = int(re.search(r"/developer/releases/(\d+)", developer.url).group(1))
    shot(developer, "release-submitted-zh")

    # 3. Four eyes: the reviewer finds it waiting on the dashboard and approves step 1 …
    reviewer = page_as("reviewer")
    shot(reviewer, "dashboard-zh")
    reviewer.click(f"#waiting a[href='/releases/{release_id}']")
    reviewer.check("input[name=decision][value=approve]")
    reviewer.fill("#f-comment", "材料齐全，同意。")
    shot(reviewer, "release-review-zh")
    reviewer.click(f"form[action='/releases/{release_id}/decision'] button[type=submit]")
    reviewer.wait_for_load_state()
    # … and may not take step 2 as well: the page offers them no decision form any more.
    reviewer.goto(f"/releases/{release_id}")
    assert reviewer.locator(f"form[action='/releases/{release_id}/decision']").count() == 0

    # … then the approver, another person, approves step 2 — reading the page in English.
    approver = page_as("approver")
    approver.goto(f"/releases/{release_id}")
    approver.click("header a[hreflang=en]")
    approver.wait_for_load_state()
    assert approver.locator("html").get_attribute("lang") == "en"
    assert approver.get_by_text("Record the decision").count() == 1
    approver.check("input[name=decision][value=approve]")
    approver.click(f"form[action='/releases/{release_id}/decision'] button[type=submit]")
    approver.wait_for_load_state()
    approver.goto(f"/releases/{release_id}")
    shot(approver, "release-approved-en")
    approver.goto("/")  # the language stays English for the rest of the session
    assert approver.locator("html").get_attribute("lang") == "en"
    shot(approver, "dashboard-en")

    # 4. The bank sees the payment instruction for exactly the approved payees.
    pending = live.api.get("/api/v1/instructions?status=pending", headers=live.key("bank")).json()
    ours = [i for i in pending if i["kind"] == "release" and i["account_no"] == project["account_no"]]
    assert len(ours) == 1, pending
    assert ours[0]["amount"] == "3000000.00"
    assert sorted(p["amount"] for p in ours[0]["payees"]) == ["1000000.00", "2000000.00"]
