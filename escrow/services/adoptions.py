"""Policy reaches live projects only by adoption (DESIGN.md §4): after the what-if, the bureau adopts a later
version of a rule book for chosen live projects, decided with four eyes.

- Who applies: a bureau admin (as for opening projects) names the version
  (`hengshui@2025.2`), the projects and why. Only a later version of the same jurisdiction may be adopted,
  for live projects (account not closed) of that jurisdiction that are on an earlier version and not chosen by
  another adoption still open; anything else is refused whole (422 naming the rule), nothing kept.
- Who decides: the ONE approval workflow (escrow.services.approvals), along the adopted version's base chain
  (reviewer → approver, escrow.domain.approvals.adoption_chain); distinct people take the steps and the
  applicant takes none (the rule book's `release.distinct_people`).
- What the last approval does: under the lock of every chosen account, each project is checked again and its
  `rulebook_id` becomes the adopted version (whose hash is recorded as published, as at opening). Every past
  decision keeps the version that made it: releases, refunds, approval steps, node confirmations and stored
  caps carry their own `rulebook_id`, and nothing of them is rewritten. From then on the project's new caps,
  releases and deposit checks follow the adopted version.
- The key supervised amount is KEPT. The national opinion sets K per project, and a change of K is a decision
  of its own with its own approval (issue 12): an adoption changes the rules applied to K, not K. The what-if
  shows the key amount the adopted version's formula would give (services/whatif.py) so that the bureau can
  start that change where it wants one.
- Audited: `adoption.submitted`, each step (`adoption.step_approved` / `adoption.step_rejected`), the outcome
  (`adoption.approved` / `adoption.rejected`), and per project `project.rulebook_adopted` with the versions
  and the releasable amount before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from escrow.domain.actors import ActorRef
from escrow.domain.approvals import Decision, Link, MayDecide, adoption_chain, links, next_link
from escrow.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from escrow.domain.ids import valid_id
from escrow.domain.money import Money, from_fen, to_wire
from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.rulebooks import RuleBook, version_key
from escrow.services import approvals
from escrow.services.context import Context
from escrow.services.projects import release_cap
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    Project,
    RulebookAdoption,
    RulebookAdoptionProject,
    SupervisedAccount,
)

Status = Literal["submitted", "approved", "rejected"]
APPLICANT_ROLES = ("admin",)  # who administers policy; never a step of the chain (reviewer → approver)
MAX_REASON = 2000
MAX_PROJECTS = 1000

# The rules an adoption is refused by (the problem's `rule`).
RULE_ROLE = "adoption.applicant_role"
RULE_VERSION = "adoption.rulebook"
RULE_PROJECTS = "adoption.project_ids"
RULE_REASON = "adoption.reason"
RULE_NO_PROJECT = "adoption.no_such_project"
RULE_JURISDICTION = "adoption.same_jurisdiction"
RULE_LIVE = "adoption.live_projects_only"
RULE_ALREADY = "adoption.already_on_version"
RULE_LATER = "adoption.later_version_only"
RULE_OPEN = "adoption.one_open_adoption_per_project"
RULE_PUBLISHED = "rulebook.published"


@dataclass(frozen=True)
class Adopt:
    rulebook: str  # "hengshui@2025.2"
    project_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class ChosenProject:
    project_id: int
    name: str
    developer_name: str
    account_no: str
    from_rulebook: str  # the version the project was on when the adoption was submitted
    rulebook: str  # the version it is on now
    supervised_amount: Money  # kept by the adoption


@dataclass(frozen=True)
class AdoptionView:
    adoption_id: int
    rulebook: str
    jurisdiction: str
    status: Status
    reason: str
    applied_by: str | None  # the bureau user's username
    supervised_amount: Literal["kept"]  # an adoption never changes a project's key supervised amount
    projects: tuple[ChosenProject, ...]
    approval_chain: tuple[Link, ...]
    next_step: Link | None
    steps: tuple[approvals.StepView, ...]
    created_at: str | None
    applied_by_name: str | None = None  # the applicant's display name (their username if none)
    applied_by_role: str | None = None


# --- the rules ---------------------------------------------------------------------------------------------


def later(book: RuleBook, than: RuleBook) -> bool:
    """`book` comes after `than` in its jurisdiction (by effective date, then by version number)."""
    return (book.effective_from, version_key(book.version)) > (than.effective_from, version_key(than.version))


def _refused(rule: str, detail: str, errors: list[FieldError]) -> InvalidInput:
    return InvalidInput(detail, rule=rule, errors=errors)


def _project_refusal(
    ctx: Context, book: RuleBook, project: Project, account: SupervisedAccount
) -> tuple[str, str] | None:
    """(rule, English reason) why `book` may not be adopted for this project now, or None."""
    if project.jurisdiction != book.jurisdiction:
        return RULE_JURISDICTION, f"is a {project.jurisdiction} project, not {book.jurisdiction}"
    if account.status == "closed":
        return RULE_LIVE, "its supervised account is closed"
    if project.rulebook_id == book.id:
        return RULE_ALREADY, f"is already on {book.id}"
    if not later(book, ctx.rulebook(project.rulebook_id)):
        return RULE_LATER, f"is on {project.rulebook_id}, which is not earlier than {book.id}"
    return None


def _book(ctx: Context, rulebook: str) -> RuleBook:
    book = ctx.rulebooks.get(rulebook.strip())
    if book is None:
        raise _refused(
            RULE_VERSION,
            f"no rule book version {rulebook!r} is loaded",
            [FieldError("rulebook", "no such rule book version (written as jurisdiction@version)")],
        )
    return book


def _pin(uow: UnitOfWork, book: RuleBook) -> None:
    """Record the adopted version's hash as published (as opening a project does)."""
    recorded = uow.rulebook_records.record_first_use(book.id, book.sha256)
    if recorded != book.sha256:
        raise Conflict(
            f"rule book {book.id} changed after it was published; refusing to use it", rule=RULE_PUBLISHED
        )


