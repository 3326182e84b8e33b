"""Webhooks (CONTRACT.md §10): a bank or a developer subscribes a URL to events; each event writes a delivery
row for every matching subscription in the event's own transaction (`emit`, the outbox), and the job
`webhook-deliver` (escrow.jobs.webhooks) sends them outside any request with back-off.

Use cases: `create`, `listing`, `get`, `disable`, `rotate`, `deliveries` (one transaction each); the job's
`claim_due`, `delivered`, `failed`. The events: `instruction_created`, `deposit_posted`, `decided`.

The secret is issued here (`whsec_` and 256 random bits, URL-safe), answered once at creation and once at each
rotation; a rotation replaces it at once: the next delivery — a retry included — is signed with the new one
only, and the old one signs nothing any more (no overlap: a receiver that rotates updates its own copy from
the answer). It is stored as issued (see escrow.store.models.Webhook for why and how it is protected).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from escrow.domain import webhooks as rules
from escrow.domain.errors import Forbidden, InvalidInput, NotFound
from escrow.domain.money import from_fen, to_wire
from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import PaymentInstruction, Webhook, WebhookDelivery, utcnow
from escrow.store.repos.webhooks import Listeners

# A claimed delivery is not claimed again for this long (the send's timeout is far shorter): a scheduler
# that dies while sending leaves it to the next run once this has passed.
LEASE = timedelta(minutes=2)
CLAIM_BATCH = 50


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive timestamps (written in UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- views --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookView:
    webhook_id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None


@dataclass(frozen=True)
class WebhookCreated(WebhookView):
    secret: str  # shown on this answer only


@dataclass(frozen=True)
class SecretRotated:
    webhook_id: int
    secret: str  # shown on this answer only; the old secret signs nothing from now on
    secret_rotated_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    delivery_id: int
    event_id: str
    type: str
    status: str  # pending | delivered | failed
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    payload: dict[str, Any]


def _view(row: Webhook) -> WebhookView:
    return WebhookView(
        row.id, row.url, list(row.events), row.active, _aware(row.created_at), _aware(row.secret_rotated_at)
    )


def _delivery_view(row: WebhookDelivery) -> DeliveryView:
    return DeliveryView(
        delivery_id=row.id,
        event_id=row.event_id,
        type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        created_at=_aware(row.created_at),
        next_attempt_at=_aware(row.next_attempt_at) if row.status == "pending" else None,
        last_attempt_at=_aware(row.last_attempt_at),
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=_aware(row.delivered_at),
        payload=dict(row.payload or {}),
    )


# --- the subscriber's use cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewWebhook:
    url: str
    events: list[str]


def _owner(actor: Principal) -> tuple[str, int | None, int | None]:
    if actor.kind == "bank" and actor.bank_id is not None:
        return "bank", actor.bank_id, None
    if actor.kind == "developer" and actor.developer_id is not None:
        return "developer", None, actor.developer_id
    raise Forbidden("webhooks are for bank and developer keys")


def _audit(uow: UnitOfWork, actor: Principal, action: str, row: Webhook, **after: Any) -> None:
    audit.record(
        uow.session,
        actor=actor.ref,
        action=action,
        subject_type="webhook",
        subject_id=row.id,
        after={"url": row.url, "events": list(row.events), **after},
    )


def create(ctx: Context, cmd: NewWebhook, actor: Principal) -> WebhookCreated:
    kind, bank_id, developer_id = _owner(actor)
    errors = rules.url_errors(cmd.url) + rules.event_errors(kind, list(cmd.events))
    if errors:
        raise InvalidInput("the webhook is not valid", errors=errors)
    with ctx.writing() as uow:
        row = uow.webhooks.add(
            Webhook(
                bank_id=bank_id,
                developer_id=developer_id,
                url=cmd.url,
                events=list(cmd.events),
                secret=new_secret(),
                active=True,
            )
        )
        _audit(uow, actor, "webhook.created", row)  # the secret is never in the audit trail
        return ctx.commit(uow, WebhookCreated(**vars(_view(row)), secret=row.secret))


def _own(uow: UnitOfWork, webhook_id: int, actor: Principal) -> Webhook:
    _kind, bank_id, developer_id = _owner(actor)
    row = uow.webhooks.owned(webhook_id, bank_id, developer_id)
    if row is None:
        raise NotFound(f"no webhook {webhook_id}", rule=rules.ONLY_THE_OWNER)
    return row


def listing(ctx: Context, actor: Principal, page: Page) -> Paged[WebhookView]:
    """One page of the bank's or developer's active webhooks, in id order."""
    _kind, bank_id, developer_id = _owner(actor)
    with ctx.reading() as uow:
        found = page_of(uow.webhooks.of_owner(bank_id, developer_id, page), page, lambda r: (r.id,))
        return Paged([_view(r) for r in found.items], found.next)


def get(ctx: Context, webhook_id: int, actor: Principal) -> WebhookView:
    with ctx.reading() as uow:
        return _view(_own(uow, webhook_id, actor))


def disable(ctx: Context, webhook_id: int, actor: Principal) -> WebhookView:
    """Deleting a webhook disables it: nothing more is written for it or sent, its log stays."""
    with ctx.writing() as uow:
        row = _own(uow, webhook_id, actor)
        row.active, row.disabled_at = False, utcnow()
        uow.session.flush()
        _audit(uow, actor, "webhook.deleted", row, active=False)
        return ctx.commit(uow, _view(row))


def rotate(ctx: Context, webhook_id: int, actor: Principal) -> SecretRotated:
    with ctx.writing() as uow:
        row = _own(uow, webhook_id, actor)
        row.secret, row.secret_rotated_at = new_secret(), utcnow()
        uow.session.flush()
        _audit(uow, actor, "webhook.secret_rotated", row)
        return ctx.commit(uow, SecretRotated(row.id, row.secret, _aware(row.secret_rotated_at)))


def deliveries(ctx: Context, webhook_id: int, actor: Principal, page: Page) -> Paged[DeliveryView]:
    """One page of the webhook's deliveries, oldest first."""
    with ctx.reading() as uow:
        row = _own(uow, webhook_id, actor)
        found = page_of(uow.webhooks.deliveries(row.id, page), page, lambda d: (d.id,))
        return Paged([_delivery_view(d) for d in found.items], found.next)


