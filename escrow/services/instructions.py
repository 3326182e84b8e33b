"""Payment instructions: approved releases and refunds, and returns of unassigned (suspense) money to its
payer, waiting for the supervising bank to pay them.

The books move only when the bank confirms execution: a release or refund journal entry, posted under the
account lock. Between approval and execution the amount is reserved (pending_out); if the account changed in
the meantime (a court freeze, a reversal, a deduction) so that paying now would overdraw it, dip into money
that is not free, or — for a release — push it below its required retention, execution is refused and the
instruction stays pending. A return takes money that is already held back as suspense; it must not dip into
frozen money or money reserved for other instructions either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from escrow.domain import caps, dates, ledger, lifecycle
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.money import ZERO, Money, from_fen, to_wire
from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.services import approvals, ending, refunds, suspense
from escrow.services.context import Context
from escrow.services.projects import release_cap
from escrow.services.releases import cap_json, payee_view
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Bank, Contract, PaymentInstruction, SupervisedAccount

STATUSES = ("pending", "executed")


@dataclass(frozen=True)
class Execute:
    bank_reference: str
    executed_on: date


@dataclass(frozen=True)
class InstructionPayee:
    name: str
    account_no: str
    bank_name: str
    role: str  # a release: construction | equipment | materials; a refund: buyer | lender; a return: payer
    amount: Money


@dataclass(frozen=True)
class InstructionView:
    instruction_id: int
    kind: Literal["release", "refund", "return", "closure", "transfer"]
    account_no: str
    payees: list[InstructionPayee]
    amount: Money
    status: Literal["pending", "executed"]
    created_at: str  # ISO 8601 with a zone
    # A freeze is in force (pending) or was when the bank paid (executed): the bank reports the payment to
    # the court (法〔2022〕12号 art. 2).
    report_to_court: bool


@dataclass(frozen=True)
class ReleaseInstruction(InstructionView):
    kind: Literal["release"]
    release_id: int
    release_kind: Literal["node", "non_key"]
    purpose: str
    bank_reference: str | None
    executed_on: date | None


@dataclass(frozen=True)
class RefundInstruction(InstructionView):
    kind: Literal["refund"]
    refund_id: int
    contract_no: str
    bank_reference: str | None
    executed_on: date | None


@dataclass(frozen=True)
class ReturnInstruction(InstructionView):
    """Unassigned (suspense) money going back to whoever paid it; its payee is that payer."""

    kind: Literal["return"]
    deposit_id: int
    deposit_reference: str  # the bank reference of the credit being returned
    deposit_value_date: date
    reason: str
    bank_reference: str | None
    executed_on: date | None


@dataclass(frozen=True)
class ClosureInstruction(InstructionView):
    """Supervision ends (解除监管): the whole balance paid to the payee the bureau named; executing it closes
    the account."""

    kind: Literal["closure"]
    project_id: int
    reason: str
    bank_reference: str | None
    executed_on: date | None


@dataclass(frozen=True)
class TransferInstruction(InstructionView):
    """A change of supervising bank: the whole balance moved to the project's new account; executing it
    closes this account and opens the new one."""

    kind: Literal["transfer"]
    project_id: int
    new_bank_code: str
    new_account_no: str
    new_account_name: str
    reason: str
    bank_reference: str | None
    executed_on: date | None


Instruction = (
    ReleaseInstruction | RefundInstruction | ReturnInstruction | ClosureInstruction | TransferInstruction
)


def _payee(payee: Any) -> InstructionPayee:
    values = payee if isinstance(payee, dict) else vars(payee)
    return InstructionPayee(
        name=values["name"],
        account_no=values["account_no"],
        bank_name=values["bank_name"],
        role=values["role"],
        amount=Decimal(str(values["amount"])),
    )


def instruction_view(uow: UnitOfWork, ins: PaymentInstruction) -> Instruction:
    account = uow.session.get(SupervisedAccount, ins.account_id)
    common = {
        "instruction_id": ins.id,
        "account_no": account.account_no,
        "amount": from_fen(ins.amount_fen),
        "status": ins.status,
        "created_at": approvals.timestamp(ins.created_at),
        "bank_reference": ins.bank_reference,
        "executed_on": ins.executed_on,
        "report_to_court": (
            ins.court_report if ins.status == "executed" else uow.holds.freeze_in_force(account.id)
        ),
    }
    if ins.kind == "release":
        release = uow.releases.get(ins.release_id)
        payees = [_payee(payee_view(p)) for p in uow.releases.payees(ins.release_id)]
        return ReleaseInstruction(
            kind="release",
            payees=payees,
            release_id=ins.release_id,
            release_kind=release.kind,
            purpose=release.purpose,
            **common,
        )
    if ins.kind in lifecycle.ENDING_KINDS:
        payee = InstructionPayee(
            name=ins.payee_name or "",
            account_no=ins.payee_account_no or "",
            bank_name=ins.payee_bank_name or "",
            role="payee" if ins.kind == "closure" else "new_account",
            amount=from_fen(ins.amount_fen),
        )
        if ins.kind == "closure":
            return ClosureInstruction(
                kind="closure",
                payees=[payee],
                project_id=account.project_id,
                reason=ins.reason or "",
                **common,
            )
        return TransferInstruction(
            kind="transfer",
            payees=[payee],
            project_id=account.project_id,
            new_bank_code=uow.session.get(Bank, ins.new_bank_id).code,
            new_account_no=ins.payee_account_no or "",
            new_account_name=ins.payee_name or "",
            reason=ins.reason or "",
            **common,
        )
    if ins.kind == "return":
        deposit = uow.deposits.get(ins.deposit_id)
        return ReturnInstruction(
            kind="return",
            payees=[_payee(p) for p in suspense.return_payees(deposit)],
            deposit_id=deposit.id,
            deposit_reference=deposit.bank_reference,
            deposit_value_date=deposit.value_date,
            reason=ins.reason or "",
            **common,
        )
    refund = uow.refunds.get(ins.refund_id)
    contract = uow.session.get(Contract, refund.contract_id)
    return RefundInstruction(
        kind="refund",
        payees=[_payee(p) for p in refunds.payees(uow, contract)],
        refund_id=ins.refund_id,
        contract_no=contract.contract_no,
        **common,
    )


def for_bank(ctx: Context, actor: Principal, status: str | None = None) -> list[Instruction]:
    if status is not None and status not in STATUSES:
        raise InvalidInput("unknown status", errors=[FieldError("status", " or ".join(STATUSES))])
    with ctx.reading() as uow:
        return [instruction_view(uow, i) for i in uow.instructions.of_bank(actor.bank_id, status)]


def page_for_bank(ctx: Context, actor: Principal, status: str | None, page: Page) -> Paged[Instruction]:
    """One page of `for_bank`, in id order."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("unknown status", errors=[FieldError("status", " or ".join(STATUSES))])
    with ctx.reading() as uow:
        found = page_of(uow.instructions.of_bank(actor.bank_id, status, page), page, lambda i: (i.id,))
        return Paged([instruction_view(uow, i) for i in found.items], found.next)


