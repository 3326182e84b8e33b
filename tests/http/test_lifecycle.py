"""The end of an account's life through the real app on both engines (CONTRACT.md §8, issue 12 bullets 5 and
6): closure (解除监管) once every node is confirmed and nothing is open, paid by the bank as an instruction of
kind `closure`; and a change of supervising bank, an instruction of kind `transfer` at the old bank whose
execution closes the old account and opens the new one with the books, the contracts and the open notices.
Every refusal names its blockers and changes nothing; the audit chain and the books' invariants hold."""

from __future__ import annotations

import json
from datetime import date

import pytest

from escrow.domain.principal import Principal
from escrow.services import auditing, suspense
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, Freeze, Guarantee, JournalEntry, PaymentInstruction
from tests.conftest import project_body
from tests.http.test_api_releases import account, count, invariants_hold, problem, release_body
from tests.http.test_money_flows import open_project
from tests.http.test_reports import flat, pdf_text

TODAY = "2026-12-06"
NODES = {
    "half_structure": ["construction_progress_report", "supervision_engineer_confirmation"],
    "topped_out": ["topping_out_acceptance", "supervision_engineer_confirmation"],
    "completion_report": ["completion_acceptance_report"],
    "completion_filed": ["completion_filing_certificate"],
    "first_registration": ["first_registration_certificate"],
}
PAYEE = {
    "name": "衡水安居置业有限公司",
    "account_no": "1300009999000011112222",
    "bank_name": "中国银行衡水分行",
}
NEW_ACCOUNT = "6212990000123456"
REVIEWER = Principal(kind="user", id=3, name="reviewer", role="reviewer")


@pytest.fixture
def today() -> date:
    return date(2026, 12, 6)


@pytest.fixture
def site(client, world, flow) -> dict:
    """Key supervised amount 10,000,000.00 under hengshui@2026.1; one contract of 700,000.00 with a
    down payment of 200,000.00 paid and a notice of 400,000.00 still open."""
    project = open_project(client, world)
    contract = flow.contract(contract_no="HT-L-1", unit="L-1", total_price="700000.00", signed_on=TODAY)
    paid = flow.notice(contract["contract_no"], "200000.00", kind="down_payment")
    deposit(flow, paid["account_no"], "L-PAY-1", "200000.00", paid["notice_no"])
    unpaid = flow.notice(contract["contract_no"], "400000.00", kind="mortgage")
    return {**project, "contract": contract, "open_notice": unpaid}


def deposit(flow, account_no: str, ref: str, amount: str, notice_no: str | None, *, who="bank", expect=201):
    fields = {
        "account_no": account_no,
        "bank_reference": ref,
        "amount": amount,
        "payer_name": "张伟",
        "payer_account": "6217000012345678",
        "value_date": TODAY,
        "channel": "transfer",
        "kind": "down_payment",
    }
    if notice_no is not None:
        fields["notice_no"] = notice_no
    return flow.deposit(who=who, expect=expect, **fields)


def confirm_nodes(client, world, project_id: int, upto: str | None = None) -> None:
    for node, evidence in NODES.items():
        if node == upto:
            return
        r = client.post(
            f"/api/v1/projects/{project_id}/nodes/{node}/confirmation",
            json={"reached_on": "2026-12-05", "evidence": [{"kind": k} for k in evidence]},
            headers=world.headers("inspector", f"confirm-{node}"),
        )
        assert r.status_code == 201, r.text


def close(client, world, project_id: int, key: str = "close-1", who: str = "admin", **overrides):
    body = {"payee": PAYEE, "reason": "项目已完成不动产首次登记，申请解除监管", **overrides}
    return client.post(f"/api/v1/projects/{project_id}/closure", json=body, headers=world.headers(who, key))


def change_bank(client, world, project_id: int, key: str = "change-1", account_no: str = NEW_ACCOUNT):
    body = {"bank_code": "OTB", "account_no": account_no, "account_name": "衡水安居置业有限公司监管账户"}
    return client.post(
        f"/api/v1/projects/{project_id}/bank-change", json=body, headers=world.headers("admin", key)
    )


