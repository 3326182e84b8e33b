"""The release cap's inputs, read for a list of accounts in a fixed number of queries: the project's own cap
asks for one account, the city-wide views (the rule-book what-if, the retention alert) for many, and both
get the same figures from the same queries (`Journal` and `Holds` sums)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from escrow.domain.buildings import Progress
from escrow.domain.caps import CapInputs
from escrow.domain.ledger import Balances
from escrow.domain.money import from_fen
from escrow.store.models import Developer, Project, SupervisedAccount
from escrow.store.repos.base import Reads
from escrow.store.repos.holds import Holds
from escrow.store.repos.journal import Journal
from escrow.store.repos.projects import Projects, current_account_of_project


@dataclass(frozen=True, slots=True)
class LiveProject:
    """A live project as the city-wide views need it: its own figures, its account's id, its developer's
    name (columns, not entities: thousands are read at once)."""

    id: int
    name: str
    rulebook_id: str
    finish: str
    supervised_amount_fen: int
    presale_area_x100: int
    account_id: int
    developer_name: str


class CapFigures(Reads):
    def inputs(
        self, accounts: Iterable[tuple[int, int]], on: date, balances: dict[int, Balances] | None = None
    ) -> dict[int, CapInputs]:
        """account id → the cap inputs of each (account id, key supervised amount in fen), guarantees as
        valid on `on`; `balances`, where the caller has read them already (`Journal.balances_of`)."""
        supervised = dict(accounts)
        ids = list(supervised)
        journal, holds = Journal(self.session), Holds(self.session)
        balances = balances if balances is not None else journal.balances_of(ids)
        received = journal.received_of(ids)
        frozen, pending = holds.frozen_of(ids), holds.pending_out_of(ids)
        guarantees, full = holds.guarantee_of(ids, on), holds.fully_frozen(ids)
        taken, numbers = holds.non_key_taken_of(ids), holds.guarantee_nos_of(ids, on)
        return {
            account_id: CapInputs(
                balance=from_fen(balances[account_id].cash),
                suspense=from_fen(balances[account_id].suspense),
                supervised_amount=from_fen(supervised_fen),
                frozen=from_fen(frozen[account_id]),
                pending_out=from_fen(pending[account_id]),
                guarantee=from_fen(guarantees[account_id]),
                deposits_total=from_fen(received[account_id]),
                full_freeze=account_id in full,
                refunded=from_fen(balances[account_id].refunded),
                non_key_taken=from_fen(taken[account_id]),
                guarantee_nos=numbers[account_id],
            )
            for account_id, supervised_fen in supervised.items()
        }

    def live_projects(self, jurisdiction: str) -> list[LiveProject]:
        """Every project of the jurisdiction whose account is open, in id order."""
        rows = self.session.execute(
            select(
                Project.id,
                Project.name,
                Project.rulebook_id,
                Project.finish,
                Project.supervised_amount_fen,
                Project.presale_area_x100,
                SupervisedAccount.id,
                Developer.name,
            )
            .join(SupervisedAccount, current_account_of_project())
            .join(Developer, Developer.id == Project.developer_id)
            .where(Project.jurisdiction == jurisdiction, SupervisedAccount.status != "closed")
            .order_by(Project.id)
        )
        return [LiveProject(*row) for row in rows]

    def progress_of(self, project_ids: list[int]) -> dict[int, Progress]:
        """project id → its nodes confirmed, the whole project's and each building's."""
        return Projects(self.session).progress_of(project_ids)
