"""The release cap's inputs read for many accounts at once (the rule-book what-if) equal those read for one
account (the project's cap): here with a suspense deposit being returned to its payer, money that suspense
already holds back and that must not be held back a second time as a pending outflow. The app loads the two
Hengshui test versions (tests/fixtures/rules), so that the what-if has a version to compare with."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from escrow.config import Settings
from escrow.domain.principal import Principal
from escrow.services import suspense, whatif
from escrow.services.projects import release_cap
from escrow.store.db import UnitOfWork
from tests.conftest import project_body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
PRICE = "886500.00"
UNIDENTIFIED = "265950.00"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings.from_env({"ESCROW_DATABASE_URL": db_url, "ESCROW_RULES_DIR": str(FIXTURES)})


def _deposit(flow, account_no: str, reference: str, amount: str, notice_no: str | None) -> dict:
    return flow.deposit(
        account_no=account_no,
        bank_reference=reference,
        amount=amount,
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=notice_no,
        kind="down_payment",
        channel="transfer",
        value_date="2026-11-20",
    )


def test_the_what_if_releasable_equals_the_cap_while_a_suspense_return_is_pending(
    app, client, world, flow, engine
):
    ctx = app.state.runtime.ctx
    body = project_body(supervised_amount="100000.00")  # paid beyond the key amount: something releasable
    r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", "open"))
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["rulebook"] == "hengshui@2024.1"
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], PRICE)
    assert _deposit(flow, body["account_no"], "HSB-1", PRICE, notice["notice_no"])["status"] == "accepted"
    unknown = _deposit(flow, body["account_no"], "HSB-2", UNIDENTIFIED, None)
    assert unknown["status"] == "suspense"
    with UnitOfWork(engine) as uow:
        approver = uow.parties.user_by_name("approver")
        actor = Principal("user", approver.id, approver.username, role=approver.role, user_id=approver.id)
        suspense.return_to_payer(uow, ctx, unknown["deposit_id"], suspense.ReturnToPayer("付款人不明"), actor)
        uow.commit()

    other = whatif.choose(ctx, "hengshui", "2025.1")
    with UnitOfWork(engine, readonly=True) as uow:
        (row,) = whatif.compare(uow, ctx, other).rows
        found = uow.projects.get(project["project_id"])
        account = uow.projects.account_for(found.id)
        now = release_cap(uow, ctx, found, account)
        then = release_cap(uow, ctx, found, account, book=other)
    # balance 1,152,450 − suspense 265,950 − the whole key amount 100,000 (no node yet); the pending return
    # is the suspense money itself
    assert now.releasable == Decimal("786500.00")
    assert (row.releasable_now, row.retention_now) == (now.releasable, now.required_retention)
    assert (row.releasable_then, row.retention_then) == (then.releasable, then.required_retention)
