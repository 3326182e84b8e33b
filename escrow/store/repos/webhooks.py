"""Webhooks: the subscriptions of banks and developers, and their deliveries (the outbox and its log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from escrow.domain.paging import Page
from escrow.store.models import Project, SupervisedAccount, Webhook, WebhookDelivery
from escrow.store.repos.base import Repo, valid_id

PENDING = "pending"


@dataclass(frozen=True)
class Listeners:
    """The active webhooks that hear an event on one account, with what names the account on the wire."""

    webhooks: list[Webhook]
    account_no: str | None
    project_id: int | None


def pending_backlog(session: Session) -> int:
    """How many deliveries of active webhooks wait to be sent (for /metrics: the outbox's backlog)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.status == PENDING, Webhook.active.is_(True))
        )
        or 0
    )


class Webhooks(Repo):
    # --- subscriptions -------------------------------------------------------------------------------------

    def owned(self, webhook_id: int, bank_id: int | None, developer_id: int | None) -> Webhook | None:
        """The active webhook `webhook_id` if it belongs to this bank or developer; else None (404)."""
        if not valid_id(webhook_id) or (bank_id is None and developer_id is None):
            return None
        owner = Webhook.bank_id == bank_id if bank_id is not None else Webhook.developer_id == developer_id
        return self.one_of(Webhook, Webhook.id == webhook_id, owner, Webhook.active.is_(True))

    def of_owner(self, bank_id: int | None, developer_id: int | None, page: Page) -> list[Webhook]:
        """The owner's active webhooks in id order: the page's (and one more, which says more follow)."""
        if bank_id is None and developer_id is None:
            return []
        owner = Webhook.bank_id == bank_id if bank_id is not None else Webhook.developer_id == developer_id
        stmt = select(Webhook).where(owner, Webhook.active.is_(True))
        if page.after is not None:
            stmt = stmt.where(Webhook.id > page.after[0])
        return list(self.session.scalars(stmt.order_by(Webhook.id).limit(page.limit + 1)))

    def listeners(self, account_id: int, audience: str) -> Listeners:
        """The active webhooks of the bank supervising the account (`audience` "bank") or of the developer
        of its project ("developer"), in one statement; the event's subscription is checked by the caller."""
        owner = (
            Webhook.bank_id == SupervisedAccount.bank_id
            if audience == "bank"
            else Webhook.developer_id == Project.developer_id
        )
        rows = self.session.execute(
            select(Webhook, SupervisedAccount.account_no, Project.id)
            .select_from(SupervisedAccount)
            .join(Project, Project.id == SupervisedAccount.project_id)
            .join(Webhook, and_(owner, Webhook.active.is_(True)))
            .where(SupervisedAccount.id == account_id)
            .order_by(Webhook.id)
        ).all()
        if not rows:
            return Listeners([], None, None)
        return Listeners([r[0] for r in rows], rows[0][1], rows[0][2])

    # --- deliveries ----------------------------------------------------------------------------------------

    def add_deliveries(self, rows: list[dict[str, Any]]) -> int:
        if rows:
            self.session.execute(insert(WebhookDelivery), rows)
        return len(rows)

    def delivery(self, delivery_id: int) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id) if valid_id(delivery_id) else None

    def deliveries(self, webhook_id: int, page: Page) -> list[WebhookDelivery]:
        """The webhook's deliveries in id order: the page's (and one more, which says more follow)."""
        stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if page.after is not None:
            stmt = stmt.where(WebhookDelivery.id > page.after[0])
        return list(self.session.scalars(stmt.order_by(WebhookDelivery.id).limit(page.limit + 1)))

    def claim_due(self, now: datetime, limit: int) -> list[tuple[WebhookDelivery, Webhook]]:
        """The deliveries due at `now`: of each active webhook its oldest pending one (so that a webhook's
        deliveries go out in id order), if its time has come; locked so that a second process skips them
        (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write transaction has one writer)."""
        older = aliased(WebhookDelivery)
        head = (
            select(func.min(older.id))
            .where(older.webhook_id == WebhookDelivery.webhook_id, older.status == PENDING)
            .scalar_subquery()
        )
        stmt = (
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == PENDING,
                Webhook.active.is_(True),
                WebhookDelivery.id == head,
                or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
        return [(d, w) for d, w in self.session.execute(stmt)]

    def pending_count(self) -> int:
        return pending_backlog(self.session)
