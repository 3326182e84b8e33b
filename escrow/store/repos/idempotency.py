"""The stored answers of API writes, by principal and idempotency key (CONTRACT.md §2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from escrow.store.models import IdempotencyRecord
from escrow.store.repos.base import Repo


class Idempotency(Repo):
    def get(self, principal: str, key: str) -> IdempotencyRecord | None:
        return self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        )

    def claim(self, record: IdempotencyRecord) -> bool:
        """Insert the record of a key; False when a concurrent request holds it (the unique index refused):
        the transaction is then spoilt, and the caller starts again."""
        try:
            self.session.add(record)
            self.session.flush()
        except IntegrityError:
            return False
        return True

    def prune(self, created_before: datetime, limit: int) -> list[int]:
        """Delete up to `limit` records created before the cutoff, oldest ids first; returns their ids."""
        ids = list(
            self.session.scalars(
                select(IdempotencyRecord.id)
                .where(IdempotencyRecord.created_at < created_before)
                .order_by(IdempotencyRecord.id)
                .limit(limit)
            )
        )
        if ids:
            self.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
        return ids
