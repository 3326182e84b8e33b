"""Release applications (拨付申请) and their approval (DESIGN.md §1, §3, §4).

A developer applies at a confirmed node for an amount within the current release cap, paying construction,
equipment and material partners directly, with the documents the rule book requires. Bureau users take the
rule book's approval chain one step at a time; at every approving step the cap is checked again under the
account lock, because other releases may have been approved in between. The last approval creates a payment
instruction, which reserves the amount (pending_out) until the bank executes it; the books move only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

from escrow.domain import fund_plan as fund_plan_rules
from escrow.domain.approvals import Decision, Link, MayDecide, links, next_link, release_chain
from escrow.domain.caps import Cap
from escrow.domain.errors import FieldError, InvalidInput, NotFound
from escrow.domain.money import Money, from_fen, to_fen, to_wire
from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.rulebooks import RuleBook
from escrow.services import approvals, ending, fund_plans
from escrow.services.accounts import reconciliation
from escrow.services.context import Context
from escrow.services.projects import both_caps, node_of, release_cap
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    Developer,
    Project,
    Release,
    ReleaseDocument,
    ReleasePayee,
    StoredDocument,
    SupervisedAccount,
)

Status = Literal["submitted", "approved", "rejected", "executed"]
# A node release pays key supervised funds at a confirmed node; a non-key release (非重点监管资金, national
# opinion 2022) pays money received beyond the key supervised amount, without a node.
Kind = Literal["node", "non_key"]


@dataclass(frozen=True)
class Payee:
    name: str
    account_no: str
    bank_name: str
    role: str
    amount: Money


@dataclass(frozen=True)
class Document:
    kind: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class File:
    """An uploaded file kept with the application, in its transaction (a refused application keeps none)."""

    filename: str
    content_type: str
    content: bytes
    sha256: str


@dataclass(frozen=True)
class ApplyRelease:
    project_id: int
    node_code: str | None  # None for a non-key release
    amount: Decimal
    purpose: str
    payees: tuple[Payee, ...]
    documents: tuple[Document, ...] = field(default_factory=tuple)
    kind: Kind = "node"
    beyond_plan_reason: str | None = None  # required when the release goes beyond the fund plan


@dataclass(frozen=True)
class ReleaseView:
    release_id: int
    project_id: int
    project_name: str
    permit_no: str
    account_no: str
    kind: Kind
    node_code: str | None
    amount: Money
    purpose: str
    status: Status
    # the cap when the developer applied, as stored: {releasable, explanation, caps: {node, non_key}}
    cap: dict[str, Any]
    rulebook: str
    approval_chain: tuple[Link, ...]
    next_step: Link | None
    steps: tuple[approvals.StepView, ...]
    payees: tuple[Payee, ...]
    documents: tuple[Document, ...]
    instruction: approvals.InstructionRef | None  # once the last step approved
    created_at: str | None
    # against the approved fund plan when applied for (escrow.services.fund_plans.judge_release): planned,
    # drawn, beyond_plan, …; None for a non-key release (the plan is of nodes) and one applied before 0012
    plan: dict[str, Any] | None
    beyond_plan_reason: str | None


def cap_json(cap: Cap, both: tuple[Cap, Cap] | None = None) -> dict[str, Any]:
    """A cap as kept and answered: the one that applies, explained term by term, and, when given, what the
    node and the non-key caps each allow (CONTRACT §8: the answer explains both)."""
    found: dict[str, Any] = {"releasable": to_wire(cap.releasable), "explanation": cap.to_json()}
    if both:
        found["caps"] = {c.kind: {"releasable": to_wire(c.releasable), "text": c.text} for c in both}
    return found


def kind_cap(caps: tuple[Cap, Cap], kind: str) -> Cap:
    return caps[1] if kind == "non_key" else caps[0]


def cap_refusal(amount: Decimal, cap: Cap, *, when: str) -> approvals.Refused:
    return approvals.Refused(
        f"{to_wire(amount)} is above the releasable amount {to_wire(cap.releasable)} {when}: {cap.text}",
        rule="release_cap",
        facts={"cap": cap_json(cap)},
        errors=[FieldError.at_most("amount", to_wire(cap.releasable))],
    )


def visible_release(uow: UnitOfWork, actor: Principal, release_id: int) -> Release:
    """The developer who applied and bureau users see a release; to anyone else it does not exist."""
    release = uow.releases.get(release_id)
    visible = release is not None and (
        actor.is_bureau or (actor.kind == "developer" and actor.developer_id == release.developer_id)
    )
    if not visible:
        raise NotFound(f"no release {release_id}")
    return release


def _payee(p: ReleasePayee) -> Payee:
    return Payee(p.name, p.account_no, p.bank_name, p.role, from_fen(p.amount_fen))


def payee_view(p: ReleasePayee) -> dict[str, str]:
    """A payee as a dict with its amount on the wire (for payment instructions)."""
    return {**asdict(_payee(p)), "amount": to_wire(from_fen(p.amount_fen))}


def chain_of(book: RuleBook, release: Release) -> tuple:
    """A release's chain: the rule book's, with the steps its amount adds and, beyond the fund plan, the
    book's extra step (escrow.domain.approvals.release_chain)."""
    beyond = bool(release.plan and release.plan.get("extra_step"))
    return release_chain(book, from_fen(release.amount_fen), release.kind, beyond)


