"""Refunds and suspense items in the browser, through the real app and the real login form, on both engines:
the refund list and page, the four-eyes decision, and resolving a suspense item by assigning it to a
contract or returning it to its payer.

Test clients of one app must stop in the reverse order of their start (stopping one started earlier first
hangs Litestar's lifespan shutdown): every test asks for `client` before `web`, and `web` below (the shared
fixture, but closing its clients last-opened first) stops the signed-in clients before the API client."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from escrow.domain import checks
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, PaymentInstruction, Voucher
from escrow.web.bureau.checks import check_message
from escrow.web.shell import i18n
from tests.conftest import project_body
from tests.web import post_form

TODAY = "2026-11-22"  # the `today` fixture
AMOUNT = "265950.00"
ZH = i18n.gettext_for("zh")


def _deposit(flow, account_no: str, reference: str, notice_no: str | None, payer: str = "张伟") -> dict:
    return flow.deposit(
        account_no=account_no,
        bank_reference=reference,
        amount=AMOUNT,
        payer_name=payer,
        payer_account="6217000012345678",
        notice_no=notice_no,
        kind="down_payment",
        channel="transfer",
        value_date=TODAY,
    )


def _count(engine, model, *where) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


# --- refunds ---------------------------------------------------------------------------------------------


@pytest.fixture
def refund(client, world, project, flow) -> dict:
    """张伟 paid his down payment; the developer cancelled the contract: a refund waits for its chain."""
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], AMOUNT)
    assert _deposit(flow, project["account_no"], "HSB-PAID", notice["notice_no"])["status"] == "accepted"
    r = client.post(
        f"/api/v1/contracts/{contract['contract_no']}/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers("developer", "cancel"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_the_refund_list_filters_by_status_and_masks_the_buyer(client, web, refund):
    page = web("reviewer").get("/refunds")
    assert page.status_code == 200
    assert f'href="/refunds/{refund["refund_id"]}"' in page.text
    assert "HT-2025-0001" in page.text and "张*" in page.text and "张伟" not in page.text
    assert ZH("Under review") in page.text
    empty = web("reviewer").get("/refunds?status=rejected")
    assert empty.status_code == 200 and "HT-2025-0001" not in empty.text
    assert ZH("No refunds match.") in empty.text
    assert web("auditor").get("/refunds?status=bogus&page=x").status_code == 200  # bad filters are ignored


def test_the_refund_page_shows_the_chain_and_the_form_only_to_the_next_step(client, web, refund):
    url = f"/refunds/{refund['refund_id']}"
    page = web("reviewer").get(url)
    assert page.status_code == 200
    assert "张*" in page.text and "张伟" not in page.text  # contract and payees alike
    assert "265,950.00" in page.text and "买受人申请退房" in page.text
    assert f'action="{url}/decision"' in page.text
    assert 'name="decision"' in page.text
    waiting = web("approver").get(url)
    assert waiting.status_code == 200 and 'name="decision"' not in waiting.text
    assert ZH("Waiting for %(role)s (step %(step)s).", role=ZH("Reviewer"), step=1) in waiting.text
    viewer = web("inspector").get(url)
    assert (
        viewer.status_code == 200 and ZH("Your role views refunds but does not decide them.") in viewer.text
    )
    assert web("reviewer").get("/refunds/999999").status_code == 404
    assert web("reviewer").get(f"/refunds/{2**40}").status_code == 404


def test_four_eyes_through_the_browser(client, web, refund, engine, world):
    url = f"/refunds/{refund['refund_id']}"
    first = post_form(web("reviewer"), f"{url}/decision", {"decision": "approve", "comment": "核对无误"})
    assert first.status_code == 303, first.text
    assert first.headers["location"] == f"{url}?done=refund_step_approved"
    assert (
        ZH("Your approval is recorded; the refund goes to the next step.")
        in web("reviewer").get(first.headers["location"]).text
    )
    # the reviewer cannot take the approver's step too; the form is gone and a post is refused
    again = web("reviewer").get(url)
    assert 'name="decision"' not in again.text
    twice = post_form(web("reviewer"), f"{url}/decision", {"decision": "approve", "comment": ""})
    assert twice.status_code == 403
    assert ZH("This step needs another role.") in twice.text
    assert _count(engine, ApprovalStep) == 1
    # a director decides releases and refunds, but this step names the approver
    assert post_form(web("director"), f"{url}/decision", {"decision": "approve"}).status_code == 403
    second = post_form(web("approver"), f"{url}/decision", {"decision": "approve", "comment": ""})
    assert second.status_code == 303 and second.headers["location"] == f"{url}?done=refund_approved"
    done = web("approver").get(url)
    assert ZH("Approved, awaiting payment") in done.text and ZH("waiting for the bank") in done.text
    (ins,) = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    assert ins["kind"] == "refund" and ins["amount"] == AMOUNT
    late = post_form(web("approver"), f"{url}/decision", {"decision": "reject", "comment": "晚了"})
    assert late.status_code == 409 and ZH("This refund has already been decided.") in late.text


def test_rejecting_needs_a_comment(client, web, refund, engine):
    url = f"/refunds/{refund['refund_id']}"
    r = post_form(web("reviewer"), f"{url}/decision", {"decision": "reject", "comment": "  "})
    assert r.status_code == 422
    assert ZH("Say why when rejecting.") != "Say why when rejecting."
    assert ZH("Say why when rejecting.") in r.text and 'aria-invalid="true"' in r.text
    assert _count(engine, ApprovalStep) == 0
    r = post_form(web("reviewer"), f"{url}/decision", {"decision": "maybe"})
    assert r.status_code == 422 and ZH("Choose approve or reject.") in r.text
    r = post_form(web("reviewer"), f"{url}/decision", {"decision": "reject", "comment": "退款金额需复核"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=refund_rejected"
    page = web("reviewer").get(url)
    assert ZH("Rejected") in page.text and "退款金额需复核" in page.text


@pytest.mark.parametrize("username", ["admin", "inspector", "auditor", "dev-staff"])
def test_roles_without_refunds_decide_get_403(client, web, refund, engine, username):
    r = post_form(web(username), f"/refunds/{refund['refund_id']}/decision", {"decision": "approve"})
    assert r.status_code == 403
    assert _count(engine, ApprovalStep) == 0
    if username == "dev-staff":  # developer staff do not see the bureau's refund pages at all
        assert web(username).get("/refunds", follow_redirects=False).status_code == 403


# --- suspense items ----------------------------------------------------------------------------------------


@pytest.fixture
def item(project, flow) -> dict:
    """张伟's payment reached the account without its notice number: it is in suspense."""
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], AMOUNT)
    deposit = _deposit(flow, project["account_no"], "HSB-NO-NOTICE", None)
    assert deposit["status"] == "suspense"
    url = f"/projects/{project['project_id']}/suspense/{deposit['deposit_id']}"
    return {"project": project, "notice": notice, "deposit": deposit, "url": url}


