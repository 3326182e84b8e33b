"""Notifications: written by the use case whose event causes them, in its transaction (`at_step`,
`decided`, `alerts_raised`), read in the inbox (`inbox`, `open_one`, `mark_all_read`), and e-mailed from the
stored rows by the job `notify-mail` (`mail_due`, `mail_sent`, `mail_failed`) outside any request.

A notification stores its kind, its subject's type and id and a few parameters (a project's name, an amount,
the step's labels in both languages), never a sentence: the edge says it in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from escrow.domain import notifications as rules
from escrow.domain.approvals import Link
from escrow.domain.errors import NotFound
from escrow.domain.money import from_fen, to_wire
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Alert, Notification, utcnow
from escrow.store.repos.notifications import Recipient

PER_PAGE = 20
MAIL_BATCH = 100


# --- written with the event ------------------------------------------------------------------------------


def _rows(
    recipients: Iterable[Recipient], kind: str, subject_type: str, subject_id: int, params: dict[str, Any]
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "user_id": r.user_id,
            "kind": kind,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "params": params,
            "created_at": now,
            "read_at": None,
            # the outbox: a recipient with an address is mailed (where SMTP is configured; escrow.jobs.mail)
            "mail_due_at": now if r.email else None,
            "mailed_at": None,
            "mail_attempts": 0,
            "mail_error": None,
        }
        for r in recipients
    ]


def about(uow: UnitOfWork, account_id: int | None, amount_fen: int | None) -> dict[str, Any]:
    """The parameters that name a case: its project (by the account it is kept under) and its amount."""
    params: dict[str, Any] = {}
    if account_id is not None:
        project = uow.notifications.projects_of_accounts([account_id]).get(account_id)
        if project is not None:
            params.update(project_id=project.id, project=project.name)
    if amount_fen is not None:
        params["amount"] = to_wire(from_fen(amount_fen))
    return params


def at_step(
    uow: UnitOfWork,
    subject_type: str,
    subject_id: int,
    step: Link,
    may_take: Callable[[int], bool],
    params: dict[str, Any],
) -> int:
    """A case reached `step`: every active bureau user of the step's role who may take it is told."""
    users = [r for r in uow.notifications.bureau_users([step.role])[step.role] if may_take(r.user_id)]
    # the step's own words, in both languages, from the rule book it was taken under
    said = {
        **params,
        "step_no": step.step_no,
        "role": step.role,
        "step_zh": step.label_zh,
        "step_en": step.label_en,
    }
    return uow.notifications.add_many(_rows(users, rules.CASE_AT_STEP, subject_type, subject_id, said))


def decided(
    uow: UnitOfWork,
    subject_type: str,
    subject_id: int,
    status: str,
    account_id: int | None,
    params: dict[str, Any],
) -> int:
    """A developer's application was approved or rejected: the developer's staff are told."""
    if subject_type not in rules.DEVELOPER_APPLIES or account_id is None:
        return 0
    staff = uow.notifications.developer_users_of_accounts([account_id])[account_id]
    said = {**params, "status": status}
    return uow.notifications.add_many(_rows(staff, rules.CASE_DECIDED, subject_type, subject_id, said))


def alerts_raised(uow: UnitOfWork, alerts: Sequence[Alert]) -> int:
    """Alerts opened or reopened: the bureau users of each alert's role are told, and the developer's staff
    of an alert about what the developer does. A fixed number of statements however many alerts."""
    if not alerts:
        return 0
    bureau = uow.notifications.bureau_users({a.owner_role for a in alerts})
    accounts = {a.account_id for a in alerts if a.account_id is not None}
    projects = uow.notifications.projects_of_accounts(accounts)
    staff = uow.notifications.developer_users_of_accounts(
        a.account_id for a in alerts if a.account_id is not None and a.rule in rules.DEVELOPER_ALERTS
    )
    rows: list[dict[str, Any]] = []
    for alert in alerts:
        project = projects.get(alert.account_id) if alert.account_id is not None else None
        params: dict[str, Any] = {"rule": alert.rule, "severity": alert.severity}
        if project is not None:
            params.update(project_id=project.id, project=project.name)
        told = list(bureau[alert.owner_role])
        if alert.rule in rules.DEVELOPER_ALERTS and alert.account_id is not None:
            told += staff.get(alert.account_id, [])
        rows += _rows(told, rules.ALERT_RAISED, "alert", alert.id, params)
    return uow.notifications.add_many(rows)


