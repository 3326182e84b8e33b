"""Suspense items: money in the supervised account that no contract claims yet (a blocking deposit check
failed, or a statement showed a credit nobody posted). A reviewer or approver resolves each one:

- assign it to a contract (and a payment notice): the rule book's deposit checks run again against the chosen
  contract and notice, and only when no blocking check fails is it booked suspense → buyer_funds, exactly
  where an accepted deposit goes, with the voucher an accepted deposit gets;
- or return it to its payer: the money leaves the bank, so the bank is instructed to pay it back (a payment
  instruction of kind "return"); the books move (suspense → cash out) only when the bank executes it.

Either way the deposit leaves the status "suspense" once, under the account lock: a second submission is a
conflict, not a second booking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from escrow.domain import ledger
from escrow.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from escrow.domain.identity import mask_name
from escrow.domain.ids import valid_id
from escrow.domain.money import from_fen, to_wire
from escrow.domain.principal import Principal
from escrow.services import approvals, deposits, webhooks
from escrow.services.context import Context
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    Contract,
    Deposit,
    PaymentInstruction,
    PaymentNotice,
    Project,
    SupervisedAccount,
)

# The bureau roles that resolve suspense items, as the web's permission table ("suspense.resolve") has it.
RESOLVERS = ("reviewer", "approver")
REASON_MAX = 500
# Which form field a failing check points at: the notice decides amount and account, the contract the rest.
CHECK_FIELDS = {
    "notice_exists_and_open": "notice_no",
    "account_matches_project": "notice_no",
    "amount_equals_notice": "notice_no",
    "payer_matches_buyer": "contract_no",
    "contract_not_cancelled": "contract_no",
    "within_contract_price": "contract_no",
}


@dataclass(frozen=True)
class AssignToContract:
    contract_no: str
    notice_no: str | None = None


@dataclass(frozen=True)
class ReturnToPayer:
    reason: str


@dataclass(frozen=True)
class AssignmentCheck:
    """What assigning the money to a contract would conclude; nothing is booked."""

    ok: bool
    checks: list[deposits.CheckResult]
    rulebook: str
    contract_no: str
    notice_no: str | None


@dataclass(frozen=True)
class Assigned(deposits.DepositView):
    contract_no: str
    notice_no: str | None


@dataclass(frozen=True)
class Returning(deposits.DepositView):
    instruction_id: int
    reason: str


# --- the bureau's page: one item of a project, each use case in its own unit of work ----------------------


def item(ctx: Context, project_id: int, deposit_id: int) -> dict[str, Any]:
    with ctx.reading() as uow:
        return item_view(uow, ctx, project_id, deposit_id)


def check_item(
    ctx: Context, project_id: int, deposit_id: int, cmd: AssignToContract, actor: Principal
) -> AssignmentCheck:
    with ctx.reading() as uow:
        item_view(uow, ctx, project_id, deposit_id)  # a deposit of this project only
        return _preview(uow, ctx, deposit_id, cmd, actor)


def assign_item(
    ctx: Context, project_id: int, deposit_id: int, cmd: AssignToContract, actor: Principal
) -> Assigned:
    return _resolve_item(ctx, project_id, deposit_id, lambda uow: _assign(uow, ctx, deposit_id, cmd, actor))


def return_item(
    ctx: Context, project_id: int, deposit_id: int, cmd: ReturnToPayer, actor: Principal
) -> Returning:
    return _resolve_item(
        ctx, project_id, deposit_id, lambda uow: _return_to_payer(uow, ctx, deposit_id, cmd, actor)
    )


def _resolve_item(
    ctx: Context, project_id: int, deposit_id: int, resolve: Callable[[UnitOfWork], Any]
) -> Any:
    with ctx.writing() as uow:
        item_view(uow, ctx, project_id, deposit_id)  # a deposit of this project only
        return ctx.commit(uow, resolve(uow))


def _resolver(actor: Principal) -> None:
    if not actor.has_role(*RESOLVERS):
        raise Forbidden("only a reviewer or an approver resolves suspense items", rule="suspense.resolve")


def _deposit(uow: UnitOfWork, deposit_id: int) -> Deposit:
    deposit = uow.deposits.get(deposit_id)
    if deposit is None:
        raise NotFound(f"no deposit {deposit_id}")
    return deposit


def _locked(uow: UnitOfWork, deposit_id: int) -> tuple[Deposit, SupervisedAccount]:
    """The deposit read afresh under its account's lock, still in suspense."""
    deposit = _deposit(uow, deposit_id)
    account = approvals.lock_account(uow, deposit.account_id)
    uow.session.refresh(deposit)
    if deposit.status != "suspense":
        raise Conflict(
            f"deposit {deposit.id} ({deposit.bank_reference}) is {deposit.status}, no longer in suspense",
            rule="deposit_in_suspense",
        )
    return deposit, account


