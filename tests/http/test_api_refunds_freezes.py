"""Cancellations and refunds, court freezes and deductions, through the real app on both engines."""

from __future__ import annotations

import pytest

from escrow.domain import ledger
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, Freeze, JournalEntry, PaymentInstruction, Refund
from tests.http import test_api_releases as rel
from tests.http.test_api_releases import (
    BOOK,
    TODAY,
    account,
    confirm,
    count,
    invariants_hold,
    problem,
    release_body,
)

site, steps = rel.site, rel.steps  # fixtures shared with the release tests

LENDER = "中国建设银行衡水分行"
COURT = "衡水市桃城区人民法院"


def _pay(flow, notice: dict, ref: str, payer: str = "张伟", channel: str = "transfer") -> dict:
    deposit = flow.deposit(
        account_no=notice["account_no"],
        bank_reference=ref,
        amount=notice["amount"],
        payer_name=payer,
        payer_account="LOAN-0001" if channel == "mortgage" else "6217000012345678",
        notice_no=notice["notice_no"],
        kind=notice["kind"],
        channel=channel,
        value_date=TODAY,
    )
    assert deposit["status"] == "accepted", deposit
    return deposit


@pytest.fixture
def sold(client, world, project, flow) -> dict:
    """A contract on which the buyer paid 200,000.00, the lender 600,000.00, a 10,000.00 payment was reversed
    the same day, and an earnest notice is still open. No node is confirmed: nothing is releasable."""
    contract = flow.contract()
    no = contract["contract_no"]
    down = _pay(flow, flow.notice(no, "200000.00", kind="down_payment"), "D-1")
    loan = _pay(flow, flow.notice(no, "600000.00", kind="mortgage"), "D-2", payer=LENDER, channel="mortgage")
    wrong = _pay(flow, flow.notice(no, "10000.00", kind="other"), "D-3")
    r = client.post(
        "/api/v1/deposits/D-3/reversal", json={"reason": "wrong"}, headers=world.headers("bank", "rv")
    )
    assert r.status_code == 201, r.text
    earnest = flow.notice(no, "5000.00", kind="earnest")
    acct = account(client, world, project["account_no"])
    assert acct["balance"] == "800000.00" and acct["releasable"] == "0.00"
    return {
        "contract_no": no,
        "account_no": project["account_no"],
        "vouchers": {
            "down": down["voucher"]["voucher_no"],
            "loan": loan["voucher"]["voucher_no"],
            "wrong": wrong["voucher"]["voucher_no"],
        },
        "open_notices": {earnest["notice_no"]},
    }


def _cancel(client, world, contract_no: str, who: str = "developer", key: str = "cancel"):
    return client.post(
        f"/api/v1/contracts/{contract_no}/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers(who, key),
    )


def _freeze(client, world, account_no: str, amount: str, order_no: str = "(2026)冀1102执1号", who="bank"):
    return client.post(
        "/api/v1/freezes",
        json={
            "account_no": account_no,
            "authority": COURT,
            "order_no": order_no,
            "amount": amount,
            "ordered_on": "2026-11-20",
        },
        headers=world.headers(who, f"freeze-{order_no.encode().hex()[:40]}-{amount}"),
    )


def _lift(client, world, freeze_id: int, who: str = "bank", key: str | None = None, **body):
    return client.post(
        f"/api/v1/freezes/{freeze_id}/lift",
        json=body or None,
        headers=world.headers(who, key or f"lift-{freeze_id}"),
    )


def _deduct(client, world, freeze_id: int, amount: str, role: str, ref: str, who: str = "bank"):
    return client.post(
        f"/api/v1/freezes/{freeze_id}/deduction",
        json={"amount": amount, "creditor_role": role, "bank_reference": ref, "executed_on": TODAY},
        headers=world.headers(who, f"deduct-{ref}-{amount}-{role}"),
    )


# --- cancellation and refund -------------------------------------------------------------------------------


