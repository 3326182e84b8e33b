"""The release cap's inputs, read for a list of accounts in a fixed number of queries: the project's own cap
asks for one account, the city-wide views (the rule-book what-if, the retention alert) for many, and both
get the same figures from the same queries (`Journal` and `Holds` sums)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from escrow.domain.buildings import Progress
from escrow.domain.caps import CapInputs
from escrow.domain.money import from_fen
from escrow.store.models import Developer, Project, SupervisedAccount
from escrow.store.repos.base import Reads
from escrow.store.repos.holds import Holds
from escrow.store.repos.journal import Journal
from escrow.store.repos.projects import Projects, current_account_of_project


class CapFigures(Reads):
    def inputs(self, projects: Iterable[tuple[Project, SupervisedAccount]], on: date) -> dict[int, CapInputs]:
        """account id → the cap inputs of each (project, account) pair, guarantees as valid on `on`."""
        pairs = list(projects)
        ids = [account.id for _, account in pairs]
        journal, holds = Journal(self.session), Holds(self.session)
        balances, received = journal.balances_of(ids), journal.received_of(ids)
        frozen, pending = holds.frozen_of(ids), holds.pending_out_of(ids)
        guarantees, full = holds.guarantee_of(ids, on), holds.fully_frozen(ids)
        taken, numbers = holds.non_key_taken_of(ids), holds.guarantee_nos_of(ids, on)
        return {
            account.id: CapInputs(
                balance=from_fen(balances[account.id].cash),
                suspense=from_fen(balances[account.id].suspense),
                supervised_amount=from_fen(project.supervised_amount_fen),
                frozen=from_fen(frozen[account.id]),
                pending_out=from_fen(pending[account.id]),
                guarantee=from_fen(guarantees[account.id]),
                deposits_total=from_fen(received[account.id]),
                full_freeze=account.id in full,
                refunded=from_fen(balances[account.id].refunded),
                non_key_taken=from_fen(taken[account.id]),
                guarantee_nos=numbers[account.id],
            )
            for project, account in pairs
        }

    def live_projects(self, jurisdiction: str) -> list[tuple[Project, SupervisedAccount, str]]:
        """(project, account, developer name) of every project of the jurisdiction whose account is open."""
        rows = self.session.execute(
            select(Project, SupervisedAccount, Developer.name)
            .join(SupervisedAccount, current_account_of_project())
            .join(Developer, Developer.id == Project.developer_id)
            .where(Project.jurisdiction == jurisdiction, SupervisedAccount.status != "closed")
            .order_by(Project.id)
        )
        return [(p, a, name) for p, a, name in rows]

    def progress_of(self, project_ids: list[int]) -> dict[int, Progress]:
        """project id → its nodes confirmed, the whole project's and each building's."""
        return Projects(self.session).progress_of(project_ids)
