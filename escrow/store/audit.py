"""The audit trail: every state change is an event chained by SHA-256 to the one before it in its chain.

There is one chain per account (the events with that `account_id`) and the city chain (the events without an
account), so that changes on different accounts never wait for each other. A chain is extended under its own
lock — its row in `audit_heads`, locked with SELECT … FOR UPDATE on PostgreSQL (on SQLite the write
transaction is exclusive already) — in the same transaction as the change it records. A transaction that
records on several chains locks them together first, in ascending chain order (`lock_chains`: a change of
bank, a rule book adoption, the alert sweep), so two such transactions cannot deadlock; two events of one
chain in one transaction link to each other.

The events written before revision 0016 form the legacy chain (chain -1): the single city-wide chain they were
written in, verified as before. Every other chain starts at GENESIS. `audit_heads` keeps each chain's last
event and length (the legacy chain's was backfilled by 0016).

An anchor (`anchor`, `escrow audit anchor`, the daily `audit-anchor` job) commits to every chain's head at
one moment by a Merkle root (`escrow.domain.merkle`); the root is stored with its leaves and recorded by an
event of the city chain, so it is itself chained.

The journal is covered by the chains too: every journal entry booked in a transaction is *claimed* by the next
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
    chain         = -1 for an event written before 0016 (exported as such), else account_id, or 0 without one;
                    walking a chain's events in id order, the first one's prev_hash is GENESIS (64 zeros) and
                    each next one's prev_hash is the hash of the one before it
    anchor root   = escrow.domain.merkle.root over (chain, head hash) of every chain with events
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

from sqlalchemy import bindparam, insert, literal, select, true, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from escrow.domain import merkle
from escrow.store.models import (
    AuditAnchor,
    AuditAnchorLeaf,
    AuditEvent,
    AuditHead,
    JournalEntry,
    JournalLeg,
    utcnow,
)
from escrow.store.repos.base import among, listed

GENESIS = "0" * 64
LEGACY_CHAIN = -1  # the single city-wide chain of the events before revision 0016
CITY_CHAIN = 0  # the events without an account
JOURNAL_KEY = "journal"  # details key of the journal entries an event claims
ANCHORED = "audit.anchored"  # the action of the city-chain event that records an anchor

_PENDING = "escrow.audit.unclaimed_journal"  # session.info: entries booked, not yet claimed by an event
_HEADS = (
    "escrow.audit.heads"  # session.info: chain → [head id, head hash, length], locked by this transaction
)
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


def hashed_body(event: AuditEvent | Mapping[str, Any]) -> dict[str, Any]:
    """What an event's hash covers besides the previous hash (also the body of an exported event). `event`:
    a row, or its columns as a dict (a bulk load's row before it is written)."""
    get = event.__getitem__ if isinstance(event, Mapping) else event.__getattribute__
    return {
        "occurred_at": utc_iso(get("occurred_at")),
        "actor": get("actor"),
        "action": get("action"),
        "subject_type": get("subject_type"),
        "subject_id": get("subject_id"),
        "account_id": get("account_id"),
        "before": get("before_digest"),
        "after": get("after_digest"),
        "details": get("details"),
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
    session.info.pop(_HEADS, None)


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


def chain_of(account_id: int | None) -> int:
    return CITY_CHAIN if account_id is None else account_id


def chain_name(chain: int) -> str:
    if chain == LEGACY_CHAIN:
        return "the legacy chain (before 0016)"
    return "the city chain" if chain == CITY_CHAIN else f"account {chain}'s chain"


def lock_chains(session: Session, chains: Iterable[int]) -> None:
    """Lock these chains now, in ascending order: a transaction that records on several chains calls this
    first, so that two of them always wait in the same order and never deadlock."""
    held = session.info.get(_HEADS, {})
    wanted = sorted(set(chains) - set(held))
    if held and wanted and wanted[0] < max(held):
        raise RuntimeError(f"audit chains {wanted} locked after chain {max(held)}: lock them together, first")
    if not wanted:
        return
    if len(wanted) == 1:
        _head(session, wanted[0])
        return
    # many (the alert sweep): missing head rows created, then every row locked in ascending order
    held = session.info.setdefault(_HEADS, {})
    h = AuditHead.__table__.c
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    chains_ = listed(session, wanted)
    fresh = select(chains_.c.value, literal(0), literal(GENESIS), literal(0)).where(true())
    columns = ["chain", "head_id", "head_hash", "length"]
    session.execute(dialect.insert(AuditHead).from_select(columns, fresh).on_conflict_do_nothing())
    locked = select(h.chain, h.head_id, h.head_hash, h.length).where(among(session, h.chain, wanted))
    for row in session.execute(locked.order_by(h.chain).with_for_update()):
        held[row.chain] = [row.head_id, row.head_hash, row.length]


def head_columns() -> tuple[Any, ...]:
    """The columns of a chain's head, for a caller that locks it in a statement of its own (`hold`)."""
    h = AuditHead.__table__.c
    return h.head_id, h.head_hash, h.length


def hold(session: Session, chain: int, head_id: int, head_hash: str, length: int) -> None:
    """The chain's head, read and locked by the caller's own statement (a deposit locks its account and its
    account's chain together): `record` then extends it without reading it again."""
    session.info.setdefault(_HEADS, {}).setdefault(chain, [head_id, head_hash, length])


def held_head(session: Session, chain: int) -> list[Any]:
    """The chain's head as this transaction holds it, [head id, head hash, length], locked on first use (as
    `record` takes it): a bulk load that writes a chain's events itself extends this list in place, as
    `record` does, and writes the head row (escrow.store.bulk)."""
    return _head(session, chain)


def _head(session: Session, chain: int) -> list[Any]:
    """The chain's head as this transaction sees it, its lock taken on first use in the transaction."""
    held = session.info.setdefault(_HEADS, {})
    if chain in held:
        return held[chain]
    h = AuditHead.__table__.c
    locked = select(h.head_id, h.head_hash, h.length).where(h.chain == chain).with_for_update()
    row = session.execute(locked).first()
    if (
        row is None
    ):  # the chain's first event: its head row, created once (a racing creator waits, then reads)
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        values = {"chain": chain, "head_id": 0, "head_hash": GENESIS, "length": 0}
        session.execute(dialect.insert(AuditHead).values(values).on_conflict_do_nothing())
        row = session.execute(locked).one()
    held[chain] = [row.head_id, row.head_hash, row.length]
    return held[chain]


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
    batch = session.info.get(_BATCH)  # inside `batched`: flushed once, written when the block ends
    if batch is None:
        session.flush()  # journal rows still pending in the session are booked, and noticed, before the claim
    chain = chain_of(account_id)
    head = _head(session, chain)
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
        prev_hash=head[1],
        hash="",
        chain=chain,
    )
    event.hash = event_hash(head[1], event)
    if batch is not None:
        batch.append(event)
        head[:] = [None, event.hash, head[2] + 1]  # its id once the batch is written
        return event
    session.add(event)
    session.flush()
    head[:] = [event.id, event.hash, head[2] + 1]
    session.execute(
        update(AuditHead)
        .where(AuditHead.__table__.c.chain == chain)
        .values(head_id=event.id, head_hash=event.hash, length=head[2])
    )
    return event


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """The events `record`ed inside are written together when the block ends instead of one round trip each
    (for a job that records many events at once: the alert sweep): one bulk INSERT, one SELECT of their ids
    by hash per chunk, one UPDATE of the heads (executemany). Each chain is still locked on its first event,
    as `record` does. Changes pending before the block are flushed first; nothing may be booked in the
    journal inside the block; the events `record` returns get their ids when the block ends."""
    session.flush()
    events: list[AuditEvent] = []
    session.info[_BATCH] = events
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    if events:
        _write_batch(session, events)


def _write_batch(session: Session, events: list[AuditEvent]) -> None:
    columns = [c.key for c in AuditEvent.__table__.columns if c.key != "id"]
    # without RETURNING: SQLite would insert row by row to return ids in order; the hashes are unique
    session.execute(insert(AuditEvent), [{c: getattr(e, c) for c in columns} for e in events])
    hashes = [e.hash for e in events]
    ids = dict(
        session.execute(
            select(AuditEvent.hash, AuditEvent.id).where(among(session, AuditEvent.hash, hashes))
        ).all()
    )
    heads = session.info[_HEADS]
    for event in events:
        event.id = ids[event.hash]
        if heads[event.chain][1] == event.hash:
            heads[event.chain][0] = event.id
    touched = {event.chain for event in events}
    h = AuditHead.__table__
    session.execute(
        h.update()
        .where(h.c.chain == bindparam("chain_"))
        .values(head_id=bindparam("id_"), head_hash=bindparam("hash_"), length=bindparam("length_")),
        [
            {"chain_": chain, "id_": head_id, "hash_": head_hash, "length_": length}
            for chain, (head_id, head_hash, length) in heads.items()
            if chain in touched
        ],
    )


# --- anchors -----------------------------------------------------------------------------------------------


def anchor(session: Session, *, actor: str) -> AuditAnchor:
    """Commit to every chain's head as it stands (one statement, one snapshot, no lock taken on any account's
    chain): store the Merkle root with its leaves and record it on the city chain."""
    h = AuditHead.__table__.c
    heads = session.execute(
        select(h.chain, h.head_id, h.head_hash).where(h.length > 0).order_by(h.chain)
    ).all()
    root = merkle.root((row.chain, row.head_hash) for row in heads)
    row = AuditAnchor(anchored_at=utcnow().replace(microsecond=0), root=root, chains=len(heads))
    session.add(row)
    session.flush()
    if heads:
        session.execute(
            AuditAnchorLeaf.__table__.insert(),
            [
                {"anchor_id": row.id, "chain": r.chain, "head_id": r.head_id, "head_hash": r.head_hash}
                for r in heads
            ],
        )
    event = record(
        session,
        actor=actor,
        action=ANCHORED,
        subject_type="audit_anchor",
        subject_id=row.id,
        details={"root": root, "chains": len(heads)},
    )
    row.event_id = event.id
    session.flush()
    return row
