"""Read-only queries behind the bureau's pages: the dashboard, the alert list, the project list and the
project page. Lists are built with a fixed number of grouped queries, never one query per row: the
project list joins each account's maintained cash balance (`account_balances`, the figure `Journal.balances`
gives), so the figure shown equals the books.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, false, func, or_, select, union_all

from escrow.domain.ledger import Ledger
from escrow.store.models import (
    AccountBalance,
    Alert,
    ApprovalStep,
    AuditEvent,
    Bank,
    Contract,
    Deposit,
    Developer,
    Freeze,
    NodeConfirmation,
    Project,
    Refund,
    Release,
    Statement,
    SupervisedAccount,
    User,
    Voucher,
)
from escrow.store.reads.alerts import most_urgent_first, state_is
from escrow.store.repos.base import Reads
from escrow.store.repos.projects import current_account_of_project

SORTS = ("name", "-name", "balance", "-balance", "opened", "-opened")


@dataclass(frozen=True)
class ProjectRow:
    project_id: int
    name: str
    permit_no: str
    developer_name: str
    finish: str
    rulebook_id: str
    account_no: str
    account_status: str
    opened_on: date
    balance_fen: int
    reconciliation: str  # reconciled | discrepancy | pending (no statement yet)
    nodes_confirmed: int  # nodes are confirmed in order: the highest is nodes[n - 1]


@dataclass(frozen=True)
class ProjectFilter:
    q: str = ""
    status: str = ""  # account status
    reconciliation: str = ""
    finish: str = ""
    node_levels: dict[str, int] | None = None  # rulebook id → confirmed-node count meaning "highest is X"
    sort: str = "name"


def _nodes_by_project():
    return (
        select(NodeConfirmation.project_id, func.count(NodeConfirmation.id).label("n"))
        .group_by(NodeConfirmation.project_id)
        .subquery()
    )


def _latest_statement_id():
    """The account's latest statement (by statement date, then import order), correlated to the account."""
    return (
        select(Statement.id)
        .where(Statement.account_id == SupervisedAccount.id)
        .order_by(Statement.statement_date.desc(), Statement.id.desc())
        .limit(1)
        .correlate(SupervisedAccount)
        .scalar_subquery()
    )


def _latest_status():
    return func.coalesce(
        select(Statement.status)
        .where(Statement.account_id == SupervisedAccount.id)
        .order_by(Statement.statement_date.desc(), Statement.id.desc())
        .limit(1)
        .correlate(SupervisedAccount)
        .scalar_subquery(),
        "pending",
    )