def _judge(
    uow: UnitOfWork, ctx: Context, deposit: Deposit, account: SupervisedAccount, cmd: AssignToContract
) -> tuple[list[dict[str, str]], bool, Contract, PaymentNotice | None, str]:
    """The rule book's deposit checks run against the chosen contract and notice: (results, blocked,
    contract, notice, rule book id). A contract or notice that cannot be chosen at all is refused first."""
    contract_no = cmd.contract_no.strip()
    notice_no = (cmd.notice_no or "").strip() or None
    if not contract_no:
        raise InvalidInput("name the contract", errors=[FieldError.coded("contract_no", "required")])
    contract = uow.contracts.by_no(contract_no)
    if contract is None or contract.account_id != account.id:
        raise InvalidInput(
            f"no contract {contract_no} on account {account.account_no}",
            rule="contract_of_account",
            errors=[FieldError.coded("contract_no", "no_such_contract_on_account")],
        )
    notice = uow.contracts.notice_by_no(notice_no) if notice_no else None
    if notice is not None and notice.contract_id != contract.id:
        raise InvalidInput(
            f"payment notice {notice_no} belongs to another contract, not {contract_no}",
            rule="notice_of_contract",
            errors=[FieldError.coded("notice_no", "notice_of_other_contract")],
        )
    amount = from_fen(deposit.amount_fen)
    payment = deposits.payment_of(notice_no, amount, deposit.payer_name, deposit.value_date, deposit.channel)
    judged = deposits.judge(uow, ctx, account, payment, contract)
    return judged.results, judged.blocked, contract, notice, judged.book.id


def preview(
    uow: UnitOfWork, ctx: Context, deposit_id: int, cmd: AssignToContract, actor: Principal
) -> dict[str, Any]:
    """What assigning would conclude, without booking anything (plain values, in the caller's uow)."""
    return wire(_preview(uow, ctx, deposit_id, cmd, actor))


def _preview(
    uow: UnitOfWork, ctx: Context, deposit_id: int, cmd: AssignToContract, actor: Principal
) -> AssignmentCheck:
    _resolver(actor)
    deposit = _deposit(uow, deposit_id)
    account = uow.session.get(SupervisedAccount, deposit.account_id)
    results, blocked, contract, notice, book_id = _judge(uow, ctx, deposit, account, cmd)
    return AssignmentCheck(
        ok=not blocked,
        checks=deposits.check_results(results),
        rulebook=book_id,
        contract_no=contract.contract_no,
        notice_no=notice.notice_no if notice else None,
    )


def _refused(results: list[dict[str, str]], book_id: str, contract_no: str) -> approvals.Refused:
    failed = [c for c in results if c["result"] == "fail"]
    return approvals.Refused(
        f"the money cannot be assigned to contract {contract_no}: "
        + "; ".join(f"{c['rule']}: {c['message']}" for c in failed),
        rule=f"{book_id} deposit_checks",
        facts={"checks": results, "failed": [c["rule"] for c in failed]},
        errors=[FieldError.failed_check(CHECK_FIELDS.get(c["rule"], "contract_no"), c) for c in failed],
    )


def assign(
    uow: UnitOfWork, ctx: Context, deposit_id: int, cmd: AssignToContract, actor: Principal
) -> dict[str, Any]:
    """Book suspense money to a contract once the checks pass against it; the buyer gets a voucher. In the
    caller's unit of work (the demo's batch), as plain values."""
    return wire(_assign(uow, ctx, deposit_id, cmd, actor))


def _assign(
    uow: UnitOfWork, ctx: Context, deposit_id: int, cmd: AssignToContract, actor: Principal
) -> Assigned:
    _resolver(actor)
    deposit, account = _locked(uow, deposit_id)
    results, blocked, contract, notice, book_id = _judge(uow, ctx, deposit, account, cmd)
    if blocked:
        raise _refused(results, book_id, contract.contract_no)
    entry = ledger.suspense_assigned(
        deposit.amount_fen, booked_on=ctx.today(), reference=f"suspense_assigned:{deposit.id}"
    )
    if not ledger.can_post(uow.journal.balances(account.id), entry):  # the books say it is not there
        raise InvalidInput(f"account {account.account_no} has not that much in suspense", rule="balance")
    before = wire(deposits.deposit_view(uow, deposit))
    uow.journal.post(account.id, entry)
    deposit.contract_id, deposit.notice_id = contract.id, notice.id if notice else None
    deposit.status, deposit.checks = "assigned", results
    if notice is not None:
        deposits.settle_notice(uow, notice)
    voucher = deposits.issue_voucher(uow, deposit, ctx.today())
    view = deposits.deposit_view(uow, deposit)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="deposit.assigned",
        subject_type="deposit",
        subject_id=deposit.id,
        account_id=account.id,
        before=before,
        after={k: v for k, v in wire(view).items() if k != "voucher"},
        details={
            "contract_no": contract.contract_no,
            "notice_no": notice.notice_no if notice else None,
            "voucher_no": voucher.voucher_no,
            "checks_before": before["checks"],
            "rulebook": book_id,
        },
    )
    return Assigned(
        **vars(view), contract_no=contract.contract_no, notice_no=notice.notice_no if notice else None
    )


