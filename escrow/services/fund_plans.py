"""The fund demand plan (资金需求计划, CONTRACT.md §8): the developer files and revises a project's plan — the
amounts it expects to draw at each node, by payee role and month — and the bureau decides it along the rule
book's `[fund_plan]` chain (`escrow.domain.approvals.fund_plan_chain`; a book without it: the base release
chain, reviewer → approver) through the shared approvals workflow (`escrow.services.approvals`).

- Versions: 1, 2, … per project. Only one version is `submitted` at a time (another: 409). The last approval
  makes it the plan in force and the one approved before it `superseded`; a rejected version changes nothing.
- Drawn (`escrow.domain.fund_plan`): the payees of the project's node releases once approved (or executed),
  by node, payee role and the month of the release's last approval step.
- The plan's arithmetic is `escrow.domain.fund_plan`; a release is judged against the plan by
  `judge_release` below (used by `escrow.services.releases`).
- Buildings: an item names a building only where the project is supervised by building
  (`_check_building`); a release is judged against the project's plan as a whole (its items summed over
  the buildings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from escrow.domain import fund_plan as plan_rules
from escrow.domain.approvals import Decision, Link, MayDecide, fund_plan_chain, links, next_link
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.money import Money, from_fen, to_fen, to_wire
from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.domain.rulebook import RuleBook
from escrow.services import approvals
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Developer, FundPlan, FundPlanItem, Project, SupervisedAccount, utcnow

Status = Literal["submitted", "approved", "rejected", "superseded"]
MAX_NOTE = 2000


@dataclass(frozen=True)
class ItemIn:
    node_code: str
    month: str
    role: str
    amount: Decimal
    building: str | None = None


@dataclass(frozen=True)
class FilePlan:
    project_id: int
    items: tuple[ItemIn, ...]
    note: str = ""


@dataclass(frozen=True)
class ItemView:
    node_code: str
    building: str | None
    month: str
    role: str
    amount: Money
    drawn: Money  # drawn against this item: its node and role, in its month


@dataclass(frozen=True)
class CellView:
    """One node × role of the plan-against-actual table, over every month."""

    node_code: str
    role: str
    planned: Money
    drawn: Money


@dataclass(frozen=True)
class FundPlanView:
    plan_id: int
    project_id: int
    project_name: str
    version: int
    status: Status
    note: str
    rulebook: str
    items: tuple[ItemView, ...]
    table: tuple[CellView, ...]  # planned and drawn by node × role (drawings the plan does not name, too)
    planned_total: Money
    drawn_total: Money
    approval_chain: tuple[Link, ...]
    next_step: Link | None
    steps: tuple[approvals.StepView, ...]
    created_at: str | None
    decided_at: str | None


def plan_items(rows: Sequence[FundPlanItem]) -> list[plan_rules.Item]:
    return [
        plan_rules.Item(r.node_code, r.month, r.role, from_fen(r.amount_fen), r.building_code) for r in rows
    ]


def drawings(uow: UnitOfWork, project_id: int) -> list[plan_rules.Drawing]:
    return [
        plan_rules.Drawing(node, plan_rules.month_of(on), role, from_fen(fen))
        for node, role, fen, on in uow.fund_plans.drawings(project_id)
    ]


def plan_view(uow: UnitOfWork, ctx: Context, plan: FundPlan) -> FundPlanView:
    book = ctx.rulebook(plan.rulebook_id)
    project = uow.projects.get(plan.project_id)
    rows = uow.fund_plans.items(plan.id)
    items = plan_items(rows)
    drawn = drawings(uow, plan.project_id)
    chain = fund_plan_chain(book)
    steps = uow.fund_plans.steps(plan.id)
    cells = plan_rules.table(items, drawn, [n.code for n in book.nodes])
    return FundPlanView(
        plan_id=plan.id,
        project_id=plan.project_id,
        project_name=project.name,
        version=plan.version,
        status=plan.status,
        note=plan.note,
        rulebook=plan.rulebook_id,
        items=tuple(
            ItemView(
                i.node_code, i.building_code, i.month, i.role, i.amount, plan_rules.drawn_against(i, drawn)
            )
            for i in items
        ),
        table=tuple(CellView(c.node_code, c.role, c.planned, c.drawn) for c in cells),
        planned_total=sum((c.planned for c in cells), Decimal("0.00")),
        drawn_total=sum((c.drawn for c in cells), Decimal("0.00")),
        approval_chain=links(chain),
        next_step=next_link(chain, len(steps), plan.status),
        steps=approvals.step_views(uow, steps),
        created_at=approvals.timestamp(plan.created_at),
        decided_at=approvals.timestamp(plan.decided_at),
    )


def _check_building(
    uow: UnitOfWork, project: Project, book: RuleBook, field: str, building: str | None
) -> FieldError | None:
    """Whether an item may name `building`: only a building of a project the rule book supervises by
    building (CONTRACT §8); an item without one is the whole project's."""
    if building is None:
        return None
    if not (book.by_building and uow.projects.buildings(project.id)):
        return FieldError.coded(field, "not_by_building")
    if uow.projects.building(project.id, building) is None:
        return FieldError.coded(field, "no_such_building", building=building)
    return None