def get(ctx: Context, instruction_id: int, actor: Principal) -> Instruction:
    with ctx.reading() as uow:
        return instruction_view(uow, bank_instruction(uow, actor, instruction_id))


def bank_instruction(uow: UnitOfWork, actor: Principal, instruction_id: int) -> PaymentInstruction:
    """An instruction on an account this bank supervises; any other answers as if it did not exist."""
    ins = uow.instructions.get(instruction_id)
    account = uow.session.get(SupervisedAccount, ins.account_id) if ins else None
    if account is None or actor.bank_id is None or account.bank_id != actor.bank_id:
        raise NotFound(f"no payment instruction {instruction_id}")
    return ins


def _still_fits(uow: UnitOfWork, ctx: Context, ins: PaymentInstruction, account: SupervisedAccount) -> None:
    """What changed since approval must not make paying now take money that is not free."""
    project = uow.projects.get(account.project_id)
    kind = uow.releases.get(ins.release_id).kind if ins.kind == "release" else "node"
    cap = release_cap(uow, ctx, project, account, kind=kind)  # pending_out includes this instruction
    terms = {t.term: t.value for t in cap.terms}
    if ins.kind == "return":
        if caps.return_headroom(cap, from_fen(ins.amount_fen)) < ZERO:
            raise approvals.Refused(
                f"paying back {to_wire(from_fen(ins.amount_fen))} would leave {to_wire(terms['balance'])} − "
                f"{to_wire(from_fen(ins.amount_fen))}, less than the frozen {to_wire(terms['frozen'])} and "
                f"reserved {to_wire(terms['pending_out'])}; the instruction stays pending",
                rule="return_cap",
                facts={"cap": cap_json(cap)},
            )
    elif ins.kind == "release":
        if caps.release_headroom(cap) < ZERO:
            raise approvals.Refused(
                f"the account changed since the release was approved ({cap.text}); paying it now would take "
                "money that is retained, frozen or unassigned; the instruction stays pending",
                rule="release_cap",
                facts={"cap": cap_json(cap)},
            )
    else:
        if caps.free_money(cap) < ZERO:
            _, facts = refunds.available(cap)
            raise approvals.Refused(
                "the account changed since the refund was approved; paying it now would take money that is "
                "frozen, unassigned or reserved for other instructions; the instruction stays pending",
                rule="refund_cap",
                facts={"available": facts},
            )


def execute(ctx: Context, instruction_id: int, cmd: Execute, actor: Principal) -> Instruction:
    """The bank confirms it paid: the books move now."""
    return ctx.run(execute_in, instruction_id, cmd, actor)


