"""What holds money back in an account besides suspense and retention: court freezes in force, payment
instructions approved but not yet executed, and the bank guarantees that stand in for retention. Each sum
is written once, for a list of accounts; the one-account forms call it with one id."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from escrow.domain.caps import PENDING_OUTFLOW_KINDS
from escrow.store.models import Freeze, Guarantee, PaymentInstruction
from escrow.store.repos.base import Repo, chunks


class Holds(Repo):
    def frozen_fen(self, account_id: int) -> int:
        return self.frozen_of([account_id])[account_id]

    def pending_out_fen(self, account_id: int) -> int:
        return self.pending_out_of([account_id])[account_id]

    def guarantee_fen(self, account_id: int, on: date) -> int:
        return self.guarantee_of([account_id], on)[account_id]

    def frozen_of(self, account_ids: list[int]) -> dict[int, int]:
        return self._sums(account_ids, Freeze.account_id, Freeze.amount_fen, Freeze.status == "active")

    def pending_out_of(self, account_ids: list[int]) -> dict[int, int]:
        return self._sums(
            account_ids,
            PaymentInstruction.account_id,
            PaymentInstruction.amount_fen,
            PaymentInstruction.status == "pending",
            PaymentInstruction.kind.in_(PENDING_OUTFLOW_KINDS),
        )

    def guarantee_of(self, account_ids: list[int], on: date) -> dict[int, int]:
        """Accepted guarantees not expired on `on`."""
        return self._sums(
            account_ids,
            Guarantee.account_id,
            Guarantee.amount_fen,
            Guarantee.status == "accepted",
            Guarantee.expires_on >= on,
        )

    def _sums(self, account_ids: list[int], key, column, *where) -> dict[int, int]:
        found = dict.fromkeys(account_ids, 0)
        for ids in chunks(account_ids):
            rows = self.session.execute(
                select(key, func.sum(column)).where(key.in_(ids), *where).group_by(key)
            )
            for account_id, total in rows:
                found[account_id] = int(total or 0)
        return found
