"""A non-key release (非重点监管资金拨付, CONTRACT §8) end to end in a real browser (Debian's chromium driven
by Playwright) against a live server, on both engines like the rest of the suite: under hengshui@2026.1, with
money received beyond the key supervised amount and no node confirmed yet, the developer's staff choose a
non-key release in the portal, pay it to the developer's own settlement account with the fund use statement, a
reviewer and an approver (two people) approve it on the bureau's review page, and the bank's instruction list
then shows it as a non-key release."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.browser.conftest import Live

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = "2026-12-06"


@pytest.fixture
def today() -> date:
    return date(2026, 12, 6)  # hengshui@2026.1 is in force from 2026-12-01


def fund(live: Live, project: dict, amount: str) -> None:
    contract = live.flow.contract(
        permit_no=project["permit_no"],
        contract_no="HT-NK-0001",
        unit="NK-1",
        total_price=amount,
        signed_on=TODAY,
    )
    notice = live.flow.notice(contract["contract_no"], amount, kind="full")
    deposit = live.flow.deposit(
        account_no=project["account_no"],
        bank_reference="HSBNK00000001",
        amount=amount,
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=notice["notice_no"],
        kind="full",
        channel="transfer",
        value_date=TODAY,
    )
    assert deposit["status"] == "accepted", deposit


def test_non_key_release_from_the_portal_to_the_bank(live: Live, page_as, shot):
    project = live.open_project(
        supervised_amount="10000000.00", permit_date="2026-12-01", opened_on="2026-12-02"
    )
    assert project["rulebook"] == "hengshui@2026.1"
    pid = project["project_id"]
    fund(live, project, "12000000.00")  # 2,000,000.00 beyond the key supervised amount

    # 1. The developer's staff choose a non-key release: no node to pick, the non-key cap explained.
    developer = page_as("dev-staff")
    developer.goto(f"/developer/releases/new?project_id={pid}")
    developer.click("nav.release-kinds a[data-kind=non_key]")
    developer.wait_for_url(re.compile(r"kind=non_key"))
    assert developer.locator("#f-node_code").count() == 0
    assert developer.get_by_text("取上述两项中的较小者").count() == 1
    developer.fill("#f-amount", "1500000.00")
    developer.fill("#f-purpose", "项目营销及管理费用")
    rows = developer.locator("#payee-rows tr.payee")
    for i, (name, account_no, bank, role, amount) in enumerate(
        (
            (
                "衡水安居置业有限公司",
                "1300009999000011112222",
                "中国农业银行衡水分行",
                "developer",
                "1000000.00",
            ),
            (
                "衡水建工集团有限公司",
                "1300001111222233334444",
                "中国建设银行衡水分行",
                "construction",
                "500000.00",
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
        "#f-doc_fund_use_statement",
        {"name": "资金用途说明.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    shot(developer, "non-key-application-zh")
    developer.click("form.release-form button[type=submit]")
    developer.wait_for_url(re.compile(r"/developer/releases/\d+"))
    release_id = int(re.search(r"/developer/releases/(\d+)", developer.url).group(1))
    assert developer.get_by_text("非重点监管资金拨付").count() >= 1

    # 2. Four eyes on the bureau's review page, which names the kind and no node.
    reviewer = page_as("reviewer")
    reviewer.goto(f"/releases/{release_id}")
    assert reviewer.locator("dd.release-kind").inner_text() == "非重点监管资金拨付"
    shot(reviewer, "non-key-review-zh")
    reviewer.check("input[name=decision][value=approve]")
    reviewer.fill("#f-comment", "资金用途说明齐全，同意。")
    reviewer.click(f"form[action='/releases/{release_id}/decision'] button[type=submit]")
    reviewer.wait_for_load_state()
    reviewer.goto(f"/releases/{release_id}")
    assert reviewer.locator(f"form[action='/releases/{release_id}/decision']").count() == 0

    approver = page_as("approver")
    approver.goto(f"/releases/{release_id}")
    approver.check("input[name=decision][value=approve]")
    approver.click(f"form[action='/releases/{release_id}/decision'] button[type=submit]")
    approver.wait_for_load_state()
    approver.goto(f"/releases/{release_id}?lang=en")
    assert approver.locator("dd.release-kind").inner_text() == "Non-key fund release"
    shot(approver, "non-key-approved-en")

    # 3. The bank's instruction list shows it as a non-key release, with the developer's own account.
    pending = live.api.get("/api/v1/instructions?status=pending", headers=live.key("bank")).json()
    ours = [i for i in pending if i["kind"] == "release" and i["account_no"] == project["account_no"]]
    assert len(ours) == 1, pending
    assert ours[0]["release_kind"] == "non_key" and ours[0]["report_to_court"] is False
    assert ours[0]["amount"] == "1500000.00"
    assert sorted(p["role"] for p in ours[0]["payees"]) == ["construction", "developer"]
