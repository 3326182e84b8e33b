"""What the alert rules look at (`escrow.services.alerts`), each read for the whole city in one query or a
fixed few — never one per row — and the alert list of the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select

from escrow.domain.paging import Page
from escrow.store.models import (
    Alert,
    Deposit,
    Guarantee,
    PaymentInstruction,
    PaymentNotice,
    Project,
    Refund,
    Release,
    Statement,
    SupervisedAccount,
    User,
)
from escrow.store.repos.base import Reads, valid_id

SEVERITY_ORDER = ("critical", "warning", "info")  # most severe first
URGENCY = {s: len(SEVERITY_ORDER) - i for i, s in enumerate(SEVERITY_ORDER)}  # stored with each alert


def state_is(states: tuple[str, ...]) -> ColumnElement[bool]:
    """Alerts in these states. The unresolved ones (open or acknowledged) as `state != 'resolved'`: the
    condition of the partial index ix_alerts_unresolved_order, which both engines then read their lists
    from (an IN list would not imply it, and SQLite would sort every open alert)."""
    if set(states) == {"open", "acknowledged"}:
        return Alert.state != "resolved"
    return Alert.state.in_(states)


@dataclass(frozen=True)
class AlertFilter:
    """The alert list's filters, as the page and the bulk actions apply them; empty means any."""

    states: tuple[str, ...] = ()
    severity: str = ""
    rule: str = ""
    project_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        where = []
        if self.states:
            where.append(state_is(self.states))
        if self.severity:
            where.append(Alert.severity == self.severity)
        if self.rule:
            where.append(Alert.rule == self.rule)
        if self.project_id is not None:
            accounts = select(SupervisedAccount.id).where(SupervisedAccount.project_id == self.project_id)
            where.append(Alert.account_id.in_(accounts))
        return where


class AlertRow(NamedTuple):
    """An alert of the list with the names of what it concerns (None for a client address)."""

    alert: Alert
    account_no: str | None
    project_id: int | None
    project_name: str | None
    figures: Figures | None = None  # what its sentence names (AlertReads.subject_figures)


class Figures(NamedTuple):
    """The figures of an alert's subject: its amount in fen, its day (received, due, valid until) and its
    own number where that is not its id (a guarantee's)."""

    amount_fen: int
    day: date | None = None
    number: str | None = None


class RuleGroup(NamedTuple):
    """The alerts of one rule (and severity) that match a filter."""

    rule: str
    severity: str
    count: int
    oldest: datetime
    newest: datetime


class ProjectGroup(NamedTuple):
    """The alerts of one project's account that match a filter (project None: a client address)."""

    project_id: int | None
    project_name: str | None
    account_no: str | None
    count: int
    worst: str  # the most severe severity among them


def rule_groups(f: AlertFilter) -> Select:
    """(rule, severity, count, oldest, newest) of the alerts matching `f`, most severe first, then the
    largest group — one GROUP BY, which reads only the unresolved alerts (ix_alerts_unresolved_order's rows)
    when `f` asks for those, as the page does by default."""
    n = func.count(Alert.id)
    return (
        select(Alert.rule, Alert.severity, n, func.min(Alert.created_at), func.max(Alert.created_at))
        .where(*f.where())
        .group_by(Alert.rule, Alert.severity)
        .order_by(func.max(Alert.urgency).desc(), n.desc(), Alert.rule)
    )


def project_groups(f: AlertFilter) -> Select:
    """(project id, name, account no, count, worst urgency) of the alerts matching `f`, the worst and largest
    first — one GROUP BY over the same rows as `rule_groups`; alerts without an account form one group."""
    n = func.count(Alert.id)
    worst = func.max(Alert.urgency)
    return (
        select(Project.id, Project.name, SupervisedAccount.account_no, n, worst)
        .select_from(Alert)
        .outerjoin(SupervisedAccount, SupervisedAccount.id == Alert.account_id)
        .outerjoin(Project, Project.id == SupervisedAccount.project_id)
        .where(*f.where())
        .group_by(Project.id, Project.name, SupervisedAccount.account_no)
        .order_by(worst.desc(), n.desc(), Project.name, SupervisedAccount.account_no)
    )


def most_urgent_first() -> tuple:
    """The alert lists' order: most severe first, then newest — an index's order, read backwards
    (ix_alerts_unresolved_order for the alerts not resolved)."""
    return Alert.urgency.desc(), Alert.id.desc()


