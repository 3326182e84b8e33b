"""The stored answers of API writes, by principal and idempotency key (CONTRACT.md §2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from escrow.store.models import IdempotencyRecord, utcnow
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

    def insert_unless_held(self, principal: str, key: str, request_hash: str) -> int | None:
        """Insert a key's record, unanswered, in one statement; its id, or None when the key already has a
        record (a concurrent request's is waited for: the unique index decides once it has committed)."""
        insert_ = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = (
            insert_(IdempotencyRecord)
            .values(
                principal=principal,
                key=key,
                request_hash=request_hash,
                status_code=0,
                response_body="",
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.id)
        )
        return self.session.scalar(stmt)

    def answer(self, record_id: int, status_code: int, response_body: str) -> None:
        self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(status_code=status_code, response_body=response_body)
        )

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
