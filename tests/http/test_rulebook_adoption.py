"""Policy reaches live projects only by adoption: the what-if applies a version's key-amount formula, and the
bureau adopts a later version for chosen projects with four eyes (services/adoptions.py), audited, each
past decision keeping the version that made it.

The app loads the two Hengshui test versions (tests/fixtures/rules) plus 2025.2 (tests/fixtures/adoption:
the retention of 2025.1, cost per m² 3000.00 instead of 2600.00, credit grade A 0.95 instead of 0.90) and a
second jurisdiction, "cangzhou", a copy of Hengshui 2024.1 under another name."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from escrow.config import Settings
from escrow.rulebooks import load_dir
from escrow.services import whatif
from escrow.services.context import Context
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    ApprovalStep,
    AuditEvent,
    Developer,
    Project,
    Release,
    RulebookAdoption,
    RulebookAdoptionProject,
    RulebookRecord,
)
from tests.conftest import OTHER_DEVELOPER_CODE, project_body
from tests.http.test_api_releases import confirm, fund, problem, release_body
from tests.web import csrf_token

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
AREA = Decimal("12000.50")  # project_body's pre-sale area


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rules" / "hengshui", rules / "hengshui")
    shutil.copy(FIXTURES / "adoption" / "hengshui-2025.2.toml", rules / "hengshui" / "2025.2.toml")
    (rules / "cangzhou").mkdir()
    text = (FIXTURES / "rules" / "hengshui" / "2024.1.toml").read_text(encoding="utf-8")
    (rules / "cangzhou" / "2024.1.toml").write_text(
        text.replace('jurisdiction = "hengshui"', 'jurisdiction = "cangzhou"'), encoding="utf-8"
    )
    return rules


@pytest.fixture
def settings(db_url: str, rules_dir: Path) -> Settings:
    return Settings.from_env({"ESCROW_DATABASE_URL": db_url, "ESCROW_RULES_DIR": str(rules_dir)})


@pytest.fixture
def ctx(settings: Settings, engine, today) -> Context:
    return Context(
        settings=settings, rulebooks=load_dir(settings.rules_dir), today=lambda: today, engine=engine
    )


class Opener:
    def __init__(self, client, world):
        self.client, self.world, self.n = client, world, 0

    def __call__(self, permit_date: str = "2025-03-01", **overrides) -> dict:
        self.n += 1
        body = project_body(
            name=f"项目{self.n}",
            permit_no=f"衡预售2025-{self.n:03d}",
            permit_date=permit_date,
            account_no=f"62220000111100{self.n:02d}",
            opened_on=permit_date,
            **overrides,
        )
        r = self.client.post(
            "/api/v1/projects", json=body, headers=self.world.headers("admin", f"o-{self.n}")
        )
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture
def open_project(client, world) -> Opener:
    return Opener(client, world)


def adopt(
    client, world, project_ids, rulebook="hengshui@2025.2", who="admin", key="adopt-1", reason="新办法施行"
):
    body = {"rulebook": rulebook, "project_ids": project_ids, "reason": reason}
    return client.post("/api/v1/rulebook-adoptions", json=body, headers=world.headers(who, key))


def decide(client, world, adoption_id, who, decision="approve", comment="", key=None):
    return client.post(
        f"/api/v1/rulebook-adoptions/{adoption_id}/decisions",
        json={"decision": decision, "comment": comment},
        headers=world.headers(who, key or f"d-{adoption_id}-{who}-{decision}"),
    )


def rulebook_of(client, world, project_id: int) -> str:
    r = client.get(f"/api/v1/projects/{project_id}", headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    return r.json()["rulebook"]


def actions(engine, subject_type: str | None = None) -> list[str]:
    with UnitOfWork(engine, readonly=True) as uow:
        stmt = select(AuditEvent.action).order_by(AuditEvent.id)
        if subject_type:
            stmt = stmt.where(AuditEvent.subject_type == subject_type)
        return list(uow.session.scalars(stmt))


def count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def add_user(engine, username: str, role: str) -> str:
    from escrow.domain.principal import SYSTEM
    from escrow.services import parties

    with UnitOfWork(engine) as uow:
        parties.create_user(uow, username=username, role=role, password=None, actor=SYSTEM)
        key = parties.create_api_key(uow, username=username, actor=SYSTEM).plaintext
        uow.commit()
    return key


# --- the what-if applies changed key-amount parameters ------------------------------------------------------


def test_the_what_if_uses_the_key_amount_the_other_versions_formula_gives(ctx, open_project, engine):
    grade_b = open_project()  # K set at opening: 30,000,000.00; developer grade B (factor 1.00)
    grade_a = open_project(developer_credit_code=OTHER_DEVELOPER_CODE)
    with UnitOfWork(engine) as uow:
        uow.session.scalars(
            select(Developer).where(Developer.credit_code == OTHER_DEVELOPER_CODE)
        ).one().credit_grade = "A"
        uow.commit()

    rows = {r.project_id: r for r in whatif.live(ctx, ctx.rulebooks.get("hengshui@2025.2")).rows}
    b, a = rows[grade_b["project_id"]], rows[grade_a["project_id"]]
    assert b.supervised_now == a.supervised_now == Decimal("30000000.00")
    assert b.supervised_then == Decimal("3000.00") * AREA == Decimal("36001500.00")
    assert a.supervised_then == Decimal("34201425.00")  # 3000.00 × 12000.50 × 1.00 × 0.95
    # before the first node the whole key amount is retained: the "then" retention follows the new K
    assert (b.retention_now, b.retention_then) == (Decimal("30000000.00"), Decimal("36001500.00"))
    assert b.supervised_delta == Decimal("6001500.00")

    same_formula = whatif.live(ctx, ctx.rulebooks.get("hengshui@2025.1")).rows
    assert all(r.supervised_then == r.supervised_now for r in same_formula)  # unchanged formula: own K

    found = whatif.differences_between(ctx.rulebook("hengshui@2024.1"), ctx.rulebook("hengshui@2025.2"))
    kinds = {(d.kind, d.subject): (d.before, d.after) for d in found}
    assert kinds[("credit_grade_factor", "A")] == (Decimal("0.90"), Decimal("0.95"))
    assert ("supervised_amount", "") in kinds
    assert ("credit_grade_factor", "B") not in kinds


def test_the_what_if_page_shows_both_key_amounts_and_offers_the_adoption(web, open_project):
    project = open_project()
    page = web("admin").get("/rules/what-if?jurisdiction=hengshui&version=2025.2&lang=en")
    assert page.status_code == 200, page.text
    assert "30,000,000.00" in page.text and "36,001,500.00" in page.text
    assert "cost per m² ¥2,600.00" in page.text and "¥3,000.00" in page.text
    assert f'name="project_id" value="{project["project_id"]}"' in page.text
    assert 'action="/rules/adoptions"' in page.text
    zh = web("admin").get("/rules/what-if?jurisdiction=hengshui&version=2025.2&lang=zh")
    assert "采用" in zh.text and "重点监管资金" in zh.text
    # a reviewer or an auditor sees the what-if but applies for nothing
    for who in ("reviewer", "auditor"):
        seen = web(who).get("/rules/what-if?jurisdiction=hengshui&version=2025.2")
        assert seen.status_code == 200 and 'action="/rules/adoptions"' not in seen.text


# --- adoption: four eyes, audited, the key amount kept ------------------------------------------------------


def test_an_adoption_takes_effect_on_the_last_of_two_approvals_and_keeps_the_key_amount(
    client, world, open_project, engine
):
    first, second, untouched = open_project(), open_project(), open_project()
    r = adopt(client, world, [first["project_id"], second["project_id"]])
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["status"] == "submitted" and view["rulebook"] == "hengshui@2025.2"
    assert view["supervised_amount"] == "kept" and view["applied_by"] == "admin"
    assert [s["role"] for s in view["approval_chain"]] == ["reviewer", "approver"]
    assert [p["from_rulebook"] for p in view["projects"]] == ["hengshui@2024.1", "hengshui@2024.1"]
    adoption_id = view["adoption_id"]
    assert rulebook_of(client, world, first["project_id"]) == "hengshui@2024.1"  # nothing before approval

    r = decide(client, world, adoption_id, "reviewer")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "submitted" and r.json()["next_step"]["role"] == "approver"
    assert rulebook_of(client, world, first["project_id"]) == "hengshui@2024.1"
    r = decide(client, world, adoption_id, "approver")
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["status"] == "approved" and done["next_step"] is None
    assert [s["decided_by"] for s in done["steps"]] == ["reviewer", "approver"]

    for p in (first, second):
        got = client.get(f"/api/v1/projects/{p['project_id']}", headers=world.headers("admin")).json()
        assert got["rulebook"] == "hengshui@2025.2"
        assert got["supervised_amount"] == "30000000.00"  # K kept, not the new formula's 36,001,500.00
        assert got["account"]["cap"]["explanation"]["rulebook"] == "hengshui@2025.2"
    assert rulebook_of(client, world, untouched["project_id"]) == "hengshui@2024.1"

    assert [a for a in actions(engine, "adoption")] == [
        "adoption.submitted",
        "adoption.step_approved",
        "adoption.step_approved",
        "adoption.approved",
    ]
    assert actions(engine, "project").count("project.rulebook_adopted") == 2
    with UnitOfWork(engine, readonly=True) as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "project.rulebook_adopted").order_by(AuditEvent.id)
        ).first()
        assert event.details["adoption_id"] == adoption_id and event.details["supervised_amount_kept"] is True
        steps = uow.session.scalars(select(ApprovalStep).where(ApprovalStep.adoption_id == adoption_id)).all()
        assert [(s.step_no, s.role, s.account_id, s.rulebook_id) for s in steps] == [
            (1, "reviewer", None, "hengshui@2025.2"),
            (2, "approver", None, "hengshui@2025.2"),
        ]
        # the adopted version is now published: its hash is recorded like a version pinned at opening
        assert uow.session.scalar(
            select(RulebookRecord.rulebook_id).where(RulebookRecord.rulebook_id == "hengshui@2025.2")
        )

    r = decide(client, world, adoption_id, "approver", key="again")
    assert problem(r, 409)


def test_a_rejection_ends_the_adoption_and_changes_no_project(client, world, open_project, engine):
    p = open_project()
    adoption_id = adopt(client, world, [p["project_id"]]).json()["adoption_id"]
    r = decide(client, world, adoption_id, "reviewer", "reject")
    assert "comment" in str(problem(r, 422)["errors"])
    r = decide(client, world, adoption_id, "reviewer", "reject", comment="先做测算", key="rej")
    assert r.status_code == 201 and r.json()["status"] == "rejected"
    assert rulebook_of(client, world, p["project_id"]) == "hengshui@2024.1"
    assert actions(engine, "adoption")[-1] == "adoption.rejected"
    assert "project.rulebook_adopted" not in actions(engine)
    # rejected: the project may be chosen again
    assert adopt(client, world, [p["project_id"]], key="again").status_code == 201


def set_role(engine, username: str, role: str) -> None:
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name(username).role = role
        uow.commit()


def test_four_eyes_the_applicant_never_decides_and_each_step_needs_its_role(
    client, world, open_project, engine
):
    world.keys["reviewer2"] = add_user(engine, "reviewer2", "reviewer")
    p = open_project()
    r = adopt(client, world, [p["project_id"]])
    assert r.status_code == 201, r.text
    adoption_id = r.json()["adoption_id"]

    # the admin who applied holds no role of the chain; were it a reviewer now, it still could not decide
    assert problem(decide(client, world, adoption_id, "admin"), 403)
    set_role(engine, "admin", "reviewer")
    body = problem(decide(client, world, adoption_id, "admin", key="as-reviewer"), 422)
    assert body["rule"] == "hengshui@2025.2 release.distinct_people" and "applied for" in body["detail"]
    set_role(engine, "admin", "admin")
    assert problem(decide(client, world, adoption_id, "approver"), 403)["rule"].endswith(
        "release.approval_chain"
    )
    assert problem(decide(client, world, adoption_id, "inspector"), 403)
    assert problem(decide(client, world, adoption_id, "bank"), 403)
    assert count(engine, ApprovalStep) == 0

    assert decide(client, world, adoption_id, "reviewer2").status_code == 201
    assert problem(decide(client, world, adoption_id, "reviewer2", key="twice"), 403)  # step 2: approver
    set_role(engine, "reviewer2", "approver")  # one person takes at most one step
    body = problem(decide(client, world, adoption_id, "reviewer2", key="as-approver"), 422)
    assert body["rule"] == "hengshui@2025.2 release.distinct_people" and "already took" in body["detail"]
    r = decide(client, world, adoption_id, "approver")
    assert r.status_code == 201 and r.json()["status"] == "approved"
    assert rulebook_of(client, world, p["project_id"]) == "hengshui@2025.2"


def test_who_may_apply_for_an_adoption(client, world, open_project, engine):
    p = open_project()
    for who in ("reviewer", "approver", "director", "inspector", "auditor", "bank", "developer"):
        assert problem(adopt(client, world, [p["project_id"]], who=who, key=f"k-{who}"), 403)
    assert count(engine, RulebookAdoption) == 0


# --- refusals: 422 naming the rule, nothing kept ------------------------------------------------------------


def test_refusals_name_the_rule_and_keep_nothing(client, world, open_project, engine):
    old = open_project()  # 2024.1
    newer = open_project("2025-08-01")  # pinned to 2025.1 by its permit date
    closed = open_project()
    other = open_project(jurisdiction="cangzhou")
    with UnitOfWork(engine) as uow:
        uow.projects.account_by_no(closed["account_no"]).status = "closed"
        uow.commit()
    assert other["rulebook"] == "cangzhou@2024.1" and newer["rulebook"] == "hengshui@2025.1"

    cases = [
        ([newer["project_id"]], "hengshui@2025.1", "adoption.already_on_version"),
        ([newer["project_id"]], "hengshui@2024.1", "adoption.later_version_only"),
        ([closed["project_id"]], "hengshui@2025.2", "adoption.live_projects_only"),
        ([other["project_id"]], "hengshui@2025.2", "adoption.same_jurisdiction"),
        ([old["project_id"], 999999], "hengshui@2025.2", "adoption.no_such_project"),
        ([old["project_id"]], "hengshui@2099.1", "adoption.rulebook"),
    ]
    for n, (ids, book, rule) in enumerate(cases):
        body = problem(adopt(client, world, ids, rulebook=book, key=f"bad-{n}"), 422)
        assert body["rule"] == rule, body
        assert body["errors"], body
    # one bad project among good ones refuses the whole adoption, naming that project's place in the list
    body = problem(adopt(client, world, [old["project_id"], closed["project_id"]], key="mixed"), 422)
    assert body["rule"] == "adoption.live_projects_only"
    assert [e["field"] for e in body["errors"]] == ["project_ids[1]"]
    # malformed bodies
    assert problem(adopt(client, world, [], key="empty"), 422)
    assert problem(adopt(client, world, [old["project_id"]], reason="", key="noreason"), 422)
    r = client.post(
        "/api/v1/rulebook-adoptions",
        json={"rulebook": "hengshui@2025.2", "project_ids": ["x"], "reason": "r"},
        headers=world.headers("admin", "junk"),
    )
    assert problem(r, 422)

    assert count(engine, RulebookAdoption) == 0 and count(engine, RulebookAdoptionProject) == 0
    assert not [a for a in actions(engine) if a.startswith("adoption.")]
    assert rulebook_of(client, world, old["project_id"]) == "hengshui@2024.1"


def test_a_project_is_in_one_open_adoption_at_a_time_and_the_last_approval_checks_again(
    client, world, open_project, engine
):
    p, q = open_project(), open_project()
    first = adopt(client, world, [p["project_id"], q["project_id"]]).json()["adoption_id"]
    body = problem(adopt(client, world, [q["project_id"]], rulebook="hengshui@2025.1", key="2nd"), 422)
    assert body["rule"] == "adoption.one_open_adoption_per_project"

    assert decide(client, world, first, "reviewer").status_code == 201
    with UnitOfWork(engine) as uow:  # the account is closed while the adoption waits
        uow.projects.account_by_no(q["account_no"]).status = "closed"
        uow.commit()
    body = problem(decide(client, world, first, "approver"), 422)
    assert body["rule"] == "adoption.live_projects_only" and body["project_id"] == q["project_id"]
    assert rulebook_of(client, world, p["project_id"]) == "hengshui@2024.1"  # nothing kept
    assert count(engine, ApprovalStep) == 1


# --- past decisions keep their version ----------------------------------------------------------------------


def test_past_decisions_keep_the_version_that_made_them(client, world, flow, engine):
    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open-site"),
    )
    project = r.json()
    fund(flow, "12000000.00")
    confirm(client, world, project["project_id"])
    r = client.post(
        "/api/v1/releases",
        json=release_body(project["project_id"]),
        headers=world.headers("developer", "rel-1"),
    )
    assert r.status_code == 201, r.text
    release = r.json()
    for who in ("reviewer", "approver"):
        r = client.post(
            f"/api/v1/releases/{release['release_id']}/decisions",
            json={"decision": "approve", "comment": ""},
            headers=world.headers(who, f"rel-{who}"),
        )
        assert r.status_code == 201, r.text
    before = client.get(f"/api/v1/releases/{release['release_id']}", headers=world.headers("admin")).json()
    assert before["status"] == "approved" and before["rulebook"] == "hengshui@2024.1"

    adoption_id = adopt(client, world, [project["project_id"]]).json()["adoption_id"]
    for who in ("reviewer", "approver"):
        assert decide(client, world, adoption_id, who).status_code == 201
    assert rulebook_of(client, world, project["project_id"]) == "hengshui@2025.2"

    after = client.get(f"/api/v1/releases/{release['release_id']}", headers=world.headers("admin")).json()
    assert after["rulebook"] == "hengshui@2024.1"
    assert [s["rulebook"] for s in after["steps"]] == ["hengshui@2024.1", "hengshui@2024.1"]
    assert after["cap"] == before["cap"]
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.get(Release, release["release_id"]).rulebook_id == "hengshui@2024.1"
        assert {c.rulebook_id for c in uow.projects.confirmed_nodes(project["project_id"])} == {
            "hengshui@2024.1"
        }
        assert uow.session.get(Project, project["project_id"]).rulebook_id == "hengshui@2025.2"
    # a new release is judged under the adopted version (lower retention: 60% at half structure)
    acct = client.get(f"/api/v1/accounts/{project['account_no']}", headers=world.headers("bank")).json()
    assert acct["rulebook"] == "hengshui@2025.2"
    assert acct["required_retention"] == "6000000.00"


# --- the pages: review in zh_CN and en, the project's version and history --------------------------------


def test_the_review_page_lets_the_next_person_decide_and_the_project_page_shows_the_history(
    client, world, web, open_project
):
    p = open_project()
    what_if = web("admin").get("/rules/what-if?jurisdiction=hengshui&version=2025.2")
    token = csrf_token(web("admin"))
    r = web("admin").post(
        "/rules/adoptions",
        data={
            "rulebook": "hengshui@2025.2",
            "project_id": [str(p["project_id"])],
            "reason": "新办法施行",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert what_if.status_code == 200
    assert r.status_code in (302, 303), r.text
    location = r.headers["location"]
    assert location.startswith("/rules/adoptions/")
    adoption_id = int(location.split("/")[-1].split("?")[0])

    zh = web("reviewer").get(f"/rules/adoptions/{adoption_id}?lang=zh")
    assert zh.status_code == 200 and 'href="/rules/hengshui/2025.2"' in zh.text and "初审" in zh.text
    assert f'action="/rules/adoptions/{adoption_id}/decision"' in zh.text
    en = web("approver").get(f"/rules/adoptions/{adoption_id}?lang=en")
    assert "Waiting for" in en.text and "key supervised amount" in en.text.lower()
    applicant = web("admin").get(f"/rules/adoptions/{adoption_id}?lang=en")
    assert 'name="decision"' not in applicant.text

    token = csrf_token(web("reviewer"))
    r = web("reviewer").post(
        f"/rules/adoptions/{adoption_id}/decision",
        data={"decision": "approve", "comment": "", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text
    token = csrf_token(web("approver"))
    r = web("approver").post(
        f"/rules/adoptions/{adoption_id}/decision",
        data={"decision": "approve", "comment": "同意", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text
    assert rulebook_of(client, world, p["project_id"]) == "hengshui@2025.2"

    page = web("reviewer").get(f"/projects/{p['project_id']}?lang=en")
    assert page.status_code == 200
    # both versions, in words, linking to their pages
    assert 'href="/rules/hengshui/2025.2"' in page.text and 'href="/rules/hengshui/2024.1"' in page.text
    assert f"/rules/adoptions/{adoption_id}" in page.text
    zh_page = web("reviewer").get(f"/projects/{p['project_id']}?lang=zh")
    assert "规则版本采用" in zh_page.text
