"""Key supervised amount changes (CONTRACT §8) through the real app on both engines: filed by a bureau admin,
approved along the rule book's `[supervised_amount_change]` chain through the shared approval workflow by two
distinct people (never the applicant), K changed only then, audited in the hash chain; rejected → unchanged;
refused where a pending release would be above its cap with the new amount, at filing and again at the last
approval; one open change per project."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from escrow.services import auditing
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, AuditEvent, Project
from tests.http.test_agreements import open_project
from tests.http.test_api_releases import problem
from tests.http.test_money_flows import FUND_USE

TODAY = date(2026, 12, 7)
BOOK = "hengshui@2026.2"


@pytest.fixture
def today() -> date:
    return TODAY


def fund(flow, amount: str) -> None:
    contract = flow.contract(contract_no="HT-K-1", unit="K-1", total_price=amount, signed_on="2026-12-07")
    notice = flow.notice(contract["contract_no"], amount, kind="full", due_on="2026-12-31")
    deposit = flow.deposit(
        account_no=notice["account_no"],
        bank_reference="FUND-K-1",
        amount=amount,
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=notice["notice_no"],
        kind="full",
        channel="transfer",
        value_date="2026-12-07",
    )
    assert deposit["status"] == "accepted", deposit


@pytest.fixture
def funded(client, world, flow) -> dict:
    """K 10,000,000.00 under hengshui@2026.2 with 12,000,000.00 received: 2,000,000.00 non-key."""
    project = open_project(client, world)
    assert project["rulebook"] == BOOK
    fund(flow, "12000000.00")
    return project


class Keys:
    def __init__(self):
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"k-{self.n}"


@pytest.fixture
def key() -> Keys:
    return Keys()


def file(client, world, key, project_id: int, amount: str, who: str = "admin", reason: str = "施工合同变更"):
    return client.post(
        f"/api/v1/projects/{project_id}/supervised-amount",
        json={"amount": amount, "reason": reason},
        headers=world.headers(who, key()),
    )


def decide(client, world, key, change_id: int, who: str, decision: str = "approve", comment: str = ""):
    return client.post(
        f"/api/v1/supervised-amount-changes/{change_id}/decisions",
        json={"decision": decision, "comment": comment},
        headers=world.headers(who, key()),
    )


def set_role(engine, username: str, role: str) -> None:
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name(username).role = role
        uow.commit()


def supervised_fen(engine, project_id: int) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.get(Project, project_id).supervised_amount_fen


def non_key_release(client, world, key, project_id: int, amount: str) -> dict:
    body = {
        "project_id": project_id,
        "kind": "non_key",
        "amount": amount,
        "purpose": "项目营销及管理费用",
        "payees": [
            {
                "name": "衡水安居置业有限公司",
                "account_no": "1300009999000011112222",
                "bank_name": "中国农业银行衡水分行",
                "role": "developer",
                "amount": amount,
            }
        ],
        "documents": [FUND_USE],
    }
    r = client.post("/api/v1/releases", json=body, headers=world.headers("developer", key()))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_change_is_approved_in_two_steps_by_two_people(client, world, engine, funded, key):
    pid = funded["project_id"]
    r = file(client, world, key, pid, "11000000.00")
    assert r.status_code == 201, r.text
    change = r.json()
    assert (change["status"], change["from"], change["to"]) == ("submitted", "10000000.00", "11000000.00")
    assert change["cap"]["before"]["caps"]["non_key"]["releasable"] == "2000000.00"
    assert change["cap"]["after"]["caps"]["non_key"]["releasable"] == "1000000.00"
    assert change["cap"]["after"]["explanation"]["required_retention"] == "11000000.00"
    assert [(s["step_no"], s["role"]) for s in change["approval_chain"]] == [(1, "reviewer"), (2, "approver")]
    assert change["applied_by"] == "admin" and change["rulebook"] == BOOK
    assert supervised_fen(engine, pid) == 10_000_000_00  # not before it is approved

    first = decide(client, world, key, change["change_id"], "reviewer")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "submitted" and first.json()["next_step"]["role"] == "approver"
    assert supervised_fen(engine, pid) == 10_000_000_00
    second = decide(client, world, key, change["change_id"], "approver", comment="同意")
    assert second.status_code == 201, second.text
    done = second.json()
    assert done["status"] == "approved" and done["supervised_amount"] == "11000000.00"
    assert [(s["decided_by"], s["decision"]) for s in done["steps"]] == [
        ("reviewer", "approve"),
        ("approver", "approve"),
    ]
    assert supervised_fen(engine, pid) == 11_000_000_00
    project = client.get(f"/api/v1/projects/{pid}", headers=world.headers("admin")).json()
    assert project["supervised_amount"] == "11000000.00"
    assert project["account"]["non_key_releasable"] == "1000000.00"
    got = client.get(
        f"/api/v1/supervised-amount-changes/{change['change_id']}", headers=world.headers("auditor")
    )
    assert got.status_code == 200 and got.json() == done
    assert client.get(
        f"/api/v1/supervised-amount-changes/{change['change_id']}", headers=world.headers("developer")
    ).status_code in (403, 404)
    with UnitOfWork(engine, readonly=True) as uow:
        actions = list(
            uow.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("%supervised_amount%"))
                .order_by(AuditEvent.id)
            )
        )
        steps = uow.session.scalars(
            select(ApprovalStep).where(ApprovalStep.supervised_amount_change_id == change["change_id"])
        ).all()
    assert actions == [
        "supervised_amount_change.submitted",
        "supervised_amount_change.step_approved",
        "project.supervised_amount_changed",  # the last approval's effect, then its step and the outcome
        "supervised_amount_change.step_approved",
        "supervised_amount_change.approved",
    ]
    assert [s.step_no for s in steps] == [1, 2]
    assert auditing.verify(engine).ok


def test_a_rejected_change_leaves_k_unchanged(client, world, engine, funded, key):
    pid = funded["project_id"]
    change = file(client, world, key, pid, "9000000.00").json()
    no_reason = problem(decide(client, world, key, change["change_id"], "reviewer", "reject"), 422)
    assert no_reason["rule"] == "rejection_comment"
    r = decide(client, world, key, change["change_id"], "reviewer", "reject", "合同未变更")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "rejected"
    assert supervised_fen(engine, pid) == 10_000_000_00
    assert problem(decide(client, world, key, change["change_id"], "approver"), 409)
    # once decided, another change may be filed
    assert file(client, world, key, pid, "9500000.00").status_code == 201


def test_four_eyes_and_who_may_file(client, world, engine, funded, key):
    pid = funded["project_id"]
    assert problem(file(client, world, key, pid, "11000000.00", who="reviewer"), 403)
    assert file(client, world, key, pid, "11000000.00", who="developer").status_code in (403, 404)
    assert problem(file(client, world, key, 999, "11000000.00"), 404)
    change = file(client, world, key, pid, "11000000.00").json()
    assert problem(file(client, world, key, pid, "12000000.00"), 409)["rule"] == (
        "supervised_amount_change.one_open_per_project"
    )
    cid = change["change_id"]
    assert problem(decide(client, world, key, cid, "approver"), 403)  # step 1 is the reviewer's
    assert problem(decide(client, world, key, cid, "admin"), 403)  # the applicant (and no step is an admin's)
    assert decide(client, world, key, cid, "reviewer").status_code == 201
    assert problem(decide(client, world, key, cid, "reviewer"), 403)  # step 2 needs the approver
    assert supervised_fen(engine, pid) == 10_000_000_00


def test_the_same_person_never_takes_two_steps_nor_the_applicant_one(client, world, engine, funded, key):
    pid = funded["project_id"]
    cid = file(client, world, key, pid, "11000000.00").json()["change_id"]
    set_role(engine, "admin", "reviewer")  # the applicant, were it a reviewer now, still may not decide
    body = problem(decide(client, world, key, cid, "admin"), 422)
    assert body["rule"] == f"{BOOK} release.distinct_people" and "applied for" in body["detail"]
    set_role(engine, "admin", "admin")
    assert decide(client, world, key, cid, "reviewer").status_code == 201
    set_role(engine, "reviewer", "approver")  # one person takes at most one step
    body = problem(decide(client, world, key, cid, "reviewer"), 422)
    assert body["rule"] == f"{BOOK} release.distinct_people" and "already took" in body["detail"]
    assert supervised_fen(engine, pid) == 10_000_000_00
    r = decide(client, world, key, cid, "approver")
    assert r.status_code == 201 and r.json()["status"] == "approved"


def test_a_pending_release_above_the_new_cap_refuses_the_change_at_filing(client, world, engine, funded, key):
    pid = funded["project_id"]
    release = non_key_release(client, world, key, pid, "1500000.00")
    refused = problem(file(client, world, key, pid, "11000000.00"), 422)
    assert refused["rule"] == "supervised_amount_change.pending_release_cap"
    assert f"release {release['release_id']}" in refused["detail"]
    assert refused["cap"]["releasable"] == "1000000.00"
    assert file(client, world, key, pid, "10400000.00").status_code == 201  # 1,600,000.00 left: fits
    assert supervised_fen(engine, pid) == 10_000_000_00


def test_an_approved_unpaid_release_counts_too(client, world, engine, funded, key):
    pid = funded["project_id"]
    release = non_key_release(client, world, key, pid, "1500000.00")
    for who in ("reviewer", "approver"):
        r = client.post(
            f"/api/v1/releases/{release['release_id']}/decisions",
            json={"decision": "approve", "comment": ""},
            headers=world.headers(who, key()),
        )
        assert r.status_code == 201, r.text
    assert r.json()["status"] == "approved"
    refused = problem(file(client, world, key, pid, "11000000.00"), 422)
    assert refused["rule"] == "supervised_amount_change.pending_release_cap"
    assert file(client, world, key, pid, "10500000.00").status_code == 201


def test_a_release_submitted_in_between_refuses_the_last_approval(client, world, engine, funded, key):
    pid = funded["project_id"]
    change = file(client, world, key, pid, "10800000.00").json()
    assert decide(client, world, key, change["change_id"], "reviewer").status_code == 201
    non_key_release(client, world, key, pid, "1500000.00")  # within today's cap of 2,000,000.00
    refused = problem(decide(client, world, key, change["change_id"], "approver"), 422)
    assert refused["rule"] == "supervised_amount_change.pending_release_cap"
    assert "at step 2" in refused["detail"]
    assert supervised_fen(engine, pid) == 10_000_000_00
    seen = client.get(
        f"/api/v1/supervised-amount-changes/{change['change_id']}", headers=world.headers("admin")
    )
    assert seen.json()["status"] == "submitted" and len(seen.json()["steps"]) == 1


def test_bad_amounts_are_refused(client, world, engine, funded, key):
    pid = funded["project_id"]
    assert problem(file(client, world, key, pid, "10000000.00"), 422)["rule"] == (
        "supervised_amount_change.amount_unchanged"
    )
    assert problem(file(client, world, key, pid, "0.00"), 422)
    assert problem(file(client, world, key, pid, "12.345"), 422)
    r = client.post(
        f"/api/v1/projects/{pid}/supervised-amount",
        json={"amount": 11000000, "reason": "x"},
        headers=world.headers("admin", key()),
    )
    assert problem(r, 422)
    assert problem(file(client, world, key, pid, "11000000.00", reason=""), 422)
