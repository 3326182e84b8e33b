"""The audit trail: every state change is an event chained by SHA-256 to the one before it.

The chain is extended under a lock (an advisory lock on PostgreSQL, the write transaction on SQLite), in the
same transaction as the change it records.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escrow.store.models import AuditEvent, utcnow
from escrow.store.repositories import advisory_lock

GENESIS = "0" * 64
AUDIT_LOCK = 0x45534352  # "ESCR"


def digest(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    occurred = event.occurred_at
    if occurred.tzinfo is None:  # SQLite returns naive timestamps; they were written in UTC
        occurred = occurred.replace(tzinfo=UTC)
    body = canonical(
        {
            "occurred_at": occurred.astimezone(UTC).isoformat(),
            "actor": event.actor,
            "action": event.action,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "account_id": event.account_id,
            "before": event.before_digest,
            "after": event.after_digest,
            "details": event.details,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    account_id: int | None = None,
    before: Any = None,
    after: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    advisory_lock(session, AUDIT_LOCK)
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev = last or GENESIS
    event = AuditEvent(
        occurred_at=utcnow().replace(microsecond=0),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        account_id=account_id,
        before_digest=digest(before),
        after_digest=digest(after),
        details=details or {},
        prev_hash=prev,
        hash="",
    )
    event.hash = event_hash(prev, event)
    session.add(event)
    session.flush()
    return event