def return_to_payer(
    uow: UnitOfWork, ctx: Context, deposit_id: int, cmd: ReturnToPayer, actor: Principal
) -> dict[str, Any]:
    """Instruct the bank to pay the money back to whoever paid it; it stays in suspense until paid. In the
    caller's unit of work, as plain values."""
    return wire(_return_to_payer(uow, ctx, deposit_id, cmd, actor))


def _return_to_payer(
    uow: UnitOfWork, ctx: Context, deposit_id: int, cmd: ReturnToPayer, actor: Principal
) -> Returning:
    _resolver(actor)
    reason = cmd.reason.strip()
    if not reason:
        raise InvalidInput("a return must say why", errors=[FieldError.coded("reason", "required")])
    if len(reason) > REASON_MAX:
        raise InvalidInput("the reason is too long", errors=[FieldError.at_most_chars("reason", REASON_MAX)])
    deposit, account = _locked(uow, deposit_id)
    balances = uow.journal.balances(account.id)
    if balances.suspense < deposit.amount_fen:
        raise InvalidInput(f"account {account.account_no} has not that much in suspense", rule="balance")
    before = wire(deposits.deposit_view(uow, deposit))
    instruction = uow.instructions.add(
        PaymentInstruction(
            kind="return",
            deposit_id=deposit.id,
            account_id=account.id,
            amount_fen=deposit.amount_fen,
            status="pending",
            reason=reason,
        )
    )
    deposit.status = "returning"
    uow.session.flush()
    webhooks.instruction_created(uow, instruction)  # the bank's webhooks, in this transaction
    view = deposits.deposit_view(uow, deposit)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="deposit.returning",
        subject_type="deposit",
        subject_id=deposit.id,
        account_id=account.id,
        before=before,
        after=wire(view),
        details={"reason": reason, "instruction_id": instruction.id},
    )
    return Returning(**vars(view), instruction_id=instruction.id, reason=reason)


# --- what the bank and the bureau see -----------------------------------------------------------------------


def return_payees(deposit: Deposit) -> list[dict[str, str]]:
    """Who a return pays: the payer of the deposit, all of it."""
    return [
        {
            "name": deposit.payer_name,
            "account_no": deposit.payer_account,
            "bank_name": "",
            "role": "payer",
            "amount": to_wire(from_fen(deposit.amount_fen)),
        }
    ]


def item_view(uow: UnitOfWork, ctx: Context, project_id: int, deposit_id: int) -> dict[str, Any]:
    """A suspense item of a project as the resolving page shows it (any deposit of the project that went to
    suspense, whatever became of it since)."""
    project = uow.projects.get(project_id) if valid_id(project_id) else None
    account = uow.projects.account_for(project.id) if project else None
    deposit = uow.deposits.get(deposit_id)
    if account is None or deposit is None or deposit.account_id != account.id:
        raise NotFound(f"no deposit {deposit_id} in project {project_id}")
    notice = uow.session.get(PaymentNotice, deposit.notice_id) if deposit.notice_id else None
    contract = uow.session.get(Contract, deposit.contract_id) if deposit.contract_id else None
    instruction = uow.instructions.for_deposit(deposit.id)
    voucher = uow.deposits.voucher_for(deposit.id)
    return {
        "deposit_id": deposit.id,
        "project": {"project_id": project.id, "name": project.name, "permit_no": project.permit_no},
        "account_no": account.account_no,
        "bank_reference": deposit.bank_reference,
        "amount": to_wire(from_fen(deposit.amount_fen)),
        "payer_name": deposit.payer_name,
        "payer_account": deposit.payer_account,
        "channel": deposit.channel,
        "kind": deposit.kind,
        "value_date": deposit.value_date.isoformat(),
        "status": deposit.status,
        "checks": deposit.checks,
        "rulebook": deposit.rulebook_id,
        "notice_no": notice.notice_no if notice else None,
        "contract_no": contract.contract_no if contract else None,
        "buyer_name": mask_name(contract.buyer_name) if contract else None,
        "voucher_no": voucher.voucher_no if voucher else None,
        "instruction": (
            {
                "instruction_id": instruction.id,
                "status": instruction.status,
                "reason": instruction.reason,
                "bank_reference": instruction.bank_reference,
                "executed_on": instruction.executed_on.isoformat() if instruction.executed_on else None,
            }
            if instruction
            else None
        ),
        "age_days": (ctx.today() - deposit.value_date).days,
    }


def open_items(uow: UnitOfWork, project: Project) -> list[dict[str, Any]]:
    """A project's money still in suspense (waiting, or being returned), oldest first: for its page."""
    account = uow.projects.account_for(project.id)
    if account is None:
        return []
    return [
        {
            "deposit_id": d.id,
            "bank_reference": d.bank_reference,
            "amount": to_wire(from_fen(d.amount_fen)),
            "payer_name": d.payer_name,
            "value_date": d.value_date.isoformat(),
            "status": d.status,
            "link": f"/projects/{project.id}/suspense/{d.id}",
        }
        for d in uow.deposits.unassigned(account.id)
    ]