# --- applying --------------------------------------------------------------------------------------------


def submit(ctx: Context, cmd: Adopt, actor: Principal) -> AdoptionView:
    """Apply for the adoption of a later version for chosen live projects."""
    return ctx.run(_submit, cmd, actor)


def _submit(uow: UnitOfWork, ctx: Context, cmd: Adopt, actor: Principal) -> AdoptionView:
    if not actor.has_role(*APPLICANT_ROLES):
        raise Forbidden(
            "a rule book adoption is applied for by a bureau user with the role "
            + " or ".join(APPLICANT_ROLES),
            rule=RULE_ROLE,
        )
    book = _book(ctx, cmd.rulebook)
    reason = cmd.reason.strip()
    if not reason:
        raise _refused(
            RULE_REASON, "say why the version is adopted", [FieldError.coded("reason", "required")]
        )
    if len(reason) > MAX_REASON:
        raise _refused(
            RULE_REASON, "the reason is too long", [FieldError.at_most_chars("reason", MAX_REASON)]
        )
    ids = list(dict.fromkeys(cmd.project_ids))
    if not ids:
        raise _refused(
            RULE_PROJECTS, "choose at least one project", [FieldError.coded("project_ids", "required")]
        )
    if len(ids) > MAX_PROJECTS:
        raise _refused(RULE_PROJECTS, "too many projects", [FieldError.at_most("project_ids", MAX_PROJECTS)])
    found = uow.adoptions.projects_with_accounts([i for i in ids if valid_id(i)])
    open_ = uow.adoptions.open_for_projects(list(found))
    refusals: list[tuple[str, FieldError]] = []
    for index, project_id in enumerate(ids):
        field = f"project_ids[{index}]"
        if project_id not in found:
            refusals.append((RULE_NO_PROJECT, FieldError(field, f"no project {project_id}")))
            continue
        project, account, _grade = found[project_id]
        why = _project_refusal(ctx, book, project, account)
        if why is None and project_id in open_:
            why = RULE_OPEN, f"is chosen by adoption {open_[project_id]}, still open"
        if why is not None:
            refusals.append((why[0], FieldError(field, f"project {project_id} {why[1]} ({why[0]})")))
    if refusals:
        rule = refusals[0][0]
        raise _refused(
            rule,
            f"{book.id} cannot be adopted for every chosen project: "
            + "; ".join(e.message for _, e in refusals),
            [e for _, e in refusals],
        )
    adoption = uow.adoptions.add(
        RulebookAdoption(
            jurisdiction=book.jurisdiction,
            rulebook_id=book.id,
            reason=reason,
            status="submitted",
            applied_by=actor.user_id,
        )
    )
    for project_id in ids:
        project, account, _grade = found[project_id]
        uow.adoptions.add(
            RulebookAdoptionProject(
                adoption_id=adoption.id,
                project_id=project.id,
                account_id=account.id,
                from_rulebook_id=project.rulebook_id,
            )
        )
    view = adoption_view(uow, ctx, adoption)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="adoption.submitted",
        subject_type="adoption",
        subject_id=adoption.id,
        after={
            "rulebook": book.id,
            "projects": [{"project_id": p.project_id, "from": p.from_rulebook} for p in view.projects],
            "reason": reason,
            "status": view.status,
        },
        details={"rulebook": book.id},
    )
    approvals.submitted(uow, ctx, FLOW, adoption)
    return view


