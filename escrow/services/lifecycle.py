"""The end of an account's life, as the bureau orders it (CONTRACT.md §8): closure (解除监管) and a change of
supervising bank. Each is one payment instruction for the bank, of kind `closure` or `transfer`, paying the
whole balance; the books move when the bank executes it (escrow.services.ending).

What blocks each is the pure rule of escrow.domain.lifecycle, judged on the account's open items under the
account's lock; a refusal names every blocker and changes nothing. While a closure or transfer waits for the
bank it holds the whole balance (`pending_out`), and nothing new may open on the account: releases, refunds,
returns of unassigned money, guarantees and deposits answer 409 (`lifecycle.ending_pending`), and a second
closure or transfer too. A court freeze is the court's, never refused: it makes the execution wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from escrow.domain import lifecycle
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.ids import valid_id
from escrow.domain.money import Money, from_fen
from escrow.domain.principal import Principal
from escrow.services import approvals, ending, webhooks
from escrow.services.context import Context
from escrow.services.instructions import ClosureInstruction, TransferInstruction, instruction_view
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import PaymentInstruction, Project, SupervisedAccount


@dataclass(frozen=True)
class Payee:
    name: str
    account_no: str
    bank_name: str


@dataclass(frozen=True)
class CloseAccount:
    project_id: int
    payee: Payee
    reason: str


@dataclass(frozen=True)
class ChangeBank:
    project_id: int
    bank_code: str
    account_no: str
    account_name: str
    reason: str = ""


def _project(uow: UnitOfWork, project_id: int) -> tuple[Project, SupervisedAccount]:
    project = uow.projects.get(project_id) if valid_id(project_id) else None
    if project is None:
        raise NotFound(f"no project {project_id}")
    account = approvals.lock_account(uow, uow.projects.account_for(project.id).id)
    return project, account


def close(ctx: Context, cmd: CloseAccount, actor: Principal) -> ClosureInstruction:
    """Order the closing payout (bureau admin): an instruction of kind `closure` for the whole balance."""
    return ctx.run(_close, cmd, actor)


def _close(uow: UnitOfWork, ctx: Context, cmd: CloseAccount, actor: Principal) -> ClosureInstruction:
    project, account = _project(uow, cmd.project_id)
    errors = [
        FieldError.coded(f"payee.{name}", "required")
        for name in ("name", "account_no", "bank_name")
        if not getattr(cmd.payee, name).strip()
    ]
    if not cmd.reason.strip():
        errors.append(FieldError.coded("reason", "required"))
    if errors:
        raise InvalidInput("the payee and the reason are required", errors=errors)
    items = ending.open_items(uow, account, ctx.today())
    book = ctx.rulebook(project.rulebook_id)
    blockers = lifecycle.closure_blockers(book, ending.confirmed_by_building(uow, project.id), items)
    if blockers:
        raise lifecycle.Refused(f"closing account {account.account_no}", blockers)
    ins = uow.instructions.add(
        PaymentInstruction(
            kind="closure",
            account_id=account.id,
            amount_fen=items.balance_fen,
            reason=cmd.reason.strip(),
            payee_name=cmd.payee.name.strip(),
            payee_account_no=cmd.payee.account_no.strip(),
            payee_bank_name=cmd.payee.bank_name.strip(),
        )
    )
    view = instruction_view(uow, ins)
    webhooks.instruction_created(uow, ins)  # the bank's webhooks, in this transaction
    audit.record(
        uow.session,
        actor=actor.ref,
        action="instruction.created.closure",
        subject_type="instruction",
        subject_id=ins.id,
        account_id=account.id,
        after=wire(view),
        details={"project_id": project.id, "reason": ins.reason},
    )
    return view


def change_bank(ctx: Context, cmd: ChangeBank, actor: Principal) -> TransferInstruction:
    """Order the move to a new supervising bank (bureau admin): an instruction of kind `transfer` at the old
    bank for the whole balance."""
    return ctx.run(_change_bank, cmd, actor)


def _change_bank(uow: UnitOfWork, ctx: Context, cmd: ChangeBank, actor: Principal) -> TransferInstruction:
    project, account = _project(uow, cmd.project_id)
    bank = uow.parties.bank_by_code(cmd.bank_code)
    errors = []
    if bank is None:
        errors.append(FieldError.coded("bank_code", "no_such_bank"))
    for name in ("account_no", "account_name"):
        if not getattr(cmd, name).strip():
            errors.append(FieldError.coded(name, "required"))
    if errors:
        raise InvalidInput("the new bank and account are not acceptable", errors=errors)
    items = ending.open_items(uow, account, ctx.today())
    blockers = lifecycle.bank_change_blockers(items)
    if blockers:
        raise lifecycle.Refused(f"moving account {account.account_no} to another bank", blockers)
    if uow.instructions.account_no_taken(cmd.account_no.strip()):
        raise Conflict(
            f"account number {cmd.account_no} is already in use",
            rule="one_account_per_project",
            errors=[FieldError.coded("account_no", "in_use")],
        )
    ins = uow.instructions.add(
        PaymentInstruction(
            kind="transfer",
            account_id=account.id,
            amount_fen=items.balance_fen,
            reason=cmd.reason.strip(),
            payee_name=cmd.account_name.strip(),
            payee_account_no=cmd.account_no.strip(),
            payee_bank_name=bank.name,
            new_bank_id=bank.id,
        )
    )
    view = instruction_view(uow, ins)
    webhooks.instruction_created(uow, ins)  # the bank's webhooks, in this transaction
    audit.record(
        uow.session,
        actor=actor.ref,
        action="instruction.created.transfer",
        subject_type="instruction",
        subject_id=ins.id,
        account_id=account.id,
        after=wire(view),
        details={"project_id": project.id, "new_bank_code": bank.code},
    )
    return view


# --- what the bureau's project page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class PendingEnd:
    """A closure or transfer waiting for the bank."""

    instruction_id: int
    kind: str  # closure | transfer
    amount: Money
    payee_name: str
    payee_account_no: str
    payee_bank_name: str


@dataclass(frozen=True)
class EarlierAccount:
    """An account the project had before a change of bank (its history stays readable)."""

    account_no: str
    bank_code: str
    bank_name: str
    opened_on: date
    closed_on: date | None


@dataclass(frozen=True)
class LifecycleOverview:
    project_id: int
    account_no: str
    status: str
    closed_on: date | None
    pending: PendingEnd | None
    closure_blockers: tuple[lifecycle.Blocker, ...]  # empty: closure may be ordered now
    bank_change_blockers: tuple[lifecycle.Blocker, ...]
    earlier: tuple[EarlierAccount, ...]


def overview(uow: UnitOfWork, ctx: Context, project: Project) -> LifecycleOverview:
    """Where the project's account stands in its life: a closure or change of bank pending, what blocks
    either, the accounts it had before."""
    account = uow.projects.account_for(project.id)
    items = ending.open_items(uow, account, ctx.today())
    book = ctx.rulebook(project.rulebook_id)
    pending = uow.instructions.ending_of(account.id)
    earlier = []
    for row in uow.projects.accounts_of_project(project.id):
        if row.id != account.id:
            bank = uow.parties.bank(row.bank_id)
            earlier.append(EarlierAccount(row.account_no, bank.code, bank.name, row.opened_on, row.closed_on))
    return LifecycleOverview(
        project_id=project.id,
        account_no=account.account_no,
        status=account.status,
        closed_on=account.closed_on,
        pending=PendingEnd(
            instruction_id=pending.id,
            kind=pending.kind,
            amount=from_fen(pending.amount_fen),
            payee_name=pending.payee_name or "",
            payee_account_no=pending.payee_account_no or "",
            payee_bank_name=pending.payee_bank_name or "",
        )
        if pending is not None
        else None,
        closure_blockers=tuple(
            lifecycle.closure_blockers(book, ending.confirmed_by_building(uow, project.id), items)
        ),
        bank_change_blockers=tuple(lifecycle.bank_change_blockers(items)),
        earlier=tuple(earlier),
    )
