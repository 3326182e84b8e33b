"""Four eyes: the approval chain of a release or a refund, taken one step at a time (DESIGN.md §3).

The chain comes from the rule book. Each step names a bureau role; the user taking it must hold that role,
and with `distinct_people` one person takes at most one step of the same release or refund. The applicant's
side never approves: developer staff are not bureau users, so they cannot reach a decision at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from escrow.domain.errors import Conflict, FieldError, Forbidden, InvalidInput
from escrow.domain.principal import Principal
from escrow.rulebooks import ApprovalStep as ChainStep
from escrow.rulebooks import RuleBook
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, SupervisedAccount, User

DECISIONS = ("approve", "reject")


@dataclass(frozen=True)
class Decision:
    decision: str  # approve | reject
    comment: str = ""


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


def chain_view(chain: Sequence[ChainStep]) -> list[dict[str, Any]]:
    return [
        {"step_no": i, "role": s.role, "label_zh": s.label_zh, "label_en": s.label_en}
        for i, s in enumerate(chain, start=1)
    ]


def next_step_view(chain: Sequence[ChainStep], taken: int, status: str) -> dict[str, Any] | None:
    if status != "submitted" or taken >= len(chain):
        return None
    return chain_view(chain)[taken]


def refund_chain(book: RuleBook) -> tuple[ChainStep, ...]:
    """Refunds take the rule book's base chain (reviewer → approver): the amount thresholds that add steps
    are for releases of the developer's money, not for the buyer's own money going back."""
    return tuple(s for s in book.release.approval_chain if s.min_amount is None)


def check_step(
    book: RuleBook,
    chain: Sequence[ChainStep],
    taken: Sequence[ApprovalStep],
    decision: Decision,
    actor: Principal,
    *,
    subject: str,
) -> tuple[int, ChainStep]:
    """The step the actor may take now, or the reason they may not."""
    if decision.decision not in DECISIONS:
        raise InvalidInput(
            "decision must be approve or reject", errors=[FieldError.coded("decision", "approve_or_reject")]
        )
    step_no = len(taken) + 1
    if step_no > len(chain):  # the status says submitted but every step was taken: treat as decided
        raise Conflict(f"{subject} has no step left to decide")
    step = chain[step_no - 1]
    if actor.role != step.role:
        raise Forbidden(
            f"step {step_no} of {subject} ({step.label_zh} / {step.label_en}) needs the role {step.role}",
            rule=f"{book.id} release.approval_chain",
        )
    if book.release.distinct_people and actor.user_id in {s.decided_by for s in taken}:
        raise InvalidInput(
            f"{actor.name} already took a step of {subject}; another person must take step {step_no}",
            rule=f"{book.id} release.distinct_people",
        )
    if decision.decision == "reject" and not decision.comment.strip():
        raise InvalidInput(
            "a rejection must say why",
            rule="rejection_comment",
            errors=[FieldError.coded("comment", "required_when_rejecting")],
        )
    return step_no, step


def step_view(uow: UnitOfWork, step: ApprovalStep) -> dict[str, Any]:
    user = uow.session.get(User, step.decided_by)
    return {
        "step_no": step.step_no,
        "role": step.role,
        "decision": step.decision,
        "comment": step.comment,
        "decided_by": user.username if user else None,
        "decided_at": timestamp(step.decided_at),
        "cap": step.cap,
        "rulebook": step.rulebook_id,
    }