# --- deciding ----------------------------------------------------------------------------------------------


def _chain(book: RuleBook, _adoption: RulebookAdoption) -> tuple:
    return adoption_chain(book)


def _lock(uow: UnitOfWork, adoption: RulebookAdoption) -> None:
    """Every chosen account, in id order (so two decisions never wait on each other's locks in a cycle)."""
    for account_id in sorted(c.account_id for c in uow.adoptions.chosen(adoption.id)):
        approvals.lock_account(uow, account_id)
    return None


def _judge(
    uow: UnitOfWork,
    ctx: Context,
    adoption: RulebookAdoption,
    _account: SupervisedAccount | None,
    approving: bool,
    when: str,
) -> approvals.Judged:
    """Before an approval: every chosen project may still take the version (a project may have been closed
    or moved by another adoption since)."""
    book = ctx.rulebook(adoption.rulebook_id)
    chosen = uow.adoptions.chosen_with_projects(adoption.id)
    if approving:
        for index, (_, project, account, _name) in enumerate(chosen):
            why = _project_refusal(ctx, book, project, account)
            if why is not None:
                raise approvals.Refused(
                    f"{when}: {book.id} can no longer be adopted for project {project.id}: {why[1]}",
                    rule=why[0],
                    facts={"project_id": project.id},
                    errors=[FieldError(f"project_ids[{index}]", f"project {project.id} {why[1]} ({why[0]})")],
                )
    kept = {
        "rulebook": book.id,
        "projects": [{"project_id": p.id, "rulebook": p.rulebook_id} for _, p, _, _ in chosen],
    }
    return approvals.Judged(kept=kept, audit={"projects": [p.id for _, p, _, _ in chosen]})


def _adopted(uow: UnitOfWork, ctx: Context, adoption: RulebookAdoption, actor: Principal) -> dict[str, Any]:
    """The last approval: each chosen project moves to the adopted version; its key amount stays."""
    book = ctx.rulebook(adoption.rulebook_id)
    _pin(uow, book)
    moved = []
    chosen = uow.adoptions.chosen_with_projects(adoption.id)
    # events follow on every chosen account's chain and the city's: their locks first, in ascending order
    audit.lock_chains(uow.session, [audit.CITY_CHAIN, *(audit.chain_of(a.id) for _, _, a, _ in chosen)])
    for _, project, account, _name in chosen:
        old = project.rulebook_id
        before = release_cap(uow, ctx, project, account)
        project.rulebook_id = book.id
        uow.session.flush()
        after = release_cap(uow, ctx, project, account)
        audit.record(
            uow.session,
            actor=actor.ref,
            action="project.rulebook_adopted",
            subject_type="project",
            subject_id=project.id,
            account_id=account.id,
            before={"rulebook": old, "releasable": to_wire(before.releasable)},
            after={"rulebook": book.id, "releasable": to_wire(after.releasable)},
            details={
                "adoption_id": adoption.id,
                "supervised_amount": to_wire(from_fen(project.supervised_amount_fen)),
                "supervised_amount_kept": True,
            },
        )
        moved.append({"project_id": project.id, "from": old, "to": book.id})
    return {"rulebook": book.id, "projects": moved}


FLOW = approvals.Flow(
    kind="adoption",
    repo=lambda uow: uow.adoptions,
    chain=_chain,
    judge=_judge,
    lock=_lock,
    applicant=lambda adoption: adoption.applied_by,
    on_approved=_adopted,
)


def decide(ctx: Context, adoption_id: int, decision: Decision, actor: Principal) -> AdoptionView:
    """One step of the adoption's approval chain (escrow.services.approvals)."""
    with ctx.writing() as uow:
        adoption = approvals.decide(uow, ctx, FLOW, adoption_id, decision, actor)
        return ctx.commit(uow, adoption_view(uow, ctx, adoption))


# --- reading -----------------------------------------------------------------------------------------------


