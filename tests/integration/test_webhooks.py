"""Webhook deliveries to a real local HTTP receiver (tests/receiver.py) on both engines: each event written
to the outbox in its own transaction and sent by the job `webhook-deliver` with a signature that verifies;
a receiver that fails and recovers; the back-off and the giving up after a day; a webhook's events in order;
rotation; scoping (a bank hears no developer events, another bank nothing); and a process killed between
its commit and any delivery, whose event is still delivered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from escrow.app import build_context
from escrow.domain import webhooks as rules
from escrow.domain.principal import Principal
from escrow.jobs import tasks
from escrow.jobs import webhooks as job
from escrow.services import deposits
from escrow.store.db import UnitOfWork
from escrow.store.models import WebhookDelivery
from escrow.store.repos.webhooks import pending_backlog
from tests.http.test_notifications import apply, decide
from tests.http.test_notifications import funded as funded
from tests.http.test_notifications import site as site
from tests.receiver import Receiver

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def ctx(settings, engine, today):
    return build_context(settings, engine, lambda: today)


def soon() -> datetime:
    """A moment just after the deliveries written so far (they are stamped with the real clock)."""
    return datetime.now(UTC) + timedelta(seconds=1)


def subscribe(client, world, who: str, events: list[str], url: str, key: str = "wh") -> dict:
    r = client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=world.headers(who, key))
    assert r.status_code == 201, r.text
    return r.json()


def deposit(flow, account_no: str, ref: str, amount: str = "5000.00") -> dict:
    return flow.deposit(
        account_no=account_no,
        bank_reference=ref,
        amount=amount,
        payer_name="李娜",
        channel="transfer",
        value_date="2026-11-20",
    )


def rows(engine) -> list[WebhookDelivery]:
    with UnitOfWork(engine, readonly=True) as uow:
        return list(uow.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_deposit_is_delivered_signed_to_the_developer(client, world, engine, ctx, project, flow, receiver):
    hook = subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    posted = deposit(flow, project["account_no"], "WH-1")
    (row,) = rows(engine)
    assert row.status == "pending" and row.event_type == "deposit.posted"  # in the outbox, not sent yet
    assert receiver.requests == []

    assert tasks.run(tasks.BY_ID["webhook-deliver"], engine, ctx, now=soon().astimezone()) == "done"
    (got,) = receiver.requests
    assert got.path == "/hooks" and got.headers["content-type"] == "application/json"
    assert rules.verify(hook["secret"], got.headers["escrow-signature"], got.body)
    assert not rules.verify("whsec_wrong", got.headers["escrow-signature"], got.body)
    t = int(got.headers["escrow-signature"].split(",")[0].removeprefix("t="))
    assert abs(t - datetime.now(UTC).timestamp()) < 3600
    event = json.loads(got.body)
    assert set(event) == {"id", "type", "created_at", "data"}
    assert event["type"] == "deposit.posted" and got.headers["escrow-event-id"] == event["id"]
    assert datetime.fromisoformat(event["created_at"]).tzinfo is not None
    data = event["data"]
    assert data["bank_reference"] == "WH-1" and data["amount"] == "5000.00"
    assert data["deposit_id"] == posted["deposit_id"] and data["project_id"] == project["project_id"]
    assert data["account_no"] == project["account_no"] and data["status"] == posted["status"]

    (row,) = rows(engine)
    assert row.status == "delivered" and row.attempts == 1 and row.last_status_code == 200
    assert job.send_due(ctx, soon() + timedelta(hours=1)) == job.Sent()  # delivered once, never again
    assert len(receiver.requests) == 1
    log = client.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries", headers=world.headers("developer"))
    (entry,) = log.json()
    assert entry["status"] == "delivered" and entry["attempts"] == 1 and entry["last_status_code"] == 200
    assert entry["delivered_at"] and entry["event_id"] == event["id"]


def test_an_accepted_deposit_tells_its_voucher_number_not_its_code(
    client, world, engine, ctx, flow, project, receiver
):
    from tests.http.test_api_releases import fund

    subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    fund(flow, "500000.00")
    job.send_due(ctx, soon())
    (got,) = receiver.requests
    data = json.loads(got.body)["data"]
    assert data["status"] == "accepted" and data["voucher"]["voucher_no"].startswith("PZ")
    assert set(data["voucher"]) == {"voucher_no"}  # the verification code is the buyer's


def test_a_release_tells_the_developer_its_decision_and_the_bank_its_instruction(
    client, world, engine, ctx, funded, receiver
):
    bank_hook = subscribe(client, world, "bank", ["instruction.created"], receiver.url, "wh-b")
    dev_hook = subscribe(client, world, "developer", ["release.decided"], receiver.url, "wh-d")
    other = Receiver().start()
    try:
        subscribe(client, world, "other_bank", ["instruction.created"], other.url, "wh-o")
        subscribe(client, world, "other_developer", ["release.decided"], other.url, "wh-od")
        rid = apply(client, world, funded["project_id"])["release_id"]
        decide(client, world, rid, "reviewer")
        assert rows(engine) == []  # nothing decided yet
        decide(client, world, rid, "approver")
        assert job.send_due(ctx, soon()).delivered == 2
    finally:
        other.stop()
    assert other.requests == []  # another bank, another developer: nothing
    by_type = {json.loads(r.body)["type"]: r for r in receiver.requests}
    assert set(by_type) == {"instruction.created", "release.decided"}
    instruction = json.loads(by_type["instruction.created"].body)["data"]
    assert instruction["kind"] == "release" and instruction["amount"] == "3000000.00"
    assert instruction["account_no"] == funded["account_no"] and instruction["status"] == "pending"
    assert rules.verify(
        bank_hook["secret"],
        by_type["instruction.created"].headers["escrow-signature"],
        by_type["instruction.created"].body,
    )
    decided = json.loads(by_type["release.decided"].body)["data"]
    assert decided == {
        "release_id": rid,
        "project_id": funded["project_id"],
        "account_no": funded["account_no"],
        "status": "approved",
        "amount": "3000000.00",
    }
    assert rules.verify(
        dev_hook["secret"],
        by_type["release.decided"].headers["escrow-signature"],
        by_type["release.decided"].body,
    )


def test_a_bank_hears_no_developer_events(client, world, engine, ctx, project, flow, receiver):
    subscribe(client, world, "bank", ["instruction.created"], receiver.url)
    deposit(flow, project["account_no"], "WH-B")
    assert rows(engine) == []
    assert job.send_due(ctx, soon()) == job.Sent() and receiver.requests == []


def test_a_receiver_that_fails_is_tried_again_with_back_off_until_it_recovers(
    client, world, engine, ctx, project, flow, receiver
):
    receiver.statuses = [500, 503, 200]
    subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    deposit(flow, project["account_no"], "WH-F")
    t0 = soon()
    assert job.send_due(ctx, t0) == job.Sent(failed=1)
    (row,) = rows(engine)
    assert row.status == "pending" and row.attempts == 1 and row.last_status_code == 500
    assert row.last_error == "HTTP 500" and aware(row.next_attempt_at) == t0 + rules.FIRST_RETRY

    assert job.send_due(ctx, t0 + timedelta(seconds=30)) == job.Sent()  # not due again yet
    t1 = t0 + timedelta(seconds=61)
    assert job.send_due(ctx, t1) == job.Sent(failed=1)
    (row,) = rows(engine)
    assert row.attempts == 2 and aware(row.next_attempt_at) == t1 + 2 * rules.FIRST_RETRY

    t2 = t1 + timedelta(minutes=3)
    assert job.send_due(ctx, t2) == job.Sent(delivered=1)  # the receiver is back
    (row,) = rows(engine)
    assert row.status == "delivered" and row.attempts == 3 and row.last_status_code == 200
    assert row.last_error is None and row.next_attempt_at is None
    assert len(receiver.requests) == 3
    assert len({r.headers["escrow-event-id"] for r in receiver.requests}) == 1  # the same event each time


def test_an_unreachable_receiver_is_tried_for_a_day_then_marked_failed(
    client, world, engine, ctx, project, flow, receiver
):
    url = receiver.url
    receiver.stop()  # nothing listens on the port any more
    subscribe(client, world, "developer", ["deposit.posted"], url)
    deposit(flow, project["account_no"], "WH-D")
    t = soon()
    for _ in range(40):  # follow the back-off: never more than an hour apart, never given up within a day
        assert job.send_due(ctx, t) == job.Sent(failed=1)
        (row,) = rows(engine)
        if row.status == "failed":
            break
        wait = aware(row.next_attempt_at) - t
        assert rules.FIRST_RETRY <= wait <= rules.LONGEST_WAIT
        t = aware(row.next_attempt_at)
    (row,) = rows(engine)
    assert row.status == "failed" and row.last_status_code is None and "ConnectError" in row.last_error
    assert t - aware(row.created_at) >= rules.RETRY_FOR  # at least 24 hours of trying
    assert job.send_due(ctx, t + timedelta(days=1)) == job.Sent()  # given up: never sent again
    with UnitOfWork(engine, readonly=True) as uow:
        assert pending_backlog(uow.session) == 0


def test_back_off_doubles_up_to_an_hour_and_ends_after_a_day():
    t0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert rules.next_attempt(1, t0, t0) == t0 + timedelta(minutes=1)
    assert rules.next_attempt(2, t0, t0) == t0 + timedelta(minutes=2)
    assert rules.next_attempt(4, t0, t0) == t0 + timedelta(minutes=8)
    assert rules.next_attempt(7, t0, t0) == t0 + timedelta(hours=1)  # 64 minutes: capped
    assert rules.next_attempt(500, t0, t0) == t0 + timedelta(hours=1)
    late = t0 + timedelta(hours=23, minutes=59)
    assert rules.next_attempt(30, late, t0) == late + timedelta(hours=1)  # still within the day
    assert rules.next_attempt(30, t0 + timedelta(hours=24), t0) is None


def test_a_webhooks_events_go_out_in_order_one_failing_holds_the_next(
    client, world, engine, ctx, project, flow, receiver
):
    receiver.statuses = [500, 200]
    subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    for n in range(3):
        deposit(flow, project["account_no"], f"WH-O-{n}", amount=f"{100 + n}.00")
    t0 = soon()
    assert job.send_due(ctx, t0) == job.Sent(failed=1)  # the first fails; the later ones wait behind it
    assert [r.status for r in rows(engine)] == ["pending"] * 3
    assert job.send_due(ctx, t0 + timedelta(minutes=2)) == job.Sent(delivered=3)
    refs = [json.loads(r.body)["data"]["bank_reference"] for r in receiver.requests]
    assert refs == ["WH-O-0", "WH-O-0", "WH-O-1", "WH-O-2"]


def test_after_a_rotation_only_the_new_secret_signs(client, world, engine, ctx, project, flow, receiver):
    receiver.statuses = [500, 200]
    hook = subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    deposit(flow, project["account_no"], "WH-R")
    t0 = soon()
    job.send_due(ctx, t0)  # signed with the first secret, refused by the receiver
    assert rules.verify(
        hook["secret"], receiver.requests[0].headers["escrow-signature"], receiver.requests[0].body
    )
    r = client.post(
        f"/api/v1/webhooks/{hook['webhook_id']}/secret", headers=world.headers("developer", "rot")
    )
    new = r.json()["secret"]
    job.send_due(ctx, t0 + timedelta(minutes=2))  # the retry goes out under the new secret only
    last = receiver.requests[-1]
    assert rules.verify(new, last.headers["escrow-signature"], last.body)
    assert not rules.verify(hook["secret"], last.headers["escrow-signature"], last.body)


def test_a_deleted_webhook_is_sent_nothing_more(client, world, engine, ctx, project, flow, receiver):
    hook = subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    deposit(flow, project["account_no"], "WH-X1")
    assert (
        client.delete(
            f"/api/v1/webhooks/{hook['webhook_id']}", headers=world.headers("developer")
        ).status_code
        == 200
    )
    deposit(flow, project["account_no"], "WH-X2")
    assert len(rows(engine)) == 1  # nothing written after the deletion
    assert job.send_due(ctx, soon()) == job.Sent() and receiver.requests == []


def test_a_rolled_back_event_leaves_no_delivery(client, world, engine, ctx, project, receiver):
    subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    with UnitOfWork(engine, readonly=True) as uow:
        bank = uow.parties.bank_by_code("HSB")
    actor = Principal("bank", bank.id, bank.name, bank_id=bank.id)
    cmd = deposits.PostDeposit(
        account_no=project["account_no"],
        bank_reference="WH-RB",
        amount=Decimal("10.00"),
        payer_name="李娜",
        payer_account="",
        notice_no=None,
        kind="down_payment",
        channel="transfer",
        value_date=date(2026, 11, 20),
    )
    with UnitOfWork(engine) as uow:
        deposits.post(uow, ctx, cmd, actor)
        assert uow.webhooks.pending_count() == 1  # written in the deposit's transaction …
        uow.rollback()  # … which does not commit
    assert rows(engine) == []
    with UnitOfWork(engine, readonly=True) as uow:
        assert pending_backlog(uow.session) == 0


KILLED_AFTER_COMMIT = """
import os, signal, sys
from datetime import date
from decimal import Decimal
from escrow.app import build_context
from escrow.config import Settings
from escrow.domain.principal import Principal
from escrow.services import deposits
from escrow.store.db import UnitOfWork, make_engine

