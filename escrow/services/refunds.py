"""Cancelled contracts (退房) and the refund of what the buyer paid (DESIGN.md §1).

The refund is checked against the contract record: it is the sum of the accepted, unreversed deposits booked
to the contract, and each payer gets back what they paid (the buyer their own payments, a mortgage lender its
loan). The buyer's own money is not held back by the retention, but a refund can take only money that is free:
balance − suspense − frozen − approved but unexecuted instructions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from escrow.domain import caps, checks
from escrow.domain.approvals import Decision, Link, MayDecide, links, next_link, refund_chain
from escrow.domain.caps import Cap
from escrow.domain.errors import Conflict, InvalidInput, NotFound
from escrow.domain.identity import mask_name
from escrow.domain.money import Money, from_fen, to_wire
from escrow.domain.principal import Principal
from escrow.rulebooks import RuleBook
from escrow.services import approvals, ending
from escrow.services.context import Context
from escrow.services.projects import release_cap
from escrow.services.releases import Payee
from escrow.services.sales import own_contract
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, Project, Refund, SupervisedAccount

Status = Literal["submitted", "approved", "rejected", "executed"]


@dataclass(frozen=True)
class CancelContract:
    contract_no: str
    reason: str


def available(cap: Cap) -> tuple[Decimal, dict[str, Any]]:
    """Money a refund may take (escrow.domain.caps.refundable) and how it was reached."""
    amount = caps.refundable(cap)
    parts = [t.to_json() for t in caps.refund_terms(cap)]
    text = (
        f"available {to_wire(amount)} = balance {parts[0]['value']} − suspense {parts[1]['value']}"
        f" − frozen {parts[2]['value']} − pending_out {parts[3]['value']}"
        f"{' (floored at 0)' if amount == 0 else ''}; the retention does not hold back a buyer's own money"
    )
    return amount, {"available": to_wire(amount), "terms": parts, "text": text, "rulebook": cap.rulebook_id}


def _payees(uow: UnitOfWork, contract: Contract) -> tuple[Payee, ...]:
    """Who gets the money back: each payer of the contract's accepted deposits, what they paid."""
    grouped: dict[tuple[str, str, str], int] = {}
    for d in uow.contracts.paid_deposits(contract.id):
        role = "lender" if checks.lender_of(d.checks, d.payer_name) or d.channel == "mortgage" else "buyer"
        key = (d.payer_name, d.payer_account, role)
        grouped[key] = grouped.get(key, 0) + d.amount_fen
    return tuple(
        Payee(name, account_no, "", role, from_fen(fen)) for (name, account_no, role), fen in grouped.items()
    )


def payees(uow: UnitOfWork, contract: Contract) -> list[dict[str, str]]:
    """The payees as dicts with their amounts on the wire (for payment instructions)."""
    return [{**asdict(p), "amount": to_wire(p.amount)} for p in _payees(uow, contract)]


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


@dataclass(frozen=True)
class RefundView:
    refund_id: int
    contract_no: str
    project_id: int
    account_no: str
    amount: Money
    reason: str
    status: Status
    rulebook: str
    payees: tuple[Payee, ...]
    approval_chain: tuple[Link, ...]
    next_step: Link | None
    steps: tuple[approvals.StepView, ...]
    instruction: approvals.InstructionRef | None
    created_at: str | None


@dataclass(frozen=True)
class Cancellation(RefundView):
    """A cancelled contract and the refund of what was paid on it."""

    contract_status: Literal["cancelled"]
    notices_cancelled: tuple[str, ...]


@dataclass(frozen=True)
class CancellationWithoutRefund:
    """A cancelled contract on which nothing was paid: no refund."""

    contract_no: str
    contract_status: Literal["cancelled"]
    notices_cancelled: tuple[str, ...]
    refund_id: None
    amount: Money
    status: None
    detail: str


def _chain(book: RuleBook, _refund: Refund) -> tuple:
    return refund_chain(book)


def refund_view(uow: UnitOfWork, ctx: Context, refund: Refund) -> RefundView:
    book = ctx.rulebook(refund.rulebook_id)
    contract = uow.session.get(Contract, refund.contract_id)
    account = uow.session.get(SupervisedAccount, refund.account_id)
    chain = refund_chain(book)
    steps = uow.refunds.steps(refund.id)
    return RefundView(
        refund_id=refund.id,
        contract_no=contract.contract_no,
        project_id=contract.project_id,
        account_no=account.account_no,
        amount=from_fen(refund.amount_fen),
        reason=refund.reason,
        status=refund.status,
        rulebook=refund.rulebook_id,
        payees=_payees(uow, contract),
        approval_chain=links(chain),
        next_step=next_link(chain, len(steps), refund.status),
        steps=approvals.step_views(uow, steps),
        instruction=approvals.instruction_ref(uow.instructions.for_refund(refund.id)),
        created_at=approvals.timestamp(refund.created_at),
    )


def cancel(ctx: Context, cmd: CancelContract, actor: Principal) -> Cancellation | CancellationWithoutRefund:
    """Cancel a contract: its open notices are withdrawn and what the buyer paid goes into a refund."""
    return ctx.run(_cancel, cmd, actor)