# --- the inbox ----------------------------------------------------------------------------------------------


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive timestamps (written in UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    subject_type: str
    subject_id: int
    params: dict[str, Any]
    created_at: datetime
    read: bool


def _view(row: Notification) -> NotificationView:
    return NotificationView(
        id=row.id,
        kind=row.kind,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        params=dict(row.params or {}),
        created_at=_aware(row.created_at),
        read=row.read_at is not None,
    )


@dataclass(frozen=True)
class Inbox:
    items: tuple[NotificationView, ...]
    unread: int
    total: int
    page: int
    pages: int


def _user_id(actor: Principal) -> int:
    if actor.user_id is None:  # an API key's principal has no inbox
        raise NotFound("no inbox")
    return actor.user_id


def inbox(ctx: Context, actor: Principal, page: int = 1) -> Inbox:
    """The user's notifications, newest first, PER_PAGE a page."""
    user_id = _user_id(actor)
    with ctx.reading() as uow:
        total = uow.notifications.count(user_id)
        pages = max(1, -(-total // PER_PAGE))
        page = min(max(1, page), pages)
        rows = uow.notifications.newest(user_id, (page - 1) * PER_PAGE, PER_PAGE)
        return Inbox(
            tuple(_view(r) for r in rows), uow.notifications.unread_count(user_id), total, page, pages
        )


def unread(uow: UnitOfWork, user_id: int) -> int:
    """The badge's count (one indexed query, in the caller's transaction)."""
    return uow.notifications.unread_count(user_id)


def open_one(ctx: Context, actor: Principal, notification_id: int) -> NotificationView:
    """The user's own notification, marked read (the first time); another user's is not found."""
    user_id = _user_id(actor)
    with ctx.writing() as uow:
        row = uow.notifications.own(user_id, notification_id)
        if row is None:
            raise NotFound(f"no notification {notification_id}", rule=rules.ONLY_THE_RECIPIENT)
        if row.read_at is None:
            row.read_at = utcnow()
            uow.session.flush()
            audit.record(
                uow.session,
                actor=actor.ref,
                action="notification.read",
                subject_type="notification",
                subject_id=row.id,
                after={"read": True},
            )
        return ctx.commit(uow, _view(row))


def mark_all_read(ctx: Context, actor: Principal) -> int:
    """Every unread notification of the user marked read; returns how many."""
    user_id = _user_id(actor)
    with ctx.writing() as uow:
        marked = uow.notifications.mark_all_read(user_id, utcnow())
        if marked:
            audit.record(
                uow.session,
                actor=actor.ref,
                action="notification.read_all",
                subject_type="user",
                subject_id=user_id,
                after={"marked": marked},
            )
        return ctx.commit(uow, marked)


# --- the e-mail outbox -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """A notification to e-mail: the words are chosen by the job, in Chinese."""

    notification: NotificationView
    email: str
    attempts: int
    developer_staff: bool  # which side's page the link opens


def mail_due(ctx: Context, now: datetime, limit: int = MAIL_BATCH) -> list[Mail]:
    """The e-mails due now (oldest first). A recipient who has no address any more is taken off the outbox."""
    with ctx.writing() as uow:
        due = uow.notifications.mail_due(now, limit)
        out = []
        for item in due:
            if item.email is None:
                item.row.mail_due_at, item.row.mail_error = None, "no e-mail address"
            else:
                out.append(Mail(_view(item.row), item.email, item.row.mail_attempts, item.developer_staff))
        return ctx.commit(uow, out)


def mail_sent(ctx: Context, notification_id: int, now: datetime) -> None:
    with ctx.writing() as uow:
        row = uow.notifications.get(notification_id)
        if row is not None:
            row.mailed_at, row.mail_due_at, row.mail_error = now, None, None
            row.mail_attempts += 1
        ctx.commit(uow, None)


def mail_failed(ctx: Context, notification_id: int, now: datetime, error: str) -> datetime | None:
    """Record a failed attempt and when to try again (escrow.domain.notifications.next_attempt); None once
    it is given up."""
    with ctx.writing() as uow:
        row = uow.notifications.get(notification_id)
        if row is None:
            return ctx.commit(uow, None)
        row.mail_attempts += 1
        row.mail_due_at = rules.next_attempt(row.mail_attempts, now)
        row.mail_error = error[:1000]
        return ctx.commit(uow, row.mail_due_at)


def mail_dropped(ctx: Context, now: datetime) -> int:
    """Without an SMTP server configured nothing is e-mailed: the due rows leave the outbox."""
    with ctx.writing() as uow:
        due = uow.notifications.mail_due(now, MAIL_BATCH)
        for item in due:
            item.row.mail_due_at, item.row.mail_error = None, "no SMTP server configured"
        return ctx.commit(uow, len(due))
