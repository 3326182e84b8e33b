"""Files uploaded through the web UI (evidence, release documents)."""

from __future__ import annotations

from sqlalchemy import select

from escrow.store.models import StoredDocument
from escrow.store.repos.base import Repo, valid_id


class Documents(Repo):
    """Files uploaded through the web UI."""

    def get(self, document_id: int) -> StoredDocument | None:
        return self.session.get(StoredDocument, document_id) if valid_id(document_id) else None

    def by_sha256_for_account(self, sha256: str, account_id: int) -> StoredDocument | None:
        """The latest stored file with this SHA-256 on this account (a release's document link)."""
        return self.session.scalar(
            select(StoredDocument)
            .where(StoredDocument.sha256 == sha256, StoredDocument.account_id == account_id)
            .order_by(StoredDocument.id.desc())
            .limit(1)
        )