def _books(engine, account_no: str):
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(account_no)
        return uow.journal.balances(account.id), len(uow.journal.entries(account.id))


def test_the_suspense_page_says_why_in_words(client, web, item):
    page = web("reviewer").get(item["url"])
    assert page.status_code == 200
    assert "265,950.00" in page.text and "张伟" in page.text and "HSB-NO-NOTICE" in page.text
    assert ZH("Payment notice exists and is open") in page.text
    assert ZH("No payment notice number was given.") in page.text
    assert ZH("Assign to a contract") in page.text and ZH("Return to the payer") in page.text
    english = web("approver").get(item["url"] + "?lang=en")
    assert "Payment notice exists and is open" in english.text
    assert "No payment notice number was given." in english.text


@pytest.mark.parametrize("username", ["inspector", "auditor", "admin", "director", "dev-staff"])
def test_only_reviewers_and_approvers_may_resolve(client, web, item, engine, username):
    client = web(username)
    assert client.get(item["url"], follow_redirects=False).status_code == 403
    r = post_form(client, item["url"], {"action": "return", "reason": "不明款项"})
    assert r.status_code == 403
    r = post_form(client, item["url"], {"action": "assign", "contract_no": "HT-2025-0001"})
    assert r.status_code == 403
    assert _count(engine, PaymentInstruction) == 0 and _count(engine, Voucher) == 0


