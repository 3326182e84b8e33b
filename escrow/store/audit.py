"""The audit trail: every state change is an event chained by SHA-256 to the one before it.

The chain is extended under a lock (an advisory lock on PostgreSQL, the write transaction on SQLite), in the
same transaction as the change it records.

The journal is covered by the chain too: every journal entry booked in a transaction is *claimed* by the next
audit event of that transaction, which carries `details["journal"] = [[entry_id, entry_digest], …]`. The
digest covers the entry and all its legs (ids included), so editing, deleting, re-numbering or adding a
journal row breaks either a digest or a claim, and the claim itself cannot be changed without breaking the
chain (`escrow audit verify`, `escrow.services.auditing`). A transaction that books journal entries and then
tries to commit without recording an audit event is refused.

The recipes, for an outside auditor (README, "Verifying the audit trail"):

    canonical(x)  = JSON with sorted keys, no whitespace, UTF-8 (json.dumps(x, sort_keys=True,
                    ensure_ascii=False, separators=(",", ":")))
    event hash    = sha256_hex(prev_hash + canonical(body)), body = the event's occurred_at (UTC, ISO 8601),
                    actor, action, subject_type, subject_id, account_id, before, after, details
    entry digest  = sha256_hex(canonical({id, account_id, kind, booked_on, reference, amount_fen,
                    legs: [{id, account_id, ledger, amount_fen}, …] in leg id order}))
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from escrow.store.locks import advisory_lock
from escrow.store.models import AuditEvent, JournalEntry, JournalLeg, utcnow

GENESIS = "0" * 64
AUDIT_LOCK = 0x45534352  # "ESCR"
JOURNAL_KEY = "journal"  # details key of the journal entries an event claims

_PENDING = "escrow.audit.unclaimed_journal"  # session.info: entries booked, not yet claimed by an event
_HEAD = "escrow.audit.head"  # session.info: the chain head this transaction last wrote (under the lock)
_BATCH = "escrow.audit.batch"  # session.info: inside `batched`, the events recorded and not yet written


class UnauditedBooking(RuntimeError):
    """A transaction booked journal entries but recorded no audit event after them: a bug, refused."""


def digest(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite returns naive timestamps; they were written in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def hashed_body(event: AuditEvent) -> dict[str, Any]:
    """What an event's hash covers besides the previous hash (also the body of an exported event)."""
    return {
        "occurred_at": utc_iso(event.occurred_at),
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "account_id": event.account_id,
        "before": event.before_digest,
        "after": event.after_digest,
        "details": event.details,
    }


def chain_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(body)).encode()).hexdigest()


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return chain_hash(prev_hash, hashed_body(event))


# --- journal entries ---------------------------------------------------------------------------------------


def entry_record(entry: Any, legs: Iterable[Any]) -> dict[str, Any]:
    """A journal entry and its legs as plain data (rows, or dicts with the same names): what is digested and
    what an export carries."""

    def get(obj: Any, name: str) -> Any:
        return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)

    booked = get(entry, "booked_on")
    return {
        "id": get(entry, "id"),
        "account_id": get(entry, "account_id"),
        "kind": get(entry, "kind"),
        "booked_on": booked.isoformat() if isinstance(booked, date) else booked,
        "reference": get(entry, "reference"),
        "amount_fen": get(entry, "amount_fen"),
        "legs": sorted(
            (
                {
                    "id": get(leg, "id"),
                    "account_id": get(leg, "account_id"),
                    "ledger": get(leg, "ledger"),
                    "amount_fen": get(leg, "amount_fen"),
                }
                for leg in legs
            ),
            key=lambda leg: leg["id"],
        ),
    }


def entry_digest(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(dict(record)).encode()).hexdigest()


def note_journal(session: Session, entries: Iterable[Any], legs: Iterable[Any]) -> None:
    """Journal rows written with Core inserts (bulk loads, as dicts): the next `record` in this transaction
    claims them. Rows written through the ORM are noticed without this."""
    pending = session.info.setdefault(_PENDING, {"entries": {}, "legs": []})
    for e in entries:
        pending["entries"][e["id"] if isinstance(e, Mapping) else e.id] = e
    pending["legs"].extend(legs)


@sa_event.listens_for(Session, "after_flush")
def _notice_journal_rows(session: Session, _flush_context: Any) -> None:
    rows = [obj for obj in session.new if isinstance(obj, JournalEntry | JournalLeg)]
    if not rows:
        return
    note_journal(
        session,
        (r for r in rows if isinstance(r, JournalEntry)),
        (r for r in rows if isinstance(r, JournalLeg)),
    )


@sa_event.listens_for(Session, "before_commit")
def _refuse_unaudited_booking(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if pending and pending["entries"]:
        ids = sorted(pending["entries"])
        raise UnauditedBooking(f"journal entries {ids[:10]} were booked without an audit event")


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_HEAD, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_soft_rollback(session: Session, _previous: Any) -> None:
    _forget(session)


def _claims(session: Session) -> list[list[Any]]:
    pending = session.info.pop(_PENDING, None)
    if not pending or not pending["entries"]:
        if pending and pending["legs"]:  # legs of an entry claimed earlier in this transaction
            raise UnauditedBooking("journal legs were added to an entry already recorded in the audit trail")
        return []
    legs: dict[int, list[Any]] = {}
    for leg in pending["legs"]:
        entry_id = leg["entry_id"] if isinstance(leg, Mapping) else leg.entry_id
        legs.setdefault(entry_id, []).append(leg)
    stray = set(legs) - set(pending["entries"])
    if stray:
        raise UnauditedBooking(f"journal legs for entries {sorted(stray)} outside this transaction's entries")
    return [
        [entry_id, entry_digest(entry_record(entry, legs.get(entry_id, ())))]
        for entry_id, entry in sorted(pending["entries"].items())
    ]


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """The events `record`ed inside are written together when the block ends (one bulk INSERT, without
    RETURNING: SQLite would otherwise insert row by row) instead of one round trip each: for a job that
    records many events at once (the alert sweep). Changes pending before the block are flushed (and journal
    rows claimed) as `record` would; nothing may be booked in the journal inside the block, and the events
    `record` returns inside it get no id."""
    session.flush()
    advisory_lock(session, AUDIT_LOCK)
    events: list[AuditEvent] = []
    session.info[_BATCH] = events
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    if events:
        columns = [c.key for c in AuditEvent.__table__.columns if c.key != "id"]
        session.execute(insert(AuditEvent), [{c: getattr(e, c) for c in columns} for e in events])


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
    batch = session.info.get(_BATCH)  # flushed and locked once by `batched`, written when it ends
    in_batch = batch is not None
    if not in_batch:
        session.flush()  # journal rows still pending in the session are booked, and noticed, before the claim
        advisory_lock(session, AUDIT_LOCK)
    prev = session.info.get(_HEAD)
    if prev is None:
        last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        prev = last or GENESIS
    # hash exactly what is stored: JSON-native values (a date becomes its string, a tuple a list)
    stored = json.loads(canonical(details or {}))
    claims = _claims(session)
    if claims:
        stored[JOURNAL_KEY] = claims
    event = AuditEvent(
        occurred_at=utcnow().replace(microsecond=0),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        account_id=account_id,
        before_digest=digest(before),
        after_digest=digest(after),
        details=stored,
        prev_hash=prev,
        hash="",
    )
    event.hash = event_hash(prev, event)
    if in_batch:
        batch.append(event)
    else:
        session.add(event)
        session.flush()
    session.info[_HEAD] = event.hash
    return event