# --- written with the event (the outbox) --------------------------------------------------------------------


def emit(
    uow: UnitOfWork, event_type: str, account_id: int, data: Callable[[Listeners], dict[str, Any]]
) -> int:
    """Write one delivery for every active webhook that hears `event_type` on the account, in the caller's
    transaction (rules.OUTBOX_WITH_THE_EVENT). `data` builds the event's data only when someone listens:
    without subscribers an event costs one indexed statement."""
    listeners = uow.webhooks.listeners(account_id, rules.AUDIENCE[event_type])
    hearing = [w for w in listeners.webhooks if event_type in (w.events or [])]
    if not hearing:
        return 0
    now = utcnow()
    event_id = f"evt_{uuid.uuid4().hex}"
    payload = {
        "id": event_id,
        "type": event_type,
        "created_at": now.isoformat(),
        "data": json.loads(json.dumps(data(listeners), default=str)),
    }
    return uow.webhooks.add_deliveries(
        [
            {
                "webhook_id": w.id,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "last_attempt_at": None,
                "last_status_code": None,
                "last_error": None,
                "delivered_at": None,
            }
            for w in hearing
        ]
    )


def instruction_created(uow: UnitOfWork, ins: PaymentInstruction) -> int:
    """A payment instruction for the bank: its data is the instruction as the bank's list shows it."""
    from escrow.services.instructions import instruction_view  # it imports the workflows that call this
    from escrow.services.views import wire

    uow.session.flush()
    return emit(uow, rules.INSTRUCTION_CREATED, ins.account_id, lambda _l: wire(instruction_view(uow, ins)))


def deposit_posted(uow: UnitOfWork, account_id: int, view: Callable[[], Any]) -> int:
    """A deposit booked on the developer's account (accepted or in suspense, posted by the bank or found on
    its statement); its data is the deposit's view (`view()`, built only when someone listens) without the
    voucher's verification code, which is the buyer's."""
    from escrow.services.views import wire

    def data(listeners: Listeners) -> dict[str, Any]:
        said = wire(view())
        if said.get("voucher"):
            said["voucher"] = {"voucher_no": said["voucher"].get("voucher_no")}
        return {"project_id": listeners.project_id, **said}

    return emit(uow, rules.DEPOSIT_POSTED, account_id, data)


def decided(uow: UnitOfWork, kind: str, subject: Any, account_id: int | None) -> int:
    """A developer's release or refund was approved or rejected."""
    event = {"release": rules.RELEASE_DECIDED, "refund": rules.REFUND_DECIDED}.get(kind)
    if event is None or account_id is None:
        return 0

    def data(listeners: Listeners) -> dict[str, Any]:
        amount = getattr(subject, "amount_fen", None)
        return {
            f"{kind}_id": subject.id,
            "project_id": listeners.project_id,
            "account_no": listeners.account_no,
            "status": subject.status,
            "amount": to_wire(from_fen(amount)) if amount is not None else None,
        }

    return emit(uow, event, account_id, data)


# --- the job's side -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A delivery to send: the exact body, and the secret to sign it with."""

    delivery_id: int
    webhook_id: int
    event_id: str
    url: str
    secret: str
    body: bytes


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def claim_due(ctx: Context, now: datetime, limit: int = CLAIM_BATCH) -> list[Outgoing]:
    """The deliveries due at `now` (each webhook's oldest pending one), claimed for LEASE: a second process
    skips them meanwhile, and a crash while sending leaves them to be tried again after it."""
    with ctx.writing() as uow:
        due = uow.webhooks.claim_due(now, limit)
        out = []
        for delivery, webhook in due:
            delivery.next_attempt_at = now + LEASE
            out.append(
                Outgoing(
                    delivery.id,
                    webhook.id,
                    delivery.event_id,
                    webhook.url,
                    webhook.secret,
                    body_of(delivery.payload),
                )
            )
        return ctx.commit(uow, out)


def delivered(ctx: Context, delivery_id: int, now: datetime, status_code: int) -> None:
    with ctx.writing() as uow:
        row = uow.webhooks.delivery(delivery_id)
        if row is not None and row.status == "pending":
            row.status, row.delivered_at, row.next_attempt_at = "delivered", now, None
            row.attempts += 1
            row.last_attempt_at, row.last_status_code, row.last_error = now, status_code, None
        ctx.commit(uow, None)


def failed(
    ctx: Context, delivery_id: int, now: datetime, status_code: int | None, error: str
) -> datetime | None:
    """Record a failed attempt and when to try again (rules.next_attempt); None once it is given up."""
    with ctx.writing() as uow:
        row = uow.webhooks.delivery(delivery_id)
        if row is None or row.status != "pending":
            return ctx.commit(uow, None)
        row.attempts += 1
        row.last_attempt_at, row.last_status_code, row.last_error = now, status_code, error[:1000]
        row.next_attempt_at = rules.next_attempt(row.attempts, now, _aware(row.created_at))
        if row.next_attempt_at is None:
            row.status = "failed"
        return ctx.commit(uow, row.next_attempt_at)
