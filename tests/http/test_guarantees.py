"""Bank guarantees (保函, CONTRACT §8) through the real app on both engines: registered only once the balance
(not the money ever deposited) has reached the key supervised amount, at most the rule book's share
together with the guarantees valid on the same days (hengshui@2026.1: of the required retention, the
national rule; hengshui@2024.1: of the key amount), counted in the cap until released or expired, an alert
30 days before valid_until, audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from escrow.app import build_context
from escrow.domain.principal import Principal
from escrow.services import alerts, guarantees, projects
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, Guarantee, SupervisedAccount
from tests.http.test_api_releases import count, problem
from tests.http.test_api_releases import fund as fund_at_2024
from tests.http.test_money_flows import fund, open_project

TODAY = date(2026, 12, 6)
BOOK = "hengshui@2026.1"
BUREAU = Principal(kind="user", id=1, name="admin", role="admin")


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def funded(client, world, flow) -> dict:
    """Key supervised amount 10,000,000.00 under hengshui@2026.1, 12,000,000.00 in the account, no node:
    the required retention is the whole key amount, so guarantees may stand in for 3,000,000.00."""
    project = open_project(client, world)
    fund(flow, "12000000.00")
    return project


def body(no: str = "BH-2026-001", amount: str = "2000000.00", **overrides) -> dict:
    data = {
        "guarantee_no": no,
        "issuer": "中国建设银行衡水分行",
        "amount": amount,
        "valid_from": "2026-12-01",
        "valid_until": "2027-12-31",
    }
    data.update(overrides)
    return data


def register(client, world, project_id: int, key: str | None = None, who: str = "admin", **fields):
    data = body(**fields)
    return client.post(
        f"/api/v1/projects/{project_id}/guarantees",
        json=data,
        headers=world.headers(who, key or f"g-{data['guarantee_no']}-{data['amount']}-{data['valid_until']}"),
    )


def release(client, world, guarantee_id: int, key: str | None = None, who: str = "admin"):
    return client.post(
        f"/api/v1/guarantees/{guarantee_id}/release",
        headers=world.headers(who, key or f"release-{guarantee_id}"),
    )


def retention_of(answer: dict) -> str:
    return answer["cap"]["explanation"]["required_retention"]


def test_a_guarantee_stands_in_for_part_of_the_retention(client, world, engine, funded):
    r = register(client, world, funded["project_id"])
    assert r.status_code == 201, r.text
    g = r.json()
    assert g["status"] == "active" and g["guarantee_id"] > 0
    assert (g["amount"], g["counted"], g["valid_until"]) == ("2000000.00", "2000000.00", "2027-12-31")
    # 10,000,000.00 retained before the first node, 2,000,000.00 of it by the guarantee
    assert retention_of(g) == "8000000.00"
    assert g["cap"]["releasable"] == "4000000.00"
    terms = {t["term"]: t for t in g["cap"]["explanation"]["terms"]}
    assert "less guarantee 2000000.00" in terms["required_retention"]["detail"]
    assert "guarantees BH-2026-001)" in terms["required_retention"]["detail"]
    project = client.get(f"/api/v1/projects/{funded['project_id']}", headers=world.headers("admin")).json()
    assert project["account"]["required_retention"] == "8000000.00"


def test_the_balance_not_the_money_deposited_must_reach_the_key_amount(client, world, engine, flow):
    project = open_project(client, world)
    r = register(client, world, project["project_id"], key="too-early")
    refused = problem(r, 422)
    assert refused["rule"] == f"{BOOK} guarantee.requires_full_amount"
    fund(flow, "10500000.00")  # deposited beyond the key amount …
    freeze = client.post(
        "/api/v1/freezes",
        json={
            "account_no": project["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": "(2026)冀1102执100号",
            "amount": "1000000.00",
            "ordered_on": "2026-12-06",
        },
        headers=world.headers("bank", "freeze-g"),
    ).json()
    r = client.post(
        f"/api/v1/freezes/{freeze['freeze_id']}/deduction",
        json={
            "amount": "1000000.00",
            "creditor_role": "construction",
            "bank_reference": "DED-G-1",
            "executed_on": "2026-12-06",
        },
        headers=world.headers("bank", "deduct-g"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["deduction"]["balance_after"] == "9500000.00"  # … but the balance is below it
    refused = problem(register(client, world, project["project_id"], key="after-deduction"), 422)
    assert refused["rule"] == f"{BOOK} guarantee.requires_full_amount"
    assert "9500000.00" in refused["detail"]
    assert count(engine, Guarantee) == 0


def test_the_share_is_of_all_guarantees_valid_on_the_same_days(client, world, engine, funded):
    pid = funded["project_id"]
    assert register(client, world, pid, no="BH-1", amount="2000000.00").status_code == 201
    refused = problem(register(client, world, pid, no="BH-2", amount="1000000.01"), 422)
    assert refused["rule"] == f"{BOOK} guarantee.max_share"
    assert refused["errors"] == [
        {
            "field": "amount",
            "message": "at most 1000000.00",
            "code": "at_most",
            "params": {"value": "1000000.00"},
        }
    ]
    assert count(engine, Guarantee) == 1
    # a guarantee for a later period that does not overlap the first is judged on its own days
    later = register(
        client, world, pid, no="BH-3", amount="3000000.00", valid_from="2028-01-01", valid_until="2028-12-31"
    )
    assert later.status_code == 201, later.text
    assert later.json()["counted"] == "0.00"  # not valid yet
    # a renewal overlapping the first by one day is judged on that day too
    overlap = register(
        client, world, pid, no="BH-4", amount="1500000.00", valid_from="2027-12-31", valid_until="2028-06-30"
    )
    assert problem(overlap, 422)["rule"] == f"{BOOK} guarantee.max_share"
    fits = register(client, world, pid, no="BH-2", amount="1000000.00")
    assert fits.status_code == 201, fits.text
    assert retention_of(fits.json()) == "7000000.00"  # 30% of 10,000,000.00 by guarantees, 70% in cash
    listed = client.get(f"/api/v1/projects/{pid}/guarantees", headers=world.headers("admin")).json()
    assert [(g["guarantee_no"], g["counted"]) for g in listed] == [
        ("BH-1", "2000000.00"),
        ("BH-3", "0.00"),
        ("BH-2", "1000000.00"),
    ]


def test_the_share_follows_the_required_retention_after_a_node(client, world, engine, funded):
    from tests.http.test_money_flows import confirm_half

    confirm_half(client, world, funded["project_id"])
    project = client.get(f"/api/v1/projects/{funded['project_id']}", headers=world.headers("admin")).json()
    gross = project["account"]["required_retention"]
    limit = (int(gross.replace(".", "")) * 30 // 100) / 100
    refused = problem(register(client, world, funded["project_id"], amount=f"{limit + 0.01:.2f}"), 422)
    assert refused["rule"] == f"{BOOK} guarantee.max_share"
    assert register(client, world, funded["project_id"], amount=f"{limit:.2f}").status_code == 201


def test_under_the_2024_book_the_share_is_of_the_key_amount(client, world, engine, project, flow):
    fund_at_2024(flow, "30000000.00")
    refused = problem(register(client, world, project["project_id"], amount="9000000.01"), 422)
    assert refused["rule"] == "hengshui@2024.1 guarantee.max_share"
    r = register(client, world, project["project_id"], amount="9000000.00")
    assert r.status_code == 201, r.text
    assert retention_of(r.json()) == "21000000.00"


def test_dates_closed_accounts_and_numbers_are_checked(client, world, engine, funded):
    pid = funded["project_id"]
    r = problem(register(client, world, pid, valid_from="2027-01-01", valid_until="2027-01-01"), 422)
    assert r["errors"][0]["field"] == "valid_until" and r["errors"][0]["code"] == "not_after_start"
    r = problem(register(client, world, pid, valid_from="2026-01-01", valid_until="2026-12-05"), 422)
    assert r["errors"][0]["field"] == "valid_until" and r["errors"][0]["code"] == "in_past"
    r = problem(register(client, world, pid, amount="0.00"), 422)
    assert problem(register(client, world, pid, no="BH\x01X"), 422)["errors"][0]["field"] == "guarantee_no"
    assert register(client, world, pid, no="BH-9").status_code == 201
    dup = register(client, world, pid, no="BH-9", amount="1.00", key="dup")
    assert problem(dup, 409)["detail"].startswith("guarantee BH-9 is already registered")
    assert problem(register(client, world, 999_999, key="nowhere"), 404)
    with UnitOfWork(engine) as uow:
        uow.session.get(SupervisedAccount, uow.projects.account_for(pid).id).status = "closed"
        uow.commit()
    assert problem(register(client, world, pid, no="BH-10", key="closed"), 422)["rule"] == "account_open"
    assert count(engine, Guarantee) == 1


def test_only_bureau_admins_register_and_release(client, world, funded):
    pid = funded["project_id"]
    assert register(client, world, pid, who="inspector", key="insp").status_code == 403
    assert register(client, world, pid, who="developer", key="dev").status_code == 403
    g = register(client, world, pid).json()
    assert release(client, world, g["guarantee_id"], who="reviewer").status_code == 403
    # the project's developer sees the list; another developer does not see the project
    assert (
        client.get(f"/api/v1/projects/{pid}/guarantees", headers=world.headers("developer")).status_code
        == 200
    )
    other = client.get(f"/api/v1/projects/{pid}/guarantees", headers=world.headers("other_developer"))
    assert other.status_code == 404


def test_a_released_guarantee_counts_no_more_and_is_audited(client, world, engine, funded):
    g = register(client, world, funded["project_id"]).json()
    r = release(client, world, g["guarantee_id"])
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["status"] == "released" and done["released_at"] and done["counted"] == "0.00"
    assert retention_of(done) == "10000000.00"
    assert problem(release(client, world, g["guarantee_id"], key="again"), 409)
    assert problem(release(client, world, 999_999, key="none"), 404)
    with UnitOfWork(engine, readonly=True) as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "guarantee").order_by(AuditEvent.id)
        ).all()
    assert actions == ["guarantee.registered", "guarantee.released"]


def test_an_expired_guarantee_stops_counting(client, world, engine, settings, funded):
    g = register(client, world, funded["project_id"], valid_until="2027-01-31").json()
    assert g["counted"] == "2000000.00"
    later = build_context(settings, engine, today=lambda: date(2027, 2, 1))
    seen = guarantees.overview(later, funded["project_id"])
    assert [(i.status, i.counted) for i in seen.items] == [("expired", 0)]
    cap = projects.get(later, funded["project_id"], BUREAU).account
    assert cap.required_retention == 10_000_000


def test_an_alert_warns_30_days_before_valid_until(client, world, engine, settings, funded):
    pid = funded["project_id"]
    soon = register(client, world, pid, no="BH-SOON", valid_until=str(TODAY + timedelta(days=30))).json()
    register(
        client, world, pid, no="BH-LATER", amount="500000.00", valid_until=str(TODAY + timedelta(days=31))
    )
    ctx = build_context(settings, engine, today=lambda: TODAY)
    alerts.run_sweep(ctx, datetime.now(UTC))
    found = alerts.listing(ctx, rule="guarantee_expiring")
    assert [(a.subject.type, a.subject.id, a.state, a.severity) for a in found] == [
        ("guarantee", str(soon["guarantee_id"]), "open", "warning")
    ]
    assert "BH-SOON" in found[0].message and "30 days left" in found[0].message
    over = client.get("/api/v1/alerts?state=open", headers=world.headers("admin")).json()
    assert any(a["rule"] == "guarantee_expiring" for a in over)
    release(client, world, soon["guarantee_id"])
    alerts.run_sweep(ctx, datetime.now(UTC))
    assert [a.state for a in alerts.listing(ctx, rule="guarantee_expiring")] == ["resolved"]


def test_a_repeated_request_registers_once(client, world, engine, funded):
    first = register(client, world, funded["project_id"], key="same")
    again = register(client, world, funded["project_id"], key="same")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert count(engine, Guarantee) == 1