def test_a_cancelled_contract_refunds_exactly_what_was_paid(client, world, engine, sold, steps):
    r = _cancel(client, world, sold["contract_no"])
    assert r.status_code == 201, r.text
    refund = r.json()
    assert refund["contract_no"] == sold["contract_no"]
    assert refund["contract_status"] == "cancelled"
    assert refund["amount"] == "800000.00"  # the reversed 10,000.00 is not the buyer's payment
    assert refund["status"] == "submitted"
    assert {(p["name"], p["role"], p["amount"]) for p in refund["payees"]} == {
        ("张伟", "buyer", "200000.00"),
        (LENDER, "lender", "600000.00"),
    }
    assert sold["open_notices"] <= set(refund["notices_cancelled"])
    assert len(refund["notices_cancelled"]) == 2  # the earnest notice and the reversed payment's notice
    assert [s["role"] for s in refund["approval_chain"]] == ["reviewer", "approver"]
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.contracts.by_no(sold["contract_no"]).status == "cancelled"
        assert uow.contracts.notices_of(uow.contracts.by_no(sold["contract_no"]).id, "open") == []
    problem(_cancel(client, world, sold["contract_no"], key="again"), 409)
    assert count(engine, Refund) == 1

    refund_id = refund["refund_id"]
    got = client.get(f"/api/v1/refunds/{refund_id}", headers=world.headers("developer"))
    assert got.status_code == 200 and got.json()["amount"] == "800000.00"

    # four eyes, as for releases; the retention does not hold the buyer's money back (nothing is releasable)
    problem(steps.decide(refund_id, "approver", kind="refunds"), 403)
    problem(steps.decide(refund_id, "reviewer", "reject", "", kind="refunds"), 422)
    assert steps.decide(refund_id, "reviewer", kind="refunds").status_code == 201
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name("reviewer").role = "approver"
        uow.commit()
    assert problem(steps.decide(refund_id, "reviewer", kind="refunds"), 422)["rule"] == (
        f"{BOOK} release.distinct_people"
    )
    approved = steps.decide(refund_id, "approver", kind="refunds")
    assert approved.status_code == 201, approved.text
    assert approved.json()["status"] == "approved"
    problem(steps.decide(refund_id, "director", kind="refunds"), 409)

    pending = steps.pending()
    assert [(i["kind"], i["amount"], i["refund_id"]) for i in pending] == [("refund", "800000.00", refund_id)]
    assert {p["role"] for p in pending[0]["payees"]} == {"buyer", "lender"}
    assert steps.pending("other_bank") == []
    problem(steps.execute(pending[0]["instruction_id"], who="other_bank"), 404)
    executed = steps.execute(pending[0]["instruction_id"], ref="HSB-RF-1")
    assert executed.status_code == 201, executed.text

    assert client.get(f"/api/v1/refunds/{refund_id}", headers=world.headers("reviewer")).json()["status"] == (
        "executed"
    )
    assert account(client, world, sold["account_no"])["balance"] == "0.00"
    entries = invariants_hold(engine, sold["account_no"])
    assert entries[-1].kind == ledger.EntryKind.REFUND
    assert ledger.balances(entries).refunded == 80000000
    with UnitOfWork(engine, readonly=True) as uow:
        statuses = {v: uow.deposits.voucher_by_no(v).status for v in sold["vouchers"].values()}
    assert statuses == {
        sold["vouchers"]["down"]: "refunded",
        sold["vouchers"]["loan"]: "refunded",
        sold["vouchers"]["wrong"]: "reversed",
    }


