"""Releases through the real app on both engines: application rules, the approval chain with four eyes, cap
re-checks, payment instructions and their execution by the bank."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.domain.principal import Principal
from escrow.services import approvals, releases
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, PaymentInstruction, Release, Statement
from tests.conftest import project_body

TODAY = "2026-11-22"  # the `today` fixture
BOOK = "hengshui@2024.1"
HALF_EVIDENCE = [{"kind": "construction_progress_report"}, {"kind": "supervision_engineer_confirmation"}]
WAGES = {"kind": "wage_arrears_statement", "filename": "wages.pdf", "sha256": "ab" * 32}


# --- helpers (also used by test_api_refunds_freezes) ------------------------------------------------------


def count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def fund(flow, amount: str, n: int = 1, **overrides) -> dict:
    """A contract of `amount`, a full-payment notice for it, and the bank's deposit of it."""
    contract = flow.contract(contract_no=f"HT-F-{n}", unit=f"F-{n}", total_price=amount)
    notice = flow.notice(contract["contract_no"], amount, kind="full")
    fields = {
        "account_no": notice["account_no"],
        "bank_reference": f"FUND-{n}",
        "amount": amount,
        "payer_name": "张伟",
        "payer_account": "6217000012345678",
        "notice_no": notice["notice_no"],
        "kind": "full",
        "channel": "transfer",
        "value_date": TODAY,
    }
    fields.update(overrides)
    deposit = flow.deposit(**fields)
    assert deposit["status"] == "accepted", deposit
    return deposit


def confirm(client, world, project_id: int, node: str = "half_structure", evidence=None) -> None:
    r = client.post(
        f"/api/v1/projects/{project_id}/nodes/{node}/confirmation",
        json={"reached_on": "2025-06-01", "evidence": evidence or HALF_EVIDENCE},
        headers=world.headers("inspector", f"confirm-{node}"),
    )
    assert r.status_code == 201, r.text


def account(client, world, account_no: str) -> dict:
    r = client.get(f"/api/v1/accounts/{account_no}", headers=world.headers("bank"))
    assert r.status_code == 200, r.text
    return r.json()


def invariants_hold(engine, account_no: str) -> list[ledger.Entry]:
    with UnitOfWork(engine, readonly=True) as uow:
        entries = uow.journal.entries(uow.projects.account_by_no(account_no).id)
    assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
    assert ledger.balance_equals_flows(entries)
    assert ledger.balance_never_negative(entries)
    assert ledger.suspense_never_negative(entries)
    return entries


@pytest.fixture
def site(client, world, flow) -> dict:
    """Key supervised amount 10,000,000.00, 12,000,000.00 received, half of the main structure confirmed:
    retention 7,000,000.00, releasable 5,000,000.00."""
    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open-site"),
    )
    assert r.status_code == 201, r.text
    project = r.json()
    fund(flow, "12000000.00")
    confirm(client, world, project["project_id"])
    assert account(client, world, project["account_no"])["releasable"] == "5000000.00"
    return project


def release_body(project_id: int, amount: str = "3000000.00", **overrides) -> dict:
    whole = int(amount.split(".")[0])
    first = whole * 2 // 3
    body = {
        "project_id": project_id,
        "node_code": "half_structure",
        "amount": amount,
        "purpose": "主体结构施工进度款 / progress payment for the main structure",
        "payees": [
            {
                "name": "衡水建工集团有限公司",
                "account_no": "1300001111222233334444",
                "bank_name": "中国建设银行衡水分行",
                "role": "construction",
                "amount": f"{first}.00",
            },
            {
                "name": "河北冀钢建材有限公司",
                "account_no": "1300005555666677778888",
                "bank_name": "中国工商银行衡水分行",
                "role": "materials",
                "amount": f"{whole - first}.{amount.split('.')[1]}",
            },
        ],
        "documents": [WAGES],
    }
    body.update(overrides)
    return body