def _visible_project(uow: UnitOfWork, actor: Principal, project_id: int) -> Project:
    """The project's developer and bureau users see its plan; to anyone else it does not exist."""
    project = uow.projects.get(project_id)
    visible = project is not None and (
        actor.is_bureau or (actor.kind == "developer" and actor.developer_id == project.developer_id)
    )
    if not visible:
        raise NotFound(f"no project {project_id}")
    return project


def file(ctx: Context, cmd: FilePlan, actor: Principal) -> FundPlanView:
    return ctx.run(_file, cmd, actor)


def _file(uow: UnitOfWork, ctx: Context, cmd: FilePlan, actor: Principal) -> FundPlanView:
    project = uow.projects.get(cmd.project_id)
    if project is None or actor.developer_id is None or project.developer_id != actor.developer_id:
        raise NotFound(f"no project {cmd.project_id}")
    account = approvals.lock_account(uow, uow.projects.account_for(project.id).id)
    if account.status == "closed":
        raise InvalidInput(f"account {account.account_no} is closed", rule="account_open")
    book = ctx.rulebook(project.rulebook_id)
    items = [plan_rules.Item(i.node_code, i.month, i.role, i.amount, i.building) for i in cmd.items]
    errors = plan_rules.check_items(items, [n.code for n in book.nodes], book.release.payee_roles)
    errors += [
        e
        for n, i in enumerate(cmd.items)
        if (e := _check_building(uow, project, book, f"items[{n}].building", i.building)) is not None
    ]
    if len(cmd.note) > MAX_NOTE:
        errors.append(FieldError.at_most_chars("note", MAX_NOTE))
    if errors:
        raise InvalidInput(
            "the plan's items are not valid: each names a node of the project's rule book, a release payee "
            f"role ({', '.join(book.release.payee_roles)}), a month YYYY-MM and a positive amount",
            rule=f"{book.id} fund_plan.items",
            errors=errors,
        )
    open_ = uow.fund_plans.with_status(project.id, "submitted")
    if open_:
        raise Conflict(
            f"version {open_[0].version} of the fund plan of project {project.id} is still waiting for a "
            "decision; one version is submitted at a time",
            rule="fund_plan.one_submitted",
        )
    plan = uow.fund_plans.add(
        FundPlan(
            project_id=project.id,
            account_id=account.id,
            developer_id=project.developer_id,
            version=uow.fund_plans.last_version(project.id) + 1,
            note=cmd.note.strip(),
            status="submitted",
            rulebook_id=book.id,
        )
    )
    uow.session.add_all(
        FundPlanItem(
            plan_id=plan.id,
            account_id=account.id,
            line_no=n,
            node_code=i.node_code,
            building_code=i.building_code,
            month=i.month,
            role=i.role,
            amount_fen=to_fen(i.amount),
        )
        for n, i in enumerate(items, start=1)
    )
    uow.session.flush()
    view = plan_view(uow, ctx, plan)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="fund_plan.submitted",
        subject_type="fund_plan",
        subject_id=plan.id,
        account_id=account.id,
        after={
            "version": plan.version,
            "status": plan.status,
            "note": plan.note,
            "items": [
                {
                    "node_code": i.node_code,
                    "building": i.building,
                    "month": i.month,
                    "role": i.role,
                    "amount": to_wire(i.amount),
                }
                for i in view.items
            ],
        },
        details={"planned_total": to_wire(view.planned_total), "rulebook": book.id},
    )
    approvals.submitted(uow, ctx, FLOW, plan)
    return view


def _chain(book: RuleBook, _plan: FundPlan) -> tuple:
    return fund_plan_chain(book)


