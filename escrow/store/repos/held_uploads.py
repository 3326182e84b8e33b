"""Files of a refused web form, held for that form's token and the session that sent them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select

from escrow.store.models import HeldUpload
from escrow.store.repos.base import Repo


class HeldUploads(Repo):
    def add(self, held: HeldUpload) -> HeldUpload:
        self.session.add(held)
        self.session.flush()
        return held

    def of_form(self, holder: str, form_token: str, since: datetime) -> list[HeldUpload]:
        """The holder's files for this form, received since `since` (older ones have expired), in order."""
        return list(
            self.session.scalars(
                select(HeldUpload)
                .where(
                    HeldUpload.holder == holder,
                    HeldUpload.form_token == form_token,
                    HeldUpload.created_at >= since,
                )
                .order_by(HeldUpload.id)
            )
        )

    def drop(self, holder: str, form_token: str, ids: Iterable[int] | None = None) -> None:
        """Drop the holder's files of this form (only those of `ids` when given); another's are untouched."""
        stmt = delete(HeldUpload).where(HeldUpload.holder == holder, HeldUpload.form_token == form_token)
        if ids is not None:
            stmt = stmt.where(HeldUpload.id.in_(list(ids)))
        self.session.execute(stmt)

    def prune(self, created_before: datetime) -> None:
        self.session.execute(delete(HeldUpload).where(HeldUpload.created_at < created_before))