def _cancel(
    uow: UnitOfWork, ctx: Context, cmd: CancelContract, actor: Principal
) -> Cancellation | CancellationWithoutRefund:
    contract, project = own_contract(uow, actor, cmd.contract_no)
    if actor.developer_id is None:  # the developer's own act; bureau users see contracts but do not cancel
        raise NotFound(f"no contract {cmd.contract_no}")
    account = approvals.lock_account(uow, contract.account_id)
    uow.session.refresh(contract)
    if contract.status == "cancelled":
        raise Conflict(f"contract {contract.contract_no} is already cancelled", rule="contract_not_cancelled")
    ending.refuse_while_ending(uow, account, "a cancellation (and its refund)")
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
    if refund is not None:
        approvals.submitted(uow, ctx, FLOW, refund)
    withdrawn_nos = tuple(n.notice_no for n in withdrawn)
    if refund is None:
        return CancellationWithoutRefund(
            contract_no=contract.contract_no,
            contract_status="cancelled",
            notices_cancelled=withdrawn_nos,
            refund_id=None,
            amount=from_fen(0),
            status=None,
            detail=f"nothing was paid on contract {contract.contract_no}: it is cancelled and no refund "
            "is needed",
        )
    view = refund_view(uow, ctx, refund)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="refund.submitted",
        subject_type="refund",
        subject_id=refund.id,
        account_id=account.id,
        after={
            "contract_no": view.contract_no,
            "amount": to_wire(view.amount),
            "payees": payees(uow, contract),
            "status": view.status,
        },
        details={"rulebook": book.id},
    )
    return Cancellation(**vars(view), contract_status="cancelled", notices_cancelled=withdrawn_nos)


def _judge(
    uow: UnitOfWork, ctx: Context, refund: Refund, account: SupervisedAccount, approving: bool, _when: str
) -> approvals.Judged:
    """Before an approval: the refund is still what the contract record shows paid, and the money is free."""
    contract = uow.session.get(Contract, refund.contract_id)
    project = uow.projects.get(contract.project_id)
    free, facts = available(release_cap(uow, ctx, project, account))
    amount = from_fen(refund.amount_fen)
    if approving:
        check_contract_record(uow, ctx.rulebook(refund.rulebook_id), refund, contract)
        if amount > free:
            raise approvals.Refused(
                f"the refund {to_wire(amount)} is above the money free to pay it: {facts['text']}",
                rule="refund_cap",
                facts={"available": facts},
            )
    return approvals.Judged(kept=facts, audit={"available": facts["available"]})


FLOW = approvals.Flow(kind="refund", repo=lambda uow: uow.refunds, chain=_chain, judge=_judge)


def decide(ctx: Context, refund_id: int, decision: Decision, actor: Principal) -> RefundView:
    """One step of the refund's approval chain (escrow.services.approvals)."""
    with ctx.writing() as uow:
        refund = approvals.decide(uow, ctx, FLOW, refund_id, decision, actor)
        return ctx.commit(uow, refund_view(uow, ctx, refund))


def get(ctx: Context, refund_id: int, actor: Principal) -> RefundView:
    with ctx.reading() as uow:
        refund, _ = visible_refund(uow, actor, refund_id)
        return refund_view(uow, ctx, refund)


# --- read models for the pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFacts:
    contract_no: str
    buyer_name: str  # masked
    unit: str
    price: Decimal
    signed_on: Any
    status: str


@dataclass(frozen=True)
class Review:
    """One refund as the bureau's page shows it: the view, the contract and project, the money free to pay
    it now (and how), and whether the reader may take the next step."""

    refund: RefundView
    contract: ContractFacts
    project_id: int
    project_name: str
    permit_no: str
    available: Decimal
    available_terms: dict[str, str]  # term → value on the wire
    decision: MayDecide


def review(ctx: Context, refund_id: int, actor: Principal) -> Review:
    with ctx.reading() as uow:
        refund, contract = visible_refund(uow, actor, refund_id)
        view = refund_view(uow, ctx, refund)
        project = uow.projects.get(contract.project_id)
        account = uow.projects.account_for(project.id)
        free, facts = available(release_cap(uow, ctx, project, account))
        return Review(
            refund=view,
            contract=ContractFacts(
                contract_no=contract.contract_no,
                buyer_name=mask_name(contract.buyer_name),
                unit=contract.unit,
                price=from_fen(contract.total_price_fen),
                signed_on=contract.signed_on,
                status=contract.status,
            ),
            project_id=project.id,
            project_name=project.name,
            permit_no=project.permit_no,
            available=free,
            available_terms={t["term"]: t["value"] for t in facts["terms"]},
            decision=approvals.may_decide(uow, ctx, FLOW, refund, actor),
        )


@dataclass(frozen=True)
class Row:
    """A refund in the bureau's list."""

    refund_id: int
    contract_no: str
    buyer_name: str  # masked
    project_id: int
    project_name: str
    amount: Decimal
    status: str
    created_at: datetime
    next_step: Link | None


def search(ctx: Context, *, status: str | None, offset: int, limit: int) -> tuple[tuple[Row, ...], int]:
    """One page of refunds, newest first, and how many there are."""
    with ctx.reading() as uow:
        total = uow.refunds.count(status=status)
        rows = []
        for refund in uow.refunds.listing(status=status, offset=offset, limit=limit):
            contract = uow.session.get(Contract, refund.contract_id)
            project = uow.session.get(Project, contract.project_id)
            chain = refund_chain(ctx.rulebook(refund.rulebook_id))
            rows.append(
                Row(
                    refund_id=refund.id,
                    contract_no=contract.contract_no,
                    buyer_name=mask_name(contract.buyer_name),
                    project_id=project.id,
                    project_name=project.name,
                    amount=from_fen(refund.amount_fen),
                    status=refund.status,
                    created_at=refund.created_at,
                    next_step=next_link(chain, len(uow.refunds.steps(refund.id)), refund.status),
                )
            )
    return tuple(rows), total
