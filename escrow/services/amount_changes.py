"""Key supervised amount changes (重点监管资金额度调整, CONTRACT §8): the bureau changes a project's key
supervised amount K (the construction contract changed), decided with four eyes.

- Who applies: a bureau admin (as for opening projects), with the new amount and why. One open change per
  project (409 `supervised_amount_change.one_open_per_project`); the account must not be closed; the new
  amount must differ from K.
- Who decides: the ONE approval workflow (escrow.services.approvals), along the project's rule book's
  `[supervised_amount_change]` chain (escrow.domain.approvals.supervised_amount_change_chain; older books: the
  base chain reviewer → approver). Distinct people take the steps; the applicant takes none.
- Refused (422 `supervised_amount_change.pending_release_cap`) at filing and again at every approving step
  (so at the last one) where, with the new K, a pending release (submitted, or approved with its instruction
  unpaid) would be above the cap of its kind: the cap is the one of escrow.domain.caps, computed from the
  account's figures with K replaced; an approved release's own amount is taken out of the pending outflows
  (as when it was judged).
- The last approval sets the project's `supervised_amount_fen`; nothing else is stored per building (the
  split by building is computed from K at read time). Audited (`supervised_amount_change.submitted`, each
  step, the outcome, and `project.supervised_amount_changed` with K and the caps before and after).
- The answer re-explains the cap: `cap.before` under the K of the day and `cap.after` under the new one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from escrow.domain import caps
from escrow.domain.approvals import Decision, Link, MayDecide, links, next_link
from escrow.domain.approvals import supervised_amount_change_chain as chain_of
from escrow.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from escrow.domain.ids import valid_id
from escrow.domain.money import Money, MoneyError, from_fen, to_fen, to_wire
from escrow.domain.principal import Principal
from escrow.rulebooks import RuleBook
from escrow.services import approvals
from escrow.services.context import Context
from escrow.services.projects import cap_basis
from escrow.services.releases import cap_json
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Project, Release, SupervisedAccount, SupervisedAmountChange, User

Status = Literal["submitted", "approved", "rejected"]
APPLICANT_ROLES = ("admin",)  # as for opening projects; never a step of the chain
MAX_REASON = 2000

RULE_ROLE = "supervised_amount_change.applicant_role"
RULE_OPEN = "supervised_amount_change.one_open_per_project"
RULE_PENDING = "supervised_amount_change.pending_release_cap"
RULE_UNCHANGED = "supervised_amount_change.amount_unchanged"
RULE_REASON = "supervised_amount_change.reason"
RULE_CLOSED = "account_open"


@dataclass(frozen=True)
class FileChange:
    project_id: int
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class ChangeView:
    change_id: int
    project_id: int
    project_name: str
    account_no: str
    status: Status
    from_amount: Money  # the key supervised amount when the change was filed (on the wire: `from`)
    to_amount: Money  # the amount it sets once approved (on the wire: `to`)
    reason: str
    applied_by: str | None
    # the caps re-explained: {before: …, after: …}, each {releasable, explanation, caps: {node, non_key}}
    cap: dict[str, Any]
    supervised_amount: Money  # the project's key supervised amount now
    rulebook: str
    approval_chain: tuple[Link, ...]
    next_step: Link | None
    steps: tuple[approvals.StepView, ...]
    created_at: str | None


# --- the rules ---------------------------------------------------------------------------------------------


def caps_at(inputs: caps.CapInputs, rule: caps.RetentionRule, amount: Decimal) -> tuple[caps.Cap, caps.Cap]:
    """The node cap and the non-key cap with the key supervised amount `amount` (escrow.domain.caps)."""
    changed = dataclasses.replace(inputs, supervised_amount=amount)
    return caps.release_cap(changed, rule), caps.non_key_cap(changed, rule)


def explained(inputs: caps.CapInputs, rule: caps.RetentionRule, old: Decimal, new: Decimal) -> dict[str, Any]:
    before, after = caps_at(inputs, rule, old), caps_at(inputs, rule, new)
    return {"before": cap_json(before[0], before), "after": cap_json(after[0], after)}


def release_over_cap(
    inputs: caps.CapInputs, rule: caps.RetentionRule, amount: Decimal, release: Release
) -> tuple[Decimal, caps.Cap] | None:
    """(its amount, the cap) when `release` would be above the cap of its kind with the key supervised amount
    `amount`, else None. An approved release's own amount is in the pending outflows (and, non-key, in what
    was taken): it is taken out, so that the release is judged as at its approval."""
    own = from_fen(release.amount_fen)
    judged = dataclasses.replace(inputs, supervised_amount=amount)
    if release.status == "approved":
        judged = dataclasses.replace(judged, pending_out=judged.pending_out - own)
        if release.kind == "non_key":
            judged = dataclasses.replace(judged, non_key_taken=judged.non_key_taken - own)
    cap = caps.cap_for(release.kind, judged, rule)
    return (own, cap) if own > cap.releasable else None


def check_pending_releases(
    uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount, amount: Decimal, when: str
) -> None:
    inputs, rule = cap_basis(uow, ctx, project, account)
    for release in uow.amount_changes.pending_releases(project.id):
        over = release_over_cap(inputs, rule, amount, release)
        if over is None:
            continue
        own, cap = over
        raise approvals.Refused(
            f"{when}: with the key supervised amount {to_wire(amount)}, release {release.id} "
            f"({release.status}, {to_wire(own)}) would be above its releasable amount "
            f"{to_wire(cap.releasable)}: {cap.text}",
            rule=RULE_PENDING,
            facts={"release_id": release.id, "cap": cap_json(cap)},
            errors=[FieldError("amount", f"release {release.id} of {to_wire(own)} would exceed the cap")],
        )


# --- applying --------------------------------------------------------------------------------------------


def file(ctx: Context, cmd: FileChange, actor: Principal) -> ChangeView:
    """Apply for a change of the project's key supervised amount."""
    return ctx.run(_file, cmd, actor)


