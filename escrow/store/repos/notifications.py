"""Notifications: who receives them, the inbox of one user, and the e-mail outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, insert, select, update

from escrow.store.models import Notification, Project, SupervisedAccount, User
from escrow.store.repos.base import Repo, valid_id

K = TypeVar("K", int, str)  # what recipients are grouped by: an account id or a role


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str | None


@dataclass(frozen=True)
class Outgoing:
    """A notification whose e-mail is due, with its recipient's address."""

    row: Notification
    email: str | None  # None: the user has no address (any more)
    developer_staff: bool


class Notifications(Repo):
    # --- who ---------------------------------------------------------------------------------------------

    def bureau_users(self, roles: Iterable[str]) -> dict[str, list[Recipient]]:
        """The active bureau users of each of `roles`, in one statement."""
        return self._recipients_by(
            roles,
            lambda wanted: (
                select(User.role, User.id, User.email)
                .where(self.among(User.role, wanted), User.active.is_(True), User.developer_id.is_(None))
                .order_by(User.id)
            ),
        )

    def developer_users_of_accounts(self, account_ids: Iterable[int]) -> dict[int, list[Recipient]]:
        """The active staff of the developer whose project each account supervises, in one statement."""
        return self._recipients_by(
            account_ids,
            lambda ids: (
                select(SupervisedAccount.id, User.id, User.email)
                .join(Project, Project.id == SupervisedAccount.project_id)
                .join(User, User.developer_id == Project.developer_id)
                .where(self.among(SupervisedAccount.id, ids), User.active.is_(True))
                .order_by(User.id)
            ),
        )

    def _recipients_by(
        self, keys: Iterable[K], statement: Callable[[list[K]], Select]
    ) -> dict[K, list[Recipient]]:
        """Each of `keys` (even one nobody answers to) with its recipients, from one statement that selects
        (key, user id, e-mail) rows for the keys it is given; no statement at all for no keys."""
        wanted = sorted(set(keys))
        found: dict[K, list[Recipient]] = {key: [] for key in wanted}
        if not wanted:
            return found
        for key, user_id, email in self.session.execute(statement(wanted)):
            found[key].append(Recipient(user_id, email))
        return found

    def projects_of_accounts(self, account_ids: Iterable[int]) -> dict[int, Project]:
        """The project each account supervises, in one statement."""
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(SupervisedAccount.id, Project)
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(self.among(SupervisedAccount.id, ids))
        )
        return {account_id: project for account_id, project in rows}

    # --- writing -------------------------------------------------------------------------------------------

    def add_many(self, rows: list[dict[str, Any]]) -> int:
        """Insert notifications together (one bulk INSERT: a sweep may raise many alerts at once)."""
        if rows:
            self.session.execute(insert(Notification), rows)
        return len(rows)

    # --- one user's inbox ---------------------------------------------------------------------------------

    def unread_count(self, user_id: int) -> int:
        return (
            self.session.scalar(
                select(func.count(Notification.id)).where(
                    Notification.user_id == user_id, Notification.read_at.is_(None)
                )
            )
            or 0
        )

    def count(self, user_id: int) -> int:
        stmt = select(func.count(Notification.id)).where(Notification.user_id == user_id)
        return self.session.scalar(stmt) or 0

    def newest(self, user_id: int, offset: int, limit: int) -> list[Notification]:
        return list(
            self.session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id.desc())
                .offset(offset)
                .limit(limit)
            )
        )

    def own(self, user_id: int, notification_id: int) -> Notification | None:
        """The user's own notification; another user's is as absent as one that does not exist."""
        if not valid_id(notification_id):
            return None
        return self.one_of(Notification, Notification.id == notification_id, Notification.user_id == user_id)

    def mark_all_read(self, user_id: int, at: datetime) -> int:
        result = self.session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    # --- the e-mail outbox --------------------------------------------------------------------------------

    def mail_due(self, now: datetime, limit: int) -> list[Outgoing]:
        rows = self.session.execute(
            select(Notification, User.email, User.developer_id)
            .join(User, User.id == Notification.user_id)
            .where(Notification.mail_due_at.is_not(None), Notification.mail_due_at <= now)
            .order_by(Notification.mail_due_at, Notification.id)
            .limit(limit)
        )
        return [Outgoing(row, email or None, developer_id is not None) for row, email, developer_id in rows]

    def get(self, notification_id: int) -> Notification | None:
        return self.session.get(Notification, notification_id)