def release_view(uow: UnitOfWork, ctx: Context, release: Release) -> ReleaseView:
    book = ctx.rulebook(release.rulebook_id)
    project = uow.projects.get(release.project_id)
    account = uow.session.get(SupervisedAccount, release.account_id)
    chain = chain_of(book, release)
    steps = uow.releases.steps(release.id)
    return ReleaseView(
        release_id=release.id,
        project_id=project.id,
        project_name=project.name,
        permit_no=project.permit_no,
        account_no=account.account_no,
        kind=release.kind,
        node_code=release.node_code,
        amount=from_fen(release.amount_fen),
        purpose=release.purpose,
        status=release.status,
        cap=release.cap,
        rulebook=release.rulebook_id,
        approval_chain=links(chain),
        next_step=next_link(chain, len(steps), release.status),
        steps=approvals.step_views(uow, steps),
        payees=tuple(_payee(p) for p in uow.releases.payees(release.id)),
        documents=tuple(Document(d.kind, d.filename, d.sha256) for d in uow.releases.documents(release.id)),
        instruction=approvals.instruction_ref(uow.instructions.for_release(release.id)),
        created_at=approvals.timestamp(release.created_at),
        plan=_plan_wire(release.plan),
        beyond_plan_reason=release.beyond_plan_reason,
    )


