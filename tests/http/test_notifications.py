"""Notifications through the real app on both engines: each of the three events (a case reaching a step, a
developer's application decided, an alert raised) tells exactly the right users, in the event's own
transaction (a rolled-back event leaves none); the inbox, its unread badge, opening and marking read, and
another user's notification answering 404."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from escrow.app import build_context
from escrow.domain import notifications as kinds
from escrow.domain.approvals import Decision
from escrow.domain.principal import SYSTEM, Principal
from escrow.services import approvals, parties, releases
from escrow.store.db import UnitOfWork
from escrow.store.models import Notification, User
from tests.http.test_alerts import NOW
from tests.http.test_alerts import sweep as sweep
from tests.http.test_api_releases import confirm, fund, release_body
from tests.web import csrf_token, post_form

TODAY = "2026-11-22"


def told(engine) -> dict[str, list[tuple[str, str, int]]]:
    """username → [(kind, subject_type, subject_id)] of every notification, oldest first."""
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.execute(
            select(User.username, Notification)
            .join(User, User.id == Notification.user_id)
            .order_by(Notification.id)
        )
        out: dict[str, list[tuple[str, str, int]]] = {}
        for username, n in rows:
            out.setdefault(username, []).append((n.kind, n.subject_type, n.subject_id))
        return out


def params_of(engine, username: str) -> list[dict]:
    with UnitOfWork(engine, readonly=True) as uow:
        user = uow.parties.user_by_name(username)
        return [n.params for n in uow.notifications.newest(user.id, 0, 100)]


def post(client, world, path: str, who: str, key: str, body: dict | None = None) -> dict:
    r = client.post(path, json=body, headers=world.headers(who, key))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def site(client, world, users, engine) -> dict:
    """A funded project with its half-structure node confirmed; a second reviewer, and a reviewer whose
    account is disabled (never told anything)."""
    from tests.conftest import project_body

    project = post(
        client, world, "/api/v1/projects", "admin", "n-open", project_body(supervised_amount="10000000.00")
    )
    with UnitOfWork(engine) as uow:
        parties.create_user(uow, username="reviewer2", role="reviewer", password=None, actor=SYSTEM)
        gone = parties.create_user(
            uow, username="reviewer-gone", role="reviewer", password=None, actor=SYSTEM
        )
        gone.active = False
        uow.commit()
    return project


@pytest.fixture
def funded(client, world, flow, site) -> dict:
    fund(flow, "12000000.00")
    confirm(client, world, site["project_id"])
    return site


def apply(client, world, project_id: int, key: str = "n-r1") -> dict:
    return post(client, world, "/api/v1/releases", "developer", key, release_body(project_id))


def decide(client, world, release_id: int, who: str, decision: str = "approve", kind: str = "releases"):
    body = {"decision": decision, "comment": "不符合要求" if decision == "reject" else ""}
    return post(client, world, f"/api/v1/{kind}/{release_id}/decisions", who, f"n-{who}-{release_id}", body)


# --- (a) a case reaches a step, (b) an application is decided ---------------------------------------------


def test_a_release_tells_each_step_its_users_then_the_developer_its_decision(client, world, engine, funded):
    release = apply(client, world, funded["project_id"])
    rid = release["release_id"]
    step1 = (kinds.CASE_AT_STEP, "release", rid)
    # every active reviewer (the first step's role), nobody else: not the disabled one, no other role
    assert told(engine) == {"reviewer": [step1], "reviewer2": [step1]}
    (said,) = params_of(engine, "reviewer")
    assert said["step_no"] == 1 and said["role"] == "reviewer" and said["amount"] == "3000000.00"
    assert said["project"] == "桃城·安居花园一期" and said["step_zh"] and said["step_en"]

    decide(client, world, rid, "reviewer")
    step2 = (kinds.CASE_AT_STEP, "release", rid)
    assert told(engine) == {"reviewer": [step1], "reviewer2": [step1], "approver": [step2]}

    decide(client, world, rid, "approver")
    after = told(engine)
    # the developer's own staff are told of the decision; the other developer's are not
    assert after["dev-staff"] == [(kinds.CASE_DECIDED, "release", rid)]
    assert "other-dev-staff" not in after
    assert set(after) == {"reviewer", "reviewer2", "approver", "dev-staff"}
    assert params_of(engine, "dev-staff")[0]["status"] == "approved"


def test_a_rejection_is_told_to_the_developer_and_ends_the_steps(client, world, engine, funded):
    rid = apply(client, world, funded["project_id"])["release_id"]
    decide(client, world, rid, "reviewer", "reject")
    after = told(engine)
    assert after["dev-staff"] == [(kinds.CASE_DECIDED, "release", rid)]
    assert params_of(engine, "dev-staff")[0]["status"] == "rejected"
    assert "approver" not in after  # no next step once rejected


def test_a_refund_reaches_its_first_step(client, world, engine, flow, site):
    fund(flow, "500000.00")
    refund = post(
        client, world, "/api/v1/contracts/HT-F-1/cancellation", "developer", "n-cancel", {"reason": "退房"}
    )
    step1 = (kinds.CASE_AT_STEP, "refund", refund["refund_id"])
    assert told(engine) == {"reviewer": [step1], "reviewer2": [step1]}
    decide(client, world, refund["refund_id"], "reviewer", "reject", kind="refunds")
    assert told(engine)["dev-staff"] == [(kinds.CASE_DECIDED, "refund", refund["refund_id"])]


@pytest.mark.parametrize("today", [date(2026, 12, 7)])  # the day test_amount_changes' project lives in
def test_a_key_amount_change_tells_each_step_and_no_developer(client, world, engine, flow, users):
    from tests.http.test_amount_changes import fund as fund_k
    from tests.http.test_amount_changes import open_project as open_k

    pid = open_k(client, world)["project_id"]
    fund_k(flow, "12000000.00")
    change = post(
        client,
        world,
        f"/api/v1/projects/{pid}/supervised-amount",
        "admin",
        "n-k",
        {"amount": "11000000.00", "reason": "施工合同变更"},
    )
    cid = change["change_id"]
    at_step = (kinds.CASE_AT_STEP, "supervised_amount_change", cid)
    assert told(engine) == {"reviewer": [at_step]}
    decide(client, world, cid, "reviewer", kind="supervised-amount-changes")
    assert told(engine) == {"reviewer": [at_step], "approver": [at_step]}
    decide(client, world, cid, "approver", kind="supervised-amount-changes")
    assert told(engine) == {
        "reviewer": [at_step],
        "approver": [at_step],
    }  # a bureau application: no developer


# --- in the event's transaction -----------------------------------------------------------------------------


def test_a_rolled_back_decision_leaves_no_notification(client, world, engine, funded, settings, today):
    rid = apply(client, world, funded["project_id"])["release_id"]
    before = told(engine)
    ctx = build_context(settings, engine, lambda: today)
    with UnitOfWork(engine, readonly=True) as uow:
        reviewer = uow.parties.user_by_name("reviewer")
    actor = Principal("user", reviewer.id, "reviewer", role="reviewer", user_id=reviewer.id)
    with UnitOfWork(engine) as uow:
        approvals.decide(uow, ctx, releases.FLOW, rid, Decision("approve"), actor)
        approver = uow.parties.user_by_name("approver")
        assert uow.notifications.unread_count(approver.id) == 1  # written in the decision's transaction
        uow.rollback()  # … which does not commit
    assert told(engine) == before
    assert "approver" not in told(engine)


def test_a_refused_application_tells_nobody(client, world, engine, funded):
    r = client.post(
        "/api/v1/releases",
        json=release_body(funded["project_id"], amount="9000000.00"),  # above the cap
        headers=world.headers("developer", "n-too-much"),
    )
    assert r.status_code == 422, r.text
    assert told(engine) == {}


# --- (c) an alert raised ----------------------------------------------------------------------------------


def test_an_alert_tells_its_roles_users_and_is_not_told_again(client, world, engine, flow, site, sweep):
    deposit = {"account_no": site["account_no"], "payer_name": "李娜", "channel": "transfer"}
    flow.deposit(bank_reference="S-OLD", amount="5000.00", value_date="2026-11-10", **deposit)
    raised = sweep()
    (alert,) = raised["suspense_overdue"]  # a reviewer's rule, not about the developer's doings
    after = told(engine)
    mine = [(k, t, i) for k, t, i in after["reviewer"] if i == alert.id]
    assert mine == [(kinds.ALERT_RAISED, "alert", alert.id)]
    assert [x for x in after.get("reviewer2", []) if x[2] == alert.id] == mine
    for username in ("approver", "admin", "dev-staff", "other-dev-staff", "reviewer-gone"):
        assert all(x[2] != alert.id for x in after.get(username, [])), username
    with UnitOfWork(engine, readonly=True) as uow:
        said = uow.session.scalar(select(Notification.params).where(Notification.subject_id == alert.id))
    assert said == {
        "rule": "suspense_overdue",
        "severity": "warning",
        "project_id": site["project_id"],
        "project": "桃城·安居花园一期",
    }
    sweep(NOW + timedelta(minutes=15))  # the condition persists: the same alert, nobody told twice
    assert told(engine) == after


def test_an_alert_about_the_developer_tells_its_staff_too(client, world, engine, flow, funded, sweep):
    apply(client, world, funded["project_id"])
    post(
        client,
        world,
        "/api/v1/freezes",
        "bank",
        "n-freeze",
        {
            "account_no": funded["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": "(2026)冀1102执7号",
            "amount": "100.00",
            "ordered_on": TODAY,
        },
    )
    (alert,) = sweep()["frozen_with_pending_releases"]
    about = [(kinds.ALERT_RAISED, "alert", alert.id)]
    after = told(engine)
    assert after["approver"][-1:] == about  # the rule's bureau role
    assert after["dev-staff"] == about  # the developer whose account it is
    assert "other-dev-staff" not in after


# --- the inbox --------------------------------------------------------------------------------------------


def test_the_inbox_lists_counts_opens_and_marks_read(client, world, engine, funded, web):
    rid = apply(client, world, funded["project_id"])["release_id"]
    reviewer = web("reviewer")
    page = reviewer.get("/releases")
    assert page.status_code == 200
    assert 'class="badge unread-count"' in page.text and ">1</span>" in page.text  # the header's badge

    inbox = reviewer.get("/inbox")
    assert inbox.status_code == 200
    assert 'href="/inbox/' in inbox.text and "等待您办理" in inbox.text and "拨付申请 #" in inbox.text
    assert 'class="unread"' in inbox.text
    english = reviewer.get("/inbox?lang=en")
    assert f"Release #{rid} of 桃城·安居花园一期 is waiting for your step" in english.text

    with UnitOfWork(engine, readonly=True) as uow:
        uid = uow.parties.user_by_name("reviewer").id
        (n,) = uow.notifications.newest(uid, 0, 10)
    opened = reviewer.get(f"/inbox/{n.id}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/releases/{rid}"
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.notifications.unread_count(uid) == 0
    assert 'class="badge unread-count"' not in reviewer.get("/inbox").text

    # developer staff read theirs in the portal's words and links
    decide(client, world, rid, "reviewer", "reject")
    staff = web("dev-staff")
    assert 'class="badge unread-count"' in staff.get("/developer").text
    with UnitOfWork(engine, readonly=True) as uow:
        (mine,) = uow.notifications.newest(uow.parties.user_by_name("dev-staff").id, 0, 10)
    there = staff.get(f"/inbox/{mine.id}", follow_redirects=False)
    assert there.headers["location"] == f"/developer/releases/{rid}"


def test_mark_all_read_needs_the_form_token_and_is_audited(client, world, engine, funded, web):
    apply(client, world, funded["project_id"])
    reviewer = web("reviewer")
    refused = reviewer.post("/inbox/read", data={}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token: nothing changes
    with UnitOfWork(engine, readonly=True) as uow:
        uid = uow.parties.user_by_name("reviewer").id
        assert uow.notifications.unread_count(uid) == 1
    r = post_form(reviewer, "/inbox/read")
    assert r.status_code == 303 and r.headers["location"] == "/inbox?done=inbox_read"
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.notifications.unread_count(uid) == 0
        assert uow.notifications.unread_count(uow.parties.user_by_name("reviewer2").id) == 1  # not theirs
    assert "全部消息已标为已读" in reviewer.get("/inbox?done=inbox_read").text
    from escrow.store.models import AuditEvent

    with UnitOfWork(engine, readonly=True) as uow:
        actions = uow.session.scalars(select(AuditEvent.action).where(AuditEvent.actor == f"user:{uid}"))
        assert "notification.read_all" in list(actions)


def test_another_users_notification_is_not_found(client, world, engine, funded, web):
    apply(client, world, funded["project_id"])
    with UnitOfWork(engine, readonly=True) as uow:
        theirs = uow.notifications.newest(uow.parties.user_by_name("reviewer2").id, 0, 10)[0]
    for who in ("reviewer", "approver", "dev-staff"):
        r = web(who).get(f"/inbox/{theirs.id}", follow_redirects=False)
        assert r.status_code == 404, who
    for missing in (999_999, 0, 2**63):
        assert web("reviewer").get(f"/inbox/{missing}", follow_redirects=False).status_code == 404
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.notifications.unread_count(uow.parties.user_by_name("reviewer2").id) == 1


def test_the_inbox_pages_newest_first(client, world, engine, users, web):
    with UnitOfWork(engine) as uow:
        uid = uow.parties.user_by_name("auditor").id
        uow.notifications.add_many(
            [
                {
                    "user_id": uid,
                    "kind": kinds.ALERT_RAISED,
                    "subject_type": "alert",
                    "subject_id": i,
                    "params": {"rule": "notice_overdue", "project": f"项目{i:02d}"},
                }
                for i in range(1, 26)
            ]
        )
        uow.commit()
    auditor = web("auditor")
    first = auditor.get("/inbox").text
    assert first.index("项目25") < first.index("项目24") and "项目05" not in first
    assert 'rel="next"' in first and "1 / 2" in first
    second = auditor.get("/inbox?page=2").text
    assert "项目05" in second and "项目01" in second and "项目25" not in second
    assert csrf_token(auditor)