def test_checking_previews_without_booking(client, web, item, engine):
    before = _books(engine, item["project"]["account_no"])
    data = {"action": "check", "contract_no": "HT-2025-0001", "notice_no": item["notice"]["notice_no"]}
    r = post_form(web("reviewer"), item["url"], data, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith("<form") and 'id="assign-form"' in r.text  # the form alone, for HTMX
    assert ZH("No blocking check fails: the money can be assigned.") in r.text
    assert 'value="HT-2025-0001"' in r.text
    blocked = post_form(web("reviewer"), item["url"], {"action": "check", "contract_no": "HT-2025-0001"})
    assert blocked.status_code == 200 and "<html" in blocked.text  # without HTMX: the whole page
    assert ZH("A blocking check fails: the money cannot be assigned to this contract.") in blocked.text
    assert _books(engine, item["project"]["account_no"]) == before
    assert _count(engine, Voucher) == 0


def test_assigning_is_refused_next_to_the_field_and_keeps_the_input(client, web, item, engine):
    before = _books(engine, item["project"]["account_no"])
    r = post_form(web("reviewer"), item["url"], {"action": "assign", "contract_no": "HT-2025-0001"})
    assert r.status_code == 422
    assert 'id="e-notice_no"' in r.text and ZH("Payment notice exists and is open") in r.text
    assert 'value="HT-2025-0001"' in r.text
    r = post_form(web("reviewer"), item["url"], {"action": "assign", "contract_no": "HT-NOPE"})
    assert r.status_code == 422
    assert ZH("No such contract on this project's account.") in r.text and 'value="HT-NOPE"' in r.text
    r = post_form(web("reviewer"), item["url"], {"action": "assign", "contract_no": ""})
    assert r.status_code == 422 and 'id="e-contract_no"' in r.text
    assert _books(engine, item["project"]["account_no"]) == before
    assert _count(engine, Voucher) == 0


def test_assigning_through_the_browser(client, web, item, engine):
    data = {"action": "assign", "contract_no": "HT-2025-0001", "notice_no": item["notice"]["notice_no"]}
    r = post_form(web("approver"), item["url"], data)
    assert r.status_code == 303, r.text
    project_id = item["project"]["project_id"]
    assert r.headers["location"] == f"/projects/{project_id}?done=suspense_assigned"
    balances, _ = _books(engine, item["project"]["account_no"])
    assert balances.suspense == 0 and balances.buyer_funds == balances.cash == 26595000
    assert _count(engine, Voucher) == 1
    page = web("approver").get(item["url"])
    assert ZH("Assigned from suspense") in page.text and 'name="contract_no"' not in page.text
    again = post_form(web("reviewer"), item["url"], data)  # a second submission: nothing more is booked
    assert again.status_code == 409
    assert ZH("This item is no longer in suspense: someone resolved it meanwhile.") in again.text
    assert _count(engine, Voucher) == 1


def test_returning_through_the_browser(client, web, item, engine, world):
    r = post_form(web("reviewer"), item["url"], {"action": "return", "reason": " "})
    assert r.status_code == 422 and 'id="e-reason"' in r.text
    assert ZH("Say why the money goes back.") in r.text
    assert _count(engine, PaymentInstruction) == 0
    r = post_form(web("reviewer"), item["url"], {"action": "return", "reason": "x" * 501})
    assert r.status_code == 422 and _count(engine, PaymentInstruction) == 0
    r = post_form(web("reviewer"), item["url"], {"action": "return", "reason": "查无此合同，退回付款人"})
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("?done=suspense_returning")
    (ins,) = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    assert ins["kind"] == "return" and ins["reason"] == "查无此合同，退回付款人"
    page = web("reviewer").get(item["url"])
    assert ZH("Being returned to the payer") in page.text and "查无此合同" in page.text
    r = client.post(
        f"/api/v1/instructions/{ins['instruction_id']}/execution",
        json={"bank_reference": "HSB-BACK-1", "executed_on": TODAY},
        headers=world.headers("bank", "exec"),
    )
    assert r.status_code == 201, r.text
    page = web("reviewer").get(item["url"])
    assert "HSB-BACK-1" in page.text and ZH("Returned to payer") in page.text
    balances, _ = _books(engine, item["project"]["account_no"])
    assert balances.cash == balances.suspense == 0


def test_a_deposit_of_another_project_is_not_found_here(client, web, item, world):
    other = client.post(
        "/api/v1/projects",
        json=project_body(permit_no="衡预售2025-002", account_no="6222000099998888"),
        headers=world.headers("admin", "other-project"),
    )
    assert other.status_code == 201, other.text
    wrong = f"/projects/{other.json()['project_id']}/suspense/{item['deposit']['deposit_id']}"
    assert web("reviewer").get(wrong).status_code == 404
    r = post_form(web("reviewer"), wrong, {"action": "return", "reason": "不明"})
    assert r.status_code == 404
    assert web("reviewer").get(f"/projects/{2**40}/suspense/{2**40}").status_code == 404


def test_every_sentence_a_check_can_say_is_translated():
    """Every message the deposit checks produce has a Chinese sentence (values kept, buyer masked)."""
    base = {
        "account_no": "A1",
        "amount": Decimal("1.00"),
        "payer_name": "李四",
        "value_date": date(2026, 11, 10),
        "today": date(2026, 11, 22),
        "notice_given": True,
    }
    variants = [
        {},
        {"notice_given": False},
        {"notice_status": "paid"},
        {"notice_status": "open"},
        {"notice_account_no": "A1"},
        {"notice_account_no": "B2"},
        {"notice_amount": Decimal("1.00")},
        {"notice_amount": Decimal("2.00")},
        {"buyer_name": "张伟"},
        {"buyer_name": "李四"},
        {"buyer_name": "张伟", "payer_is_lender": True, "notice_kind": "mortgage"},
        {"bank_reference_seen": True},
        {"contract_status": "cancelled"},
        {"contract_status": "signed"},
        {"contract_price": Decimal("1.00")},
        {"contract_price": Decimal("0.50")},
        {"value_date": date(2026, 11, 23)},
        {"value_date": date(2026, 11, 21)},
    ]
    # a statement-only result as rows stored before outcomes had codes carry it: its rule says it
    results = {"statement_only": {"rule": "statement_only", "message": checks.SENTENCES["statement_only"]}}
    for variant in variants:
        facts = checks.DepositFacts(**{**base, **variant})
        for rule, fn in checks.REGISTRY.items():
            outcome = fn(facts, {})
            results[outcome.message] = {"rule": rule, **outcome.record()}
    for sentence, result in results.items():
        translated = check_message(ZH, result)
        assert translated != sentence, sentence
        assert not any(c.isascii() and c.isalpha() for c in translated.replace("A1", "").replace("B2", "")), (
            sentence,
            translated,
        )
    unmasked = checks.said(False, "payer_not_buyer", payer="李四", buyer="张伟")
    assert "张伟" not in check_message(ZH, {"rule": "payer_matches_buyer", **unmasked.record()})
