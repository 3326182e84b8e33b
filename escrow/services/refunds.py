"""Cancelled contracts (退房) and the refund of what the buyer paid (DESIGN.md §1).

The refund is checked against the contract record: it is the sum of the accepted, unreversed deposits booked
to the contract, and each payer gets back what they paid (the buyer their own payments, a mortgage lender its
loan). The buyer's own money is not held back by the retention, but a refund can take only money that is free:
balance − suspense − frozen − approved but unexecuted instructions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from escrow.domain.caps import Cap
from escrow.domain.errors import Conflict, InvalidInput, NotFound
from escrow.domain.money import ZERO, from_fen, to_wire
from escrow.domain.principal import Principal
from escrow.rulebooks import RuleBook
from escrow.services import approvals
from escrow.services.context import Context
from escrow.services.projects import release_cap
from escrow.services.sales import own_contract
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, Contract, PaymentInstruction, Refund, SupervisedAccount


@dataclass(frozen=True)
class CancelContract:
    contract_no: str
    reason: str


def available(cap: Cap) -> tuple[Decimal, dict[str, Any]]:
    """Money a refund may take: balance − suspense − frozen − pending_out (no retention), floored at 0."""
    terms = {t.term: t for t in cap.terms}
    amount = max(
        ZERO,
        terms["balance"].value - terms["suspense"].value - terms["frozen"].value - terms["pending_out"].value,
    )
    parts = [terms[name].to_json() for name in ("balance", "suspense", "frozen", "pending_out")]
    text = (
        f"available {to_wire(amount)} = balance {parts[0]['value']} − suspense {parts[1]['value']}"
        f" − frozen {parts[2]['value']} − pending_out {parts[3]['value']}"
        f"{' (floored at 0)' if amount == 0 else ''}; the retention does not hold back a buyer's own money"
    )
    return amount, {"available": to_wire(amount), "terms": parts, "text": text, "rulebook": cap.rulebook_id}


def payees(uow: UnitOfWork, contract: Contract) -> list[dict[str, str]]:
    """Who gets the money back: each payer of the contract's accepted deposits, what they paid."""
    grouped: dict[tuple[str, str, str], int] = {}
    for d in uow.contracts.paid_deposits(contract.id):
        role = "lender" if d.channel == "mortgage" else "buyer"
        key = (d.payer_name, d.payer_account, role)
        grouped[key] = grouped.get(key, 0) + d.amount_fen
    return [
        {
            "name": name,
            "account_no": account_no,
            "bank_name": "",
            "role": role,
            "amount": to_wire(from_fen(fen)),
        }
        for (name, account_no, role), fen in grouped.items()
    ]


def check_contract_record(uow: UnitOfWork, book: RuleBook, refund: Refund, contract: Contract) -> None:
    """The refund must still be what the contract record says was paid (a deposit may have been reversed)."""
    if not book.refund_requires_contract_record:
        return
    paid = uow.contracts.paid_fen(contract.id)
    if paid != refund.amount_fen:
        raise InvalidInput(
            f"refund {refund.id} is {to_wire(from_fen(refund.amount_fen))} but the contract record of "
            f"{contract.contract_no} now shows {to_wire(from_fen(paid))} paid",
            rule=f"{book.id} refund.requires_contract_record",
        )


def visible_refund(uow: UnitOfWork, actor: Principal, refund_id: int) -> tuple[Refund, Contract]:
    refund = uow.refunds.get(refund_id)
    contract = uow.session.get(Contract, refund.contract_id) if refund else None
    project = uow.projects.get(contract.project_id) if contract else None
    visible = refund is not None and (
        actor.is_bureau or (actor.kind == "developer" and actor.developer_id == project.developer_id)
    )
    if not visible:
        raise NotFound(f"no refund {refund_id}")
    return refund, contract


def refund_view(uow: UnitOfWork, ctx: Context, refund: Refund) -> dict[str, Any]:
    book = ctx.rulebook(refund.rulebook_id)
    contract = uow.session.get(Contract, refund.contract_id)
    account = uow.session.get(SupervisedAccount, refund.account_id)
    chain = approvals.refund_chain(book)
    steps = uow.refunds.steps(refund.id)
    instruction = uow.instructions.for_refund(refund.id)
    return {
        "refund_id": refund.id,
        "contract_no": contract.contract_no,
        "project_id": contract.project_id,
        "account_no": account.account_no,
        "amount": to_wire(from_fen(refund.amount_fen)),
        "reason": refund.reason,
        "status": refund.status,
        "rulebook": refund.rulebook_id,
        "payees": payees(uow, contract),
        "approval_chain": approvals.chain_view(chain),
        "next_step": approvals.next_step_view(chain, len(steps), refund.status),
        "steps": [approvals.step_view(uow, s) for s in steps],
        "instruction": (
            {
                "instruction_id": instruction.id,
                "status": instruction.status,
                "bank_reference": instruction.bank_reference,
                "executed_on": instruction.executed_on.isoformat() if instruction.executed_on else None,
            }
            if instruction
            else None
        ),
        "created_at": approvals.timestamp(refund.created_at),
    }