def _plan_wire(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    """The plan as answered: what was kept, without the flags that only steer the chain."""
    if plan is None:
        return None
    return {k: v for k, v in plan.items() if k not in ("reason_required", "extra_step")}


def _check_application(
    uow: UnitOfWork, book: RuleBook, project: Project, account: SupervisedAccount, cmd: ApplyRelease
) -> None:
    """Every rule of an application except the cap, in the order a clerk would check them."""
    if account.status == "closed":
        raise InvalidInput(f"account {account.account_no} is closed", rule="account_open")
    policy = book.release_policy(cmd.kind)
    section = "non_key_release" if cmd.kind == "non_key" else "release"
    if policy is None:
        raise InvalidInput(
            f"{book.id} has no non-key releases; the bureau adopts a later rule book version for the project"
            " first",
            rule=f"{book.id} non_key_release",
            errors=[FieldError.coded("kind", "not_in_rulebook")],
        )
    if cmd.kind == "non_key":
        if cmd.node_code:
            raise InvalidInput(
                "a non-key release is not tied to a node; leave node_code out",
                rule=f"{book.id} non_key_release",
                errors=[FieldError.coded("node_code", "not_for_non_key")],
            )
    else:
        if not cmd.node_code:
            raise InvalidInput(
                "a node release names its node",
                rule="node_code",
                errors=[FieldError.coded("node_code", "required")],
            )
        node = node_of(book, cmd.node_code)
        # with buildings: a node some building has reached (the cap is the buildings' together)
        if node.code not in uow.projects.progress(project.id).anywhere:
            raise InvalidInput(
                f"node {node.code} ({node.name_zh}) has not been confirmed by the bureau",
                rule=f"{book.id} release.node_confirmed",
                errors=[FieldError.coded("node_code", "not_confirmed")],
            )
    allowed = policy.payee_roles
    wrong = [(i, p) for i, p in enumerate(cmd.payees) if p.role not in allowed]
    if wrong:
        raise InvalidInput(
            f"payees are paid directly and only in the roles {', '.join(allowed)}; "
            f"not {', '.join(sorted({p.role for _, p in wrong}))}",
            rule=f"{book.id} {section}.payee_roles",
            errors=[FieldError.one_of(f"payees[{i}].role", allowed) for i, _ in wrong],
        )
    total = sum((p.amount for p in cmd.payees), Decimal("0.00"))
    if total != cmd.amount:
        raise InvalidInput(
            f"the payees' amounts sum to {to_wire(total)}, not the release amount {to_wire(cmd.amount)}",
            rule="payees_sum_to_amount",
            errors=[FieldError.must_sum_to("payees", to_wire(cmd.amount))],
        )
    given = {d.kind for d in cmd.documents}
    lacking = [kind for kind in policy.required_documents if kind not in given]
    if lacking:
        raise InvalidInput(
            f"documents missing: {', '.join(lacking)}",
            rule=f"{book.id} {section}.required_documents",
            errors=[FieldError.missing("documents", kind) for kind in lacking],
        )
    check_reconciled(uow, account)


def check_reconciled(uow: UnitOfWork, account: SupervisedAccount) -> None:
    """The bank statement prevails over the books: while the latest one does not reconcile, the cap cannot be
    trusted and releases are paused (applications and approvals alike)."""
    state = reconciliation(uow, account.id)
    if state["status"] == "discrepancy":
        raise InvalidInput(
            f"the bank statement of {state['last_statement_on']} does not reconcile with the books; "
            "releases are paused until a later statement reconciles",
            rule="reconciliation",
        )


def apply(ctx: Context, cmd: ApplyRelease, actor: Principal, files: Sequence[File] = ()) -> ReleaseView:
    return ctx.run(_apply, cmd, actor, files)


def _apply(
    uow: UnitOfWork, ctx: Context, cmd: ApplyRelease, actor: Principal, files: Sequence[File]
) -> ReleaseView:
    project = uow.projects.get(cmd.project_id)
    if project is None or actor.developer_id is None or project.developer_id != actor.developer_id:
        raise NotFound(f"no project {cmd.project_id}")
    account = approvals.lock_account(uow, uow.projects.account_for(project.id).id)
    book = ctx.rulebook(project.rulebook_id)
    _check_application(uow, book, project, account, cmd)
    ending.refuse_while_ending(uow, account, "a release application")
    both = both_caps(uow, ctx, project, account)
    cap = kind_cap(both, cmd.kind)
    if cmd.amount > cap.releasable:
        raise cap_refusal(cmd.amount, cap, when="now")
    plan = _against_plan(uow, ctx, book, project, cmd)
    release = uow.releases.add(
        Release(
            project_id=project.id,
            account_id=account.id,
            developer_id=project.developer_id,
            kind=cmd.kind,
            node_code=cmd.node_code if cmd.kind == "node" else None,
            amount_fen=to_fen(cmd.amount),
            purpose=cmd.purpose,
            status="submitted",
            cap=cap_json(cap, both),
            rulebook_id=book.id,
            plan=plan,
            beyond_plan_reason=(cmd.beyond_plan_reason or "").strip() or None,
        )
    )
    uow.session.add_all(
        ReleasePayee(
            release_id=release.id,
            account_id=account.id,
            name=p.name,
            account_no=p.account_no,
            bank_name=p.bank_name,
            role=p.role,
            amount_fen=to_fen(p.amount),
        )
        for p in cmd.payees
    )
    uow.session.add_all(
        ReleaseDocument(
            release_id=release.id,
            account_id=account.id,
            kind=d.kind,
            filename=d.filename,
            sha256=d.sha256.lower(),
        )
        for d in cmd.documents
    )
    account_id = account.id
    for f in files:  # the uploads behind the documents, kept on the account
        uow.documents.add(
            StoredDocument(
                sha256=f.sha256,
                filename=f.filename[:255],
                content_type=f.content_type[:100],
                size=len(f.content),
                content=f.content,
                uploaded_by=actor.ref[:80],
                account_id=account_id,
            )
        )
    uow.session.flush()
    view = release_view(uow, ctx, release)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="release.submitted",
        subject_type="release",
        subject_id=release.id,
        account_id=account.id,
        after={
            "amount": to_wire(view.amount),
            "kind": view.kind,
            "node_code": view.node_code,
            "payees": [{**asdict(p), "amount": to_wire(p.amount)} for p in view.payees],
            "documents": [asdict(d) for d in view.documents],
            "status": view.status,
            "plan": view.plan,
            "beyond_plan_reason": view.beyond_plan_reason,
        },
        details={"cap": view.cap["releasable"], "rulebook": book.id},
    )
    approvals.submitted(uow, ctx, FLOW, release)
    return view


