"""The hash of each rule book version, recorded when it is first used (a published version never changes)."""

from __future__ import annotations

from sqlalchemy import select

from escrow.store.models import RulebookRecord
from escrow.store.repos.base import Repo


class RulebookRecords(Repo):
    def all(self) -> dict[str, str]:
        return {r.rulebook_id: r.sha256 for r in self.session.scalars(select(RulebookRecord))}

    def record_first_use(self, rulebook_id: str, sha256: str) -> str:
        """Record the hash the first time a version is used; return the recorded hash."""
        existing = self.one_of(RulebookRecord, RulebookRecord.rulebook_id == rulebook_id)
        if existing is not None:
            return existing.sha256
        self.add(RulebookRecord(rulebook_id=rulebook_id, sha256=sha256))
        return sha256