def _file(uow: UnitOfWork, ctx: Context, cmd: FileChange, actor: Principal) -> ChangeView:
    if not actor.is_bureau:
        raise NotFound(f"no project {cmd.project_id}")
    if not actor.has_role(*APPLICANT_ROLES):
        raise Forbidden(
            "a key supervised amount change is applied for by a bureau user with the role "
            + " or ".join(APPLICANT_ROLES),
            rule=RULE_ROLE,
        )
    project = uow.projects.get(cmd.project_id) if valid_id(cmd.project_id) else None
    if project is None:
        raise NotFound(f"no project {cmd.project_id}")
    account = approvals.lock_account(uow, uow.projects.account_for(project.id).id)
    reason = cmd.reason.strip()
    if not reason:
        raise InvalidInput(
            "say why the key supervised amount changes",
            rule=RULE_REASON,
            errors=[FieldError.coded("reason", "required")],
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            "the reason is too long",
            rule=RULE_REASON,
            errors=[FieldError.at_most_chars("reason", MAX_REASON)],
        )
    if cmd.amount <= 0:
        raise InvalidInput(
            "the key supervised amount must be positive", errors=[FieldError.coded("amount", "positive")]
        )
    try:
        new_fen = to_fen(cmd.amount)
    except MoneyError as exc:
        raise InvalidInput(str(exc), errors=[FieldError("amount", str(exc))]) from None
    if account.status == "closed":
        raise InvalidInput(f"account {account.account_no} is closed", rule=RULE_CLOSED)
    if new_fen == project.supervised_amount_fen:
        raise InvalidInput(
            f"the key supervised amount is already {to_wire(cmd.amount)}",
            rule=RULE_UNCHANGED,
            errors=[FieldError("amount", "the same as the key supervised amount now")],
        )
    open_ = uow.amount_changes.open_for_project(project.id)
    if open_ is not None:
        raise Conflict(
            f"project {project.id} already has an open key supervised amount change ({open_.id})",
            rule=RULE_OPEN,
        )
    old, new = from_fen(project.supervised_amount_fen), from_fen(new_fen)
    check_pending_releases(uow, ctx, project, account, new, "at filing")
    inputs, rule = cap_basis(uow, ctx, project, account)
    change = uow.amount_changes.add(
        SupervisedAmountChange(
            project_id=project.id,
            account_id=account.id,
            from_fen=project.supervised_amount_fen,
            to_fen=new_fen,
            reason=reason,
            status="submitted",
            applied_by=actor.user_id,
            cap=explained(inputs, rule, old, new),
            rulebook_id=project.rulebook_id,
        )
    )
    view = change_view(uow, ctx, change)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="supervised_amount_change.submitted",
        subject_type="supervised_amount_change",
        subject_id=change.id,
        account_id=account.id,
        after={"from": to_wire(old), "to": to_wire(new), "reason": reason, "status": change.status},
        details={"project_id": project.id, "rulebook": project.rulebook_id},
    )
    approvals.submitted(uow, ctx, FLOW, change)
    return view


# --- deciding ----------------------------------------------------------------------------------------------


def _chain(book: RuleBook, _change: SupervisedAmountChange) -> tuple:
    return chain_of(book)