def _against_plan(
    uow: UnitOfWork, ctx: Context, book: RuleBook, project: Project, cmd: ApplyRelease
) -> dict[str, Any] | None:
    """A node release against the approved fund plan (CONTRACT §8); beyond it, the developer states why
    (`beyond_plan_reason`), else 422 naming the rule. A non-key release is not of a node: not judged."""
    if cmd.kind != "node" or not cmd.node_code:
        return None
    requested: dict[str, Decimal] = {}
    for p in cmd.payees:
        requested[p.role] = requested.get(p.role, Decimal("0.00")) + p.amount
    month = fund_plan_rules.month_of(ctx.today())
    plan = fund_plans.judge_release(uow, book, project.id, cmd.node_code, requested, month)
    if plan["reason_required"] and not (cmd.beyond_plan_reason or "").strip():
        which = "the approved fund plan" if plan["plan_id"] else "a fund plan (none is approved)"
        raise approvals.Refused(
            f"the release goes beyond {which}: planned to date {plan['planned']} at node {cmd.node_code} for"
            f" its payees' roles, drawn {plan['drawn']}, asked {plan['requested']}; state the reason in"
            " beyond_plan_reason",
            rule=f"{book.id} fund_plan.beyond_plan_reason",
            facts={"plan": _plan_wire(plan)},
            errors=[FieldError.coded("beyond_plan_reason", "beyond_plan_reason")],
        )
    return plan


def _judge(
    uow: UnitOfWork, ctx: Context, release: Release, account: SupervisedAccount, approving: bool, when: str
) -> approvals.Judged:
    """Before an approval: the statement reconciles and the amount is still within the cap (this release
    is not pending yet: it is not in the cap)."""
    cap = release_cap(uow, ctx, uow.projects.get(release.project_id), account, kind=release.kind)
    if approving:
        check_reconciled(uow, account)
        amount = from_fen(release.amount_fen)
        if amount > cap.releasable:
            raise cap_refusal(amount, cap, when=when)
    return approvals.Judged(kept=cap_json(cap), audit={"releasable": to_wire(cap.releasable)})


FLOW = approvals.Flow(kind="release", repo=lambda uow: uow.releases, chain=chain_of, judge=_judge)


def decide(ctx: Context, release_id: int, decision: Decision, actor: Principal) -> ReleaseView:
    """One step of the release's approval chain (escrow.services.approvals)."""
    with ctx.writing() as uow:
        release = approvals.decide(uow, ctx, FLOW, release_id, decision, actor)
        if release.status == "approved" and release.approved_on is None:
            release.approved_on = ctx.today()  # the month it draws in against the fund plan
            uow.session.flush()
        return ctx.commit(uow, release_view(uow, ctx, release))


def get(ctx: Context, release_id: int, actor: Principal) -> ReleaseView:
    with ctx.reading() as uow:
        return release_view(uow, ctx, visible_release(uow, actor, release_id))


def listing(ctx: Context, actor: Principal, status: str | None = None) -> list[ReleaseView]:
    """A developer's own releases; every release for bureau users (newest first)."""
    developer_id = None if actor.is_bureau else actor.developer_id
    if developer_id is None and not actor.is_bureau:
        return []
    with ctx.reading() as uow:
        found = uow.releases.listing(developer_id=developer_id, status=status)
        return [release_view(uow, ctx, r) for r in found]


def page_of_listing(ctx: Context, actor: Principal, status: str | None, page: Page) -> Paged[ReleaseView]:
    """One page of `listing`, newest first."""
    developer_id = None if actor.is_bureau else actor.developer_id
    if developer_id is None and not actor.is_bureau:
        return Paged([])
    with ctx.reading() as uow:
        found = page_of(
            uow.releases.listing(developer_id=developer_id, status=status, page=page), page, lambda r: (r.id,)
        )
        return Paged([release_view(uow, ctx, r) for r in found.items], found.next)


