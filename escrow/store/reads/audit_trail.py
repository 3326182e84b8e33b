"""The audit trail and the journal read whole, for `escrow audit verify` and `export`: in keyset pages (no
long-lived cursor, the same on both engines), in the order the verifier needs them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import exists, select

from escrow.store import audit
from escrow.store.models import AuditAnchor, AuditAnchorLeaf, AuditEvent, AuditHead, JournalEntry, JournalLeg
from escrow.store.repos.base import Reads

BATCH = 5_000


class AuditTrail(Reads):
    def events(self, batch: int = BATCH) -> Iterator[AuditEvent]:
        """Every audit event in id order; each page is let go of (expunged) before the next is read."""
        last = 0
        while True:
            page = list(
                self.session.scalars(
                    select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
                )
            )
            if not page:
                return
            yield from page
            last = page[-1].id
            self.session.expunge_all()

    def entries(self, batch: int = BATCH) -> Iterator[dict[str, Any]]:
        """Every journal entry with its legs in id order, as `audit.entry_record` makes them."""
        e, g = JournalEntry.__table__.c, JournalLeg.__table__.c
        last = 0
        while True:
            entries = self.session.execute(
                select(e.id, e.account_id, e.kind, e.booked_on, e.reference, e.amount_fen)
                .where(e.id > last)
                .order_by(e.id)
                .limit(batch)
            ).all()
            if not entries:
                return
            legs: dict[int, list[Mapping[str, Any]]] = {}
            for leg in self.session.execute(
                select(g.id, g.entry_id, g.account_id, g.ledger, g.amount_fen)
                .where(g.entry_id >= entries[0].id, g.entry_id <= entries[-1].id)
                .order_by(g.entry_id, g.id)
            ).mappings():
                legs.setdefault(leg["entry_id"], []).append(leg)
            for row in entries:
                yield audit.entry_record(row._mapping, legs.get(row.id, ()))
            last = entries[-1].id

    def heads(self) -> dict[int, tuple[int, str, int]]:
        """chain → (head event id, head hash, length), as `audit_heads` keeps them."""
        h = AuditHead.__table__.c
        return {
            row.chain: (row.head_id, row.head_hash, row.length)
            for row in self.session.execute(select(h.chain, h.head_id, h.head_hash, h.length))
        }

    def anchors(self) -> Iterator[dict[str, Any]]:
        """Every anchor in id order with its leaves in chain order, as an export carries them."""
        a, f = AuditAnchor.__table__.c, AuditAnchorLeaf.__table__.c
        leaves: dict[int, list[list[Any]]] = {}
        for row in self.session.execute(
            select(f.anchor_id, f.chain, f.head_id, f.head_hash).order_by(f.anchor_id, f.chain)
        ):
            leaves.setdefault(row.anchor_id, []).append([row.chain, row.head_id, row.head_hash])
        for row in self.session.execute(
            select(a.id, a.anchored_at, a.root, a.chains, a.event_id).order_by(a.id)
        ):
            yield {
                "id": row.id,
                "anchored_at": audit.utc_iso(row.anchored_at),
                "root": row.root,
                "chains": row.chains,
                "event_id": row.event_id,
                "leaves": leaves.get(row.id, []),
            }

    def orphan_legs(self) -> list[tuple[int, int]]:
        """(leg id, entry id) of the journal legs whose entry does not exist."""
        e, g = JournalEntry.__table__.c, JournalLeg.__table__.c
        return [
            (leg_id, entry_id)
            for leg_id, entry_id in self.session.execute(
                select(g.id, g.entry_id).where(~exists().where(e.id == g.entry_id)).order_by(g.entry_id, g.id)
            )
        ]