class Listings(Reads):
    # --- the project list ---------------------------------------------------------------------------------

    def projects(self, f: ProjectFilter, *, limit: int, offset: int) -> tuple[list[ProjectRow], int]:
        """One page of projects matching the filter, and how many match in all. The balance is the account's
        maintained cash balance (`account_balances`, the figure `Journal.balances` gives), so sorting by it
        is one indexed join, whatever the account's history."""
        nodes = _nodes_by_project()
        balances = AccountBalance.__table__
        cash = balances.c
        balance = func.coalesce(cash.balance_fen, 0)
        confirmed = func.coalesce(nodes.c.n, 0)
        recon = _latest_status()
        where = []
        if f.q:
            where.append(
                or_(
                    Project.name.icontains(f.q, autoescape=True),
                    Project.permit_no.icontains(f.q, autoescape=True),
                    SupervisedAccount.account_no.icontains(f.q, autoescape=True),
                    Developer.name.icontains(f.q, autoescape=True),
                )
            )
        if f.status:
            where.append(SupervisedAccount.status == f.status)
        if f.reconciliation:
            where.append(recon == f.reconciliation)
        if f.finish:
            where.append(Project.finish == f.finish)
        if f.node_levels is not None:
            levels = [and_(Project.rulebook_id == rb, confirmed == n) for rb, n in f.node_levels.items()]
            where.append(or_(*levels) if levels else false())

        base = (
            select(Project.id)
            .join(SupervisedAccount, current_account_of_project())
            .join(Developer, Developer.id == Project.developer_id)
            .outerjoin(nodes, nodes.c.project_id == Project.id)
            .outerjoin(
                balances, and_(cash.account_id == SupervisedAccount.id, cash.ledger == Ledger.CASH.value)
            )
            .where(*where)
        )
        columns = base.with_only_columns(
            Project.id,
            Project.name,
            Project.permit_no,
            Developer.name,
            Project.finish,
            Project.rulebook_id,
            SupervisedAccount.account_no,
            SupervisedAccount.status,
            SupervisedAccount.opened_on,
            balance,
            recon,
            confirmed,
        )
        total = self.session.scalar(select(func.count()).select_from(base.subquery())) or 0
        order = {
            "name": (Project.name.asc(),),
            "-name": (Project.name.desc(),),
            "balance": (balance.asc(),),
            "-balance": (balance.desc(),),
            "opened": (SupervisedAccount.opened_on.asc(),),
            "-opened": (SupervisedAccount.opened_on.desc(),),
        }[f.sort if f.sort in SORTS else "name"]
        rows = self.session.execute(columns.order_by(*order, Project.id.asc()).limit(limit).offset(offset))
        return [ProjectRow(*(r[:9]), int(r[9]), r[10], int(r[11])) for r in rows], int(total)

    # --- the dashboard ------------------------------------------------------------------------------------

    def alert_counts(self) -> dict[str, int]:
        """Alerts not yet resolved, by state."""
        rows = self.session.execute(
            select(Alert.state, func.count(Alert.id)).where(Alert.state != "resolved").group_by(Alert.state)
        )
        return {state: int(n) for state, n in rows}

    def discrepancies(self) -> list[tuple[int, str, str, Statement]]:
        """Accounts whose latest statement does not reconcile: (project id, name, account no, statement)."""
        rows = self.session.execute(
            select(Project.id, Project.name, SupervisedAccount.account_no, Statement)
            .join(SupervisedAccount, current_account_of_project())
            .join(Statement, Statement.account_id == SupervisedAccount.id)
            .where(Statement.id == _latest_statement_id(), Statement.status == "discrepancy")
            .order_by(Statement.statement_date.desc(), Project.name)
        )
        return [tuple(r) for r in rows]

    def submitted_releases(self) -> list[tuple[Release, str, list[int]]]:
        """Releases awaiting a decision: (release, project name, users who decided its steps so far)."""
        rows = self.session.execute(
            select(Release, Project.name)
            .join(Project, Project.id == Release.project_id)
            .where(Release.status == "submitted")
            .order_by(Release.id)
        ).all()
        deciders = self._deciders(ApprovalStep.release_id, [r.id for r, _ in rows])
        return [(r, name, deciders.get(r.id, [])) for r, name in rows]

    def submitted_refunds(self) -> list[tuple[Refund, str, int, str, list[int]]]:
        """Refunds awaiting a decision: (refund, contract no, project id, project name, deciders so far)."""
        rows = self.session.execute(
            select(Refund, Contract.contract_no, Project.id, Project.name)
            .join(Contract, Contract.id == Refund.contract_id)
            .join(Project, Project.id == Contract.project_id)
            .where(Refund.status == "submitted")
            .order_by(Refund.id)
        ).all()
        deciders = self._deciders(ApprovalStep.refund_id, [r.id for r, *_ in rows])
        return [(r, no, pid, name, deciders.get(r.id, [])) for r, no, pid, name in rows]

    def _deciders(self, column, ids: list[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        if not ids:
            return out
        for subject, user in self.session.execute(
            select(column, ApprovalStep.decided_by).where(column.in_(ids)).order_by(ApprovalStep.step_no)
        ):
            out.setdefault(subject, []).append(user)
        return out

    # --- the alert list -----------------------------------------------------------------------------------

    def alerts(
        self,
        *,
        states: tuple[str, ...] = (),
        severity: str = "",
        rule: str = "",
        limit: int,
        offset: int = 0,
        counted: bool = True,
    ) -> tuple[list[tuple[Alert, str | None, int | None]], int | None]:
        """Alerts, most severe first then newest: (alert, account no, project id), and the total (None when
        not `counted`)."""
        where = []
        if states:
            where.append(state_is(states))
        if severity:
            where.append(Alert.severity == severity)
        if rule:
            where.append(Alert.rule == rule)
        total = (self.session.scalar(select(func.count(Alert.id)).where(*where)) or 0) if counted else None
        rows = self.session.execute(
            select(Alert, SupervisedAccount.account_no, SupervisedAccount.project_id)
            .outerjoin(SupervisedAccount, SupervisedAccount.id == Alert.account_id)
            .where(*where)
            .order_by(*most_urgent_first())
            .limit(limit)
            .offset(offset)
        ).all()
        return [tuple(r) for r in rows], total

    # --- the project page ---------------------------------------------------------------------------------

    def bank_and_developer(self, account: SupervisedAccount, project: Project) -> tuple[Bank, Developer]:
        return self.session.get(Bank, account.bank_id), self.session.get(Developer, project.developer_id)

    def confirmations(
        self, project_id: int
    ) -> dict[int | None, dict[str, tuple[NodeConfirmation, str | None]]]:
        """building id (None: the whole project) → node code → (its confirmation, the inspector's name)."""
        rows = self.session.execute(
            select(NodeConfirmation, User.username)
            .outerjoin(User, User.id == NodeConfirmation.confirmed_by)
            .where(NodeConfirmation.project_id == project_id)
            .order_by(NodeConfirmation.id)
        )
        found: dict[int | None, dict[str, tuple[NodeConfirmation, str | None]]] = {None: {}}
        for c, username in rows:
            found.setdefault(c.building_id, {})[c.node_code] = (c, username)
        return found

    def deposits(self, account_id: int, limit: int = 50) -> tuple[list[tuple[Deposit, Voucher | None]], int]:
        """The latest deposits with their vouchers, and how many there are in all."""
        total = self.session.scalar(select(func.count(Deposit.id)).where(Deposit.account_id == account_id))
        rows = self.session.execute(
            select(Deposit, Voucher)
            .outerjoin(Voucher, Voucher.deposit_id == Deposit.id)
            .where(Deposit.account_id == account_id)
            .order_by(Deposit.value_date.desc(), Deposit.id.desc())
            .limit(limit)
        ).all()
        return [tuple(r) for r in rows], int(total or 0)

    def suspense(self, account_id: int) -> list[Deposit]:
        return self.all_of(
            Deposit,
            Deposit.account_id == account_id,
            Deposit.status == "suspense",
            order_by=(Deposit.value_date, Deposit.id),
        )

    def releases(self, project_id: int) -> list[Release]:
        return self.all_of(Release, Release.project_id == project_id, order_by=Release.id.desc())

    def refunds(self, account_id: int) -> list[tuple[Refund, str]]:
        rows = self.session.execute(
            select(Refund, Contract.contract_no)
            .join(Contract, Contract.id == Refund.contract_id)
            .where(Refund.account_id == account_id)
            .order_by(Refund.id.desc())
        )
        return [tuple(r) for r in rows]

    def freezes(self, account_id: int) -> list[Freeze]:
        return self.all_of(Freeze, Freeze.account_id == account_id, order_by=Freeze.id.desc())

    def statements(self, account_id: int, limit: int = 50) -> tuple[list[Statement], int]:
        total = self.session.scalar(
            select(func.count(Statement.id)).where(Statement.account_id == account_id)
        )
        rows = self.session.scalars(
            select(Statement)
            .where(Statement.account_id == account_id)
            .order_by(Statement.statement_date.desc(), Statement.id.desc())
            .limit(limit)
        )
        return list(rows), int(total or 0)

    def audit_trail(self, account_id: int, project_id: int, limit: int = 50) -> list[AuditEvent]:
        """The latest events of the account, and of the project itself (its opening, its nodes)."""
        return list(self.session.scalars(audit_trail_query(account_id, project_id, limit)))


def audit_trail_query(account_id: int, project_id: int, limit: int) -> Select:
    """The latest `limit` events of the account and of the project itself: the latest of each, each read in
    the order of its own index (ix_audit_events_account_latest, ix_audit_events_subject), then merged. An OR
    of the two would let PostgreSQL walk the whole table backwards by id."""
    latest = (
        select(AuditEvent.id).where(where).order_by(AuditEvent.id.desc()).limit(limit).subquery().select()
        for where in (
            AuditEvent.account_id == account_id,
            and_(AuditEvent.subject_type == "project", AuditEvent.subject_id == str(project_id)),
        )
    )
    ids = union_all(*latest).subquery()
    return (
        select(AuditEvent)
        .where(AuditEvent.id.in_(select(ids.c.id)))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