def cancel(uow: UnitOfWork, ctx: Context, cmd: CancelContract, actor: Principal) -> dict[str, Any]:
    """Cancel a contract: its open notices are withdrawn and what the buyer paid goes into a refund."""
    contract, project = own_contract(uow, actor, cmd.contract_no)
    if actor.developer_id is None:  # the developer's own act; bureau users see contracts but do not cancel
        raise NotFound(f"no contract {cmd.contract_no}")
    account = approvals.lock_account(uow, contract.account_id)
    uow.session.refresh(contract)
    if contract.status == "cancelled":
        raise Conflict(f"contract {contract.contract_no} is already cancelled", rule="contract_not_cancelled")
    book = ctx.rulebook(project.rulebook_id)
    paid = uow.contracts.paid_fen(contract.id)
    withdrawn = uow.contracts.notices_of(contract.id, "open")
    contract.status = "cancelled"
    for notice in withdrawn:
        notice.status = "cancelled"
    refund = None
    if paid > 0:
        refund = uow.refunds.add(
            Refund(
                contract_id=contract.id,
                account_id=account.id,
                amount_fen=paid,
                reason=cmd.reason,
                status="submitted",
                rulebook_id=book.id,
            )
        )
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action="contract.cancelled",
        subject_type="contract",
        subject_id=contract.contract_no,
        account_id=account.id,
        before={"status": "signed"},
        after={"status": "cancelled"},
        details={
            "reason": cmd.reason,
            "notices_cancelled": [n.notice_no for n in withdrawn],
            "paid": to_wire(from_fen(paid)),
            "refund_id": refund.id if refund else None,
        },
    )
    base = {
        "contract_no": contract.contract_no,
        "contract_status": contract.status,
        "notices_cancelled": [n.notice_no for n in withdrawn],
    }
    if refund is None:
        return {
            **base,
            "refund_id": None,
            "amount": "0.00",
            "status": None,
            "detail": f"nothing was paid on contract {contract.contract_no}: it is cancelled and no refund "
            "is needed",
        }
    view = refund_view(uow, ctx, refund)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="refund.submitted",
        subject_type="refund",
        subject_id=refund.id,
        account_id=account.id,
        after={k: view[k] for k in ("contract_no", "amount", "payees", "status")},
        details={"rulebook": book.id},
    )
    return {**view, **base}


def decide(
    uow: UnitOfWork, ctx: Context, refund_id: int, decision: approvals.Decision, actor: Principal
) -> dict[str, Any]:
    refund = uow.refunds.get(refund_id)
    if refund is None or not actor.is_bureau:
        raise NotFound(f"no refund {refund_id}")
    account = approvals.lock_account(uow, refund.account_id)
    uow.session.refresh(refund)
    if refund.status != "submitted":
        raise Conflict(f"refund {refund.id} is already {refund.status}")
    book = ctx.rulebook(refund.rulebook_id)
    chain = approvals.refund_chain(book)
    taken = uow.refunds.steps(refund.id)
    step_no, step = approvals.check_step(book, chain, taken, decision, actor, subject=f"refund {refund.id}")
    contract = uow.session.get(Contract, refund.contract_id)
    project = uow.projects.get(contract.project_id)
    free, facts = available(release_cap(uow, ctx, project, account))
    amount = from_fen(refund.amount_fen)
    if decision.decision == "approve":
        check_contract_record(uow, book, refund, contract)
        if amount > free:
            raise approvals.Refused(
                f"the refund {to_wire(amount)} is above the money free to pay it: {facts['text']}",
                rule="refund_cap",
                facts={"available": facts},
            )
    uow.refunds.add(
        ApprovalStep(
            refund_id=refund.id,
            account_id=account.id,
            step_no=step_no,
            role=step.role,
            decided_by=actor.user_id,
            decision=decision.decision,
            comment=decision.comment.strip(),
            cap=facts,
            rulebook_id=book.id,
        )
    )
    before = refund.status
    instruction = None
    if decision.decision == "reject":
        refund.status = "rejected"
    elif step_no == len(chain):
        refund.status = "approved"
        instruction = uow.instructions.add(
            PaymentInstruction(
                kind="refund",
                refund_id=refund.id,
                account_id=account.id,
                amount_fen=refund.amount_fen,
                status="pending",
            )
        )
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"refund.step_{decision.decision}d",
        subject_type="refund",
        subject_id=refund.id,
        account_id=account.id,
        before={"status": before, "steps": len(taken)},
        after={"status": refund.status, "steps": step_no},
        details={
            "step_no": step_no,
            "role": step.role,
            "comment": decision.comment.strip(),
            "available": facts["available"],
            "rulebook": book.id,
        },
    )
    if refund.status != before:
        audit.record(
            uow.session,
            actor=actor.ref,
            action=f"refund.{refund.status}",
            subject_type="refund",
            subject_id=refund.id,
            account_id=account.id,
            before={"status": before},
            after={"status": refund.status},
            details={"instruction_id": instruction.id} if instruction else {},
        )
    return refund_view(uow, ctx, refund)
