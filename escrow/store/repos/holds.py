"""What holds money back in an account besides suspense and retention: court freezes in force, payment
instructions approved but not yet executed, and the bank guarantees that stand in for retention. Each sum
is written once, for a list of accounts; the one-account forms call it with one id."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from escrow.domain.caps import PENDING_OUTFLOW_KINDS
from escrow.store.models import Freeze, Guarantee, PaymentInstruction, Release
from escrow.store.repos.base import Repo


class Holds(Repo):
    def frozen_fen(self, account_id: int) -> int:
        return self.frozen_of([account_id])[account_id]

    def pending_out_fen(self, account_id: int) -> int:
        return self.pending_out_of([account_id])[account_id]

    def guarantee_fen(self, account_id: int, on: date) -> int:
        return self.guarantee_of([account_id], on)[account_id]

    def frozen_of(self, account_ids: list[int]) -> dict[int, int]:
        """The amounts of `amount` freezes in force (a `full` freeze has none: see `fully_frozen`)."""
        return self._sums(account_ids, Freeze.account_id, Freeze.amount_fen, Freeze.status == "active")

    def fully_frozen(self, account_ids: list[int]) -> set[int]:
        """The accounts with a `full` freeze in force."""
        return set(
            self.session.scalars(
                select(Freeze.account_id).where(
                    self.among(Freeze.account_id, account_ids),
                    Freeze.status == "active",
                    Freeze.kind == "full",
                )
            )
        )

    def freeze_in_force(self, account_id: int) -> bool:
        """Whether any freeze is in force on the account (its payments are reported to the court)."""
        return (
            self.session.scalar(
                select(Freeze.id).where(Freeze.account_id == account_id, Freeze.status == "active").limit(1)
            )
            is not None
        )

    def non_key_taken_of(self, account_ids: list[int]) -> dict[int, int]:
        """Non-key releases approved or paid (非重点监管资金 already withdrawn or on its way)."""
        return self._sums(
            account_ids,
            Release.account_id,
            Release.amount_fen,
            Release.kind == "non_key",
            Release.status.in_(("approved", "executed")),
        )

    def pending_out_of(self, account_ids: list[int]) -> dict[int, int]:
        return self._sums(
            account_ids,
            PaymentInstruction.account_id,
            PaymentInstruction.amount_fen,
            PaymentInstruction.status == "pending",
            PaymentInstruction.kind.in_(PENDING_OUTFLOW_KINDS),
        )

    def guarantee_of(self, account_ids: list[int], on: date) -> dict[int, int]:
        """Guarantees in force on `on`: active, valid from on or before it and not expired."""
        return self._sums(
            account_ids,
            Guarantee.account_id,
            Guarantee.amount_fen,
            Guarantee.status == "active",
            Guarantee.accepted_on <= on,
            Guarantee.expires_on >= on,
        )

    def guarantee_nos_of(self, account_ids: list[int], on: date) -> dict[int, tuple[str, ...]]:
        """The numbers of the guarantees in force on `on` (as `guarantee_of` sums them), oldest first."""
        found: dict[int, list[str]] = {account_id: [] for account_id in account_ids}
        rows = self.session.execute(
            select(Guarantee.account_id, Guarantee.guarantee_no)
            .where(
                self.among(Guarantee.account_id, account_ids),
                Guarantee.status == "active",
                Guarantee.accepted_on <= on,
                Guarantee.expires_on >= on,
            )
            .order_by(Guarantee.id)
        )
        for account_id, number in rows:
            found[account_id].append(number)
        return {account_id: tuple(numbers) for account_id, numbers in found.items()}

    def _sums(self, account_ids: list[int], key, column, *where) -> dict[int, int]:
        found = dict.fromkeys(account_ids, 0)
        rows = self.session.execute(
            select(key, func.sum(column)).where(self.among(key, account_ids), *where).group_by(key)
        )
        for account_id, total in rows:
            found[account_id] = int(total or 0)
        return found