class Steps:
    """Posting releases and decisions with fresh idempotency keys."""

    def __init__(self, client, world):
        self.client, self.world, self.n = client, world, 0

    def key(self) -> str:
        self.n += 1
        return f"rel-{self.n}"

    def apply(self, body: dict, who: str = "developer"):
        return self.client.post("/api/v1/releases", json=body, headers=self.world.headers(who, self.key()))

    def applied(self, body: dict) -> dict:
        r = self.apply(body)
        assert r.status_code == 201, r.text
        return r.json()

    def decide(
        self, release_id: int, who: str, decision: str = "approve", comment: str = "", kind="releases"
    ):
        return self.client.post(
            f"/api/v1/{kind}/{release_id}/decisions",
            json={"decision": decision, "comment": comment},
            headers=self.world.headers(who, self.key()),
        )

    def approve_all(self, release_id: int, roles=("reviewer", "approver"), kind="releases") -> dict:
        for role in roles:
            r = self.decide(release_id, role, kind=kind)
            assert r.status_code == 201, r.text
        return r.json()

    def execute(self, instruction_id: int, who: str = "bank", ref: str = "PAY-1", on: str = TODAY):
        return self.client.post(
            f"/api/v1/instructions/{instruction_id}/execution",
            json={"bank_reference": ref, "executed_on": on},
            headers=self.world.headers(who, self.key()),
        )

    def pending(self, who: str = "bank") -> list[dict]:
        r = self.client.get("/api/v1/instructions?status=pending", headers=self.world.headers(who))
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def steps(client, world) -> Steps:
    return Steps(client, world)


# --- the whole way ---------------------------------------------------------------------------------------


def test_a_release_goes_from_application_to_the_books(client, world, engine, site, steps):
    applied = steps.applied(release_body(site["project_id"]))
    assert applied["status"] == "submitted"
    assert applied["cap"]["releasable"] == "5000000.00"
    assert applied["cap"]["explanation"]["rulebook"] == BOOK
    assert applied["rulebook"] == BOOK
    assert [(s["step_no"], s["role"]) for s in applied["approval_chain"]] == [
        (1, "reviewer"),
        (2, "approver"),
    ]
    assert applied["approval_chain"][0]["label_zh"] == "初审"
    assert applied["next_step"]["role"] == "reviewer"
    assert sum(float(p["amount"]) for p in applied["payees"]) == 3000000.00
    assert applied["documents"] == [WAGES]
    release_id = applied["release_id"]

    seen = client.get(f"/api/v1/releases/{release_id}", headers=world.headers("developer")).json()
    assert seen["release_id"] == release_id and seen["steps"] == []
    assert client.get(f"/api/v1/releases/{release_id}", headers=world.headers("auditor")).status_code == 200
    for who in ("other_developer", "bank"):
        problem(client.get(f"/api/v1/releases/{release_id}", headers=world.headers(who)), 404)

    reviewed = steps.decide(release_id, "reviewer", comment="材料齐全")
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["status"] == "submitted"
    assert reviewed.json()["steps"][0]["decided_by"] == "reviewer"
    assert reviewed.json()["steps"][0]["cap"]["releasable"] == "5000000.00"
    assert steps.pending() == []

    approved = steps.decide(release_id, "approver").json()
    assert approved["status"] == "approved"
    assert approved["next_step"] is None
    assert approved["instruction"]["status"] == "pending"

    pending = steps.pending()
    assert len(pending) == 1
    instruction = pending[0]
    assert instruction["kind"] == "release"
    assert instruction["amount"] == "3000000.00"
    assert instruction["account_no"] == site["account_no"]
    assert {p["role"] for p in instruction["payees"]} == {"construction", "materials"}
    assert instruction["status"] == "pending" and instruction["created_at"]
    assert steps.pending("other_bank") == []
    # the approved amount is reserved: the cap drops although the books have not moved
    acct = account(client, world, site["account_no"])
    assert acct["balance"] == "12000000.00"
    assert acct["releasable"] == "2000000.00"
    assert len(invariants_hold(engine, site["account_no"])) == 1

    problem(steps.execute(instruction["instruction_id"], who="other_bank"), 404)
    problem(steps.execute(instruction["instruction_id"], on="2026-11-23"), 422)
    executed = steps.execute(instruction["instruction_id"], ref="HSB-PAY-0001")
    assert executed.status_code == 201, executed.text
    assert executed.json()["status"] == "executed"
    assert executed.json()["bank_reference"] == "HSB-PAY-0001"
    problem(steps.execute(instruction["instruction_id"], ref="HSB-PAY-0002"), 409)

    assert steps.pending() == []
    done = client.get("/api/v1/instructions?status=executed", headers=world.headers("bank")).json()
    assert [i["instruction_id"] for i in done] == [instruction["instruction_id"]]
    release = client.get(f"/api/v1/releases/{release_id}", headers=world.headers("developer")).json()
    assert release["status"] == "executed"
    assert release["instruction"]["executed_on"] == TODAY
    acct = account(client, world, site["account_no"])
    assert acct["balance"] == "9000000.00"
    assert acct["releasable"] == "2000000.00"  # 9,000,000 − retention 7,000,000
    entries = invariants_hold(engine, site["account_no"])
    assert [e.kind for e in entries] == [ledger.EntryKind.DEPOSIT, ledger.EntryKind.RELEASE]
    assert ledger.balances(entries).released == 300000000


