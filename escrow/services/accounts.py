"""Read models of a supervised account for the bank that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.services.deposits import bank_account
from escrow.services.projects import AccountView, accounts_of
from escrow.services.views import wire
from escrow.store.db import UnitOfWork
from escrow.store.models import Project, Statement, SupervisedAccount


@dataclass(frozen=True)
class AccountProject:
    project_id: int
    name: str
    permit_no: str


@dataclass(frozen=True)
class Reconciliation:
    last_statement_on: date | None
    status: Literal["reconciled", "discrepancy", "pending"]


@dataclass(frozen=True)
class BankAccountView(AccountView):
    """The account as its project shows it, with the project and the latest reconciliation."""

    project: AccountProject
    reconciliation: Reconciliation


def reconciliation(uow: UnitOfWork, account_id: int) -> dict[str, Any]:
    """The latest statement's date and status, as plain values."""
    return wire(reconciliation_state(uow, account_id))


def reconciliation_state(uow: UnitOfWork, account_id: int) -> Reconciliation:
    return _reconciliation(uow.statements.latest(account_id))


def _reconciliation(latest: Statement | None) -> Reconciliation:
    if latest is None:
        return Reconciliation(last_statement_on=None, status="pending")
    return Reconciliation(last_statement_on=latest.statement_date, status=latest.status)


def bank_view(uow: UnitOfWork, ctx: Context, account: SupervisedAccount) -> BankAccountView:
    return bank_views(uow, ctx, [(uow.projects.get(account.project_id), account)])[0]


def bank_views(
    uow: UnitOfWork, ctx: Context, pairs: list[tuple[Project, SupervisedAccount]]
) -> list[BankAccountView]:
    """The views of many accounts, read together: a fixed number of queries however many there are."""
    views = accounts_of(uow, ctx, pairs)
    latest = uow.statements.latest_of([account.id for _, account in pairs])
    return [
        BankAccountView(
            **vars(views[account.id]),
            project=AccountProject(project.id, project.name, project.permit_no),
            reconciliation=_reconciliation(latest.get(account.id)),
        )
        for project, account in pairs
    ]


def of_bank(ctx: Context, actor: Principal) -> list[BankAccountView]:
    """The supervised accounts this bank holds."""
    with ctx.reading() as uow:
        pairs = [(project, account) for account, project in uow.projects.accounts_of_bank(actor.bank_id)]
        return bank_views(uow, ctx, pairs)


def page_of_bank(ctx: Context, actor: Principal, page: Page) -> Paged[BankAccountView]:
    """One page of the bank's supervised accounts, in account id order."""
    with ctx.reading() as uow:
        found = page_of(uow.projects.accounts_of_bank(actor.bank_id, page), page, lambda pair: (pair[0].id,))
        views = bank_views(uow, ctx, [(project, account) for account, project in found.items])
        return Paged(views, found.next)


def get(ctx: Context, account_no: str, actor: Principal) -> BankAccountView:
    """One account this bank supervises, with its release cap; any other is absent."""
    with ctx.reading() as uow:
        return bank_view(uow, ctx, bank_account(uow, actor, account_no))
