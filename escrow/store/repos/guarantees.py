"""Bank guarantees (保函) registered on supervised accounts: writes and look-ups. What they hold back in a cap
is summed in escrow.store.repos.holds (`guarantee_of`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from escrow.store.models import Guarantee, Project, SupervisedAccount
from escrow.store.repos.base import Repo, valid_id


class Guarantees(Repo):
    def get(self, guarantee_id: int) -> Guarantee | None:
        return self.session.get(Guarantee, guarantee_id) if valid_id(guarantee_id) else None

    def by_no(self, account_id: int, guarantee_no: str) -> Guarantee | None:
        return self.one_of(
            Guarantee, Guarantee.account_id == account_id, Guarantee.guarantee_no == guarantee_no
        )

    def of_account(self, account_id: int) -> list[Guarantee]:
        """Every guarantee of the account, in the order registered."""
        return self.all_of(Guarantee, Guarantee.account_id == account_id, order_by=Guarantee.id)

    def active_of(self, account_id: int) -> list[Guarantee]:
        """The guarantees not released (expired ones included: they end by date, not by status)."""
        return self.all_of(
            Guarantee,
            Guarantee.account_id == account_id,
            Guarantee.status == "active",
            order_by=Guarantee.id,
        )

    def expiring(self, by: date) -> list[tuple[Guarantee, SupervisedAccount, Project]]:
        """Guarantees not released whose last valid day is on or before `by`, on accounts not closed."""
        rows = self.session.execute(
            select(Guarantee, SupervisedAccount, Project)
            .join(SupervisedAccount, SupervisedAccount.id == Guarantee.account_id)
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(
                Guarantee.status == "active",
                Guarantee.expires_on <= by,
                SupervisedAccount.status != "closed",
            )
            .order_by(Guarantee.id)
        )
        return [(g, a, p) for g, a, p in rows]