def test_the_same_idempotency_key_replays_an_application(client, world, engine, site):
    body = release_body(site["project_id"])
    first = client.post("/api/v1/releases", json=body, headers=world.headers("developer", "same"))
    again = client.post("/api/v1/releases", json=body, headers=world.headers("developer", "same"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert count(engine, Release) == 1
    problem(client.post("/api/v1/releases", json=body, headers=world.headers("developer")), 400)


# --- refusals at application -------------------------------------------------------------------------------


def _payees(role: str = "construction", second: str = "1000000.00") -> list[dict]:
    base = release_body(1)["payees"]
    return [{**base[0], "role": role}, {**base[1], "amount": second}]


RULE_BREAKS = [
    ({"node_code": "roof"}, f"{BOOK} nodes"),
    ({"node_code": "topped_out"}, f"{BOOK} release.node_confirmed"),
    ({"payees": _payees(role="developer")}, f"{BOOK} release.payee_roles"),
    ({"payees": _payees(second="999999.99")}, "payees_sum_to_amount"),
    ({"documents": []}, f"{BOOK} release.required_documents"),
    ({"documents": [{**WAGES, "kind": "invoice"}]}, f"{BOOK} release.required_documents"),
]


def test_an_application_breaking_a_rule_is_refused_naming_it(client, world, engine, site, steps):
    for overrides, rule in RULE_BREAKS:  # one funded site for all cases: each refusal changes nothing
        body = problem(steps.apply(release_body(site["project_id"], **overrides)), 422)
        assert body["rule"] == rule, overrides
        assert body["detail"]
    assert count(engine, Release) == 0


def test_an_application_above_the_cap_is_refused_with_the_cap(site, steps, engine):
    body = problem(steps.apply(release_body(site["project_id"], amount="5000000.01")), 422)
    assert body["rule"] == "release_cap"
    assert body["cap"]["releasable"] == "5000000.00"
    terms = {t["term"]: t["value"] for t in body["cap"]["explanation"]["terms"]}
    assert terms["balance"] == "12000000.00"
    assert terms["required_retention"] == "7000000.00"
    retention = next(t for t in body["cap"]["explanation"]["terms"] if t["term"] == "required_retention")
    assert retention["rule"] == f"{BOOK} nodes.half_structure.retention"
    assert any(e["field"] == "amount" for e in body["errors"])
    assert steps.apply(release_body(site["project_id"], amount="5000000.00")).status_code == 201


def test_releases_pause_while_the_statement_does_not_reconcile(site, steps, engine):
    def statement(day: date, status: str) -> None:
        with UnitOfWork(engine) as uow:
            acct = uow.projects.account_by_no(site["account_no"])
            uow.session.add(
                Statement(
                    account_id=acct.id,
                    bank_id=acct.bank_id,
                    statement_date=day,
                    digest=f"{day}-{status}",
                    format="json",
                    status=status,
                )
            )
            uow.commit()

    before = steps.applied(release_body(site["project_id"]))["release_id"]
    statement(date(2026, 11, 20), "discrepancy")
    assert problem(steps.apply(release_body(site["project_id"])), 422)["rule"] == "reconciliation"
    assert problem(steps.decide(before, "reviewer"), 422)["rule"] == "reconciliation"
    rejected = steps.decide(before, "reviewer", "reject", "对账不符，暂停拨付")  # refusing is still possible
    assert rejected.status_code == 201, rejected.text
    statement(date(2026, 11, 21), "reconciled")
    assert steps.apply(release_body(site["project_id"])).status_code == 201


MALFORMED = [
    ({"amount": 3000000}, "amount"),
    ({"amount": "3000000.001"}, "amount"),
    ({"payees": []}, "payees"),
    ({"payees": [_payees()[0], {**_payees()[1], "amount": "-1.00"}]}, "payees"),
    ({"documents": [{**WAGES, "sha256": "xyz"}]}, "documents"),
    ({"purpose": ""}, "purpose"),
]


def test_malformed_applications_are_422_with_the_field(site, steps, engine):
    for overrides, field in MALFORMED:
        body = problem(steps.apply({**release_body(site["project_id"]), **overrides}), 422)
        assert any(e["field"].startswith(field) for e in body["errors"]), body
    assert count(engine, Release) == 0


def test_only_the_projects_developer_applies(site, steps, engine):
    problem(steps.apply(release_body(site["project_id"]), who="other_developer"), 404)
    problem(steps.apply(release_body(site["project_id"] + 99)), 404)
    problem(steps.apply(release_body(site["project_id"]), who="bank"), 403)
    problem(steps.apply(release_body(site["project_id"]), who="approver"), 403)
    assert count(engine, Release) == 0


# --- the approval chain ----------------------------------------------------------------------------------


def test_a_large_release_needs_the_director(client, world, site, steps):
    applied = steps.applied(release_body(site["project_id"], amount="5000000.00"))
    assert [s["role"] for s in applied["approval_chain"]] == ["reviewer", "approver", "director"]
    after_two = steps.approve_all(applied["release_id"])
    assert after_two["status"] == "submitted"
    assert after_two["next_step"]["role"] == "director"
    assert steps.pending() == []
    problem(steps.decide(applied["release_id"], "approver"), 403)
    done = steps.decide(applied["release_id"], "director").json()
    assert done["status"] == "approved"
    assert [s["role"] for s in done["steps"]] == ["reviewer", "approver", "director"]
    assert len(steps.pending()) == 1


def test_four_eyes(client, world, engine, site, steps):
    release_id = steps.applied(release_body(site["project_id"]))["release_id"]
    wrong = problem(steps.decide(release_id, "approver"), 403)
    assert "reviewer" in wrong["detail"]
    for who in ("inspector", "auditor", "admin"):
        problem(steps.decide(release_id, who), 403)
    for who in ("developer", "bank"):
        problem(steps.decide(release_id, who), 403)
    assert steps.decide(release_id, "reviewer").status_code == 201
    again = problem(steps.decide(release_id, "reviewer"), 403)
    assert "approver" in again["detail"]
    # the reviewer is promoted to approver: still one person, who may not take a second step
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name("reviewer").role = "approver"
        uow.commit()
    body = problem(steps.decide(release_id, "reviewer"), 422)
    assert body["rule"] == f"{BOOK} release.distinct_people"
    assert count(engine, ApprovalStep) == 1
    assert steps.decide(release_id, "approver").json()["status"] == "approved"


def test_a_rejection_needs_a_reason_and_ends_the_release(client, world, engine, site, steps):
    release_id = steps.applied(release_body(site["project_id"]))["release_id"]
    for comment in ("", "   "):
        body = problem(steps.decide(release_id, "reviewer", "reject", comment), 422)
        assert any(e["field"] == "comment" for e in body["errors"])
    r = steps.decide(release_id, "reviewer", "reject", "工资说明未盖章")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "rejected"
    assert r.json()["steps"][0]["comment"] == "工资说明未盖章"
    problem(steps.decide(release_id, "approver"), 409)
    problem(steps.decide(release_id + 99, "reviewer"), 404)
    assert count(engine, PaymentInstruction) == 0
    problem(steps.decide(release_id, "reviewer", "maybe", "x"), 422)


def test_the_cap_is_checked_again_at_every_approval(client, world, engine, site, steps):
    first = steps.applied(release_body(site["project_id"], amount="3000000.00"))["release_id"]
    second = steps.applied(release_body(site["project_id"], amount="3000000.00"))["release_id"]
    assert steps.decide(second, "reviewer").status_code == 201  # still fits: nothing approved yet
    steps.approve_all(first)
    body = problem(steps.decide(second, "approver"), 422)
    assert body["rule"] == "release_cap"
    assert body["cap"]["releasable"] == "2000000.00"
    pending_out = {t["term"]: t["value"] for t in body["cap"]["explanation"]["terms"]}["pending_out"]
    assert pending_out == "3000000.00"
    still = client.get(f"/api/v1/releases/{second}", headers=world.headers("approver")).json()
    assert still["status"] == "submitted" and len(still["steps"]) == 1
    assert count(engine, PaymentInstruction) == 1


def test_racing_final_approvals_never_exceed_the_cap(app, engine, site, steps):
    """Two releases that each fit but not together, approved at the same moment in two transactions: the
    account lock serialises them and the second sees the first's instruction."""
    ids = [
        steps.applied(release_body(site["project_id"], amount="3000000.00"))["release_id"] for _ in range(2)
    ]
    for i, release_id in enumerate(ids):
        assert steps.decide(release_id, "reviewer").status_code == 201, i
    ctx = app.state.runtime.ctx
    with UnitOfWork(engine, readonly=True) as uow:
        approver = uow.parties.user_by_name("approver")
    principal = Principal("user", approver.id, "approver", role="approver", user_id=approver.id)

    def approve(release_id: int) -> str:
        try:
            releases.decide(ctx, release_id, approvals.Decision("approve"), principal)
        except approvals.Refused as exc:
            return exc.rule
        return "approved"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(approve, ids))
    assert outcomes == ["approved", "release_cap"]
    assert count(engine, PaymentInstruction) == 1


# --- execution -------------------------------------------------------------------------------------------


def test_execution_is_refused_when_a_freeze_arrived_after_approval(client, world, engine, site, steps):
    release_id = steps.applied(release_body(site["project_id"], amount="3000000.00"))["release_id"]
    steps.approve_all(release_id)
    instruction_id = steps.pending()[0]["instruction_id"]
    r = client.post(
        "/api/v1/freezes",
        json={
            "account_no": site["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": "(2026)冀1102执1号",
            # the account keeps 9,000,000.00 once the instruction is paid; 9,500,000.00 frozen is more
            "amount": "9500000.00",
            "ordered_on": TODAY,
        },
        headers=world.headers("bank", "freeze"),
    )
    assert r.status_code == 201, r.text
    body = problem(steps.execute(instruction_id), 422)
    assert body["rule"] == "release_cap"
    assert len(invariants_hold(engine, site["account_no"])) == 1
    lifted = client.post(
        f"/api/v1/freezes/{r.json()['freeze_id']}/lift", headers=world.headers("bank", "lift")
    )
    assert lifted.status_code == 201, lifted.text
    assert steps.execute(instruction_id).status_code == 201


def test_instructions_are_for_banks_only(client, world, site):
    for who in ("developer", "reviewer"):
        problem(client.get("/api/v1/instructions", headers=world.headers(who)), 403)
    problem(client.get("/api/v1/instructions?status=sideways", headers=world.headers("bank")), 400)
    problem(client.get("/api/v1/instructions/1", headers=world.headers("bank")), 404)


def test_the_bureau_lists_releases_and_a_developer_only_its_own(client, world, site, steps):
    steps.applied(release_body(site["project_id"]))
    assert len(client.get("/api/v1/releases?status=submitted", headers=world.headers("reviewer")).json()) == 1
    assert len(client.get("/api/v1/releases", headers=world.headers("developer")).json()) == 1
    assert client.get("/api/v1/releases", headers=world.headers("other_developer")).json() == []
    assert client.get("/api/v1/releases?status=approved", headers=world.headers("reviewer")).json() == []
    problem(client.get("/api/v1/releases", headers=world.headers("bank")), 403)


def test_ids_that_cannot_exist_are_404_not_500(client, world, site, steps):
    huge = 2**40
    for url, who in (
        (f"/api/v1/releases/{huge}", "reviewer"),
        (f"/api/v1/refunds/{huge}", "reviewer"),
        (f"/api/v1/instructions/{huge}", "bank"),
        (f"/api/v1/freezes/{huge}", "bank"),
    ):
        problem(client.get(url, headers=world.headers(who)), 404)
    problem(steps.decide(huge, "reviewer"), 404)
    problem(steps.execute(huge), 404)
    body = problem(steps.apply(release_body(huge)), 422)
    assert any(e["field"] == "project_id" for e in body["errors"])
