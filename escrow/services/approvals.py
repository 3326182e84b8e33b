"""Four eyes, the transaction: one step of a release's, a refund's or a rule book adoption's approval chain
(DESIGN.md §3).

The rules (the chain, who may take the next step) are `escrow.domain.approvals`; this module runs them on a
subject under the account lock: the step is recorded with the facts it was judged on, a rejection ends the
subject, and the last approval creates the payment instruction that reserves the amount (pending_out) until
the bank executes it. `releases.decide` and `refunds.decide` are this workflow with their own re-check (the
release cap, the money free for a refund). `adoptions.decide` is the same workflow for a subject that moves
no money and spans several accounts: it locks every chosen account, and its last approval moves the chosen
projects to the adopted version (`Flow.on_approved`) instead of creating an instruction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from escrow.domain import approvals as rules
from escrow.domain.actors import ActorRef
from escrow.domain.approvals import DECISIONS, Decision, Link, MayDecide
from escrow.domain.errors import FieldError, InvalidInput, NotFound
from escrow.domain.principal import Principal
from escrow.rulebooks import ApprovalStep as ChainStep
from escrow.rulebooks import RuleBook
from escrow.services import notifications, webhooks
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, PaymentInstruction, SupervisedAccount

__all__ = ["DECISIONS", "Decision", "Link", "MayDecide"]


# a step's audit action: release.step_approved / release.step_rejected (events stored before this read
# "step_rejectd"; escrow.catalog.events words both)
PAST = {"approve": "approved", "reject": "rejected"}


class Refused(InvalidInput):
    """A refusal that carries the facts it was judged on (a release cap, a deductible amount), so that the
    problem body can show them next to the rule."""

    def __init__(
        self, detail: str, *, rule: str, facts: dict[str, Any], errors: list[FieldError] | None = None
    ):
        super().__init__(detail, rule=rule, errors=errors)
        self.facts = facts


def lock_account(uow: UnitOfWork, account_id: int) -> SupervisedAccount:
    """Lock the account row for this transaction; the row is read afresh under the lock."""
    return uow.projects.lock_account(account_id)


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 with a zone (SQLite hands back naive timestamps; they were written in UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


@dataclass(frozen=True)
class StepView:
    """A step taken, with the facts it was judged on (the cap, or the money free for a refund)."""

    step_no: int
    role: str
    decision: Literal["approve", "reject"]
    comment: str
    decided_by: str | None  # the bureau user's username
    decided_at: str | None
    cap: dict[str, Any]
    rulebook: str
    decided_by_name: str | None = None  # the bureau user's display name (their username if none)


def step_views(uow: UnitOfWork, steps: Sequence[ApprovalStep]) -> tuple[StepView, ...]:
    """The steps taken, each with who took it: every decider's name read in one query."""
    names = uow.actors.names(ActorRef("user", s.decided_by) for s in steps)
    return tuple(
        StepView(
            step_no=s.step_no,
            role=s.role,
            decision=s.decision,
            comment=s.comment,
            decided_by=named.login if (named := names.get(("user", s.decided_by))) else None,
            decided_at=timestamp(s.decided_at),
            cap=s.cap,
            rulebook=s.rulebook_id,
            decided_by_name=named.name if named else None,
        )
        for s in steps
    )


@dataclass(frozen=True)
class InstructionRef:
    instruction_id: int
    status: Literal["pending", "executed"]
    bank_reference: str | None
    executed_on: date | None


def instruction_ref(instruction: PaymentInstruction | None) -> InstructionRef | None:
    if instruction is None:
        return None
    return InstructionRef(
        instruction.id, instruction.status, instruction.bank_reference, instruction.executed_on
    )


@dataclass(frozen=True)
class Judged:
    """What a subject's re-check found: kept with the step (`kept`) and added to the audit record."""

    kept: dict[str, Any]
    audit: dict[str, Any] = field(default_factory=dict)


# judge(uow, ctx, subject, account, approving, when): re-checks the subject before an approval (raising its
# refusal) and returns the facts the step is judged on; `when` names the step for the refusal's words.
# `account` is None for a subject that names no one account (an adoption).
Judge = Callable[[UnitOfWork, Context, Any, SupervisedAccount | None, bool, str], Judged]


def lock_subject_account(uow: UnitOfWork, subject: Any) -> SupervisedAccount | None:
    """The lock a money-moving subject takes: its own account's."""
    return lock_account(uow, subject.account_id)


@dataclass(frozen=True)
class Flow:
    """One kind of subject taken through the approval chain: a release, a refund, an adoption, a fund
    demand plan or a key supervised amount change."""

    kind: Literal[
        "release", "refund", "adoption", "fund_plan", "supervised_amount_change"
    ]  # its key in steps (and instructions), the audit prefix
    repo: Callable[[UnitOfWork], Any]  # get(id), steps(id), add(row)
    chain: Callable[[RuleBook, Any], tuple[ChainStep, ...]]
    judge: Judge
    # Locks what the decision must not interleave with; returns the account the steps are kept under (None
    # for a subject spanning several accounts, which locks each of them).
    lock: Callable[[UnitOfWork, Any], SupervisedAccount | None] = lock_subject_account
    # The bureau user who applied for the subject (never deciding it), if a bureau user did.
    applicant: Callable[[Any], int | None] = lambda _subject: None
    # What the last approval does, returning the facts for the audit record; None: a payment instruction
    # of the subject's amount for the bank to execute.
    on_approved: Callable[[UnitOfWork, Context, Any, Principal], dict[str, Any]] | None = None


