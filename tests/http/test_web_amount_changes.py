"""The bureau's pages for the tri-party agreement and key supervised amount changes: the project page shows
the agreement and whether the bank confirmed it, lists the changes with their steps, and gives an admin the
form to file one (field errors in the page's language, nothing kept on refusal); the change's own page
takes the decisions the way the release, refund and adoption pages do (the shared approval pieces)."""

from __future__ import annotations

from escrow.store.models import SupervisedAmountChange
from tests.http.test_amount_changes import (  # noqa: F401  (fixtures)
    funded,
    key,
    non_key_release,
    supervised_fen,
    today,
)
from tests.http.test_api_releases import count
from tests.web import post_form


def test_the_project_page_shows_the_agreement_and_its_confirmation(web, client, world, funded):  # noqa: F811
    pid, no = funded["project_id"], funded["account_no"]
    page = web("reviewer").get(f"/projects/{pid}?lang=en")
    assert page.status_code == 200 and "Not yet confirmed by the bank" in page.text
    r = client.post(
        f"/api/v1/accounts/{no}/confirmation",
        json={"agreement_no": "衡监协(2026)第018号", "opened_on": "2026-12-07"},
        headers=world.headers("bank", "w-agreement"),
    )
    assert r.status_code == 200, r.text
    page = web("reviewer").get(f"/projects/{pid}?lang=zh")
    assert "衡监协(2026)第018号" in page.text and "银行已于2026年12月7日确认" in page.text


def test_an_admin_files_a_change_and_two_people_approve_it(web, engine, funded):  # noqa: F811
    pid = funded["project_id"]
    admin = web("admin")
    page = admin.get(f"/projects/{pid}?lang=en")
    assert 'id="amount-change-form"' in page.text
    assert "The key supervised amount has not been changed since opening." in page.text

    empty = post_form(admin, f"/projects/{pid}/supervised-amount", {"amount": "1.234"})
    assert empty.status_code == 422 and "Enter an amount in yuan" in empty.text
    same = post_form(admin, f"/projects/{pid}/supervised-amount", {"amount": "10000000.00", "reason": "x"})
    assert same.status_code == 422 and "The new amount is the key supervised amount already." in same.text
    assert count(engine, SupervisedAmountChange) == 0

    r = post_form(
        admin, f"/projects/{pid}/supervised-amount", {"amount": "11000000.00", "reason": "施工合同变更"}
    )
    assert r.status_code == 303, r.text
    page = admin.get(r.headers["location"])
    change_url = r.headers["location"].split("?")[0]
    assert "The key supervised amount change is submitted for review." in page.text
    assert "11,000,000.00" in page.text and "1,000,000.00" in page.text  # the non-key cap after
    assert "Your role views key supervised amount changes but does not decide them." in page.text
    again = post_form(admin, f"/projects/{pid}/supervised-amount", {"amount": "12000000.00", "reason": "x"})
    assert again.status_code == 409

    listed = web("auditor").get(f"/projects/{pid}?lang=en")
    assert f'href="{change_url}"' in listed.text and 'id="amount-change-form"' not in listed.text
    assert post_form(web("auditor"), f"/projects/{pid}/supervised-amount", {}).status_code == 403

    reviewer = web("reviewer")
    assert "Step 1: Review" in reviewer.get(change_url + "?lang=en").text
    no_reason = post_form(reviewer, change_url + "/decision", {"decision": "reject"})
    assert no_reason.status_code == 422 and "Say why when rejecting." in no_reason.text
    r = post_form(reviewer, change_url + "/decision", {"decision": "approve", "comment": "核对无误"})
    assert r.status_code == 303, r.text
    assert "the change goes to the next step" in reviewer.get(r.headers["location"] + "&lang=en").text
    twice = reviewer.get(change_url + "?lang=en")
    assert "You already took a step of this change; another person (Approver) must take step 2." in twice.text
    assert supervised_fen(engine, pid) == 10_000_000_00

    r = post_form(web("approver"), change_url + "/decision", {"decision": "approve"})
    assert r.status_code == 303, r.text
    done = web("approver").get(r.headers["location"] + "&lang=en")
    assert "The change is approved" in done.text and "Approved: in effect" in done.text
    assert supervised_fen(engine, pid) == 11_000_000_00
    project = web("reviewer").get(f"/projects/{pid}?lang=zh")
    assert "审批通过：已生效" in project.text and "reviewer" in project.text and "approver" in project.text


def test_a_pending_release_refuses_the_change_in_words(web, client, world, funded, key):  # noqa: F811
    pid = funded["project_id"]
    release = non_key_release(client, world, key, pid, "1500000.00")
    refused = post_form(
        web("admin"), f"/projects/{pid}/supervised-amount", {"amount": "11000000.00", "reason": "合同变更"}
    )
    assert refused.status_code == 422
    assert (
        f"按此额度，拨付申请 {release['release_id']} 将超出可拨付金额：最多 ¥1,000,000.00。" in refused.text
    )
    assert 'value="11000000.00"' in refused.text  # the form keeps what was typed
    assert post_form(web("reviewer"), "/supervised-amount-changes/999999/decision", {}).status_code == 404
    assert web("reviewer").get("/supervised-amount-changes/999999").status_code == 404