def execute_in(
    uow: UnitOfWork, ctx: Context, instruction_id: int, cmd: Execute, actor: Principal
) -> Instruction:
    """`execute` in the caller's unit of work (the demo's batch)."""
    ins = bank_instruction(uow, actor, instruction_id)
    account = approvals.lock_account(uow, ins.account_id)
    uow.session.refresh(ins)
    if ins.status == "executed":
        raise Conflict(
            f"instruction {ins.id} was already executed on {ins.executed_on} ({ins.bank_reference})"
        )
    dates.check_within_account_life(
        "executed_on", cmd.executed_on, account.opened_on, ctx.today(), what="execution date"
    )
    if uow.instructions.executed_with_reference(actor.bank_id, cmd.bank_reference) is not None:
        raise Conflict(
            f"bank reference {cmd.bank_reference} was already used for another payment",
            rule="bank_reference_unseen",
        )
    if ins.kind in lifecycle.ENDING_KINDS:
        return _execute_ending(uow, ctx, ins, account, cmd, actor)
    if ins.kind == "release":
        release = uow.releases.get(ins.release_id)
        entry = ledger.release(ins.amount_fen, booked_on=cmd.executed_on, reference=f"release:{release.id}")
    elif ins.kind == "return":
        deposit = uow.deposits.get(ins.deposit_id)
        entry = ledger.suspense_returned(
            ins.amount_fen, booked_on=cmd.executed_on, reference=f"suspense_returned:{deposit.id}"
        )
    else:
        refund = uow.refunds.get(ins.refund_id)
        contract = uow.session.get(Contract, refund.contract_id)
        refunds.check_contract_record(uow, ctx.rulebook(refund.rulebook_id), refund, contract)
        entry = ledger.refund(ins.amount_fen, booked_on=cmd.executed_on, reference=f"refund:{refund.id}")
    if not ledger.can_post(uow.journal.balances(account.id), entry):
        raise InvalidInput(
            f"paying {to_wire(from_fen(ins.amount_fen))} would overdraw account {account.account_no}",
            rule="balance",
        )
    dates.check_held_from("executed_on", cmd.executed_on, uow.journal.cash_by_day(account.id), ins.amount_fen)
    _still_fits(uow, ctx, ins, account)
    before = instruction_view(uow, ins)
    uow.journal.post(account.id, entry)
    ins.court_report = uow.holds.freeze_in_force(account.id)
    ins.status, ins.bank_reference, ins.executed_on = "executed", cmd.bank_reference, cmd.executed_on
    refunded: list[str] = []
    if ins.kind == "release":
        release.status = "executed"
    elif ins.kind == "return":
        deposit.status = "returned"
    else:
        refund.status = "executed"
        for voucher in uow.contracts.vouchers_of(contract.id):
            if voucher.status != "reversed":
                voucher.status = "refunded"
                refunded.append(voucher.voucher_no)
    uow.session.flush()
    view = instruction_view(uow, ins)
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"instruction.executed.{ins.kind}",
        subject_type="instruction",
        subject_id=ins.id,
        account_id=account.id,
        before=wire(before),
        after=wire(view),
        details={"vouchers_refunded": refunded} if refunded else {},
    )
    if ins.kind == "return":
        subject_type, subject_id, states = "deposit", deposit.id, ("returning", "returned")
        action = "deposit.returned"
    else:
        subject = release if ins.kind == "release" else refund
        subject_type, subject_id, states = ins.kind, subject.id, ("approved", "executed")
        action = f"{ins.kind}.executed"
    audit.record(
        uow.session,
        actor=actor.ref,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        account_id=account.id,
        before={"status": states[0]},
        after={"status": states[1]},
        details={"instruction_id": ins.id, "bank_reference": cmd.bank_reference},
    )
    return view


def _execute_ending(
    uow: UnitOfWork,
    ctx: Context,
    ins: PaymentInstruction,
    account: SupervisedAccount,
    cmd: Execute,
    actor: Principal,
) -> Instruction:
    """A closure or a transfer: the whole balance leaves and the account closes (services.ending)."""
    before = instruction_view(uow, ins)
    account_before = {"status": account.status, "closed_on": None}
    ins.court_report = False  # refused while a freeze is in force (escrow.domain.lifecycle)
    details = ending.execute(uow, ctx, ins, account, executed_on=cmd.executed_on, actor_ref=actor.ref)
    ins.status, ins.bank_reference, ins.executed_on = "executed", cmd.bank_reference, cmd.executed_on
    uow.session.flush()
    view = instruction_view(uow, ins)
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"instruction.executed.{ins.kind}",
        subject_type="instruction",
        subject_id=ins.id,
        account_id=account.id,
        before=wire(before),
        after=wire(view),
        details=details,
    )
    audit.record(
        uow.session,
        actor=actor.ref,
        action="account.closed",
        subject_type="account",
        subject_id=account.account_no,
        account_id=account.id,
        before=account_before,
        after={"status": account.status, "closed_on": cmd.executed_on.isoformat()},
        details={"instruction_id": ins.id, "kind": ins.kind, "bank_reference": cmd.bank_reference},
    )
    return view