def execute(client, world, instruction_id: int, ref: str, who: str = "bank"):
    return client.post(
        f"/api/v1/instructions/{instruction_id}/execution",
        json={"bank_reference": ref, "executed_on": TODAY},
        headers=world.headers(who, f"exec-{ref}"),
    )


def statement(client, world, account_no: str, lines: list[dict], closing: str, who="bank", key="st-1"):
    body = {"account_no": account_no, "statement_date": TODAY, "closing_balance": closing, "lines": lines}
    headers = {**world.headers(who, key), "Content-Type": "application/json"}
    return client.post("/api/v1/statements", content=json.dumps(body).encode(), headers=headers)


def credit(ref: str, amount: str) -> dict:
    return {
        "bank_reference": ref,
        "booked_on": TODAY,
        "amount": amount,
        "direction": "credit",
        "counterparty_name": "张伟",
        "counterparty_account": "6217000012345678",
        "remittance": "",
    }


def counts(engine) -> tuple[int, int, int]:
    return count(engine, PaymentInstruction), count(engine, JournalEntry), count(engine, AuditEvent)


def codes(refused: dict) -> list[str]:
    return [b["code"] for b in refused["blockers"]]


# --- closure ------------------------------------------------------------------------------------------------


def test_closure_is_refused_while_a_node_is_missing(client, world, engine, site):
    confirm_nodes(client, world, site["project_id"], upto="first_registration")
    before = counts(engine)
    refused = problem(close(client, world, site["project_id"]), 422)
    assert refused["rule"] == "lifecycle.node_missing"
    assert refused["blockers"] == [
        {
            "code": "node_missing",
            "params": {"building": "", "node": "first_registration"},
            "message": "node first_registration is not confirmed",
        }
    ]
    assert "first_registration" in refused["detail"]
    assert counts(engine) == before


def _suspense(client, world, flow, site, engine):
    deposit(flow, site["account_no"], "L-UNKNOWN", "1000.00", None)