settings = Settings.from_env()
engine = make_engine(settings.database_url)
ctx = build_context(settings, engine, lambda: date(2026, 11, 22))
with UnitOfWork(engine, readonly=True) as uow:
    bank = uow.parties.bank_by_code("HSB")
actor = Principal("bank", bank.id, bank.name, bank_id=bank.id)
cmd = deposits.PostDeposit(
    account_no=sys.argv[1], bank_reference="WH-KILL", amount=Decimal("777.00"), payer_name="李娜",
    payer_account="", notice_no=None, kind="down_payment", channel="transfer", value_date=date(2026, 11, 20),
)
deposits.book(ctx, cmd, actor)  # committed, with its outbox row
print("committed", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the process dies before any delivery
"""


def test_a_process_killed_after_its_commit_loses_no_delivery(
    client, world, engine, ctx, project, receiver, db_url, settings
):
    hook = subscribe(client, world, "developer", ["deposit.posted"], receiver.url)
    env = {**os.environ, "ESCROW_DATABASE_URL": db_url, "ESCROW_RULES_DIR": str(settings.rules_dir)}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT, project["account_no"]],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "committed" in done.stdout
    assert receiver.requests == []
    (row,) = rows(engine)
    assert row.status == "pending"  # the outbox row survived the process

    assert tasks.run(tasks.BY_ID["webhook-deliver"], engine, ctx, now=soon().astimezone()) == "done"
    (got,) = receiver.requests
    assert rules.verify(hook["secret"], got.headers["escrow-signature"], got.body)
    assert json.loads(got.body)["data"]["bank_reference"] == "WH-KILL"
    assert rows(engine)[0].status == "delivered"


def test_a_rejected_refund_tells_the_developer_and_gives_the_bank_no_instruction(
    client, world, engine, ctx, flow, site, receiver
):
    from tests.http.test_api_releases import fund

    subscribe(client, world, "bank", ["instruction.created"], receiver.url, "wh-b")
    subscribe(client, world, "developer", ["refund.decided"], receiver.url, "wh-d")
    fund(flow, "500000.00")
    r = client.post(
        "/api/v1/contracts/HT-F-1/cancellation",
        json={"reason": "退房"},
        headers=world.headers("developer", "wh-cancel"),
    )
    assert r.status_code == 201, r.text
    refund_id = r.json()["refund_id"]
    decide(client, world, refund_id, "reviewer", "reject", kind="refunds")
    assert job.send_due(ctx, soon()) == job.Sent(delivered=1)
    (got,) = receiver.requests
    event = json.loads(got.body)
    assert event["type"] == "refund.decided"
    assert event["data"]["refund_id"] == refund_id and event["data"]["status"] == "rejected"


def test_money_returned_to_its_payer_is_an_instruction_for_the_bank(
    client, world, engine, ctx, project, flow, receiver
):
    from escrow.services import suspense

    subscribe(client, world, "bank", ["instruction.created"], receiver.url)
    posted = deposit(flow, project["account_no"], "WH-RET")
    assert posted["status"] == "suspense"
    with UnitOfWork(engine) as uow:
        approver = uow.parties.user_by_name("approver")
        actor = Principal("user", approver.id, "approver", role="approver", user_id=approver.id)
        suspense.return_to_payer(uow, ctx, posted["deposit_id"], suspense.ReturnToPayer("付款人不明"), actor)
        uow.commit()
    assert job.send_due(ctx, soon()) == job.Sent(delivered=1)
    data = json.loads(receiver.requests[0].body)["data"]
    assert data["kind"] == "return" and data["amount"] == "5000.00" and data["status"] == "pending"
