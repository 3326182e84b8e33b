"""Court freezes (冻结) and deductions (扣划) on a supervised account, as the supervising bank records them.

A freeze holds an amount (kind `amount`) or the whole balance (kind `full`); the account shows as frozen
until no freeze is active. What a freeze holds back depends on the rule book (escrow.domain.caps): from
hengshui@2026.1 on it limits non-key withdrawals and other outflows, while construction releases and buyer
refunds the bureau approves are still paid and reported to the court (法〔2022〕12号 art. 2). A court may
deduct frozen money, but before the project's first registration the rule book may
forbid deducting money inside the key supervised amount, except for this project's own construction,
equipment and material debts (the supreme court's 2022 notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from escrow.domain import caps, dates, ledger, money
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.money import Money, from_fen, to_fen, to_wire
from escrow.domain.principal import Principal
from escrow.services import approvals
from escrow.services.context import Context
from escrow.services.deposits import bank_account
from escrow.services.projects import release_cap
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Freeze, SupervisedAccount, utcnow

CreditorRole = Literal["construction", "equipment", "materials", "other"]
CREDITOR_ROLES: tuple[str, ...] = CreditorRole.__args__


FreezeKind = Literal["amount", "full"]


@dataclass(frozen=True)
class PlaceFreeze:
    account_no: str
    authority: str
    order_no: str
    amount: Decimal | None  # None for a `full` freeze
    ordered_on: date
    kind: FreezeKind = "amount"


@dataclass(frozen=True)
class Deduct:
    amount: Decimal
    creditor_role: str
    bank_reference: str
    executed_on: date


@dataclass(frozen=True)
class FrozenAccount:
    status: Literal["active", "frozen", "closed"]
    frozen_amount: Money
    releasable: Money


@dataclass(frozen=True)
class FreezeView:
    freeze_id: int
    account_no: str
    authority: str
    order_no: str
    kind: FreezeKind
    amount: Money  # what the freeze still holds (0.00 for a `full` freeze: it holds the whole balance)
    ordered_on: date
    status: Literal["active", "lifted", "deducted"]
    lifted_at: datetime | None
    created_at: datetime
    account: FrozenAccount


@dataclass(frozen=True)
class Deduction:
    amount: Money
    creditor_role: CreditorRole
    bank_reference: str
    executed_on: date
    balance_after: Money


@dataclass(frozen=True)
class DeductionView(FreezeView):
    """The freeze after a deduction, and the deduction."""

    deduction: Deduction


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive timestamps; they were written in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def freeze_view(uow: UnitOfWork, ctx: Context, freeze: Freeze, account: SupervisedAccount) -> FreezeView:
    project = uow.projects.get(account.project_id)
    cap = release_cap(uow, ctx, project, account)
    return FreezeView(
        freeze_id=freeze.id,
        account_no=account.account_no,
        authority=freeze.authority,
        order_no=freeze.order_no,
        kind=freeze.kind,
        amount=from_fen(freeze.amount_fen),
        ordered_on=freeze.ordered_on,
        status=freeze.status,
        lifted_at=_utc(freeze.lifted_at),
        created_at=_utc(freeze.created_at),
        account=FrozenAccount(
            status=account.status,
            frozen_amount=from_fen(uow.holds.frozen_fen(account.id)),
            releasable=cap.releasable,
        ),
    )


def bank_freeze(uow: UnitOfWork, actor: Principal, freeze_id: int) -> tuple[Freeze, SupervisedAccount]:
    """A freeze on an account this bank supervises, with the account locked; any other is absent."""
    freeze = uow.freezes.get(freeze_id)
    account = approvals.lock_account(uow, freeze.account_id) if freeze else None
    if account is None or actor.bank_id is None or account.bank_id != actor.bank_id:
        raise NotFound(f"no freeze {freeze_id}")
    uow.session.refresh(freeze)
    return freeze, account


def _set_account_status(uow: UnitOfWork, account: SupervisedAccount, actor: Principal) -> None:
    """Frozen while any freeze is active, active again when none is (a closed account stays closed)."""
    if account.status == "closed":
        return
    wanted = "frozen" if uow.freezes.active(account.id) else "active"
    if wanted == account.status:
        return
    before = account.status
    account.status = wanted
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"account.{wanted}",
        subject_type="account",
        subject_id=account.account_no,
        account_id=account.id,
        before={"status": before},
        after={"status": wanted},
    )


def get(ctx: Context, freeze_id: int, actor: Principal) -> FreezeView:
    with ctx.reading() as uow:
        freeze = uow.freezes.get(freeze_id)
        account = uow.session.get(SupervisedAccount, freeze.account_id) if freeze else None
        if account is None or actor.bank_id is None or account.bank_id != actor.bank_id:
            raise NotFound(f"no freeze {freeze_id}")
        return freeze_view(uow, ctx, freeze, account)


def place(ctx: Context, cmd: PlaceFreeze, actor: Principal) -> FreezeView:
    return ctx.run(_place, cmd, actor)


def _place(uow: UnitOfWork, ctx: Context, cmd: PlaceFreeze, actor: Principal) -> FreezeView:
    account = approvals.lock_account(uow, bank_account(uow, actor, cmd.account_no).id)
    if account.status == "closed":
        raise InvalidInput(f"account {account.account_no} is closed", rule="account_open")
    dates.check_within_account_life(
        "ordered_on", cmd.ordered_on, account.opened_on, ctx.today(), what="court order's date"
    )
    if cmd.amount is not None:
        money.check_amount(cmd.amount)
    if cmd.kind == "amount" and cmd.amount is None:
        raise InvalidInput(
            "a freeze of kind amount states the amount it holds",
            errors=[FieldError.coded("amount", "required")],
        )
    if cmd.kind == "full" and cmd.amount is not None:
        raise InvalidInput(
            "a full freeze holds the whole balance; leave amount out",
            errors=[FieldError.coded("amount", "not_for_full_freeze")],
        )
    if uow.freezes.by_order(account.id, cmd.order_no) is not None:
        raise Conflict(f"court order {cmd.order_no} is already recorded on account {account.account_no}")
    freeze = uow.freezes.add(
        Freeze(
            account_id=account.id,
            authority=cmd.authority,
            order_no=cmd.order_no,
            kind=cmd.kind,
            amount_fen=to_fen(cmd.amount) if cmd.amount is not None else 0,
            ordered_on=cmd.ordered_on,
            status="active",
        )
    )
    audit.record(
        uow.session,
        actor=actor.ref,
        action="freeze.placed",
        subject_type="freeze",
        subject_id=freeze.id,
        account_id=account.id,
        after={
            "authority": cmd.authority,
            "order_no": cmd.order_no,
            "kind": cmd.kind,
            "amount": to_wire(cmd.amount) if cmd.amount is not None else None,
            "ordered_on": cmd.ordered_on.isoformat(),
        },
    )
    _set_account_status(uow, account, actor)
    return freeze_view(uow, ctx, freeze, account)


def lift(ctx: Context, freeze_id: int, actor: Principal, lift_order_no: str | None = None) -> FreezeView:
    return ctx.run(_lift, freeze_id, actor, lift_order_no)


def _lift(
    uow: UnitOfWork, ctx: Context, freeze_id: int, actor: Principal, lift_order_no: str | None
) -> FreezeView:
    freeze, account = bank_freeze(uow, actor, freeze_id)
    if freeze.status != "active":
        raise Conflict(f"freeze {freeze.id} is already {freeze.status}")
    freeze.status, freeze.lifted_at = "lifted", utcnow()
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action="freeze.lifted",
        subject_type="freeze",
        subject_id=freeze.id,
        account_id=account.id,
        before={"status": "active"},
        after={"status": "lifted", "amount": to_wire(from_fen(freeze.amount_fen))},
        details={"lift_order_no": lift_order_no} if lift_order_no else {},
    )
    _set_account_status(uow, account, actor)
    return freeze_view(uow, ctx, freeze, account)


def deduct(ctx: Context, freeze_id: int, cmd: Deduct, actor: Principal) -> DeductionView:
    """The bank pays frozen money to the court's creditor: a court_deduction journal entry."""
    return ctx.run(_deduct, freeze_id, cmd, actor)