def _judge(
    uow: UnitOfWork, ctx: Context, plan: FundPlan, account: SupervisedAccount, approving: bool, when: str
) -> approvals.Judged:
    """A plan moves no money: the step keeps what the plan holds in all."""
    total = sum((from_fen(i.amount_fen) for i in uow.fund_plans.items(plan.id)), Decimal("0.00"))
    return approvals.Judged(kept={"planned_total": to_wire(total)}, audit={"planned_total": to_wire(total)})


def _approved(uow: UnitOfWork, ctx: Context, plan: FundPlan, actor: Principal) -> dict[str, Any]:
    """The last approval: this version is the plan in force; the one approved before it is superseded."""
    superseded = []
    for earlier in uow.fund_plans.with_status(plan.project_id, "approved"):
        if earlier.id != plan.id:
            earlier.status = "superseded"
            superseded.append(earlier.version)
            audit.record(
                uow.session,
                actor=actor.ref,
                action="fund_plan.superseded",
                subject_type="fund_plan",
                subject_id=earlier.id,
                account_id=earlier.account_id,
                before={"status": "approved"},
                after={"status": "superseded"},
                details={"by_version": plan.version},
            )
    return {"version": plan.version, "supersedes": superseded}


FLOW = approvals.Flow(
    kind="fund_plan", repo=lambda uow: uow.fund_plans, chain=_chain, judge=_judge, on_approved=_approved
)


def decide(ctx: Context, plan_id: int, decision: Decision, actor: Principal) -> FundPlanView:
    """One step of the plan's approval chain (escrow.services.approvals)."""
    with ctx.writing() as uow:
        plan = approvals.decide(uow, ctx, FLOW, plan_id, decision, actor)
        if plan.status != "submitted" and plan.decided_at is None:
            plan.decided_at = utcnow()
            uow.session.flush()
        return ctx.commit(uow, plan_view(uow, ctx, plan))


def _visible_plan(uow: UnitOfWork, actor: Principal, plan_id: int) -> FundPlan:
    plan = uow.fund_plans.get(plan_id)
    visible = plan is not None and (
        actor.is_bureau or (actor.kind == "developer" and actor.developer_id == plan.developer_id)
    )
    if not visible:
        raise NotFound(f"no fund plan {plan_id}")
    return plan


def get(ctx: Context, plan_id: int, actor: Principal) -> FundPlanView:
    with ctx.reading() as uow:
        return plan_view(uow, ctx, _visible_plan(uow, actor, plan_id))


def in_force(ctx: Context, project_id: int, actor: Principal) -> FundPlanView:
    """The approved plan of the project with what was drawn against each item; NotFound when none is."""
    with ctx.reading() as uow:
        project = _visible_project(uow, actor, project_id)
        plan = uow.fund_plans.approved(project.id)
        if plan is None:
            raise NotFound(f"project {project_id} has no approved fund plan")
        return plan_view(uow, ctx, plan)


def versions(ctx: Context, project_id: int, actor: Principal) -> tuple[FundPlanView, ...]:
    """Every version of the project's plan, newest first."""
    with ctx.reading() as uow:
        project = _visible_project(uow, actor, project_id)
        return tuple(plan_view(uow, ctx, p) for p in uow.fund_plans.of_project(project.id))


def page_of_versions(ctx: Context, project_id: int, actor: Principal, page: Page) -> Paged[FundPlanView]:
    """One page of `versions`, newest first."""
    with ctx.reading() as uow:
        project = _visible_project(uow, actor, project_id)
        found = page_of(uow.fund_plans.of_project(project.id, page), page, lambda p: (p.id,))
        return Paged([plan_view(uow, ctx, p) for p in found.items], found.next)


# --- a release against the plan (escrow.services.releases) --------------------------------------------------


def judge_release(
    uow: UnitOfWork, book: RuleBook, project_id: int, node: str, requested: Mapping[str, Decimal], month: str
) -> dict[str, Any]:
    """A node release against the approved plan, as kept with the release and answered as its `plan`:
    `planned` and `drawn` (before this release) to date for its node and the roles it pays, `beyond_plan`,
    and whether the reason is required and the rule book's extra step applies (see `releases`)."""
    plan = uow.fund_plans.approved(project_id)
    items = plan_items(uow.fund_plans.items(plan.id)) if plan is not None else None
    found = plan_rules.judge_release(items, drawings(uow, project_id), node, requested, month)
    policy = book.fund_plan
    beyond = found.beyond_plan
    return {
        "planned": to_wire(found.planned),
        "drawn": to_wire(found.drawn),
        "requested": to_wire(found.requested),
        "beyond_plan": beyond,
        "plan_id": plan.id if plan is not None else None,
        "version": plan.version if plan is not None else None,
        "month": month,
        "roles": [
            {
                "role": r.role,
                "planned": to_wire(r.planned),
                "drawn": to_wire(r.drawn),
                "requested": to_wire(r.requested),
                "beyond_plan": r.beyond or plan is None,
            }
            for r in found.roles
        ],
        # A book with [fund_plan] judges every node release against the plan; an older one only where a plan
        # was approved anyway (without one, nothing is beyond a plan it never asked for).
        "reason_required": beyond and (policy is not None or plan is not None),
        "extra_step": beyond and policy is not None and policy.beyond_plan_step is not None,
    }