# --- read models for the pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """One release as its pages show it: the view, who applied, the cap now, the stored uploads behind its
    documents (sha256 → document id), and whether the reader may take the next step."""

    release: ReleaseView
    developer_name: str
    cap_now: Cap
    document_ids: dict[str, int]
    decision: MayDecide


def review(ctx: Context, release_id: int, actor: Principal) -> Review:
    with ctx.reading() as uow:
        release = visible_release(uow, actor, release_id)
        view = release_view(uow, ctx, release)
        project = uow.projects.get(release.project_id)
        account = uow.session.get(SupervisedAccount, release.account_id)
        return Review(
            release=view,
            developer_name=uow.session.get(Developer, release.developer_id).name,
            cap_now=release_cap(uow, ctx, project, account, kind=release.kind),
            document_ids=uow.page_reads.stored_documents(account.id, [d.sha256 for d in view.documents]),
            decision=approvals.may_decide(uow, ctx, FLOW, release, actor),
        )


@dataclass(frozen=True)
class Row:
    """A release in the bureau's list."""

    release_id: int
    project_id: int
    project_name: str
    developer_name: str
    kind: Kind
    node_code: str | None
    rulebook: str
    amount: Decimal
    status: str
    created_at: Any
    next_step: Link | None


@dataclass(frozen=True)
class Search:
    rows: tuple[Row, ...]
    total: int
    projects: tuple[tuple[int, str], ...]  # (id, name) of every project with an application, for the filter


def search(ctx: Context, *, status: str | None, project_id: int | None, offset: int, limit: int) -> Search:
    with ctx.reading() as uow:
        found, total = uow.releases.search(status=status, project_id=project_id, offset=offset, limit=limit)
        taken = uow.releases.steps_taken([r.id for r, _, _ in found])
        projects = tuple(uow.releases.projects_with_releases())
    rows = tuple(
        Row(
            release_id=r.id,
            project_id=r.project_id,
            project_name=project_name,
            developer_name=developer_name,
            kind=r.kind,
            node_code=r.node_code,
            rulebook=r.rulebook_id,
            amount=from_fen(r.amount_fen),
            status=r.status,
            created_at=r.created_at,
            next_step=next_link(chain_of(ctx.rulebook(r.rulebook_id), r), taken.get(r.id, 0), r.status),
        )
        for r, project_name, developer_name in found
    )
    return Search(rows, total, projects)


@dataclass(frozen=True)
class FormProject:
    """A developer's project as the application form needs it."""

    project_id: int
    name: str
    permit_no: str
    account_no: str
    rulebook: str
    cap: Cap
    confirmed_nodes: tuple[str, ...]  # in the rule book's order
    non_key_cap: Cap | None  # None where the rule book has no non-key releases


@dataclass(frozen=True)
class ApplicationForm:
    projects: tuple[tuple[int, str, str], ...]  # (id, name, permit no) of the developer's projects
    project: FormProject | None  # the chosen one


def application_form(ctx: Context, developer_id: int, project_id: str | None) -> ApplicationForm:
    """The developer's projects and the chosen one (the only one, or the one asked for); NotFound if the
    project asked for is not the developer's."""
    with ctx.reading() as uow:
        own = uow.portal_reads.projects_of(developer_id)
        options = tuple((p.id, p.name, p.permit_no) for p, _ in own)
        chosen = None
        if project_id:
            chosen = next(((p, a) for p, a in own if str(p.id) == project_id), None)
            if chosen is None:
                raise NotFound(f"no project {project_id}")
        elif len(own) == 1:
            chosen = own[0]
        if chosen is None:
            return ApplicationForm(options, None)
        project, account = chosen
        book = ctx.rulebook(project.rulebook_id)
        confirmed = uow.projects.progress(project.id).anywhere
        form = FormProject(
            project_id=project.id,
            name=project.name,
            permit_no=project.permit_no,
            account_no=account.account_no,
            rulebook=book.id,
            cap=release_cap(uow, ctx, project, account),
            confirmed_nodes=tuple(n.code for n in book.nodes if n.code in confirmed),
            non_key_cap=(
                release_cap(uow, ctx, project, account, kind="non_key") if book.non_key_release else None
            ),
        )
        return ApplicationForm(options, form)


def releasable(ctx: Context, project_id: int, kind: Kind = "node") -> Decimal:
    """What the developer of the project could apply for today in a release of `kind`."""
    with ctx.reading() as uow:
        project = uow.projects.get(project_id)
        return release_cap(uow, ctx, project, uow.projects.account_for(project.id), kind=kind).releasable