def may_decide(uow: UnitOfWork, ctx: Context, flow: Flow, subject: Any, actor: Principal) -> MayDecide:
    book = ctx.rulebook(subject.rulebook_id)
    deciders = [s.decided_by for s in flow.repo(uow).steps(subject.id)]
    return rules.may_decide(
        book,
        flow.chain(book, subject),
        deciders,
        subject.status,
        actor.role,
        actor.user_id,
        flow.applicant(subject),
    )


def _account_of(subject: Any) -> int | None:
    return getattr(subject, "account_id", None)


def _tell_next_step(uow: UnitOfWork, ctx: Context, flow: Flow, subject: Any) -> None:
    """The subject is open at a step: the users who may take it are told (in this transaction)."""
    book = ctx.rulebook(subject.rulebook_id)
    chain = flow.chain(book, subject)
    deciders = [s.decided_by for s in flow.repo(uow).steps(subject.id)]
    step = rules.next_link(chain, len(deciders), subject.status)
    if step is None:
        return

    def may_take(user_id: int) -> bool:
        may = rules.may_decide(
            book, chain, deciders, subject.status, step.role, user_id, flow.applicant(subject)
        )
        return may.allowed

    params = notifications.about(uow, _account_of(subject), getattr(subject, "amount_fen", None))
    notifications.at_step(uow, flow.kind, subject.id, step, may_take, params)


def submitted(uow: UnitOfWork, ctx: Context, flow: Flow, subject: Any) -> None:
    """A subject was applied for and waits at its first step: call in the application's transaction."""
    uow.session.flush()
    _tell_next_step(uow, ctx, flow, subject)


def decide(
    uow: UnitOfWork, ctx: Context, flow: Flow, subject_id: int, decision: Decision, actor: Principal
) -> Any:
    """Take the next step of the subject's chain; returns the subject. The account is locked first: the
    re-check and the instruction it leads to must not interleave with another approval or an execution on
    the same account."""
    repo = flow.repo(uow)
    subject = repo.get(subject_id)
    if subject is None or not actor.is_bureau:
        raise NotFound(f"no {flow.kind} {subject_id}")
    account = flow.lock(uow, subject)
    account_id = account.id if account is not None else None
    uow.session.refresh(subject)
    book = ctx.rulebook(subject.rulebook_id)
    chain = flow.chain(book, subject)
    taken = repo.steps(subject.id)
    name = f"{flow.kind} {subject.id}"
    may = rules.may_decide(
        book,
        chain,
        [s.decided_by for s in taken],
        subject.status,
        actor.role,
        actor.user_id,
        flow.applicant(subject),
    )
    if may.reason == rules.DECIDED:
        raise rules.refusal(may, book, name, actor.name)
    rules.check_choice(decision)
    if not may.allowed:
        raise rules.refusal(may, book, name, actor.name)
    rules.check_reason(decision)
    step = may.step
    approving = decision.decision == "approve"
    judged = flow.judge(uow, ctx, subject, account, approving, f"at step {step.step_no} ({step.label_en})")
    comment = decision.comment.strip()
    repo.add(
        ApprovalStep(
            **{f"{flow.kind}_id": subject.id},
            account_id=account_id,
            step_no=step.step_no,
            role=step.role,
            decided_by=actor.user_id,
            decision=decision.decision,
            comment=comment,
            cap=judged.kept,
            rulebook_id=book.id,
        )
    )
    before = subject.status
    effect: dict[str, Any] = {}
    if not approving:
        subject.status = "rejected"
    elif step.step_no == len(chain):
        subject.status = "approved"
        if flow.on_approved is not None:
            effect = flow.on_approved(uow, ctx, subject, actor)
        else:
            instruction = uow.instructions.add(
                PaymentInstruction(
                    kind=flow.kind,
                    **{f"{flow.kind}_id": subject.id},
                    account_id=account_id,
                    amount_fen=subject.amount_fen,
                    status="pending",
                )
            )
            effect = {"instruction_id": instruction.id}
            webhooks.instruction_created(uow, instruction)  # the bank's webhooks, in this transaction
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"{flow.kind}.step_{PAST[decision.decision]}",
        subject_type=flow.kind,
        subject_id=subject.id,
        account_id=account_id,
        before={"status": before, "steps": len(taken)},
        after={"status": subject.status, "steps": step.step_no},
        details={
            "step_no": step.step_no,
            "role": step.role,
            "comment": comment,
            **judged.audit,
            "rulebook": book.id,
        },
    )
    if subject.status != before:
        audit.record(
            uow.session,
            actor=actor.ref,
            action=f"{flow.kind}.{subject.status}",
            subject_type=flow.kind,
            subject_id=subject.id,
            account_id=account_id,
            before={"status": before},
            after={"status": subject.status},
            details=effect,
        )
    if subject.status == rules.OPEN:
        _tell_next_step(uow, ctx, flow, subject)
    elif subject.status != before:
        params = notifications.about(uow, account_id, getattr(subject, "amount_fen", None))
        notifications.decided(uow, flow.kind, subject.id, subject.status, account_id, params)
        webhooks.decided(uow, flow.kind, subject, account_id)  # the developer's webhooks
    return subject
