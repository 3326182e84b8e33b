"""What the bureau's pages read: the dashboard, the alert list, the project list and a project's page.

Each is one read-only unit of work returning one view. The lists are batch queries (store/reads/listings.py:
one grouped query over the cash ledger for the balances, never a query per row). The rows inside the views
are the read models as the store returns them; the pages choose the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from escrow.domain.approvals import Link, may_decide
from escrow.domain.caps import Cap
from escrow.domain.errors import NotFound
from escrow.domain.ids import valid_id
from escrow.domain.money import from_fen
from escrow.rulebooks import RuleBook
from escrow.services import (
    adoptions,
    amount_changes,
    fund_plans,
    guarantees,
    lifecycle,
    overview,
    refunds,
    releases,
    stats,
)
from escrow.services.context import Context
from escrow.services.projects import BuildingView, building_views, release_cap
from escrow.store.db import UnitOfWork
from escrow.store.reads.listings import ProjectFilter, ProjectRow

__all__ = ["ProjectFilter", "ProjectRow"]  # the project list's filter and rows, for the pages


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, how many there are in all, which page this is of how many."""

    rows: tuple[Any, ...]
    total: int
    page: int
    pages: int


def _paged(fetch, page: int, per_page: int) -> Page:
    """A page past the end (the list shrank) shows the last one."""
    rows, total = fetch(per_page, (page - 1) * per_page)
    count = max(1, -(-total // per_page))
    if page > count:
        page = count
        rows, total = fetch(per_page, (page - 1) * per_page)
    return Page(tuple(rows), total, page, count)


# --- the dashboard and the alert list ---------------------------------------------------------------------

UNRESOLVED = ("open", "acknowledged")


@dataclass(frozen=True)
class Waiting:
    """A submitted release or refund whose next approval step is for the signed-in user."""

    kind: str  # release | refund
    id: int
    project: str
    contract_no: str
    amount: Decimal
    step_no: int
    label_zh: str
    label_en: str
    submitted_at: datetime


@dataclass(frozen=True)
class Dashboard:
    figures: dict[str, Any] | None  # stats.city_stats for the period asked for
    alert_counts: dict[str, int]
    top_alerts: tuple[Any, ...]  # (alert, account no, project id), most severe first
    discrepancies: tuple[Any, ...]
    waiting: tuple[Waiting, ...]
    charts: overview.Charts | None = None  # for the period asked for
    risks: overview.Risks | None = None


def _waiting_for(uow: UnitOfWork, ctx: Context, role: str, user_id: int) -> tuple[Waiting, ...]:
    """Submitted releases and refunds whose next step this user may take now: the rule the decision itself
    enforces (escrow.domain.approvals.may_decide), with the deciders read in one batch."""
    out = []
    for release, project_name, deciders in uow.listings.submitted_releases():
        step = _step_for(ctx, releases.FLOW, release, deciders, role, user_id)
        if step:
            out.append(_waiting("release", release, project_name, "", step))
    for refund, contract_no, _project_id, project_name, deciders in uow.listings.submitted_refunds():
        step = _step_for(ctx, refunds.FLOW, refund, deciders, role, user_id)
        if step:
            out.append(_waiting("refund", refund, project_name, contract_no, step))
    return tuple(out)


def _step_for(ctx: Context, flow, subject: Any, deciders: list[int], role: str, user_id: int) -> Link | None:
    """The step this user may take next, None if they may not."""
    book = ctx.rulebook(subject.rulebook_id)
    may = may_decide(book, flow.chain(book, subject), deciders, subject.status, role, user_id)
    return may.step if may.allowed else None


def _waiting(kind: str, row: Any, project_name: str, contract_no: str, step: Link) -> Waiting:
    return Waiting(
        kind=kind,
        id=row.id,
        project=project_name,
        contract_no=contract_no,
        amount=from_fen(row.amount_fen),
        step_no=step.step_no,
        label_zh=step.label_zh,
        label_en=step.label_en,
        submitted_at=row.created_at,
    )


def dashboard(ctx: Context, period: tuple[date, date] | None, role: str, user_id: int, top: int) -> Dashboard:
    """The city's figures for `period` (none without one), the `top` unresolved alerts, the accounts whose
    latest statement does not reconcile, and what waits for this user."""
    with ctx.reading() as uow:
        figures = stats.city_stats(uow, *period) if period else None
        now = overview.retention_now(uow, ctx)
        top_alerts, _ = uow.listings.alerts(states=UNRESOLVED, limit=top, counted=False)  # as alert_counts
        return Dashboard(
            figures=figures,
            alert_counts=uow.listings.alert_counts(),
            top_alerts=tuple(top_alerts),
            discrepancies=tuple(uow.listings.discrepancies()),
            waiting=_waiting_for(uow, ctx, role, user_id),
            charts=overview.charts(uow, ctx, *period, now=now) if period else None,
            risks=overview.risks(uow, ctx, now=now),
        )


def alerts(ctx: Context, states: tuple[str, ...], severity: str, rule: str, page: int, per_page: int) -> Page:
    """One page of alerts: (alert, account no, project id), most severe first, then newest."""
    with ctx.reading() as uow:
        return _paged(
            lambda limit, offset: uow.listings.alerts(
                states=states, severity=severity, rule=rule, limit=limit, offset=offset
            ),
            page,
            per_page,
        )


# --- projects ---------------------------------------------------------------------------------------------


def projects(ctx: Context, f: ProjectFilter, page: int, per_page: int) -> Page:
    """One page of the project list (ProjectRow), searched, filtered and sorted in the database."""
    with ctx.reading() as uow:
        return _paged(
            lambda limit, offset: uow.listings.projects(f, limit=limit, offset=offset), page, per_page
        )


@dataclass(frozen=True)
class BuildingRow:
    """A building on the project page: its figures and its own node confirmations (those of the whole
    project count for it too)."""

    figures: BuildingView
    permit_no: str | None
    confirmations: dict[str, tuple[Any, str | None]]


@dataclass(frozen=True)
class ProjectPage:
    project: Any
    account: Any
    bank: Any
    developer: Any
    book: RuleBook
    cap: Cap
    guarantee: Decimal  # bank guarantees in force
    confirmations: dict[str, tuple[Any, str | None]]  # node code → (confirmation, confirmed by)
    buildings: tuple[BuildingRow, ...]  # where the project has buildings
    deposits: tuple[Any, ...]  # the latest, with their vouchers
    deposit_count: int
    suspense: tuple[Any, ...]
    releases: tuple[Any, ...]
    refunds: tuple[Any, ...]
    freezes: tuple[Any, ...]
    statements: tuple[Any, ...]  # the latest first
    statement_count: int
    audit: tuple[Any, ...]  # empty unless asked for
    interest: Decimal  # 结息 the bank has credited, booked from its statements
    fees: Decimal  # 手续费 the bank has debited
    guarantees: guarantees.GuaranteesOverview
    ending: lifecycle.LifecycleOverview  # closure, change of bank, the earlier accounts
    adoptions: tuple[adoptions.HistoryEntry, ...]  # the rule book versions adopted for it (or refused)
    amount_changes: tuple[amount_changes.ChangeView, ...]  # key supervised amount changes
    fund_plan: fund_plans.PlanTable  # plan against actual, node × role


def project_page(ctx: Context, project_id: int, *, latest: int, with_audit: bool) -> ProjectPage:
    """A project's page: the account, its cap, and the latest of what moved on it, read in one unit of
    work. NotFound if none."""
    with ctx.reading() as uow:
        project = uow.projects.get(project_id) if valid_id(project_id) else None
        account = uow.projects.account_for(project.id) if project else None
        if project is None or account is None:
            raise NotFound(f"no project {project_id}")
        bank, developer = uow.listings.bank_and_developer(account, project)
        deposits, deposit_count = uow.listings.deposits(account.id, latest)
        statements, statement_count = uow.listings.statements(account.id, latest)
        books = uow.journal.balances(account.id)
        rows = uow.projects.buildings(project.id)
        book = ctx.rulebook(project.rulebook_id)
        cap = release_cap(uow, ctx, project, account)
        return ProjectPage(
            project=project,
            account=account,
            bank=bank,
            developer=developer,
            book=book,
            cap=cap,
            guarantee=cap.inputs.guarantee,  # in force today: the cap's own reading of it
            confirmations=(confirmed := uow.listings.confirmations(project.id))[None],
            buildings=tuple(
                BuildingRow(figures, row.permit_no, {**confirmed[None], **confirmed.get(row.id, {})})
                for row, figures in zip(rows, building_views(rows, cap), strict=True)
            ),
            deposits=tuple(deposits),
            deposit_count=deposit_count,
            suspense=tuple(uow.listings.suspense(account.id)),
            releases=tuple(uow.listings.releases(project.id)),
            refunds=tuple(uow.listings.refunds(account.id)),
            freezes=tuple(uow.listings.freezes(account.id)),
            statements=tuple(statements),
            statement_count=statement_count,
            audit=tuple(uow.listings.audit_trail(account.id, project.id, latest)) if with_audit else (),
            interest=from_fen(books.interest),
            fees=from_fen(books.fees),
            guarantees=guarantees.overview_in(uow, ctx, project, account, cap),
            ending=lifecycle.overview(uow, ctx, project),
            adoptions=adoptions.history(uow, project.id),
            amount_changes=amount_changes.history(uow, ctx, project.id),
            fund_plan=fund_plans.project_table_in(uow, project.id, book),
        )


@dataclass(frozen=True)
class ProjectDeposits:
    """A project's deposits on its current account, the latest first, with their vouchers: at most `most`
    of them, and how many there are in all."""

    project_name: str
    rows: tuple[Any, ...]  # (deposit, voucher or None)
    total: int


def project_deposits(ctx: Context, project_id: int, most: int) -> ProjectDeposits:
    """The deposits the project page lists, all of them up to `most` (for its download). NotFound if none."""
    with ctx.reading() as uow:
        project = uow.projects.get(project_id) if valid_id(project_id) else None
        account = uow.projects.account_for(project.id) if project else None
        if project is None or account is None:
            raise NotFound(f"no project {project_id}")
        rows, total = uow.listings.deposits(account.id, most)
        return ProjectDeposits(project.name, tuple(rows), total)