class AlertReads(Reads):
    # --- the rules' conditions ----------------------------------------------------------------------------

    def accounts_without_statement(self, day: date) -> list[tuple[int, str, int]]:
        """(account id, account no, project id) of the accounts not closed, opened by `day`, that have no
        statement dated `day`."""
        have = select(Statement.account_id).where(Statement.statement_date == day)
        rows = self.session.execute(
            select(SupervisedAccount.id, SupervisedAccount.account_no, SupervisedAccount.project_id)
            .where(
                SupervisedAccount.status != "closed",
                SupervisedAccount.opened_on <= day,
                SupervisedAccount.id.not_in(have),
            )
            .order_by(SupervisedAccount.id)
        )
        return [(account_id, account_no, project_id) for account_id, account_no, project_id in rows]

    def unconfirmed_accounts(self) -> list[Row]:
        """Every account not closed whose bank has not confirmed the tri-party agreement, in account id
        order: its id, number, agreement number, opening day and project id, with its project's rule book."""
        a = SupervisedAccount
        rows = self.session.execute(
            select(a.id, a.account_no, a.agreement_no, a.opened_on, a.project_id, Project.rulebook_id)
            .join(Project, Project.id == a.project_id)
            .where(a.status != "closed", a.confirmed_on.is_(None))
            .order_by(a.id)
        )
        return list(rows)

    def unresolved(self, rule: str) -> list[Alert]:
        return self.all_of(Alert, Alert.rule == rule, Alert.state != "resolved", order_by=Alert.id)

    def statements_dated(self, wanted: set[tuple[int, date]]) -> set[tuple[int, date]]:
        """Which of the (account id, statement date) pairs have a statement."""
        days = sorted({day for _, day in wanted})
        rows = self.session.execute(
            select(Statement.account_id, Statement.statement_date)
            .where(
                self.among(Statement.account_id, {account_id for account_id, _ in wanted}),
                Statement.statement_date.in_(days),
            )
            .distinct()
        )
        return {(account_id, day) for account_id, day in rows if (account_id, day) in wanted}

    def suspense_deposits(self) -> list[Row]:
        """Every deposit in suspense, in id order: its id, account id, bank reference, amount, value date,
        rule book, notice id and checks, with its account's number and project id (columns: the sweep
        reads them every quarter hour)."""
        d = Deposit
        rows = self.session.execute(
            select(
                d.id,
                d.account_id,
                d.bank_reference,
                d.amount_fen,
                d.value_date,
                d.rulebook_id,
                d.notice_id,
                d.checks,
                SupervisedAccount.account_no,
                SupervisedAccount.project_id,
            )
            .join(SupervisedAccount, SupervisedAccount.id == d.account_id)
            .where(d.status == "suspense")
            .order_by(d.id)
        )
        return list(rows)

    def live_accounts(self) -> list[Row]:
        """Every account not closed, in account id order: its id, number and status, with its project's id,
        rule book, finish and key supervised amount."""
        rows = self.session.execute(
            select(
                SupervisedAccount.id,
                SupervisedAccount.account_no,
                SupervisedAccount.status,
                Project.id.label("project_id"),
                Project.rulebook_id,
                Project.finish,
                Project.supervised_amount_fen,
            )
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(SupervisedAccount.status != "closed")
            .order_by(SupervisedAccount.id)
        )
        return list(rows)

    def unpaid_releases(self) -> dict[int, int]:
        """account id → how many of its releases are submitted or approved but not paid."""
        rows = self.session.execute(
            select(Release.account_id, func.count(Release.id))
            .where(Release.status.in_(("submitted", "approved")))
            .group_by(Release.account_id)
        )
        return {account_id: int(n) for account_id, n in rows}

    def pending_instructions(
        self,
    ) -> list[tuple[PaymentInstruction, str | None, str | None, SupervisedAccount]]:
        """(instruction, its release's rule book, its refund's rule book, account) of every pending
        instruction, in id order."""
        rows = self.session.execute(
            select(PaymentInstruction, Release.rulebook_id, Refund.rulebook_id, SupervisedAccount)
            .join(SupervisedAccount, SupervisedAccount.id == PaymentInstruction.account_id)
            .outerjoin(Release, Release.id == PaymentInstruction.release_id)
            .outerjoin(Refund, Refund.id == PaymentInstruction.refund_id)
            .where(PaymentInstruction.status == "pending")
            .order_by(PaymentInstruction.id)
        )
        return [(ins, release_book, refund_book, account) for ins, release_book, refund_book, account in rows]

    def open_notices_due_before(self, day: date) -> list[Row]:
        """The open notices due before `day`, in id order: number, kind, amount, due date, account id, with
        the project's rule book and id and the account's number."""
        n = PaymentNotice
        rows = self.session.execute(
            select(
                n.notice_no,
                n.kind,
                n.amount_fen,
                n.due_on,
                n.account_id,
                Project.rulebook_id,
                Project.id.label("project_id"),
                SupervisedAccount.account_no,
            )
            .join(SupervisedAccount, SupervisedAccount.id == n.account_id)
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(n.status == "open", n.due_on < day)
            .order_by(n.id)
        )
        return list(rows)

    # --- the API's alert list -----------------------------------------------------------------------------

    def listing(
        self,
        *,
        state: str | None = None,
        severity: str | None = None,
        rule: str | None = None,
        account_id: int | None = None,
        limit: int = 500,
        page: Page | None = None,
    ) -> list[tuple[Alert, str | None, str | None]]:
        """(alert, account no, user name of who acknowledged it), most severe first, then newest; with
        `page`, the page's and one more, after the position (urgency, id) (escrow.domain.paging)."""
        where = []
        if page is not None:
            limit = page.limit + 1
            if page.after is not None:
                urgency, alert_id = page.after
                where.append(
                    or_(Alert.urgency < urgency, and_(Alert.urgency == urgency, Alert.id < alert_id))
                )
        if state is not None:
            where.append(Alert.state == state)
        if severity is not None:
            where.append(Alert.severity == severity)
        if rule is not None:
            where.append(Alert.rule == rule)
        if account_id is not None:
            where.append(Alert.account_id == account_id)
        rows = self.session.execute(
            select(Alert, SupervisedAccount.account_no, User.username)
            .outerjoin(SupervisedAccount, SupervisedAccount.id == Alert.account_id)
            .outerjoin(User, User.id == Alert.acknowledged_by)
            .where(*where)
            .order_by(*most_urgent_first())
            .limit(limit)
        )
        return [(alert, account_no, username) for alert, account_no, username in rows]

    # --- the bureau's alert page: the list, its summaries, the alerts a bulk action takes ----------------

    def rows(self, f: AlertFilter, *, limit: int, offset: int = 0) -> tuple[list[AlertRow], int]:
        """A page of the alerts matching `f`, most severe first then newest, and how many match in all."""
        where = f.where()
        total = self.session.scalar(select(func.count(Alert.id)).where(*where)) or 0
        rows = self.session.execute(
            select(Alert, SupervisedAccount.account_no, Project.id, Project.name)
            .outerjoin(SupervisedAccount, SupervisedAccount.id == Alert.account_id)
            .outerjoin(Project, Project.id == SupervisedAccount.project_id)
            .where(*where)
            .order_by(*most_urgent_first())
            .limit(limit)
            .offset(offset)
        )
        return [AlertRow(*r) for r in rows], total

    def by_rule(self, f: AlertFilter) -> list[RuleGroup]:
        """The matching alerts counted per rule and severity, with the oldest and newest (rule_groups)."""
        return [
            RuleGroup(rule, sev, int(n), oldest, newest)
            for rule, sev, n, oldest, newest in self.session.execute(rule_groups(f))
        ]

    def by_project(self, f: AlertFilter) -> list[ProjectGroup]:
        """The matching alerts counted per project and account, with the worst severity (project_groups)."""
        severity_of = {URGENCY[s]: s for s in SEVERITY_ORDER}
        return [
            ProjectGroup(pid, name, no, int(n), severity_of.get(rank, "info"))
            for pid, name, no, n, rank in self.session.execute(project_groups(f))
        ]

    def projects_alerted(self) -> list[tuple[int, str]]:
        """(id, name) of the projects with an alert, by name: the project filter's choices."""
        rows = self.session.execute(
            select(Project.id, Project.name)
            .where(
                Project.id.in_(
                    select(SupervisedAccount.project_id).join(Alert, Alert.account_id == SupervisedAccount.id)
                )
            )
            .order_by(Project.name, Project.id)
        )
        return [(pid, name) for pid, name in rows]

    def subject_figures(self, alerts: list[Alert]) -> dict[tuple[str, str], Figures]:
        """(subject type, subject id) → the figures of the deposits, payment notices, instructions and
        guarantees these alerts concern: one query per kind of subject, however many alerts."""
        wanted: dict[str, set[str]] = {}
        for alert in alerts:
            wanted.setdefault(alert.subject_type, set()).add(alert.subject_id)

        def ids(kind: str) -> list[int]:
            return [int(i) for i in wanted.get(kind, ()) if i.isdigit() and valid_id(int(i))]

        out: dict[tuple[str, str], Figures] = {}
        if found := ids("deposit"):
            d = Deposit
            query = select(d.id, d.amount_fen, d.value_date).where(self.among(d.id, found))
            out |= {("deposit", str(i)): Figures(fen, day) for i, fen, day in self.session.execute(query)}
        if found := ids("instruction"):
            p = PaymentInstruction
            query = select(p.id, p.amount_fen).where(self.among(p.id, found))
            out |= {("instruction", str(i)): Figures(fen) for i, fen in self.session.execute(query)}
        if found := ids("guarantee"):
            g = Guarantee
            query = select(g.id, g.amount_fen, g.expires_on, g.guarantee_no).where(self.among(g.id, found))
            out |= {
                ("guarantee", str(i)): Figures(fen, day, no)
                for i, fen, day, no in self.session.execute(query)
            }
        if numbers := wanted.get("notice"):
            n = PaymentNotice
            query = select(n.notice_no, n.amount_fen, n.due_on).where(self.among(n.notice_no, numbers))
            out |= {("notice", no): Figures(fen, day) for no, fen, day in self.session.execute(query)}
        return out
