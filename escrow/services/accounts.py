"""Read models of a supervised account for the bank that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from escrow.domain.money import Money
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.services.deposits import bank_account
from escrow.services.projects import account_view
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
class AccountCap:
    """releasable = balance − suspense − required retention − frozen − pending_out, floored at 0."""

    releasable: Money
    explanation: dict[str, Any]  # the terms, the rule book and the whole computation in one sentence


@dataclass(frozen=True)
class BankAccountView:
    account_no: str
    account_name: str
    status: Literal["active", "frozen", "closed"]
    balance: Money
    supervised_amount: Money
    required_retention: Money
    frozen_amount: Money
    releasable: Money
    cap: AccountCap
    rulebook: str
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
    values = wire(account_view(uow, ctx, project, account))  # plain values, whatever the view's type
    money = {k: Decimal(values[k]) for k in ("balance", "supervised_amount", "required_retention")}
    money |= {k: Decimal(values[k]) for k in ("frozen_amount", "releasable")}
    return BankAccountView(
        account_no=values["account_no"],
        account_name=values["account_name"],
        status=values["status"],
        **money,
        cap=AccountCap(Decimal(values["cap"]["releasable"]), values["cap"]["explanation"]),
        rulebook=values["rulebook"],
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
