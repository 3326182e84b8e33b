"""The fund demand plan (资金需求计划, CONTRACT §8) through the real app on both engines: filed by the
developer, decided by two bureau people along hengshui@2026.2's `[fund_plan]` chain, revised (a later
version supersedes the approved one), one submitted at a time; a node release shows plan against actual,
goes beyond it only with a stated reason and then takes the book's extra director step; an older book asks
no reason without a plan."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from escrow.catalog import gettext_for
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, FundPlan, Release
from tests.conftest import project_body
from tests.http.test_api_releases import HALF_EVIDENCE, count, problem, release_body
from tests.http.test_api_releases import steps as steps_fixture

TODAY = "2026-12-20"
BOOK = "hengshui@2026.2"
steps = steps_fixture


@pytest.fixture
def today() -> date:
    return date(2026, 12, 20)


def open_site(client, world, flow, *, permit_date: str = "2026-12-08", n: int = 1) -> dict:
    """Key supervised amount 10,000,000.00, 12,000,000.00 received, half of the main structure confirmed:
    releasable 5,000,000.00."""
    body = project_body(
        supervised_amount="10000000.00",
        permit_date=permit_date,
        opened_on="2026-12-09",
        permit_no=f"衡预售2026-{n:03d}",
        account_no=f"62220000111122{n:02d}",
    )
    r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{n}"))
    assert r.status_code == 201, r.text
    project = r.json()
    contract = flow.contract(
        permit_no=body["permit_no"],
        contract_no=f"HT-P-{n}",
        unit=f"P-{n}",
        total_price="12000000.00",
        signed_on="2026-12-10",
    )
    notice = flow.notice(contract["contract_no"], "12000000.00", kind="full", due_on="2026-12-31")
    deposit = flow.deposit(
        account_no=notice["account_no"],
        bank_reference=f"FUND-P-{n}",
        amount="12000000.00",
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=notice["notice_no"],
        kind="full",
        channel="transfer",
        value_date=TODAY,
    )
    assert deposit["status"] == "accepted", deposit
    r = client.post(
        f"/api/v1/projects/{project['project_id']}/nodes/half_structure/confirmation",
        json={"reached_on": "2026-12-15", "evidence": HALF_EVIDENCE},
        headers=world.headers("inspector", f"confirm-{n}"),
    )
    assert r.status_code == 201, r.text
    return project


@pytest.fixture
def site(client, world, flow) -> dict:
    project = open_site(client, world, flow)
    assert project["rulebook"] == BOOK
    return project


ITEMS = [
    {"node_code": "half_structure", "month": "2026-12", "role": "construction", "amount": "2000000.00"},
    {"node_code": "half_structure", "month": "2026-12", "role": "materials", "amount": "1000000.00"},
    {"node_code": "topped_out", "month": "2027-03", "role": "construction", "amount": "3000000.00"},
]


class Plans:
    def __init__(self, client, world):
        self.client, self.world, self.n = client, world, 0

    def key(self) -> str:
        self.n += 1
        return f"plan-{self.n}"

    def file(self, project_id: int, items=None, note: str = "第一版", who: str = "developer"):
        return self.client.post(
            f"/api/v1/projects/{project_id}/fund-plan",
            json={"items": ITEMS if items is None else items, "note": note},
            headers=self.world.headers(who, self.key()),
        )

    def filed(self, project_id: int, items=None) -> dict:
        r = self.file(project_id, items)
        assert r.status_code == 201, r.text
        return r.json()

    def decide(self, plan_id: int, who: str, decision: str = "approve", comment: str = ""):
        return self.client.post(
            f"/api/v1/fund-plans/{plan_id}/decisions",
            json={"decision": decision, "comment": comment},
            headers=self.world.headers(who, self.key()),
        )

    def approved(self, project_id: int, items=None) -> dict:
        plan = self.filed(project_id, items)
        for role in ("reviewer", "approver"):
            r = self.decide(plan["plan_id"], role)
            assert r.status_code == 201, r.text
        assert r.json()["status"] == "approved"
        return r.json()

    def in_force(self, project_id: int, who: str = "developer"):
        return self.client.get(f"/api/v1/projects/{project_id}/fund-plan", headers=self.world.headers(who))


@pytest.fixture
def plans(client, world) -> Plans:
    return Plans(client, world)


def test_a_plan_is_filed_approved_by_two_people_and_shown(client, world, engine, site, plans):
    project_id = site["project_id"]
    filed = plans.filed(project_id)
    assert (filed["version"], filed["status"]) == (1, "submitted")
    assert filed["plan_id"] > 0 and filed["rulebook"] == BOOK
    assert [s["role"] for s in filed["approval_chain"]] == ["reviewer", "approver"]
    assert filed["planned_total"] == "6000000.00"
    problem(plans.in_force(project_id), 404)  # nothing approved yet
    reviewed = plans.decide(filed["plan_id"], "reviewer")
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["next_step"]["role"] == "approver"
    # the same person never takes two steps; the approver's step needs the approver's role
    body = problem(plans.decide(filed["plan_id"], "reviewer"), 403)
    assert body["rule"].endswith("approval_chain")
    approved = plans.decide(filed["plan_id"], "approver")
    assert approved.status_code == 201, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decided_at"]
    shown = plans.in_force(project_id)
    assert shown.status_code == 200, shown.text
    plan = shown.json()
    assert plan["plan_id"] == filed["plan_id"] and plan["version"] == 1
    assert [(i["node_code"], i["month"], i["role"], i["amount"], i["drawn"]) for i in plan["items"]] == [
        ("half_structure", "2026-12", "construction", "2000000.00", "0.00"),
        ("half_structure", "2026-12", "materials", "1000000.00", "0.00"),
        ("topped_out", "2027-03", "construction", "3000000.00", "0.00"),
    ]
    assert [s["decided_by"] for s in plan["steps"]] == ["reviewer", "approver"]
    assert plans.in_force(project_id, who="admin").status_code == 200  # the bureau sees it too
    # another developer's key: no such project
    problem(plans.in_force(project_id, who="other_developer"), 404)
    problem(plans.file(project_id, who="other_developer"), 404)
    problem(plans.file(project_id, who="admin"), 403)
    problem(plans.decide(filed["plan_id"], "developer"), 403)
    with UnitOfWork(engine, readonly=True) as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "fund_plan").order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "fund_plan.submitted",
        "fund_plan.step_approved",
        "fund_plan.step_approved",
        "fund_plan.approved",
    ]


def test_a_revision_supersedes_the_approved_plan_and_one_is_submitted_at_a_time(
    client, world, engine, site, plans
):
    project_id = site["project_id"]
    first = plans.approved(project_id)
    revised = [dict(ITEMS[0], amount="2500000.00"), *ITEMS[1:]]
    second = plans.filed(project_id, revised)
    assert (second["version"], second["status"]) == (2, "submitted")
    body = problem(plans.file(project_id, ITEMS), 409)  # version 2 still waits
    assert body["rule"] == "fund_plan.one_submitted"
    assert plans.in_force(project_id).json()["version"] == 1  # until v2 is approved, v1 is in force
    # a rejection changes nothing and must say why
    problem(plans.decide(second["plan_id"], "reviewer", "reject"), 422)
    r = plans.decide(second["plan_id"], "reviewer", "reject", comment="金额与合同不符")
    assert r.status_code == 201 and r.json()["status"] == "rejected"
    assert plans.in_force(project_id).json()["version"] == 1
    third = plans.approved(project_id, revised)
    assert third["version"] == 3
    shown = plans.in_force(project_id).json()
    assert shown["version"] == 3 and shown["items"][0]["amount"] == "2500000.00"
    assert (
        client.get(f"/api/v1/fund-plans/{first['plan_id']}", headers=world.headers("developer")).json()[
            "status"
        ]
        == "superseded"
    )
    versions = client.get(
        f"/api/v1/projects/{project_id}/fund-plan/versions", headers=world.headers("reviewer")
    ).json()
    assert [(v["version"], v["status"]) for v in versions] == [
        (3, "approved"),
        (2, "rejected"),
        (1, "superseded"),
    ]
    with UnitOfWork(engine, readonly=True) as uow:
        assert [p.status for p in uow.fund_plans.of_project(project_id)] == [
            "approved",
            "rejected",
            "superseded",
        ]


@pytest.mark.parametrize(
    ("item", "field", "code"),
    [
        ({"node_code": "roof_garden"}, "items[0].node_code", "not_a_node"),
        ({"role": "developer"}, "items[0].role", "one_of"),
        ({"building": "1#"}, "items[0].building", "not_by_building"),
    ],
)
def test_items_are_checked_against_the_rule_book(client, world, engine, site, plans, item, field, code):
    r = plans.file(site["project_id"], [dict(ITEMS[0], **item)])
    body = problem(r, 422)
    assert body["rule"] == f"{BOOK} fund_plan.items"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert count(engine, FundPlan) == 0  # nothing half-saved


def test_bad_months_amounts_and_twice_listed_items_are_refused(client, world, engine, site, plans):
    for item, field in (
        ({"month": "2027-13"}, "items.0.month"),
        ({"month": "202703"}, "items.0.month"),
        ({"amount": "0.00"}, "items.0.amount"),
        ({"amount": "-5.00"}, "items.0.amount"),
        ({"amount": "12.345"}, "items.0.amount"),
    ):
        body = problem(plans.file(site["project_id"], [dict(ITEMS[0], **item)]), 422)
        fields = [e["field"] for e in body["errors"]]
        assert any(f.replace("[", ".").replace("]", "").endswith(field.split(".", 1)[1]) for f in fields), (
            body
        )
    body = problem(plans.file(site["project_id"], [ITEMS[0], dict(ITEMS[0], amount="1.00")]), 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("items[1]", "duplicate_plan_item")]
    problem(plans.file(site["project_id"], []), 422)
    assert count(engine, FundPlan) == 0


def test_a_release_within_the_plan_needs_no_reason_and_draws_against_it(
    client, world, engine, site, plans, steps
):
    project_id = site["project_id"]
    plans.approved(project_id)
    applied = steps.applied(
        release_body(project_id, "2400000.00")
    )  # 1,600,000 construction, 800,000 materials
    assert applied["plan"]["beyond_plan"] is False
    assert (applied["plan"]["planned"], applied["plan"]["drawn"]) == ("3000000.00", "0.00")
    assert applied["beyond_plan_reason"] is None
    assert [s["role"] for s in applied["approval_chain"]] == ["reviewer", "approver"]
    steps.approve_all(applied["release_id"])
    shown = plans.in_force(project_id).json()
    drawn = {(i["node_code"], i["role"], i["month"]): i["drawn"] for i in shown["items"]}
    assert drawn == {
        ("half_structure", "construction", "2026-12"): "1600000.00",
        ("half_structure", "materials", "2026-12"): "800000.00",
        ("topped_out", "construction", "2027-03"): "0.00",
    }
    assert shown["drawn_total"] == "2400000.00"
    cells = {(c["node_code"], c["role"]): (c["planned"], c["drawn"]) for c in shown["table"]}
    assert cells[("half_structure", "construction")] == ("2000000.00", "1600000.00")
    # the next release sees what was drawn: 400,000 + 200,000 more is still within the plan …
    within = steps.applied(release_body(project_id, "600000.00"))
    assert within["plan"]["drawn"] == "2400000.00" and within["plan"]["beyond_plan"] is False
    # … and so is a second one while the first is only submitted: a release draws once approved
    second = steps.apply(release_body(project_id, "600000.00"))
    assert second.status_code == 201 and second.json()["plan"]["drawn"] == "2400000.00"
    r = client.get(f"/api/v1/releases/{second.json()['release_id']}", headers=world.headers("reviewer"))
    assert r.json()["plan"]["beyond_plan"] is False
    # once the first is approved, what it drew counts: 2,000,000 + 400,000 more construction is beyond
    steps.approve_all(within["release_id"])
    body = problem(steps.apply(release_body(project_id, "600000.00")), 422)
    assert body["plan"]["drawn"] == "3000000.00" and body["plan"]["beyond_plan"] is True


def test_a_release_beyond_the_plan_needs_a_reason_and_the_directors_step(
    client, world, engine, site, plans, steps
):
    project_id = site["project_id"]
    plans.approved(project_id)
    before = count(engine, Release)
    body = problem(steps.apply(release_body(project_id, "3600000.00")), 422)  # 2,400,000 construction
    assert body["rule"] == f"{BOOK} fund_plan.beyond_plan_reason"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("beyond_plan_reason", "beyond_plan_reason")]
    assert body["plan"]["planned"] == "3000000.00" and body["plan"]["beyond_plan"] is True
    assert count(engine, Release) == before
    reason = "主体结构提前完成，需提前支付材料款"
    applied = steps.applied(release_body(project_id, "3600000.00", beyond_plan_reason=reason))
    assert applied["plan"]["beyond_plan"] is True and applied["beyond_plan_reason"] == reason
    roles = {r["role"]: r["beyond_plan"] for r in applied["plan"]["roles"]}
    assert roles == {"construction": True, "materials": True}
    assert [s["role"] for s in applied["approval_chain"]] == ["reviewer", "approver", "director"]
    assert applied["approval_chain"][2]["label_en"] == "Director's approval (beyond the plan)"
    done = steps.approve_all(applied["release_id"], roles=("reviewer", "approver", "director"))
    assert done["status"] == "approved" and done["instruction"]["status"] == "pending"
    shown = client.get(f"/api/v1/releases/{applied['release_id']}", headers=world.headers("developer")).json()
    assert shown["beyond_plan_reason"] == reason and shown["plan"]["beyond_plan"] is True
    from tests.http.test_reports import flat, pdf_text

    form = client.get(f"/api/v1/releases/{applied['release_id']}/pdf", headers=world.headers("developer"))
    assert form.status_code == 200, form.text
    squeezed = flat(pdf_text(form.content))
    assert "超计划理由" + reason in squeezed and "（超计划）" in squeezed
    assert "局领导审批（超计划拨付）" in squeezed  # the extra step is on the form too


def test_without_an_approved_plan_every_node_release_is_beyond_it(client, world, engine, site, plans, steps):
    project_id = site["project_id"]
    plans.filed(project_id)  # submitted, not approved: not in force
    body = problem(steps.apply(release_body(project_id, "1000000.00")), 422)
    assert body["rule"] == f"{BOOK} fund_plan.beyond_plan_reason"
    applied = steps.applied(release_body(project_id, "1000000.00", beyond_plan_reason="计划尚在审批"))
    assert applied["plan"]["plan_id"] is None and applied["plan"]["beyond_plan"] is True
    assert [s["role"] for s in applied["approval_chain"]] == ["reviewer", "approver", "director"]


def test_an_older_rule_book_asks_no_reason_without_a_plan_and_adds_no_step(
    client, world, engine, flow, plans, steps
):
    project = open_site(client, world, flow, permit_date="2026-12-01", n=2)
    assert project["rulebook"] == "hengshui@2026.1"
    project_id = project["project_id"]
    applied = steps.applied(release_body(project_id, "1000000.00"))
    assert applied["plan"]["beyond_plan"] is True and applied["beyond_plan_reason"] is None
    assert [s["role"] for s in applied["approval_chain"]] == ["reviewer", "approver"]
    steps.approve_all(applied["release_id"])
    # a plan filed anyway is approved along the base chain; a release beyond it then needs the reason
    plan = plans.approved(project_id)
    assert [s["role"] for s in plan["approval_chain"]] == ["reviewer", "approver"]
    body = problem(steps.apply(release_body(project_id, "3600000.00")), 422)
    assert body["rule"] == "hengshui@2026.1 fund_plan.beyond_plan_reason"
    applied = steps.applied(release_body(project_id, "3600000.00", beyond_plan_reason="赶工"))
    assert [s["role"] for s in applied["approval_chain"]] == ["reviewer", "approver"]


def test_a_non_key_release_is_not_judged_against_the_plan(client, world, engine, site, plans, steps):
    from tests.http.test_money_flows import non_key_body

    applied = steps.applied(non_key_body(site["project_id"], "1000000.00"))
    assert applied["plan"] is None and applied["beyond_plan_reason"] is None


def test_alerts_speak_when_drawings_run_ahead_and_construction_behind(
    client, world, engine, settings, site, plans, steps
):
    from datetime import UTC, datetime

    from escrow.app import build_context
    from escrow.services import alerts

    project_id = site["project_id"]
    plans.approved(project_id)

    def sweep(on: date, rule: str) -> list:
        ctx = build_context(settings, engine, today=lambda: on)
        alerts.run_sweep(ctx, datetime.now(UTC))
        return [a for a in alerts.listing(ctx, rule=rule) if a.state != "resolved"]

    assert sweep(date(2026, 12, 20), "fund_plan_ahead") == []
    # 3,600,000 drawn in December against 3,000,000 planned to date: more than 10% ahead
    applied = steps.applied(release_body(project_id, "3600000.00", beyond_plan_reason="提前施工"))
    steps.approve_all(applied["release_id"], roles=("reviewer", "approver", "director"))
    [ahead] = sweep(date(2026, 12, 20), "fund_plan_ahead")
    assert (ahead.subject.type, ahead.subject.id, ahead.severity) == ("project", str(project_id), "warning")
    assert "3600000.00" in ahead.message and "3000000.00" in ahead.message and "10%" in ahead.message
    assert f"{BOOK} fund_plan.ahead_tolerance" in ahead.message
    # in March the plan to date holds 6,000,000: no longer ahead, the alert is resolved by the sweep
    assert sweep(date(2027, 3, 1), "fund_plan_ahead") == []
    # topped_out is planned for March 2027: behind once 30 days after 31 March have passed
    assert sweep(date(2027, 4, 30), "fund_plan_behind") == []
    [behind] = sweep(date(2027, 5, 1), "fund_plan_behind")
    assert behind.subject.id == f"{project_id}:topped_out" and "2027-03" in behind.message
    assert f"{BOOK} fund_plan.behind_days" in behind.message


def test_the_monthly_report_shows_plan_against_actual(client, world, engine, app, site, plans, steps):
    from escrow import reports
    from tests.http.test_reports import flat, pdf_text

    project_id = site["project_id"]
    plans.approved(project_id)
    applied = steps.applied(release_body(project_id, "2400000.00"))
    steps.approve_all(applied["release_id"])
    with UnitOfWork(engine, readonly=True) as uow:
        _, content = reports.render(
            "monthly", uow, app.state.runtime.ctx, account_no=site["account_no"], year=2026, month=12
        )
    squeezed = flat(pdf_text(content))
    assert "资金需求计划执行情况（第1版）" in squeezed
    # half_structure × construction: 2,000,000 planned through December, 1,600,000 drawn, all of it this month
    role = gettext_for("zh")("Construction contractor")
    assert f"主体结构完成二分之一{role}¥2,000,000.00¥1,600,000.00¥1,600,000.00" in squeezed
    assert "¥1,000,000.00¥800,000.00¥800,000.00" in squeezed  # materials
    assert "合计¥3,000,000.00¥2,400,000.00" in squeezed  # topped_out is planned for March: not yet
