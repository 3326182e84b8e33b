"""Notifications e-mailed by the job `notify-mail` to a real SMTP server started inside the test (aiosmtpd),
on both engines: the delivered message (To, a Chinese subject, the link to the case), each e-mail sent once,
a server that is down tried again with back-off, and nothing e-mailed without ESCROW_SMTP_URL."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from escrow.app import build_context
from escrow.domain import notifications as rules
from escrow.jobs import mail, tasks
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import Notification
from tests.http.test_notifications import apply
from tests.http.test_notifications import funded as funded
from tests.http.test_notifications import site as site
from tests.integration.test_cli import cli as cli

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def soon() -> datetime:
    """A moment just after the notifications written so far (they are stamped with the real clock)."""
    return datetime.now(UTC) + timedelta(seconds=1)


class Received:
    """aiosmtpd's handler: keeps every message delivered."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.rcpt: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.rcpt.append(list(envelope.rcpt_tos))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def smtp(port):
    """A real SMTP server on a free local port, for the test's duration."""
    received = Received()
    server = Controller(received, hostname="127.0.0.1", port=port)
    server.start()
    yield received
    server.stop()


@pytest.fixture
def addresses(engine, site):
    """The reviewer has an e-mail address; the second reviewer has none."""
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name("reviewer").email = "reviewer@hs-zjj.example.cn"
        uow.commit()


def mail_ctx(settings, engine, port: int, **overrides):
    chosen = replace(settings, smtp_url=f"smtp://127.0.0.1:{port}", mail_from="jianguan@hs-zjj.example.cn")
    return build_context(replace(chosen, **overrides), engine, lambda: NOW.date())


def rows(engine) -> list[Notification]:
    with UnitOfWork(engine, readonly=True) as uow:
        return list(uow.session.query(Notification).order_by(Notification.id))


def test_the_job_mails_a_notification_in_chinese_once(
    client, world, engine, settings, funded, addresses, smtp, port
):
    rid = apply(client, world, funded["project_id"])["release_id"]
    ctx = mail_ctx(settings, engine, port)
    t0 = soon()
    assert tasks.run(tasks.BY_ID["notify-mail"], engine, ctx, now=t0) == "done"

    assert smtp.rcpt == [["reviewer@hs-zjj.example.cn"]]  # the reviewer without an address gets no e-mail
    (msg,) = smtp.messages
    assert msg["To"] == "reviewer@hs-zjj.example.cn" and msg["From"] == "jianguan@hs-zjj.example.cn"
    assert msg["Subject"] == f"桃城·安居花园一期的拨付申请 #{rid} 等待您办理：{step_zh(engine)}。"
    body = msg.get_content()
    assert "金额：¥3,000,000.00" in body
    assert f"查看：http://127.0.0.1:8000/releases/{rid}" in body

    sent = [r for r in rows(engine) if r.mailed_at is not None]
    assert len(sent) == 1 and sent[0].mail_due_at is None and sent[0].mail_attempts == 1
    assert mail.send_due(ctx, t0 + timedelta(minutes=5)).sent == 0  # sent once, never again
    assert len(smtp.messages) == 1


def step_zh(engine) -> str:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.query(Notification).first().params["step_zh"]


def test_a_server_that_is_down_is_tried_again_with_back_off(
    client, world, engine, settings, funded, addresses, port
):
    apply(client, world, funded["project_id"])
    ctx = mail_ctx(settings, engine, port)  # nothing listens on the port yet
    t0 = soon()
    assert mail.send_due(ctx, t0).failed == 1
    (row,) = [r for r in rows(engine) if r.mail_attempts]
    assert row.mailed_at is None and row.mail_error.startswith("connect:")
    due = row.mail_due_at.replace(tzinfo=row.mail_due_at.tzinfo or UTC)
    assert due == t0 + rules.FIRST_RETRY

    assert mail.send_due(ctx, t0 + timedelta(seconds=30)) == mail.Sent()  # not due again yet
    assert mail.send_due(ctx, t0 + timedelta(seconds=61)).failed == 1  # the second failure waits longer
    (row,) = [r for r in rows(engine) if r.mail_attempts]
    due = row.mail_due_at.replace(tzinfo=row.mail_due_at.tzinfo or UTC)
    assert row.mail_attempts == 2 and due == t0 + timedelta(seconds=61) + 2 * rules.FIRST_RETRY

    received = Received()
    server = Controller(received, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert mail.send_due(ctx, t0 + timedelta(minutes=10)).sent == 1  # the server is back
    finally:
        server.stop()
    (msg,) = received.messages
    assert msg["To"] == "reviewer@hs-zjj.example.cn"
    (row,) = [r for r in rows(engine) if r.mail_attempts]
    assert row.mailed_at is not None and row.mail_due_at is None and row.mail_attempts == 3


def test_without_an_smtp_server_nothing_is_mailed_and_the_outbox_empties(
    client, world, engine, settings, funded, addresses
):
    apply(client, world, funded["project_id"])
    assert [r.mail_due_at is not None for r in rows(engine)].count(True) == 1
    ctx = build_context(settings, engine, lambda: NOW.date())
    assert settings.smtp_url == ""
    assert mail.send_due(ctx, soon()).dropped == 1
    assert all(r.mail_due_at is None and r.mailed_at is None for r in rows(engine))


def test_back_off_doubles_up_to_a_limit_then_gives_up():
    assert rules.next_attempt(1, NOW) == NOW + timedelta(minutes=1)
    assert rules.next_attempt(3, NOW) == NOW + timedelta(minutes=4)
    assert rules.next_attempt(11, NOW) == NOW + rules.LONGEST_WAIT
    assert rules.next_attempt(rules.MAX_ATTEMPTS, NOW) is None


def test_the_smtp_url_is_checked_at_start_without_repeating_it():
    from escrow.config import Settings
    from escrow.errors import CliError

    with pytest.raises(CliError) as refused:
        Settings.from_env({"ESCROW_SMTP_URL": "http://user:s3cret@mail"})
    assert "s3cret" not in str(refused.value)
    found = mail.server(
        Settings.from_env({"ESCROW_SMTP_URL": "smtps://u%40x:p%2Fw@mail.example.cn"}).smtp_url
    )
    assert found == mail.Server("mail.example.cn", 465, True, "u@x", "p/w")


def test_a_user_is_created_with_an_e_mail_address_or_refused_a_bad_one(cli, db_url):
    code, _out, _err = cli(
        "user", "create", "--username", "wang.fang", "--role", "approver", "--email", "wf@hs.example.cn"
    )
    assert code == 0
    code, _out, err = cli(
        "user", "create", "--username", "li.na", "--role", "approver", "--email", "li.na at hs"
    )
    assert code != 0 and "not an e-mail address" in err
    engine = make_engine(db_url)
    try:
        with UnitOfWork(engine, readonly=True) as uow:
            assert uow.parties.user_by_name("wang.fang").email == "wf@hs.example.cn"
            assert uow.parties.user_by_name("li.na") is None
    finally:
        engine.dispose()
