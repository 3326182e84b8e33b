"""Four eyes: the approval chain of a release, a refund or a rule book adoption, and who may take its next
step (DESIGN.md §3).

The chain comes from the rule book. Each step names a bureau role; the user taking it must hold that role,
and with `distinct_people` one person takes at most one step of the same subject. The applicant's side never
approves: developer staff are not bureau users, so they cannot reach a decision on a release or a refund at
all; a rule book adoption is applied for by a bureau user, who then takes no step of it.

`may_decide` is the one rule: the service enforces it (`require`) and the pages show it (a reason code with
its parameters, the words chosen at the edge).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from escrow.domain.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput
from escrow.domain.rulebook import ApprovalStep, RuleBook

DECISIONS = ("approve", "reject")
OPEN = "submitted"  # the one status in which a step may be taken

# Why a person may not take the next step, checked in this order.
DECIDED = "decided"  # the subject is no longer open, or every step was taken
ROLE_CANNOT_DECIDE = "role_cannot_decide"  # no step of the rule book's chain names this role
WRONG_ROLE = "wrong_role"  # the next step names another role
ALREADY_TOOK_A_STEP = "already_took_a_step"  # distinct_people: this person took an earlier step
APPLICANT = "applicant"  # distinct_people: this person applied for the subject (a bureau user's adoption)
Reason = Literal["decided", "role_cannot_decide", "wrong_role", "already_took_a_step", "applicant"]


@dataclass(frozen=True)
class Decision:
    decision: str  # approve | reject
    comment: str = ""


@dataclass(frozen=True)
class Link:
    """One step of an approval chain as views show it."""

    step_no: int
    role: str
    label_zh: str
    label_en: str


def links(chain: Sequence[ApprovalStep]) -> tuple[Link, ...]:
    return tuple(Link(i, s.role, s.label_zh, s.label_en) for i, s in enumerate(chain, start=1))


def next_link(chain: Sequence[ApprovalStep], taken: int, status: str) -> Link | None:
    """The step to take next, None once the subject is decided."""
    if status != OPEN or taken >= len(chain):
        return None
    return links(chain)[taken]


def refund_chain(book: RuleBook) -> tuple[ApprovalStep, ...]:
    """Refunds take the rule book's base chain (reviewer → approver): the amount thresholds that add steps
    are for releases of the developer's money, not for the buyer's own money going back."""
    return tuple(s for s in book.release.approval_chain if s.min_amount is None)


def adoption_chain(book: RuleBook) -> tuple[ApprovalStep, ...]:
    """A rule book adoption takes the adopted version's base chain (reviewer → approver): it moves no money,
    so the amount thresholds that add steps to releases do not apply."""
    return tuple(s for s in book.release.approval_chain if s.min_amount is None)


def supervised_amount_change_chain(book: RuleBook) -> tuple[ApprovalStep, ...]:
    """A key supervised amount change takes `[supervised_amount_change]`'s chain (from hengshui@2026.2), else
    the base chain: it moves no money by itself."""
    if book.supervised_amount_change is not None:
        return book.supervised_amount_change.approval_chain
    return adoption_chain(book)


def fund_plan_chain(book: RuleBook) -> tuple[ApprovalStep, ...]:
    """A fund demand plan takes `[fund_plan]`'s chain (from hengshui@2026.2), else the base chain."""
    if book.fund_plan is not None:
        return book.fund_plan.approval_chain
    return adoption_chain(book)


def release_chain(
    book: RuleBook, amount: Decimal, kind: str = "node", beyond_plan: bool = False
) -> tuple[ApprovalStep, ...]:
    """A release's chain: the rule book's, with the steps its amount adds and, for a release beyond the
    approved fund plan, `fund_plan.beyond_plan_step` last (hengshui@2026.2; not twice where the amount has
    already brought in a step of the same role, since one person of that role would have to take both)."""
    chain = book.approval_steps_for(amount, kind)
    extra = book.fund_plan.beyond_plan_step if book.fund_plan is not None else None
    if beyond_plan and extra is not None and all(s.role != extra.role for s in chain):
        chain = (*chain, extra)
    return chain


def deciding_roles(book: RuleBook) -> frozenset[str]:
    """The roles some step of one of the rule book's approval chains names."""
    chains = [book.release.approval_chain]
    if book.supervised_amount_change is not None:
        chains.append(book.supervised_amount_change.approval_chain)
    if book.fund_plan is not None:
        chains.append(book.fund_plan.approval_chain)
        if book.fund_plan.beyond_plan_step is not None:
            chains.append((book.fund_plan.beyond_plan_step,))
    return frozenset(s.role for chain in chains for s in chain)


@dataclass(frozen=True)
class MayDecide:
    """Whether one person may take the next step now; if not, `reason` says why. `step` is the next step
    (None once decided), `status` the subject's, and `own_step` the step this person already took, if any."""

    allowed: bool
    reason: Reason | None
    status: str
    step: Link | None
    own_step: int | None


def may_decide(
    book: RuleBook,
    chain: Sequence[ApprovalStep],
    deciders: Sequence[int],
    status: str,
    role: str | None,
    user_id: int | None,
    applicant: int | None = None,
) -> MayDecide:
    """`deciders` are the users who took the steps so far, in step order; `applicant` the bureau user who
    applied for the subject, if a bureau user did."""
    step = next_link(chain, len(deciders), status)
    own_step = deciders.index(user_id) + 1 if user_id in deciders else None

    def refused(reason: Reason) -> MayDecide:
        return MayDecide(False, reason, status, step, own_step)

    if step is None:
        return refused(DECIDED)
    if role not in deciding_roles(book):
        return refused(ROLE_CANNOT_DECIDE)
    if role != step.role:
        return refused(WRONG_ROLE)
    if book.release.distinct_people and applicant is not None and user_id == applicant:
        return refused(APPLICANT)
    if book.release.distinct_people and own_step is not None:
        return refused(ALREADY_TOOK_A_STEP)
    return MayDecide(True, None, status, step, own_step)


def refusal(may: MayDecide, book: RuleBook, subject: str, person: str) -> DomainError:
    """The error a refused `may_decide` raises in a use case (`subject` e.g. "release 7")."""
    step = may.step
    if may.reason == DECIDED or step is None:
        if may.status != OPEN:
            return Conflict(f"{subject} is already {may.status}")
        return Conflict(f"{subject} has no step left to decide")
    needs = f"step {step.step_no} of {subject} ({step.label_zh} / {step.label_en}) needs the role {step.role}"
    if may.reason in (ROLE_CANNOT_DECIDE, WRONG_ROLE):
        return Forbidden(needs, rule=f"{book.id} release.approval_chain")
    if may.reason == APPLICANT:
        return InvalidInput(
            f"{person} applied for {subject}; the applicant never decides it, another person must take step"
            f" {step.step_no}",
            rule=f"{book.id} release.distinct_people",
        )
    return InvalidInput(
        f"{person} already took a step of {subject}; another person must take step {step.step_no}",
        rule=f"{book.id} release.distinct_people",
    )


def check_choice(decision: Decision) -> None:
    if decision.decision not in DECISIONS:
        raise InvalidInput(
            "decision must be approve or reject", errors=[FieldError.coded("decision", "approve_or_reject")]
        )


def check_reason(decision: Decision) -> None:
    if decision.decision == "reject" and not decision.comment.strip():
        raise InvalidInput(
            "a rejection must say why",
            rule="rejection_comment",
            errors=[FieldError.coded("comment", "required_when_rejecting")],
        )