def _deduct(uow: UnitOfWork, ctx: Context, freeze_id: int, cmd: Deduct, actor: Principal) -> DeductionView:
    freeze, account = bank_freeze(uow, actor, freeze_id)
    if freeze.status != "active":
        raise Conflict(f"freeze {freeze.id} is {freeze.status}: nothing is held to deduct")
    if cmd.creditor_role not in CREDITOR_ROLES:
        raise InvalidInput(
            "unknown creditor role",
            errors=[FieldError.one_of("creditor_role", CREDITOR_ROLES, separator=" | ")],
        )
    dates.check_within_account_life(
        "executed_on", cmd.executed_on, account.opened_on, ctx.today(), what="deduction date"
    )
    if cmd.executed_on < freeze.ordered_on:
        raise InvalidInput(
            "a deduction cannot precede the freeze", errors=[FieldError.coded("executed_on", "before_order")]
        )
    fen = to_fen(cmd.amount)
    held = to_wire(from_fen(freeze.amount_fen))
    if freeze.kind == "amount" and fen > freeze.amount_fen:
        raise InvalidInput(
            f"the deduction {to_wire(cmd.amount)} is above the {held} this freeze holds",
            rule="freeze.amount",
            errors=[FieldError.at_most("amount", held)],
        )
    reference = f"deduction:{cmd.bank_reference}"
    if uow.journal.has_reference(account.id, reference):
        raise Conflict(
            f"bank reference {cmd.bank_reference} was already booked for a deduction",
            rule="bank_reference_unseen",
        )
    project = uow.projects.get(account.project_id)
    book = ctx.rulebook(project.rulebook_id)
    balance = from_fen(uow.journal.balances(account.id).cash)
    node = book.registration_node
    progress = uow.projects.progress(project.id)
    supervised = caps.protected_from_deduction(book, progress, from_fen(project.supervised_amount_fen))
    protected = (
        book.court_deduction_before_registration == "forbidden_within_key_amount"
        and supervised > 0
        and cmd.creditor_role not in book.court_deduction_exceptions
    )
    if protected:
        by_building = (
            " of the buildings not yet registered" if progress.buildings and book.by_building else ""
        )
        deductible = balance - min(balance, supervised)
        if cmd.amount > deductible:
            raise approvals.Refused(
                f"before first registration ({node} not confirmed) a court may not deduct money inside the "
                f"key supervised amount {to_wire(supervised)}{by_building}: of the balance {to_wire(balance)}"
                f" only {to_wire(deductible)} may be deducted for a {cmd.creditor_role} creditor"
                f" (exceptions: {', '.join(book.court_deduction_exceptions) or 'none'})",
                rule=f"{book.id} freeze.court_deduction_before_registration",
                facts={
                    "deductible": to_wire(deductible),
                    "balance": to_wire(balance),
                    "supervised_amount": to_wire(supervised),
                },
                errors=[FieldError.at_most("amount", to_wire(deductible))],
            )
    entry = ledger.court_deduction(fen, booked_on=cmd.executed_on, reference=reference)
    if not ledger.can_post(uow.journal.balances(account.id), entry):
        raise InvalidInput(
            f"deducting {to_wire(cmd.amount)} would overdraw account {account.account_no}", rule="balance"
        )
    dates.check_held_from("executed_on", cmd.executed_on, uow.journal.cash_by_day(account.id), fen)
    before = freeze_view(uow, ctx, freeze, account)
    uow.journal.post(account.id, entry)
    if freeze.kind == "amount":  # a full freeze keeps holding whatever is left
        freeze.amount_fen -= fen
    if freeze.kind == "amount" and freeze.amount_fen == 0:  # all it held was paid over: it has done its work
        freeze.status, freeze.lifted_at = "deducted", utcnow()
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action="freeze.deducted",
        subject_type="freeze",
        subject_id=freeze.id,
        account_id=account.id,
        before={"amount": to_wire(before.amount), "status": before.status},
        after={"amount": to_wire(from_fen(freeze.amount_fen)), "status": freeze.status},
        details={
            "deducted": to_wire(cmd.amount),
            "creditor_role": cmd.creditor_role,
            "bank_reference": cmd.bank_reference,
            "executed_on": cmd.executed_on.isoformat(),
            "before_registration": supervised > 0,
            "rulebook": book.id,
        },
    )
    _set_account_status(uow, account, actor)
    view = freeze_view(uow, ctx, freeze, account)
    deduction = Deduction(
        amount=from_fen(fen),
        creditor_role=cmd.creditor_role,
        bank_reference=cmd.bank_reference,
        executed_on=cmd.executed_on,
        balance_after=from_fen(uow.journal.balances(account.id).cash),
    )
    return DeductionView(**vars(view), deduction=deduction)
