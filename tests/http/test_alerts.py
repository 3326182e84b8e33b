"""Alert rules against real books: each rule opens one alert per subject, resolves it when its condition
clears and reopens it when the condition returns; the bureau lists, acknowledges and resolves alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from escrow.app import build_context
from escrow.jobs import tasks
from escrow.services import alerts
from escrow.store.db import UnitOfWork
from escrow.store.models import Alert, AuditEvent, JobRun, PaymentInstruction, RateLimitBucket
from tests.conftest import project_body
from tests.http.test_api_releases import TODAY, confirm, fund, release_body

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the `today` fixture's day


@pytest.fixture
def sweep(engine, settings):
    """Run the alert-sweep job as the scheduler would, at `now`; return the alerts by rule."""

    def run(now: datetime = NOW) -> dict[str, list[Alert]]:
        ctx = build_context(settings, engine, lambda: now.date())
        assert tasks.run(tasks.BY_ID["alert-sweep"], engine, ctx, now=now) == "done"
        return current(engine)

    return run


def current(engine, state: str | None = None) -> dict[str, list[Alert]]:
    with UnitOfWork(engine, readonly=True) as uow:
        stmt = select(Alert).order_by(Alert.id)
        if state:
            stmt = stmt.where(Alert.state == state)
        out: dict[str, list[Alert]] = {}
        for a in uow.session.scalars(stmt):
            out.setdefault(a.rule, []).append(a)
        return out


def _open(engine) -> dict[str, list[Alert]]:
    return {rule: [a for a in found if a.state != "resolved"] for rule, found in current(engine).items()}


@pytest.fixture
def site(client, world) -> dict:
    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "a-open"),
    )
    assert r.status_code == 201, r.text
    confirmed = client.post(  # the bank confirmed the tri-party agreement (else agreement_unconfirmed)
        f"/api/v1/accounts/{r.json()['account_no']}/confirmation",
        json={"agreement_no": "衡监协(2025)第001号", "opened_on": "2025-03-05"},
        headers=world.headers("bank", "a-agreement"),
    )
    assert confirmed.status_code == 200, confirmed.text
    return r.json()


def _post(client, world, url: str, who: str, key: str, body: dict | None = None, expect: int = 201):
    r = client.post(url, json=body, headers=world.headers(who, key))
    assert r.status_code == expect, r.text
    return r.json()


# --- the rules ---------------------------------------------------------------------------------------------


def test_a_clean_account_raises_nothing_and_a_second_run_of_a_period_does_nothing(
    engine, settings, site, sweep
):
    assert sweep() == {}
    ctx = build_context(settings, engine, lambda: NOW.date())
    assert tasks.run(tasks.BY_ID["alert-sweep"], engine, ctx, now=NOW + timedelta(minutes=5)) == "skipped"
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(func.count(JobRun.id))) == 1


def test_unknown_notice_and_overdue_suspense(flow, site, sweep):
    deposit = {"account_no": site["account_no"], "payer_name": "李娜", "channel": "transfer"}
    flow.deposit(
        bank_reference="S-OLD",
        amount="5000.00",
        value_date="2026-11-10",
        notice_no="TZ000000000000999",
        **deposit,
    )
    flow.deposit(bank_reference="S-NEW", amount="100.00", value_date=TODAY, **deposit)
    found = sweep()
    assert [a.subject_id for a in found["deposit_unknown_notice"]] == ["1", "2"]
    assert "no such payment notice" in found["deposit_unknown_notice"][0].message
    assert "no payment notice number was given" in found["deposit_unknown_notice"][1].message
    (overdue,) = found["suspense_overdue"]  # 12 days > 5; the new one is not overdue
    assert overdue.subject_type == "deposit" and overdue.subject_id == "1"
    assert overdue.severity == "warning" and overdue.owner_role == "reviewer" and overdue.state == "open"
    assert "12 days (limit 5 days, hengshui@2024.1 limits.suspense_max_days)" in overdue.message
    assert overdue.link == f"/projects/{site['project_id']}"
    # the same conditions an hour later: the same alerts, no new ones
    again = sweep(NOW + timedelta(hours=1))
    assert [a.id for a in again["suspense_overdue"]] == [overdue.id]
    assert sum(len(v) for v in again.values()) == 3


def test_an_overdue_notice_is_resolved_when_paid_and_reopened_when_the_payment_is_reversed(
    client, world, flow, site, sweep, engine
):
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], "20000.00", due_on="2026-10-01")
    (alert,) = sweep()["notice_overdue"]
    assert alert.subject_id == notice["notice_no"] and alert.severity == "info"
    assert "unpaid 52 days later (limit 15" in alert.message
    fields = {
        "account_no": site["account_no"],
        "bank_reference": "PAY-N1",
        "amount": "20000.00",
        "payer_name": "张伟",
        "notice_no": notice["notice_no"],
        "channel": "transfer",
        "value_date": TODAY,
    }
    assert flow.deposit(**fields)["status"] == "accepted"
    resolved = sweep(NOW + timedelta(minutes=15))["notice_overdue"]
    assert [(a.id, a.state) for a in resolved] == [(alert.id, "resolved")]
    _post(client, world, "/api/v1/deposits/PAY-N1/reversal", "bank", "rev", {"reason": "wrong"})
    reopened = sweep(NOW + timedelta(minutes=30))["notice_overdue"]
    assert [(a.id, a.state, a.resolved_at) for a in reopened] == [(alert.id, "open", None)]
    with UnitOfWork(engine, readonly=True) as uow:
        actions = list(
            uow.session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.subject_type == "alert", AuditEvent.subject_id == str(alert.id)
                )
            )
        )
    assert actions == ["alert.opened", "alert.resolved", "alert.reopened"]


def test_retention_breach_after_a_court_deduction(client, world, flow, site, sweep):
    fund(flow, "12000000.00")
    confirm(client, world, site["project_id"])  # retention 7,000,000.00
    assert "retention_breach" not in sweep()
    freeze = _post(
        client,
        world,
        "/api/v1/freezes",
        "bank",
        "f1",
        {
            "account_no": site["account_no"],
            "authority": "衡水市中级人民法院",
            "order_no": "(2026)冀11执3号",
            "amount": "6000000.00",
            "ordered_on": TODAY,
        },
    )
    _post(
        client,
        world,
        f"/api/v1/freezes/{freeze['freeze_id']}/deduction",
        "bank",
        "d1",
        {
            "amount": "6000000.00",
            "creditor_role": "construction",
            "bank_reference": "DED-1",
            "executed_on": TODAY,
        },
    )
    (breach,) = sweep(NOW + timedelta(minutes=15))["retention_breach"]
    assert breach.severity == "critical" and breach.owner_role == "director"
    assert breach.subject_type == "account" and breach.subject_id == site["account_no"]
    assert "balance 6000000.00 is below the required retention 7000000.00" in breach.message


def test_frozen_account_with_a_pending_release(client, world, flow, site, sweep):
    fund(flow, "12000000.00")
    confirm(client, world, site["project_id"])
    _post(client, world, "/api/v1/releases", "developer", "r1", release_body(site["project_id"]))
    freeze = _post(
        client,
        world,
        "/api/v1/freezes",
        "bank",
        "f1",
        {
            "account_no": site["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": "(2026)冀1102执7号",
            "amount": "100.00",
            "ordered_on": TODAY,
        },
    )
    (alert,) = sweep()["frozen_with_pending_releases"]
    assert alert.severity == "critical" and "1 release submitted or approved" in alert.message
    _post(client, world, f"/api/v1/freezes/{freeze['freeze_id']}/lift", "bank", "lift")
    assert [a.state for a in sweep(NOW + timedelta(minutes=15))["frozen_with_pending_releases"]] == [
        "resolved"
    ]


def test_an_approved_instruction_overdue_in_working_days(client, world, flow, site, engine, sweep):
    fund(flow, "12000000.00")
    confirm(client, world, site["project_id"])
    release = _post(client, world, "/api/v1/releases", "developer", "r1", release_body(site["project_id"]))
    for who in ("reviewer", "approver"):
        _post(
            client,
            world,
            f"/api/v1/releases/{release['release_id']}/decisions",
            who,
            f"d-{who}",
            {"decision": "approve", "comment": "ok"},
        )
    with UnitOfWork(engine, readonly=True) as uow:
        ins = uow.session.scalar(select(PaymentInstruction))
    approved = alerts.local_date(ins.created_at)
    # the limit is 2 working days: the third working day after approval is the first one overdue
    day, working = approved, 0
    while working < 2:
        day += timedelta(days=1)
        working += day.weekday() < 5
    last_ok = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    assert "instruction_overdue" not in sweep(last_ok)
    day += timedelta(days=1)
    while day.weekday() >= 5:  # a weekend does not count
        assert "instruction_overdue" not in sweep(datetime.combine(day, datetime.min.time(), tzinfo=UTC))
        day += timedelta(days=1)
    (alert,) = sweep(datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12))[
        "instruction_overdue"
    ]
    assert alert.subject_id == str(ins.id) and alert.link == f"/releases/{release['release_id']}"
    assert "not executed after 3 working days (limit 2" in alert.message


def test_statement_missing_until_it_arrives(client, world, engine, settings, site, sweep):
    ctx = build_context(settings, engine, lambda: NOW.date())
    friday_night = datetime(2026, 11, 20, 23, 45).astimezone()
    assert tasks.run(tasks.BY_ID["statement-check"], engine, ctx, now=friday_night) == "done"
    (alert,) = current(engine)["statement_missing"]
    assert alert.dedup_key == f"statement_missing:account:{site['account_no']}:2026-11-20"
    assert "no bank statement for 2026-11-20" in alert.message
    # Saturday and Sunday are not checked: the latest due day is still Friday, already done
    sunday = datetime(2026, 11, 22, 23, 45).astimezone()
    assert tasks.run(tasks.BY_ID["statement-check"], engine, ctx, now=sunday) == "skipped"
    assert [a.state for a in sweep()["statement_missing"]] == ["open"]
    body = {"account_no": site["account_no"], "statement_date": "2026-11-20", "lines": []}
    _post(client, world, "/api/v1/statements", "bank", "st", body)
    assert [a.state for a in sweep(NOW + timedelta(minutes=15))["statement_missing"]] == ["resolved"]


def test_repeated_failed_voucher_lookups_from_one_client(engine, site, sweep):
    with UnitOfWork(engine) as uow:
        for minutes, failures in ((50, 9), (30, 8), (10, 5)):
            uow.session.add(
                RateLimitBucket(
                    key="voucher-lookup:203.0.113.7",
                    window_start=NOW - timedelta(minutes=minutes),
                    count=failures + 1,
                    failures=failures,
                )
            )
        uow.session.add(
            RateLimitBucket(key="voucher-lookup:198.51.100.1", window_start=NOW, count=3, failures=3)
        )
        uow.commit()
    (alert,) = sweep()["voucher_lookup_failures"]
    assert alert.subject_type == "client" and alert.subject_id == "203.0.113.7" and alert.account_id is None
    assert "failed 22 public voucher look-ups" in alert.message and alert.owner_role == "admin"
    assert [a.state for a in sweep(NOW + timedelta(days=2))["voucher_lookup_failures"]] == ["resolved"]


def test_working_days():
    friday = date(2026, 11, 20)
    assert alerts.working_days_after(friday, friday) == 0
    assert alerts.working_days_after(friday, date(2026, 11, 22)) == 0  # the weekend
    assert alerts.working_days_after(friday, date(2026, 11, 23)) == 1
    assert alerts.working_days_after(friday, date(2026, 12, 4)) == 10
    assert alerts.working_days_after(date(2026, 11, 18), date(2026, 11, 27)) == 7


# --- the API -----------------------------------------------------------------------------------------------


@pytest.fixture
def raised(flow, site, sweep) -> dict[str, list[Alert]]:
    deposit = {"account_no": site["account_no"], "payer_name": "李娜", "channel": "transfer"}
    flow.deposit(bank_reference="S-OLD", amount="5000.00", value_date="2026-11-10", **deposit)
    return sweep()


def test_the_bureau_lists_alerts(client, world, site, raised):
    r = client.get("/api/v1/alerts?state=open", headers=world.headers("auditor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["rule"] for a in body] == ["deposit_unknown_notice", "suspense_overdue"]  # newest first
    first = body[1]
    assert first["severity"] == "warning" and first["state"] == "open" and first["owner_role"] == "reviewer"
    assert first["subject"] == {"type": "deposit", "id": "1"} and first["account_no"] == site["account_no"]
    assert first["link"] == f"/projects/{site['project_id']}" and first["resolved_at"] is None
    assert first["created_at"].endswith("+00:00") and first["acknowledged_by"] is None
    h = world.headers("reviewer")
    assert len(client.get("/api/v1/alerts?rule=suspense_overdue", headers=h).json()) == 1
    assert client.get("/api/v1/alerts?severity=critical", headers=h).json() == []
    assert client.get("/api/v1/alerts?state=resolved", headers=h).json() == []
    assert len(client.get(f"/api/v1/alerts?account_no={site['account_no']}", headers=h).json()) == 2
    assert client.get("/api/v1/alerts?account_no=nope", headers=h).json() == []
    r = client.get("/api/v1/alerts?state=closed", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "state"
    for who in ("bank", "developer"):
        assert client.get("/api/v1/alerts", headers=world.headers(who)).status_code == 403
    assert client.get("/api/v1/alerts").status_code == 401


def test_acknowledge_and_resolve(client, world, engine, raised, sweep):
    alert_id = raised["suspense_overdue"][0].id
    url = f"/api/v1/alerts/{alert_id}"
    first = client.post(
        f"{url}/acknowledgement",
        json={"comment": "calling the bank"},
        headers=world.headers("reviewer", "ack-1"),
    )
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "acknowledged" and first.json()["acknowledged_by"] == "reviewer"
    again = client.post(
        f"{url}/acknowledgement",
        json={"comment": "calling the bank"},
        headers=world.headers("reviewer", "ack-1"),
    )
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == first.json()
    assert client.post(f"{url}/acknowledgement", headers=world.headers("bank", "ack-x")).status_code == 403
    assert (
        client.post("/api/v1/alerts/999/acknowledgement", headers=world.headers("admin", "ack-y")).status_code
        == 404
    )
    # the sweep keeps an acknowledged alert acknowledged while its condition holds
    assert sweep(NOW + timedelta(minutes=15))["suspense_overdue"][0].state == "acknowledged"
    done = client.post(f"{url}/resolution", headers=world.headers("approver", "res-1"))
    assert done.status_code == 200 and done.json()["state"] == "resolved" and done.json()["resolved_at"]
    r = client.post(f"{url}/resolution", headers=world.headers("approver", "res-2"))
    assert r.status_code == 409
    assert client.post(f"{url}/acknowledgement", headers=world.headers("admin", "ack-z")).status_code == 409
    # resolved by hand while the money is still in suspense: the next sweep reopens it
    (alert,) = sweep(NOW + timedelta(minutes=30))["suspense_overdue"]
    assert alert.id == alert_id and alert.state == "open" and alert.acknowledged_by is None
    with UnitOfWork(engine, readonly=True) as uow:
        actions = list(
            uow.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.subject_type == "alert", AuditEvent.subject_id == str(alert_id))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["alert.opened", "alert.acknowledged", "alert.resolved", "alert.reopened"]