def _judge(
    uow: UnitOfWork,
    ctx: Context,
    change: SupervisedAmountChange,
    account: SupervisedAccount | None,
    approving: bool,
    when: str,
) -> approvals.Judged:
    """Before an approval: no pending release would be above its cap with the new amount (a release may
    have been applied for or approved since the filing)."""
    project = uow.projects.get(change.project_id)
    new = from_fen(change.to_fen)
    if approving:
        check_pending_releases(uow, ctx, project, account, new, when)
    inputs, rule = cap_basis(uow, ctx, project, account)
    kept = explained(inputs, rule, from_fen(project.supervised_amount_fen), new)
    return approvals.Judged(
        kept=kept,
        audit={"releasable_after": kept["after"]["releasable"], "to": to_wire(new)},
    )


def _approved(
    uow: UnitOfWork, ctx: Context, change: SupervisedAmountChange, actor: Principal
) -> dict[str, Any]:
    """The last approval: the project's key supervised amount becomes the new one."""
    project = uow.projects.get(change.project_id)
    account = uow.session.get(SupervisedAccount, change.account_id)
    inputs, rule = cap_basis(uow, ctx, project, account)
    old, new = from_fen(project.supervised_amount_fen), from_fen(change.to_fen)
    change.cap = explained(inputs, rule, old, new)
    project.supervised_amount_fen = change.to_fen
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action="project.supervised_amount_changed",
        subject_type="project",
        subject_id=project.id,
        account_id=account.id,
        before={"supervised_amount": to_wire(old), "releasable": change.cap["before"]["releasable"]},
        after={"supervised_amount": to_wire(new), "releasable": change.cap["after"]["releasable"]},
        details={"change_id": change.id, "rulebook": project.rulebook_id},
    )
    return {"project_id": project.id, "from": to_wire(old), "to": to_wire(new)}


FLOW = approvals.Flow(
    kind="supervised_amount_change",
    repo=lambda uow: uow.amount_changes,
    chain=_chain,
    judge=_judge,
    applicant=lambda change: change.applied_by,
    on_approved=_approved,
)


def decide(ctx: Context, change_id: int, decision: Decision, actor: Principal) -> ChangeView:
    """One step of the change's approval chain (escrow.services.approvals)."""
    with ctx.writing() as uow:
        change = approvals.decide(uow, ctx, FLOW, change_id, decision, actor)
        return ctx.commit(uow, change_view(uow, ctx, change))


# --- reading -----------------------------------------------------------------------------------------------


def change_view(
    uow: UnitOfWork, ctx: Context, change: SupervisedAmountChange, steps: list | None = None
) -> ChangeView:
    book = ctx.rulebook(change.rulebook_id)
    chain = chain_of(book)
    steps = uow.amount_changes.steps(change.id) if steps is None else steps
    project = uow.projects.get(change.project_id)
    account = uow.session.get(SupervisedAccount, change.account_id)
    applicant = uow.session.get(User, change.applied_by)
    return ChangeView(
        change_id=change.id,
        project_id=project.id,
        project_name=project.name,
        account_no=account.account_no,
        status=change.status,
        from_amount=from_fen(change.from_fen),
        to_amount=from_fen(change.to_fen),
        reason=change.reason,
        applied_by=applicant.username if applicant else None,
        cap=change.cap,
        supervised_amount=from_fen(project.supervised_amount_fen),
        rulebook=change.rulebook_id,
        approval_chain=links(chain),
        next_step=next_link(chain, len(steps), change.status),
        steps=approvals.step_views(uow, steps),
        created_at=approvals.timestamp(change.created_at),
    )


def _visible(uow: UnitOfWork, actor: Principal, change_id: int) -> SupervisedAmountChange:
    change = uow.amount_changes.get(change_id)
    if change is None or not actor.is_bureau:
        raise NotFound(f"no supervised amount change {change_id}")
    return change


def get(ctx: Context, change_id: int, actor: Principal) -> ChangeView:
    with ctx.reading() as uow:
        return change_view(uow, ctx, _visible(uow, actor, change_id))


@dataclass(frozen=True)
class Review:
    """A change as the project page shows it, and whether the reader may take the next step."""

    change: ChangeView
    decision: MayDecide


def history(uow: UnitOfWork, ctx: Context, project_id: int) -> tuple[ChangeView, ...]:
    """Every change of the project with its steps, newest first (the project page's list)."""
    found = uow.amount_changes.of_project(project_id) if valid_id(project_id) else []
    steps = uow.amount_changes.steps_of([c.id for c in found])
    return tuple(change_view(uow, ctx, c, steps[c.id]) for c in found)


def review(ctx: Context, change_id: int, actor: Principal) -> Review:
    """A change as its review page shows it, with whether `actor` may take the next step."""
    with ctx.reading() as uow:
        change = _visible(uow, actor, change_id)
        return Review(
            change=change_view(uow, ctx, change), decision=approvals.may_decide(uow, ctx, FLOW, change, actor)
        )
