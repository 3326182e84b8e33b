"""Read models of a supervised account for the bank that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.services.deposits import bank_account
from escrow.services.projects import AccountView, account_of
from escrow.services.views import wire
from escrow.store.db import UnitOfWork
from escrow.store.models import SupervisedAccount


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
    latest = uow.statements.latest(account_id)
    if latest is None:
        return Reconciliation(last_statement_on=None, status="pending")
    return Reconciliation(last_statement_on=latest.statement_date, status=latest.status)


def bank_view(uow: UnitOfWork, ctx: Context, account: SupervisedAccount) -> BankAccountView:
    project = uow.projects.get(account.project_id)
    return BankAccountView(
        **vars(account_of(uow, ctx, project, account)),
        project=AccountProject(project.id, project.name, project.permit_no),
        reconciliation=reconciliation_state(uow, account.id),
    )


def of_bank(ctx: Context, actor: Principal) -> list[BankAccountView]:
    """The supervised accounts this bank holds."""
    with ctx.reading() as uow:
        return [bank_view(uow, ctx, a) for a in uow.projects.accounts_of_bank(actor.bank_id)]


def get(ctx: Context, account_no: str, actor: Principal) -> BankAccountView:
    """One account this bank supervises, with its release cap; any other is absent."""
    with ctx.reading() as uow:
        return bank_view(uow, ctx, bank_account(uow, actor, account_no))