# --- read models for the pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    plan: FundPlanView
    developer_name: str
    decision: MayDecide


def review(ctx: Context, plan_id: int, actor: Principal) -> Review:
    with ctx.reading() as uow:
        plan = _visible_plan(uow, actor, plan_id)
        project = uow.projects.get(plan.project_id)
        return Review(
            plan=plan_view(uow, ctx, plan),
            developer_name=_developer_name(uow, project),
            decision=approvals.may_decide(uow, ctx, FLOW, plan, actor),
        )


def _developer_name(uow: UnitOfWork, project: Project) -> str:
    return uow.session.get(Developer, project.developer_id).name


@dataclass(frozen=True)
class Waiting:
    plan_id: int
    project_id: int
    project_name: str
    developer_name: str
    version: int
    rulebook: str


def waiting(ctx: Context) -> tuple[Waiting, ...]:
    """Plans waiting for a bureau decision, oldest first."""
    with ctx.reading() as uow:
        return tuple(
            Waiting(p.id, p.project_id, name, developer, p.version, p.rulebook_id)
            for p, name, developer in uow.fund_plans.submitted()
        )


@dataclass(frozen=True)
class Overview:
    """A project's fund plan as its pages show it: whether the rule book asks for one, the plan in force
    (with plan against actual) and the version waiting for a decision, if any."""

    project_id: int
    project_name: str
    rulebook: str
    required: bool  # the project's rule book states [fund_plan]: node releases are judged against it
    in_force: FundPlanView | None
    pending: FundPlanView | None
    versions: tuple[tuple[int, int, str], ...]  # (plan id, version, status), newest first


def overview(ctx: Context, project_id: int, actor: Principal) -> Overview:
    with ctx.reading() as uow:
        project = _visible_project(uow, actor, project_id)
        book = ctx.rulebook(project.rulebook_id)
        every = uow.fund_plans.of_project(project.id)
        approved = next((p for p in every if p.status == "approved"), None)
        pending = next((p for p in every if p.status == "submitted"), None)
        return Overview(
            project_id=project.id,
            project_name=project.name,
            rulebook=book.id,
            required=book.fund_plan is not None,
            in_force=plan_view(uow, ctx, approved) if approved else None,
            pending=plan_view(uow, ctx, pending) if pending else None,
            versions=tuple((p.id, p.version, p.status) for p in every),
        )


@dataclass(frozen=True)
class PlanTable:
    """The bureau's project page: plan against actual by node × role (three queries, whatever the plan)."""

    required: bool
    plan_id: int | None  # the plan in force
    version: int | None
    pending_plan_id: int | None  # a version waiting for a decision
    cells: tuple[CellView, ...]
    planned_total: Money
    drawn_total: Money


def project_table(ctx: Context, project_id: int, book: RuleBook) -> PlanTable:
    """`book`: the project's rule book, which the page read already (the caller checked the project)."""
    with ctx.reading() as uow:
        return project_table_in(uow, project_id, book)


def project_table_in(uow: UnitOfWork, project_id: int, book: RuleBook) -> PlanTable:
    every = uow.fund_plans.of_project(project_id)
    approved = next((p for p in every if p.status == "approved"), None)
    pending = next((p for p in every if p.status == "submitted"), None)
    items = plan_items(uow.fund_plans.items(approved.id)) if approved else []
    drawn = drawings(uow, project_id) if approved else []
    cells = plan_rules.table(items, drawn, [n.code for n in book.nodes])
    return PlanTable(
        required=book.fund_plan is not None,
        plan_id=approved.id if approved else None,
        version=approved.version if approved else None,
        pending_plan_id=pending.id if pending else None,
        cells=tuple(CellView(c.node_code, c.role, c.planned, c.drawn) for c in cells),
        planned_total=sum((c.planned for c in cells), Decimal("0.00")),
        drawn_total=sum((c.drawn for c in cells), Decimal("0.00")),
    )
