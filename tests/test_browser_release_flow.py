"""The release workflow end to end in a real browser (Debian's chromium driven by Playwright) against a live
server: an inspector confirms a node with evidence, the developer's staff apply for a release with payees and
a document, a reviewer and an approver (two different people) approve it, and the bank then sees the payment
instruction through its API. Along the way the language is switched, and screenshots of the main pages are
saved under test-artefacts/screenshots/.

Runs on both engines like the rest of the suite: the browser talks to a uvicorn server in this process whose
app uses the test's database."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests import live
from tests.conftest import project_body
from tests.test_api_releases import fund
from tests.web import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "test-artefacts" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make test` as root or `sudo apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-gpu",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def server(app, users):
    with live.serve(app) as base:
        yield base


def shot(page, name: str, backend: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{backend}.png"), full_page=True)


def signed_in(browser, base: str, username: str):
    """A separate browser context (its own cookies) signed in through the login form."""
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()
    return page


def test_node_release_four_eyes_and_the_bank_instruction(browser, server, client, world, flow, db_url):
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open-e2e"),
    )
    assert r.status_code == 201, r.text
    project = r.json()
    pid = project["project_id"]
    fund(flow, "12000000.00")

    # 1. The inspector confirms "half of the main structure" with the evidence files the rule book asks for.
    inspector = signed_in(browser, server, "inspector")
    inspector.goto(f"/projects/{pid}")
    shot(inspector, "project-page-zh", backend)
    inspector.click(f"a[href='/projects/{pid}/nodes/half_structure/confirm']")
    inspector.fill("#f-reached_on", "2025-06-01")
    for file_input in inspector.locator("input[type=file]").all():
        file_input.set_input_files({"name": "evidence.pdf", "mimeType": "application/pdf", "buffer": PDF})
    shot(inspector, "node-confirmation-zh", backend)
    inspector.click("form[enctype='multipart/form-data'] button[type=submit]")
    inspector.wait_for_url(re.compile(rf"/projects/{pid}(\?.*)?$"))
    account = client.get(f"/api/v1/accounts/{project['account_no']}", headers=world.headers("bank")).json()
    assert account["releasable"] == "5000000.00"  # retention fell to 70 % of the key amount

    # 2. The developer's staff apply for 3,000,000.00 to a builder and a supplier, with the wage statement.
    developer = signed_in(browser, server, "dev-staff")
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
    shot(developer, "release-application-zh", backend)
    developer.click("form.release-form button[type=submit]")
    developer.wait_for_url(re.compile(r"/developer/releases/\d+"))
    release_id = int(re.search(r"/developer/releases/(\d+)", developer.url).group(1))
    shot(developer, "release-submitted-zh", backend)

    # 3. Four eyes: the reviewer finds it waiting on the dashboard and approves step 1 …
    reviewer = signed_in(browser, server, "reviewer")
    shot(reviewer, "dashboard-zh", backend)
    reviewer.click(f"#waiting a[href='/releases/{release_id}']")
    reviewer.check("input[name=decision][value=approve]")
    reviewer.fill("#f-comment", "材料齐全，同意。")
    shot(reviewer, "release-review-zh", backend)
    reviewer.click(f"form[action='/releases/{release_id}/decision'] button[type=submit]")
    reviewer.wait_for_load_state()
    # … and may not take step 2 as well: the page offers them no decision form any more.
    reviewer.goto(f"/releases/{release_id}")
    assert reviewer.locator(f"form[action='/releases/{release_id}/decision']").count() == 0

    # … then the approver, another person, approves step 2 — reading the page in English.
    approver = signed_in(browser, server, "approver")
    approver.goto(f"/releases/{release_id}")
    approver.click("header a[hreflang=en]")
    approver.wait_for_load_state()
    assert approver.locator("html").get_attribute("lang") == "en"
    assert approver.get_by_text("Record the decision").count() == 1
    approver.check("input[name=decision][value=approve]")
    approver.click(f"form[action='/releases/{release_id}/decision'] button[type=submit]")
    approver.wait_for_load_state()
    approver.goto(f"/releases/{release_id}")
    shot(approver, "release-approved-en", backend)
    approver.goto("/")  # the language stays English for the rest of the session
    assert approver.locator("html").get_attribute("lang") == "en"
    shot(approver, "dashboard-en", backend)

    # 4. The bank sees the payment instruction for exactly the approved payees.
    pending = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    ours = [i for i in pending if i["kind"] == "release" and i["account_no"] == project["account_no"]]
    assert len(ours) == 1, pending
    assert ours[0]["amount"] == "3000000.00"
    assert sorted(p["amount"] for p in ours[0]["payees"]) == ["1000000.00", "2000000.00"]

    for page in (inspector, developer, reviewer, approver):
        page.context.close()
