"""The read-only bank portal: what a supervising bank's staff see of their own bank — its supervised accounts,
payment instructions waiting for it, the statements it sent with their reconciliation, and court freezes.
Every read is scoped to the principal's bank (another bank's account answers as if it did not exist);
nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from escrow.domain.errors import Forbidden
from escrow.domain.money import Money, from_fen
from escrow.domain.principal import Principal
from escrow.services import accounts, instructions
from escrow.services.accounts import BankAccountView
from escrow.services.context import Context
from escrow.services.deposits import bank_account
from escrow.services.instructions import Instruction
from escrow.store.db import UnitOfWork


@dataclass(frozen=True)
class StatementRow:
    statement_id: int
    account_no: str
    statement_date: date
    format: str
    matched: int
    bank_only: int
    books_only: int
    balance_difference: Money
    status: str  # reconciled | discrepancy


@dataclass(frozen=True)
class FreezeRow:
    freeze_id: int
    account_no: str
    authority: str
    order_no: str
    kind: str  # amount | full
    amount: Money  # 0.00 for a full freeze (it holds the whole balance)
    ordered_on: date
    status: str  # active | lifted


@dataclass(frozen=True)
class AccountPage:
    account: BankAccountView
    instructions: list[Instruction]  # waiting for the bank
    statements: list[StatementRow]
    freezes: list[FreezeRow]


def _bank_of(actor: Principal) -> int:
    if actor.kind != "bank" or actor.bank_id is None:
        raise Forbidden("only a bank's staff read the bank portal")
    return actor.bank_id


def _statements(uow: UnitOfWork, bank_id: int, account_id: int | None = None) -> list[StatementRow]:
    return [
        StatementRow(
            statement_id=s.id,
            account_no=account_no,
            statement_date=s.statement_date,
            format=s.format,
            matched=s.matched,
            bank_only=s.bank_only,
            books_only=s.books_only,
            balance_difference=from_fen(s.balance_difference_fen),
            status=s.status,
        )
        for s, account_no in uow.bank_reads.statements(bank_id, account_id)
    ]


def _freezes(uow: UnitOfWork, bank_id: int, account_id: int | None = None) -> list[FreezeRow]:
    return [
        FreezeRow(
            freeze_id=f.id,
            account_no=account_no,
            authority=f.authority,
            order_no=f.order_no,
            kind=f.kind,
            amount=from_fen(f.amount_fen),
            ordered_on=f.ordered_on,
            status=f.status,
        )
        for f, account_no in uow.bank_reads.freezes(bank_id, account_id)
    ]


def accounts_of(ctx: Context, actor: Principal) -> list[BankAccountView]:
    _bank_of(actor)
    return accounts.of_bank(ctx, actor)


def waiting(ctx: Context, actor: Principal) -> list[Instruction]:
    """Approved payments the bank has yet to execute."""
    _bank_of(actor)
    return instructions.for_bank(ctx, actor, "pending")


def statements(ctx: Context, actor: Principal) -> list[StatementRow]:
    bank_id = _bank_of(actor)
    with ctx.reading() as uow:
        return _statements(uow, bank_id)


def freezes(ctx: Context, actor: Principal) -> list[FreezeRow]:
    bank_id = _bank_of(actor)
    with ctx.reading() as uow:
        return _freezes(uow, bank_id)


def account(ctx: Context, actor: Principal, account_no: str) -> AccountPage:
    """One of the bank's accounts with its waiting instructions, statements and freezes; NotFound for an
    account of another bank."""
    bank_id = _bank_of(actor)
    with ctx.reading() as uow:
        row = bank_account(uow, actor, account_no)
        view = accounts.bank_view(uow, ctx, row)
        waiting_here = [instructions.instruction_view(uow, i) for i in uow.bank_reads.waiting_on(row.id)]
        return AccountPage(
            view, waiting_here, _statements(uow, bank_id, row.id), _freezes(uow, bank_id, row.id)
        )
