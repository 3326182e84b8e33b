"""Opening on a tri-party supervision agreement (CONTRACT §8) through the real app on both engines: the
agreement number at opening (optional), the bank's confirmation (the same number again answers the same,
another number 409 changing nothing, another bank 404, impossible dates 422), the account shows it, and an
alert names the accounts their bank has not confirmed after the rule book's days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from escrow.app import build_context
from escrow.services import alerts
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, SupervisedAccount
from tests.conftest import project_body
from tests.http.test_api_releases import problem

TODAY = date(2026, 12, 7)
AGREEMENT = "衡监协(2026)第018号"


@pytest.fixture
def today() -> date:
    return TODAY


def open_project(client, world, **overrides) -> dict:
    body = project_body(
        supervised_amount="10000000.00", permit_date="2026-12-07", opened_on="2026-12-07", **overrides
    )
    r = client.post(
        "/api/v1/projects", json=body, headers=world.headers("admin", f"open-{body['account_no']}")
    )
    assert r.status_code == 201, r.text
    return r.json()


def confirm(client, world, account_no: str, key: str, who: str = "bank", **fields):
    body = {"agreement_no": AGREEMENT, "opened_on": "2026-12-07", **fields}
    return client.post(
        f"/api/v1/accounts/{account_no}/confirmation", json=body, headers=world.headers(who, key)
    )


def account(client, world, account_no: str) -> dict:
    r = client.get(f"/api/v1/accounts/{account_no}", headers=world.headers("bank"))
    assert r.status_code == 200, r.text
    return r.json()


def stored(engine, account_no: str) -> tuple:
    with UnitOfWork(engine, readonly=True) as uow:
        a = uow.session.scalar(select(SupervisedAccount).where(SupervisedAccount.account_no == account_no))
        return a.agreement_no, a.bank_opened_on, a.confirmed_on


def test_opening_takes_the_agreement_number_and_the_bank_confirms_it(client, world, engine):
    project = open_project(client, world, agreement_no=AGREEMENT)
    assert project["account"]["agreement_no"] == AGREEMENT
    assert project["account"]["confirmed_by_bank"] is False and project["account"]["confirmed_on"] is None
    seen = account(client, world, project["account_no"])
    assert (seen["agreement_no"], seen["confirmed_by_bank"]) == (AGREEMENT, False)

    r = confirm(client, world, project["account_no"], "c-1", opened_on="2026-12-07")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer == {
        "account_no": project["account_no"],
        "agreement_no": AGREEMENT,
        "confirmed_by_bank": True,
        "confirmed_on": "2026-12-07",
        "bank_opened_on": "2026-12-07",
        "opened_on": "2026-12-07",
    }
    seen = account(client, world, project["account_no"])
    assert (seen["agreement_no"], seen["confirmed_by_bank"], seen["confirmed_on"]) == (
        AGREEMENT,
        True,
        "2026-12-07",
    )
    listed = client.get("/api/v1/accounts", headers=world.headers("bank")).json()
    assert [(a["account_no"], a["confirmed_by_bank"]) for a in listed] == [(project["account_no"], True)]
    page = client.get(f"/api/v1/projects/{project['project_id']}", headers=world.headers("admin")).json()
    assert page["account"]["confirmed_by_bank"] is True
    with UnitOfWork(engine, readonly=True) as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.agreement_confirmed")
        ).all()
    assert [(e.subject_id, e.actor) for e in events] == [(project["account_no"], "bank:1")]

    # the same number again (another request): the same answer, nothing changed
    again = confirm(client, world, project["account_no"], "c-2", opened_on="2026-12-07")
    assert again.status_code == 200, again.text
    assert again.json() == answer


def test_without_a_number_at_opening_the_bank_names_it(client, world, engine):
    project = open_project(client, world)
    assert project["account"]["agreement_no"] is None
    r = confirm(client, world, project["account_no"], "c-1")
    assert r.status_code == 200, r.text
    assert stored(engine, project["account_no"]) == (AGREEMENT, TODAY, TODAY)


def test_another_number_is_refused_and_changes_nothing(client, world, engine):
    project = open_project(client, world, agreement_no=AGREEMENT)
    mismatch = problem(confirm(client, world, project["account_no"], "c-0", agreement_no="OTHER-1"), 409)
    assert mismatch["rule"] == "agreement.mismatch"
    assert stored(engine, project["account_no"]) == (AGREEMENT, None, None)
    assert confirm(client, world, project["account_no"], "c-1").status_code == 200
    before = stored(engine, project["account_no"])
    refused = problem(confirm(client, world, project["account_no"], "c-2", agreement_no="OTHER-2"), 409)
    assert refused["rule"] == "agreement.already_confirmed" and AGREEMENT in refused["detail"]
    assert stored(engine, project["account_no"]) == before


def test_another_bank_gets_404_and_dates_are_checked(client, world, engine):
    project = open_project(client, world)
    no = project["account_no"]
    assert problem(confirm(client, world, no, "c-ob", who="other_bank"), 404)
    assert problem(confirm(client, world, no, "c-dev", who="developer"), 403)
    early = problem(confirm(client, world, no, "c-early", opened_on="2026-12-06"), 422)
    assert early["errors"][0]["field"] == "opened_on"
    future = problem(confirm(client, world, no, "c-future", opened_on="2026-12-08"), 422)
    assert future["errors"][0]["field"] == "opened_on"
    bad = problem(confirm(client, world, no, "c-bad", agreement_no="A\x01B"), 422)
    assert bad["errors"][0]["field"] == "agreement_no"
    assert stored(engine, no) == (None, None, None)
    refused = client.post(
        "/api/v1/projects",
        json=project_body(permit_no="P-2", account_no="62220000999", agreement_no=" X"),
        headers=world.headers("admin", "open-bad-agreement"),
    )
    assert problem(refused, 422)["errors"][0]["field"] == "agreement_no"


def unconfirmed(settings, engine, day: date) -> list[str]:
    ctx = build_context(settings, engine, today=lambda: day)
    alerts.run_sweep(ctx, datetime.now(UTC))
    return [a.subject.id for a in alerts.listing(ctx, rule="agreement_unconfirmed") if a.state != "resolved"]


def test_an_alert_names_accounts_unconfirmed_after_the_rule_books_days(client, world, engine, settings):
    project = open_project(client, world, agreement_no=AGREEMENT)
    assert project["rulebook"] == "hengshui@2026.2"  # limits.bank_confirmation_days = 5
    no = project["account_no"]
    assert unconfirmed(settings, engine, date(2026, 12, 12)) == []  # 5 days: not yet
    assert unconfirmed(settings, engine, date(2026, 12, 13)) == [no]  # 6 days
    ctx = build_context(settings, engine, today=lambda: date(2026, 12, 13))
    [found] = alerts.listing(ctx, rule="agreement_unconfirmed")
    assert "hengshui@2026.2 limits.bank_confirmation_days" in found.message and AGREEMENT in found.message
    assert confirm(client, world, no, "c-late").status_code == 200
    assert unconfirmed(settings, engine, date(2026, 12, 13)) == []
    assert [a.state for a in alerts.listing(ctx, rule="agreement_unconfirmed")] == ["resolved"]


def test_older_books_take_the_configured_default(client, world, engine, settings):
    r = client.post(
        "/api/v1/projects",
        json=project_body(),  # permit 2025-03-01, opened 2025-03-05: hengshui@2024.1 states no days
        headers=world.headers("admin", "open-2024"),
    )
    assert r.status_code == 201, r.text
    assert unconfirmed(settings, engine, date(2025, 3, 10)) == []
    ctx = build_context(settings, engine, today=lambda: date(2025, 3, 11))
    alerts.run_sweep(ctx, datetime.now(UTC))
    [found] = alerts.listing(ctx, rule="agreement_unconfirmed")
    assert "configured default" in found.message and "limit 5 days" in found.message
