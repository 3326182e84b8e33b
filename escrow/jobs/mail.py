"""E-mailing notifications from their stored rows (the outbox), outside any request's transaction: the job
`notify-mail` reads the e-mails due, sends them over one SMTP connection, and records each as sent or failed
(a failed one is tried again later, escrow.domain.notifications.next_attempt). A crash between sending and
recording sends that e-mail again on the next run: at least once, never lost.

`ESCROW_SMTP_URL`: `smtp://host:port` (plain, STARTTLS when the server offers it and credentials are given),
`smtps://user:password@host:465` (TLS from the start). Without it nothing is e-mailed and the due rows leave
the outbox. Subject and body are in Chinese.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from escrow.catalog import gettext_for
from escrow.services import notifications
from escrow.services.context import Context
from escrow.web.shell import notifications as words

LANG = "zh"
TIMEOUT = 20  # seconds for the connection and each command


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    user: str | None
    password: str | None


def server(url: str) -> Server:
    parts = urlsplit(url)
    tls = parts.scheme == "smtps"
    return Server(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if tls else 25),
        tls=tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def connect(s: Server) -> smtplib.SMTP:
    if s.tls:
        conn: smtplib.SMTP = smtplib.SMTP_SSL(
            s.host, s.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        conn = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
        if s.user and conn.has_extn("starttls"):
            conn.starttls(context=ssl.create_default_context())
    if s.user:
        conn.login(s.user, s.password or "")
    return conn


def message(ctx: Context, mail: notifications.Mail) -> EmailMessage:
    _ = gettext_for(LANG)
    subject, body = words.mail(mail.notification, _, LANG, ctx.settings.public_base_url, mail.developer_staff)
    msg = EmailMessage()
    msg["From"] = ctx.settings.mail_from
    msg["To"] = mail.email
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(idstring=f"notification-{mail.notification.id}")
    msg.set_content(body)
    return msg


@dataclass(frozen=True)
class Sent:
    sent: int = 0
    failed: int = 0
    dropped: int = 0  # due without an SMTP server configured

    def __str__(self) -> str:
        return f"{self.sent} e-mails sent, {self.failed} failed (to be tried again), {self.dropped} dropped"


def send_due(ctx: Context, now: datetime | None = None) -> Sent:
    """Send every e-mail due at `now`; a failure is recorded on its row, never raised."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if not ctx.settings.smtp_url:
        return Sent(dropped=notifications.mail_dropped(ctx, now))
    due = notifications.mail_due(ctx, now)
    if not due:
        return Sent()
    try:
        conn = connect(server(ctx.settings.smtp_url))
    except (OSError, smtplib.SMTPException) as exc:
        for mail in due:
            notifications.mail_failed(ctx, mail.notification.id, now, f"connect: {exc}")
        return Sent(failed=len(due))
    sent = failed = 0
    with conn:
        for mail in due:
            try:
                conn.send_message(message(ctx, mail))
            except (OSError, smtplib.SMTPException) as exc:
                notifications.mail_failed(ctx, mail.notification.id, now, str(exc))
                failed += 1
            else:
                notifications.mail_sent(ctx, mail.notification.id, now)
                sent += 1
    return Sent(sent=sent, failed=failed)