def test_a_contract_with_nothing_paid_is_cancelled_without_a_refund(client, world, engine, project, flow):
    contract = flow.contract()
    flow.notice(contract["contract_no"], "20000.00", kind="earnest")
    r = _cancel(client, world, contract["contract_no"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["contract_status"] == "cancelled"
    assert body["refund_id"] is None and body["amount"] == "0.00"
    assert "no refund" in body["detail"]
    assert len(body["notices_cancelled"]) == 1
    assert count(engine, Refund) == 0
    problem(_cancel(client, world, contract["contract_no"], key="again"), 409)


def test_another_principal_cannot_touch_a_refund(client, world, engine, sold, steps):
    problem(_cancel(client, world, sold["contract_no"], who="other_developer"), 404)
    problem(_cancel(client, world, "HT-NOPE"), 404)
    problem(_cancel(client, world, sold["contract_no"], who="bank"), 403)
    problem(_cancel(client, world, sold["contract_no"], who="admin"), 403)
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.contracts.by_no(sold["contract_no"]).status == "signed"
    refund_id = _cancel(client, world, sold["contract_no"]).json()["refund_id"]
    for who in ("other_developer", "bank"):
        problem(client.get(f"/api/v1/refunds/{refund_id}", headers=world.headers(who)), 404)
    for who in ("developer", "other_developer", "bank"):
        problem(steps.decide(refund_id, who, kind="refunds"), 403)
    problem(steps.decide(refund_id + 9, "reviewer", kind="refunds"), 404)


def test_a_refund_takes_only_money_that_is_not_frozen(client, world, engine, sold, steps):
    refund_id = _cancel(client, world, sold["contract_no"]).json()["refund_id"]
    freeze = _freeze(client, world, sold["account_no"], "500000.00")
    assert freeze.status_code == 201, freeze.text
    body = problem(steps.decide(refund_id, "reviewer", kind="refunds"), 422)
    assert body["rule"] == "refund_cap"
    assert body["available"]["available"] == "300000.00"
    assert count(engine, ApprovalStep) == 0
    assert _lift(client, world, freeze.json()["freeze_id"]).status_code == 201
    assert steps.approve_all(refund_id, kind="refunds")["status"] == "approved"


def test_a_rejected_refund_makes_no_instruction(client, world, engine, sold, steps):
    refund_id = _cancel(client, world, sold["contract_no"]).json()["refund_id"]
    r = steps.decide(refund_id, "reviewer", "reject", "合同备案记录不符", kind="refunds")
    assert r.status_code == 201 and r.json()["status"] == "rejected"
    assert count(engine, PaymentInstruction) == 0


# --- freezes -----------------------------------------------------------------------------------------------


def test_a_freeze_holds_money_until_it_is_lifted(client, world, engine, site):
    # balance 12,000,000, retention 7,000,000 (hengshui@2024.1 exempts nothing from a freeze): frozen money
    # inside the retention is held already, so 8,000,000 frozen holds back 1,000,000 more
    no = site["account_no"]
    inside = account(client, world, no)
    first = _freeze(client, world, no, "8000000.00", "A")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "active" and body["account_no"] == no and body["amount"] == "8000000.00"
    assert body["kind"] == "amount"
    assert body["account"] == {"status": "frozen", "frozen_amount": "8000000.00", "releasable": "4000000.00"}
    assert inside["releasable"] == "5000000.00"
    acct = account(client, world, no)
    assert acct["status"] == "frozen" and acct["frozen_amount"] == "8000000.00"
    assert acct["releasable"] == "4000000.00"

    problem(_freeze(client, world, no, "1.00", "A"), 409)  # the same court order twice
    problem(_freeze(client, world, no, "1.00", "B", who="other_bank"), 404)
    problem(_freeze(client, world, no, "1.00", "B", who="developer"), 403)
    problem(_freeze(client, world, "NO-SUCH", "1.00", "B"), 404)
    future = client.post(
        "/api/v1/freezes",
        json={
            "account_no": no,
            "authority": COURT,
            "order_no": "C",
            "amount": "1.00",
            "ordered_on": "2026-12-01",
        },
        headers=world.headers("bank", "future"),
    )
    problem(future, 422)
    assert count(engine, Freeze) == 1

    second = _freeze(client, world, no, "500000.00", "B").json()
    assert account(client, world, no)["releasable"] == "3500000.00"
    freeze_id = body["freeze_id"]
    problem(client.get(f"/api/v1/freezes/{freeze_id}", headers=world.headers("other_bank")), 404)
    problem(_lift(client, world, freeze_id, who="other_bank"), 404)
    lifted = _lift(client, world, freeze_id, order_no="(2026)冀1102执1号之一")
    assert lifted.status_code == 201, lifted.text
    assert lifted.json()["status"] == "lifted"
    assert lifted.json()["account"]["status"] == "frozen"  # another freeze is still active
    problem(_lift(client, world, freeze_id, key="lift-again"), 409)
    assert _lift(client, world, second["freeze_id"]).json()["account"]["status"] == "active"
    acct = account(client, world, no)
    assert acct["status"] == "active" and acct["releasable"] == "5000000.00"
    got = client.get(f"/api/v1/freezes/{freeze_id}", headers=world.headers("bank")).json()
    assert got["status"] == "lifted" and got["lifted_at"]


def test_a_freeze_inside_the_retention_does_not_hold_money_twice(client, world, site):
    _freeze(client, world, site["account_no"], "7000000.00")
    acct = account(client, world, site["account_no"])
    assert acct["frozen_amount"] == "7000000.00" and acct["releasable"] == "5000000.00"


def test_a_freeze_blocks_a_release_above_what_is_left(client, world, site, steps):
    _freeze(client, world, site["account_no"], "11000000.00")
    body = problem(steps.apply(release_body(site["project_id"], amount="3000000.00")), 422)
    assert body["rule"] == "release_cap" and body["cap"]["releasable"] == "1000000.00"


# --- court deductions --------------------------------------------------------------------------------------


def test_before_first_registration_the_key_amount_is_protected(client, world, engine, site):
    no = site["account_no"]
    freeze_id = _freeze(client, world, no, "3000000.00").json()["freeze_id"]
    # balance 12,000,000.00, key supervised amount 10,000,000.00: 2,000,000.00 may be deducted for others
    body = problem(_deduct(client, world, freeze_id, "2500000.00", "other", "KH-1"), 422)
    assert body["rule"] == f"{BOOK} freeze.court_deduction_before_registration"
    assert body["deductible"] == "2000000.00"
    assert problem(_deduct(client, world, freeze_id, "3000000.01", "construction", "KH-1"), 422)["rule"] == (
        "freeze.amount"
    )
    problem(_deduct(client, world, freeze_id, "1.00", "other", "KH-1", who="other_bank"), 404)
    assert count(engine, JournalEntry) == 1

    r = _deduct(client, world, freeze_id, "2000000.00", "other", "KH-1")
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == "1000000.00" and r.json()["status"] == "active"
    assert r.json()["deduction"]["balance_after"] == "10000000.00"
    problem(_deduct(client, world, freeze_id, "1.00", "construction", "KH-1"), 409)  # reference seen

    # now the whole balance is inside the key amount: only this project's own builders and suppliers
    body = problem(_deduct(client, world, freeze_id, "1000000.00", "other", "KH-2"), 422)
    assert body["deductible"] == "0.00"
    r = _deduct(client, world, freeze_id, "1000000.00", "construction", "KH-2")
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == "0.00" and r.json()["status"] == "deducted"
    assert r.json()["account"]["status"] == "active"
    problem(_deduct(client, world, freeze_id, "1.00", "materials", "KH-3"), 409)

    acct = account(client, world, no)
    assert acct["balance"] == "9000000.00" and acct["frozen_amount"] == "0.00"
    entries = invariants_hold(engine, no)
    assert [e.kind for e in entries].count(ledger.EntryKind.COURT_DEDUCTION) == 2
    assert ledger.balances(entries).deducted == 300000000


def test_after_first_registration_a_court_may_deduct_any_frozen_money(client, world, engine, site):
    evidence = {
        "topped_out": [{"kind": "topping_out_acceptance"}, {"kind": "supervision_engineer_confirmation"}],
        "completion_report": [{"kind": "completion_acceptance_report"}],
        "completion_filed": [{"kind": "completion_filing_certificate"}],
        "first_registration": [{"kind": "first_registration_certificate"}],
    }
    for node, given in evidence.items():
        confirm(client, world, site["project_id"], node, given)
    freeze_id = _freeze(client, world, site["account_no"], "11000000.00").json()["freeze_id"]
    r = _deduct(client, world, freeze_id, "11000000.00", "other", "KH-9")
    assert r.status_code == 201, r.text
    assert account(client, world, site["account_no"])["balance"] == "1000000.00"
    invariants_hold(engine, site["account_no"])


def test_a_deduction_cannot_overdraw(client, world, engine, site):
    freeze_id = _freeze(client, world, site["account_no"], "20000000.00").json()["freeze_id"]
    body = problem(_deduct(client, world, freeze_id, "12000000.01", "construction", "KH-X"), 422)
    assert body["rule"] == "balance"
    assert count(engine, JournalEntry) == 1


def test_a_deduction_on_the_bank_statement_reconciles(client, world, engine, site):
    """The court's debit is explained by the deduction the bank recorded: no discrepancy."""
    import json

    from sqlalchemy import select

    from escrow.store.models import Deposit

    no = site["account_no"]
    freeze_id = _freeze(client, world, no, "2000000.00").json()["freeze_id"]
    assert _deduct(client, world, freeze_id, "2000000.00", "other", "KH-7").status_code == 201
    with UnitOfWork(engine, readonly=True) as uow:
        deposits = uow.session.execute(
            select(Deposit.bank_reference, Deposit.amount_fen, Deposit.value_date)
        ).all()
    lines = [
        {
            "bank_reference": ref,
            "booked_on": day.isoformat(),
            "amount": f"{fen / 100:.2f}",
            "direction": "credit",
            "counterparty_name": "",
            "counterparty_account": "",
            "remittance": "",
        }
        for ref, fen, day in deposits
    ]
    lines.append(
        {
            "bank_reference": "KH-7",
            "booked_on": TODAY,
            "amount": "2000000.00",
            "direction": "debit",
            "counterparty_name": COURT,
            "counterparty_account": "",
            "remittance": "法院扣划",
        }
    )
    statement = {
        "account_no": no,
        "statement_date": TODAY,
        "opening_balance": "0.00",
        "closing_balance": "10000000.00",
        "lines": lines,
    }
    r = client.post(
        "/api/v1/statements",
        content=json.dumps(statement).encode(),
        headers={**world.headers("bank", "stmt"), "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["matched"], r.json()["status"]) == (len(lines), "reconciled")