def adoption_view(uow: UnitOfWork, ctx: Context, adoption: RulebookAdoption) -> AdoptionView:
    book = ctx.rulebook(adoption.rulebook_id)
    chain = adoption_chain(book)
    steps = uow.adoptions.steps(adoption.id)
    named = uow.actors.names([ActorRef("user", adoption.applied_by)]).get(("user", adoption.applied_by))
    return AdoptionView(
        adoption_id=adoption.id,
        rulebook=adoption.rulebook_id,
        jurisdiction=adoption.jurisdiction,
        status=adoption.status,
        reason=adoption.reason,
        applied_by=named.login if named else None,
        applied_by_name=named.name if named else None,
        applied_by_role=named.role if named else None,
        supervised_amount="kept",
        projects=tuple(
            ChosenProject(
                project_id=project.id,
                name=project.name,
                developer_name=developer_name,
                account_no=account.account_no,
                from_rulebook=chosen.from_rulebook_id,
                rulebook=project.rulebook_id,
                supervised_amount=from_fen(project.supervised_amount_fen),
            )
            for chosen, project, account, developer_name in uow.adoptions.chosen_with_projects(adoption.id)
        ),
        approval_chain=links(chain),
        next_step=next_link(chain, len(steps), adoption.status),
        steps=approvals.step_views(uow, steps),
        created_at=approvals.timestamp(adoption.created_at),
    )


def _visible(uow: UnitOfWork, actor: Principal, adoption_id: int) -> RulebookAdoption:
    adoption = uow.adoptions.get(adoption_id)
    if adoption is None or not actor.is_bureau:
        raise NotFound(f"no adoption {adoption_id}")
    return adoption


def get(ctx: Context, adoption_id: int, actor: Principal) -> AdoptionView:
    with ctx.reading() as uow:
        return adoption_view(uow, ctx, _visible(uow, actor, adoption_id))


@dataclass(frozen=True)
class Review:
    """An adoption as its review page shows it, and whether the reader may take the next step."""

    adoption: AdoptionView
    book: RuleBook
    decision: MayDecide


def review(ctx: Context, adoption_id: int, actor: Principal) -> Review:
    with ctx.reading() as uow:
        adoption = _visible(uow, actor, adoption_id)
        return Review(
            adoption=adoption_view(uow, ctx, adoption),
            book=ctx.rulebook(adoption.rulebook_id),
            decision=approvals.may_decide(uow, ctx, FLOW, adoption, actor),
        )


@dataclass(frozen=True)
class HistoryEntry:
    """An adoption that chose a project, as the project's page lists it."""

    adoption_id: int
    from_rulebook: str
    rulebook: str
    status: Status
    reason: str
    created_at: str | None


def history(uow: UnitOfWork, project_id: int) -> tuple[HistoryEntry, ...]:
    """Every adoption that chose the project, newest first."""
    return tuple(
        HistoryEntry(
            adoption_id=adoption.id,
            from_rulebook=chosen.from_rulebook_id,
            rulebook=adoption.rulebook_id,
            status=adoption.status,
            reason=adoption.reason,
            created_at=approvals.timestamp(adoption.created_at),
        )
        for adoption, chosen in uow.adoptions.of_project(project_id)
    )


@dataclass(frozen=True)
class Row:
    adoption_id: int
    rulebook: str
    status: Status
    projects: int
    created_at: str | None


def page_of_listing(ctx: Context, actor: Principal, status: str | None, page: Page) -> Paged[Row]:
    """One page of `listing`, newest first."""
    if not actor.is_bureau:
        raise NotFound("no adoptions")
    with ctx.reading() as uow:
        found = page_of(uow.adoptions.listing(status=status, page=page), page, lambda a: (a.id,))
        counts = uow.adoptions.count_chosen([a.id for a in found.items])
        rows = [
            Row(a.id, a.rulebook_id, a.status, counts.get(a.id, 0), approvals.timestamp(a.created_at))
            for a in found.items
        ]
        return Paged(rows, found.next)


def listing(ctx: Context, actor: Principal, status: str | None = None) -> tuple[Row, ...]:
    if not actor.is_bureau:
        raise NotFound("no adoptions")
    with ctx.reading() as uow:
        found = uow.adoptions.listing(status=status)
        counts = uow.adoptions.count_chosen([a.id for a in found])
        return tuple(
            Row(a.id, a.rulebook_id, a.status, counts.get(a.id, 0), approvals.timestamp(a.created_at))
            for a in found
        )
