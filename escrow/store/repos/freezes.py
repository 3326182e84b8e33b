"""Court freezes of supervised accounts."""

from __future__ import annotations

from escrow.store.models import Freeze
from escrow.store.repos.base import Repo, valid_id


class Freezes(Repo):
    def get(self, freeze_id: int) -> Freeze | None:
        return self.session.get(Freeze, freeze_id) if valid_id(freeze_id) else None

    def by_order(self, account_id: int, order_no: str) -> Freeze | None:
        return self.one_of(Freeze, Freeze.account_id == account_id, Freeze.order_no == order_no)

    def active(self, account_id: int) -> list[Freeze]:
        return self.all_of(
            Freeze, Freeze.account_id == account_id, Freeze.status == "active", order_by=Freeze.id
        )
