"""Projects with their supervised account and confirmed nodes, and the city's count of accounts opened."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import aliased

from escrow.domain.buildings import BuildingProgress, Progress
from escrow.domain.paging import Page
from escrow.store.models import Building, NodeConfirmation, PaymentNotice, Project, SupervisedAccount
from escrow.store.repos.base import Repo


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive timestamps (written in UTC); a row still in the session has its zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def is_current() -> ColumnElement[bool]:
    """The one place that says which of a project's accounts is its current one: the account not replaced by
    another (a change of supervising bank replaces it; a closed account that was not replaced stays its
    project's current account, so its history is still the project's)."""
    return SupervisedAccount.replaced_by_id.is_(None)


def current_account_of_project() -> ColumnElement[bool]:
    """The ON clause joining a project to its current account (for the read models' joins)."""
    return and_(SupervisedAccount.project_id == Project.id, is_current())


class Projects(Repo):
    def get(self, project_id: int) -> Project | None:
        return self.session.get(Project, project_id)

    def by_permit(self, permit_no: str) -> Project | None:
        return self.one_of(Project, Project.permit_no == permit_no)

    def account(self, account_id: int) -> SupervisedAccount | None:
        return self.session.get(SupervisedAccount, account_id)

    def account_for(self, project_id: int) -> SupervisedAccount | None:
        """The project's current account (`is_current`): every "the project's account" look-up asks here."""
        return self.one_of(SupervisedAccount, SupervisedAccount.project_id == project_id, is_current())

    def reissued_from(self, notice: PaymentNotice, account: SupervisedAccount) -> str | None:
        """The account number a notice named before a change of bank re-issued it for `account` (its
        account now): the account `account` replaced, when the notice is older than `account`."""
        before = self.one_of(SupervisedAccount, SupervisedAccount.replaced_by_id == account.id)
        if before is None or _utc(notice.created_at) >= _utc(account.created_at):
            return None
        return before.account_no

    def accounts_of_project(self, project_id: int) -> list[SupervisedAccount]:
        """Every account the project has had, the first opened first (the current one last)."""
        return self.all_of(
            SupervisedAccount, SupervisedAccount.project_id == project_id, order_by=SupervisedAccount.id
        )

    def account_by_no(self, account_no: str) -> SupervisedAccount | None:
        return self.one_of(SupervisedAccount, SupervisedAccount.account_no == account_no)

    def lock_account(self, account_id: int) -> SupervisedAccount | None:
        """Serialise money-moving writes on one account: a row lock on PostgreSQL. On SQLite the write
        transaction (BEGIN IMMEDIATE) already holds the database's single write lock."""
        # populate_existing: the row read under the lock replaces any stale copy already in the session
        stmt = select(SupervisedAccount).where(SupervisedAccount.id == account_id)
        stmt = stmt.execution_options(populate_existing=True)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)

    def accounts_of_bank(
        self, bank_id: int, page: Page | None = None
    ) -> list[tuple[SupervisedAccount, Project]]:
        """The bank's accounts with their projects, in account id order (one query); with `page`, the
        page's (and one more, which says more follow: escrow.domain.paging)."""
        stmt = (
            select(SupervisedAccount, Project)
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(SupervisedAccount.bank_id == bank_id)
            .order_by(SupervisedAccount.id)
        )
        if page is not None:
            if page.after is not None:
                stmt = stmt.where(SupervisedAccount.id > page.after[0])
            stmt = stmt.limit(page.limit + 1)
        return [(account, project) for account, project in self.session.execute(stmt)]

    def accounts_opened_by(self, day: date) -> list[SupervisedAccount]:
        """Every account opened on or before `day`, closed ones included, in id order."""
        return self.all_of(
            SupervisedAccount, SupervisedAccount.opened_on <= day, order_by=SupervisedAccount.id
        )

    def confirmed_nodes(self, project_id: int) -> list[NodeConfirmation]:
        """Every confirmation of the project, the whole project's and each building's, in order."""
        return self.all_of(
            NodeConfirmation, NodeConfirmation.project_id == project_id, order_by=NodeConfirmation.id
        )

    def buildings(self, project_id: int) -> list[Building]:
        return self.all_of(Building, Building.project_id == project_id, order_by=Building.id)

    def buildings_of(self, project_ids: list[int]) -> dict[int, list[Building]]:
        """project id → its buildings in id order, in one query."""
        found: dict[int, list[Building]] = {i: [] for i in project_ids}
        for b in self.session.scalars(
            select(Building).where(self.among(Building.project_id, project_ids)).order_by(Building.id)
        ):
            found[b.project_id].append(b)
        return found

    def building(self, project_id: int, code: str) -> Building | None:
        return self.one_of(Building, Building.project_id == project_id, Building.code == code)

    def progress(
        self, project_id: int, until: date | None = None, confirmed_by: date | None = None
    ) -> Progress:
        return self.progress_of([project_id], until, confirmed_by)[project_id]

    def progress_of(
        self, project_ids: list[int], until: date | None = None, confirmed_by: date | None = None
    ) -> dict[int, Progress]:
        """project id → its progress: the nodes confirmed for the whole project and each building's (a
        confirmation of the whole project counts for each building), in two queries. With `confirmed_by`,
        only the confirmations the bureau had made by the end of that day."""
        whole: dict[int, set[str]] = {i: set() for i in project_ids}
        own: dict[int, set[str]] = {}
        query = select(
            NodeConfirmation.project_id, NodeConfirmation.building_id, NodeConfirmation.node_code
        ).where(self.among(NodeConfirmation.project_id, project_ids))
        if until is not None:  # the nodes reached by the end of that day
            query = query.where(NodeConfirmation.reached_on <= until)
        if confirmed_by is not None:
            query = query.where(NodeConfirmation.confirmed_on <= confirmed_by)
        for project_id, building_id, code in self.session.execute(query):
            if building_id is None:
                whole[project_id].add(code)
            else:
                own.setdefault(building_id, set()).add(code)
        buildings = self.buildings_of(project_ids)
        return {
            i: Progress(
                frozenset(whole[i]),
                tuple(
                    BuildingProgress(
                        b.code, Decimal(b.presale_area_x100) / 100, frozenset(whole[i] | own.get(b.id, set()))
                    )
                    for b in buildings[i]
                ),
            )
            for i in project_ids
        }


class Stats(Repo):
    def accounts_opened(self, start: date, end: date) -> tuple[int, int]:
        """(accounts opened in the period, their projects' pre-sale area in hundredths of m²). An account
        opened by a change of supervising bank (it replaced another) is no new supervision: not counted."""
        earlier = aliased(SupervisedAccount)
        replacing = select(earlier.id).where(earlier.replaced_by_id == SupervisedAccount.id).exists()
        count, area = self.session.execute(
            select(func.count(SupervisedAccount.id), func.coalesce(func.sum(Project.presale_area_x100), 0))
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(SupervisedAccount.opened_on >= start, SupervisedAccount.opened_on <= end, ~replacing)
        ).one()
        return int(count), int(area)
