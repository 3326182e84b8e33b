"""Forms that forgive, in a real browser, in Chinese and in English: a file chosen once is kept when the
release form comes back with an error and used by the corrected submit; the payee total runs as amounts are
typed; a form sent twice (a double click, a resubmit) creates one release; the list tables scroll inside
their wrapper on a phone. Screenshots: forms-<what>-<lang>-<engine>.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FILE_NAME = "工资支付情况说明.pdf"
PAYEES = (
    ("衡水建工集团有限公司", "1300001111222233334444", "中国建设银行衡水分行", "construction"),
    ("河北冀钢建材有限公司", "1300005555666677778888", "中国工商银行衡水分行", "materials"),
)
WORDS = {
    "zh": {"kept": f"已上传：{FILE_NAME}", "total": "收款单位合计", "above": "超过当前可拨付金额"},
    "en": {"kept": f"Uploaded: {FILE_NAME}", "total": "Payees' total", "above": "above what may be released"},
}


@pytest.fixture
def project(live: Live) -> dict:
    """Releasable 5,000,000.00: 12,000,000.00 received, half of the main structure confirmed."""
    found = live.open_project(supervised_amount="10000000.00")
    live.pay(found, "12000000.00")
    live.confirm(found, "half_structure")
    return found


def fill_release(page, amounts: tuple[str, str], amount: str = "3000000.00") -> None:
    page.select_option("#f-node_code", "half_structure")
    page.fill("#f-amount", amount)
    page.fill("#f-purpose", "主体结构施工进度款")
    rows = page.locator("#payee-rows tr.payee")
    for i, ((name, account_no, bank, role), value) in enumerate(zip(PAYEES, amounts, strict=True)):
        row = rows.nth(i)
        row.locator("input[name=payee_name]").fill(name)
        row.locator("input[name=payee_account_no]").fill(account_no)
        row.locator("input[name=payee_bank_name]").fill(bank)
        row.locator("select[name=payee_role]").select_option(role)
        row.locator("input[name=payee_amount]").fill(value)


def releases(live: Live) -> list[dict]:
    r = live.api.get("/api/v1/releases", headers=live.key("reviewer"))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_file_is_kept_across_an_error_and_the_payee_total_runs(live: Live, project, page_as, shot, lang):
    words = WORDS[lang]
    page = page_as("dev-staff")
    page.goto(f"/developer/releases/new?project_id={project['project_id']}&lang={lang}")
    total = page.locator("#payee-total")
    fill_release(page, ("2000000.00", "999999.99"))
    assert total.is_visible() and words["total"] in total.inner_text()
    assert total.locator("[data-total]").inner_text() == "2,999,999.99"
    assert total.get_attribute("data-state") == "differs"
    assert total.locator("[data-when=differs]").is_visible()
    shot(page, f"forms-running-total-{lang}")
    page.locator("#payee-rows tr.payee").nth(1).locator("input[name=payee_amount]").fill("3000000.00")
    assert total.locator("[data-total]").inner_text() == "5,000,000.00"
    assert not total.locator("[data-when=above]").is_visible()  # at the cap, not above it
    page.locator("#payee-rows tr.payee").nth(1).locator("input[name=payee_amount]").fill("3000000.01")
    assert total.locator("[data-when=above]").is_visible() and words["above"] in total.inner_text()
    page.locator("#payee-rows tr.payee").nth(1).locator("input[name=payee_amount]").fill("999999.99")

    page.set_input_files(
        "#f-doc_wage_arrears_statement", {"name": FILE_NAME, "mimeType": "application/pdf", "buffer": PDF}
    )
    page.click("form.release-form button[type=submit]")
    page.wait_for_selector("ul.held-files")  # the form came back with its error, the file held
    assert words["kept"] in page.locator("ul.held-files").inner_text()
    assert page.locator("#e-payees").is_visible()
    shot(page, f"forms-upload-kept-{lang}")

    page.locator("#payee-rows tr.payee").nth(1).locator("input[name=payee_amount]").fill("1000000.00")
    assert total.get_attribute("data-state") == "matches"
    page.click("form.release-form button[type=submit]")  # the file is not chosen again
    page.wait_for_url(re.compile(r"/developer/releases/\d+"))
    assert FILE_NAME in page.locator("main").inner_text()
    [release] = releases(live)
    assert [d["filename"] for d in release["documents"]] == [FILE_NAME]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_form_sent_twice_creates_one_release(live: Live, project, page_as, shot, lang):
    page = page_as("dev-staff")
    page.goto(f"/developer/releases/new?project_id={project['project_id']}&lang={lang}")
    fill_release(page, ("2000000.00", "1000000.00"))
    page.set_input_files(
        "#f-doc_wage_arrears_statement", {"name": FILE_NAME, "mimeType": "application/pdf", "buffer": PDF}
    )
    # a resubmit: the same form sent twice at once, as a browser resends it; both land on the one release
    landed = page.evaluate(
        """async () => {
            const form = document.querySelector("form.release-form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = await Promise.all([send(), send()]);
            return answers.map((a) => [a.status, new URL(a.url).pathname]);
        }"""
    )
    assert landed[0] == landed[1] and landed[0][0] == 200, landed
    assert re.fullmatch(r"/developer/releases/\d+", landed[0][1])
    assert len(releases(live)) == 1
    # a double click on the button: still that one release
    page.dblclick("form.release-form button[type=submit]")
    # the second click aborts the first click's navigation, so no one navigation is awaited: the address is
    # polled until the page that finally loads is the release
    expect(page).to_have_url(re.compile(r"/developer/releases/\d+"))
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(landed[0][1])
    assert len(releases(live)) == 1
    shot(page, f"forms-double-submit-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tables_scroll_inside_their_wrapper_on_a_phone(live: Live, project, page_as, shot, lang):
    page = page_as("dev-staff")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/developer?lang={lang}")
    summary = page.locator(".table-wrap:has(table.project-summary)")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the page: no
    assert summary.evaluate("el => el.scrollWidth > el.clientWidth")  # the table: yes, inside its wrapper
    shot(page, f"forms-overview-phone-{lang}")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert summary.evaluate("el => el.scrollWidth <= el.clientWidth")  # the desktop: as it was
    shot(page, f"forms-overview-desktop-{lang}")