def _refund(client, world, flow, site, engine):
    r = client.post(
        f"/api/v1/contracts/{site['contract']['contract_no']}/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers("developer", "cancel"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "submitted", r.json()


def _release(client, world, flow, site, engine):
    body = release_body(site["project_id"], amount="1000.00", node_code="first_registration")
    r = client.post("/api/v1/releases", json=body, headers=world.headers("developer", "apply-1"))
    assert r.status_code == 201, r.text


def _freeze(client, world, flow, site, engine):
    body = {
        "account_no": site["account_no"],
        "authority": "衡水市桃城区人民法院",
        "order_no": "(2026)冀1102执9号",
        "amount": "1000.00",
        "ordered_on": TODAY,
    }
    assert client.post("/api/v1/freezes", json=body, headers=world.headers("bank", "frz")).status_code == 201


def _guarantee(client, world, flow, site, engine):
    with UnitOfWork(engine) as uow:  # registered while the balance allowed it (written here for brevity)
        account_id = uow.projects.account_by_no(site["account_no"]).id
        uow.guarantees.add(
            Guarantee(
                account_id=account_id,
                issuer="中国建设银行衡水分行",
                guarantee_no="BH-1",
                amount_fen=100_000,
                accepted_on=date(2026, 12, 1),
                expires_on=date(2027, 12, 31),
            )
        )
        uow.commit()


BLOCKERS = {
    "suspense_open": _suspense,
    "refunds_open": _refund,
    "releases_open": _release,
    "freeze_in_force": _freeze,
    "guarantees_in_force": _guarantee,
}


@pytest.mark.parametrize("blocker", sorted(BLOCKERS))
def test_closure_is_refused_while_something_is_open(client, world, engine, flow, site, blocker):
    confirm_nodes(client, world, site["project_id"])
    BLOCKERS[blocker](client, world, flow, site, engine)
    before = counts(engine)
    refused = problem(close(client, world, site["project_id"]), 409)
    assert blocker in codes(refused), refused
    assert refused["rule"].startswith("lifecycle.")
    assert counts(engine) == before


def test_closure_pays_out_the_balance_and_closes_the_account(client, world, engine, flow, site):
    confirm_nodes(client, world, site["project_id"])
    problem(close(client, world, site["project_id"], key="close-x", reason=""), 422)
    r = close(client, world, site["project_id"])
    assert r.status_code == 201, r.text
    ins = r.json()
    assert ins["kind"] == "closure" and ins["status"] == "pending" and ins["amount"] == "200000.00"
    assert ins["payees"] == [{**PAYEE, "role": "payee", "amount": "200000.00"}]
    assert ins["project_id"] == site["project_id"] and ins["reason"].startswith("项目已完成")
    # the bank sees it with the others
    pending = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    assert [(i["instruction_id"], i["kind"]) for i in pending] == [(ins["instruction_id"], "closure")]
    assert client.get("/api/v1/instructions", headers=world.headers("other_bank")).json() == []
    # while it waits: a second closure, a bank change, a deposit, a release answer 409, nothing changes
    before = counts(engine)
    assert codes(problem(close(client, world, site["project_id"], key="close-2"), 409)) == ["ending_pending"]
    assert codes(problem(change_bank(client, world, site["project_id"]), 409)) == ["ending_pending"]
    refused = deposit(
        flow, site["account_no"], "L-PAY-2", "400000.00", site["open_notice"]["notice_no"], expect=409
    )
    assert refused["rule"] == "lifecycle.ending_pending"
    assert account(client, world, site["account_no"])["releasable"] == "0.00"
    assert counts(engine) == before
    # the bank pays it: the books pay out the balance, the account is closed
    executed = execute(client, world, ins["instruction_id"], "HSB-CLOSE-1")
    assert executed.status_code == 201, executed.text
    assert executed.json()["status"] == "executed" and executed.json()["executed_on"] == TODAY
    problem(execute(client, world, ins["instruction_id"], "HSB-CLOSE-2"), 409)
    closed = account(client, world, site["account_no"])
    assert (closed["status"], closed["closed_on"], closed["balance"]) == ("closed", TODAY, "0.00")
    listed = client.get("/api/v1/accounts", headers=world.headers("bank")).json()
    assert [(a["account_no"], a["status"]) for a in listed] == [(site["account_no"], "closed")]
    project = client.get(f"/api/v1/projects/{site['project_id']}", headers=world.headers("admin")).json()
    assert project["account"]["status"] == "closed"
    # afterwards deposits and statements answer 409
    refused = deposit(
        flow, site["account_no"], "L-PAY-3", "400000.00", site["open_notice"]["notice_no"], expect=409
    )
    assert refused["rule"] == "account_open"
    assert problem(statement(client, world, site["account_no"], [], "0.00"), 409)["rule"] == "account_closed"
    entries = invariants_hold(engine, site["account_no"])
    assert [e.kind.value for e in entries][-1] == "closure"
    report = auditing.verify(engine)
    assert report.ok, report.lines()
    with UnitOfWork(engine, readonly=True) as uow:
        actions = [e.action for e in uow.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "instruction.created.closure" in actions and "account.closed" in actions


def test_a_freeze_while_the_closure_waits_makes_the_bank_wait_too(client, world, engine, flow, site):
    confirm_nodes(client, world, site["project_id"])
    ins = close(client, world, site["project_id"]).json()
    body = release_body(site["project_id"], amount="1000.00", node_code="first_registration")
    r = client.post("/api/v1/releases", json=body, headers=world.headers("developer", "apply-late"))
    assert problem(r, 409)["rule"] == "lifecycle.ending_pending"
    _freeze(client, world, flow, site, engine)  # the court's order is never refused
    before = counts(engine)
    refused = problem(execute(client, world, ins["instruction_id"], "HSB-CLOSE-F1"), 409)
    assert codes(refused) == ["freeze_in_force"]
    assert counts(engine) == before
    assert account(client, world, site["account_no"])["status"] == "frozen"
    with UnitOfWork(engine, readonly=True) as uow:
        freeze_id = uow.session.query(Freeze).one().id
    r = client.post(
        f"/api/v1/freezes/{freeze_id}/lift",
        json={"order_no": "解冻-1"},
        headers=world.headers("bank", "lift"),
    )
    assert r.status_code == 201, r.text
    done = execute(client, world, ins["instruction_id"], "HSB-CLOSE-F2")
    assert done.status_code == 201, done.text
    assert account(client, world, site["account_no"])["status"] == "closed"


def test_only_bureau_admins_end_an_account(client, world, site):
    confirm_nodes(client, world, site["project_id"])
    for who in ("reviewer", "developer", "bank"):
        r = close(client, world, site["project_id"], key=f"c-{who}", who=who)
        assert r.status_code in (403, 404), (who, r.text)
    problem(close(client, world, 999_999, key="c-none"), 404)


# --- change of supervising bank ------------------------------------------------------------------------


def test_a_bank_change_is_refused_with_an_instruction_pending(app, client, world, engine, flow, site):
    deposit(flow, site["account_no"], "L-UNKNOWN", "1000.00", None)  # unassigned money …
    refused = problem(change_bank(client, world, site["project_id"]), 409)
    assert codes(refused) == ["suspense_open"]
    with UnitOfWork(engine, readonly=True) as uow:
        deposit_id = uow.deposits.by_reference(uow.parties.bank_by_code("HSB").id, "L-UNKNOWN").id
    with UnitOfWork(engine) as uow:  # … ordered back to its payer (the suspense page): an instruction waits
        returning = suspense.ReturnToPayer("无法识别付款人")
        suspense.return_to_payer(uow, app.state["runtime"].ctx, deposit_id, returning, REVIEWER)
        uow.commit()
    before = counts(engine)
    refused = problem(change_bank(client, world, site["project_id"], key="change-2"), 409)
    assert "instructions_pending" in codes(refused)
    assert counts(engine) == before


def test_a_bank_change_refuses_an_account_number_in_use(client, world, site):
    problem(change_bank(client, world, site["project_id"], account_no=site["account_no"]), 409)


def test_a_bank_change_moves_the_books_to_the_new_account(app, client, world, engine, flow, site):
    _guarantee(client, world, flow, site, engine)  # a guarantee in force moves with the account
    r = change_bank(client, world, site["project_id"])
    assert r.status_code == 201, r.text
    ins = r.json()
    assert (ins["kind"], ins["amount"], ins["account_no"]) == ("transfer", "200000.00", site["account_no"])
    assert (ins["new_bank_code"], ins["new_account_no"]) == ("OTB", NEW_ACCOUNT)
    pending = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    assert [i["kind"] for i in pending] == ["transfer"]
    # the new account number is taken while the transfer waits: by another transfer, by a project opening
    problem(change_bank(client, world, site["project_id"], key="change-again"), 409)
    body = project_body(permit_no="衡预售2026-099", account_no=NEW_ACCOUNT)
    r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", "open-taken"))
    assert problem(r, 409)["rule"] == "one_account_per_project"
    problem(execute(client, world, ins["instruction_id"], "OTB-1", who="other_bank"), 404)
    executed = execute(client, world, ins["instruction_id"], "HSB-TRANSFER-1")
    assert executed.status_code == 201, executed.text

    old = account(client, world, site["account_no"])
    assert (old["status"], old["closed_on"], old["balance"]) == ("closed", TODAY, "0.00")
    new = client.get(f"/api/v1/accounts/{NEW_ACCOUNT}", headers=world.headers("other_bank"))
    assert new.status_code == 200, new.text
    new = new.json()
    assert (new["status"], new["balance"], new["project"]["project_id"]) == (
        "active",
        "200000.00",
        site["project_id"],
    )
    problem(client.get(f"/api/v1/accounts/{NEW_ACCOUNT}", headers=world.headers("bank")), 404)
    project = client.get(f"/api/v1/projects/{site['project_id']}", headers=world.headers("admin")).json()
    assert (project["account_no"], project["bank_code"], project["account"]["balance"]) == (
        NEW_ACCOUNT,
        "OTB",
        "200000.00",
    )
    with UnitOfWork(engine, readonly=True) as uow:
        new_row = uow.projects.account_by_no(NEW_ACCOUNT)
        assert new_row.opened_on == date(2026, 12, 6)
        assert uow.projects.account_by_no(site["account_no"]).replaced_by_id == new_row.id
        assert uow.projects.account_for(site["project_id"]).id == new_row.id

    held = client.get(f"/api/v1/projects/{site['project_id']}/guarantees", headers=world.headers("admin"))
    assert [(g["guarantee_no"], g["account_no"]) for g in held.json()] == [("BH-1", NEW_ACCOUNT)]

    # the open notice names the new account (API and PDF); a new notice too
    contract = client.get(
        f"/api/v1/contracts/{site['contract']['contract_no']}", headers=world.headers("developer")
    ).json()
    assert contract["account_no"] == NEW_ACCOUNT
    notice_no = site["open_notice"]["notice_no"]
    pdf = client.get(f"/api/v1/notices/{notice_no}/pdf", headers=world.headers("developer"))
    assert pdf.status_code == 200, pdf.text
    text = flat(pdf_text(pdf.content))
    assert NEW_ACCOUNT in text and "变更监管银行重新开具" in text and site["account_no"] in text
    fresh = flow.notice(site["contract"]["contract_no"], "1000.00", kind="other")
    assert fresh["account_no"] == NEW_ACCOUNT and fresh["reissued_from"] is None

    # deposits: at the old account 409; at the new one with the new bank's key, a voucher
    refused = deposit(flow, site["account_no"], "L-OLD-2", "400000.00", notice_no, expect=409)
    assert refused["rule"] == "account_open"
    paid = deposit(flow, NEW_ACCOUNT, "OTB-PAY-1", "400000.00", notice_no, who="other_bank")
    assert paid["status"] == "accepted" and paid["voucher"]["voucher_no"], paid
    # the new account's own statement reconciles: the balance moved plus the buyer's payment
    lines = [credit("HSB-TRANSFER-1", "200000.00"), credit("OTB-PAY-1", "400000.00")]
    r = statement(client, world, NEW_ACCOUNT, lines, "600000.00", who="other_bank")
    assert r.status_code in (200, 201), r.text
    assert r.json()["status"] == "reconciled", r.json()
    assert (r.json()["matched"], r.json()["bank_only"]) == (2, 0)  # the transfer in is not new money
    # the old account's history stays readable
    with UnitOfWork(engine, readonly=True) as uow:
        from escrow import reports

        name, content = reports.render(
            "monthly", uow, app.state["runtime"].ctx, account_no=site["account_no"], year=2026, month=12
        )
    assert site["account_no"] in name and "200,000.00" in pdf_text(content)
    assert "划转至新监管银行" in flat(pdf_text(content))  # the transfer out, in the report's words
    # the city's figures: a change of bank opens no new supervision, and moves no money in or out of the city
    stats = client.get("/api/v1/stats?from=2026-12-01&to=2026-12-31", headers=world.headers("admin")).json()
    assert stats["accounts_opened"] == 1, stats
    invariants_hold(engine, site["account_no"])
    entries = invariants_hold(engine, NEW_ACCOUNT)
    assert [e.kind.value for e in entries] == ["transfer_in", "deposit"]
    report = auditing.verify(engine)
    assert report.ok, report.lines()
