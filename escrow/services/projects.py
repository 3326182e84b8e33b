"""Opening projects with their supervised account, confirming nodes, and the release cap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from escrow.domain import caps
from escrow.domain.buildings import MAX_BUILDINGS, split_by_area
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.identifiers import identifier_problem
from escrow.domain.ids import valid_id
from escrow.domain.money import Area, Money, MoneyError, from_fen, hundredths, quantize, to_fen, to_wire
from escrow.domain.principal import Principal
from escrow.rulebooks import Node, RuleBook
from escrow.services.context import Context
from escrow.services.documents import Upload, store_upload
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Bank, Building, Developer, NodeConfirmation, Project, SupervisedAccount


@dataclass(frozen=True)
class NewBuilding:
    code: str
    name: str
    presale_area_m2: Decimal


@dataclass(frozen=True)
class OpenProject:
    developer_credit_code: str
    name: str
    permit_no: str
    permit_date: date
    presale_area_m2: Decimal
    finish: str
    bank_code: str
    account_no: str
    account_name: str
    supervised_amount: Decimal | None = None  # None: computed from the rule book's formula
    jurisdiction: str | None = None
    opened_on: date | None = None
    buildings: tuple[NewBuilding, ...] = ()  # none: the project is one building
    # the tri-party supervision agreement (三方监管协议); optional at opening (banks integrate against §3),
    # the bank's confirmation then names it (escrow.services.agreements)
    agreement_no: str | None = None


@dataclass(frozen=True)
class AddBuilding:
    """A building added later with a new permit area: the pre-sale area grows by its area and the key
    supervised amount by the rule book's formula for it."""

    project_id: int
    building: NewBuilding
    permit_no: str


@dataclass(frozen=True)
class Evidence:
    kind: str
    description: str = ""
    filename: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class ConfirmNode:
    project_id: int
    node_code: str
    reached_on: date
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    building: str | None = None  # the building's code where the project is supervised by building


@dataclass(frozen=True)
class CapTermView:
    # a node cap's five terms; a non-key cap's received, supervised_amount, non_key_taken, balance, suspense,
    # held, pending_out (escrow.domain.caps)
    term: Literal[
        "balance",
        "suspense",
        "required_retention",
        "frozen",
        "pending_out",
        "received",
        "supervised_amount",
        "non_key_taken",
        "held",
    ]
    value: Money
    rule: str
    detail: str


@dataclass(frozen=True)
class UnlockView:
    """What confirming the next node (of a building, or of the project) would unlock, and the evidence its
    confirmation needs."""

    building: str | None
    node: str
    retention_drop: Money  # the retention it would free
    releasable_after: Money  # the node cap then, all else equal
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class CapExplanation:
    releasable: Money
    required_retention: Money
    rulebook: str
    terms: tuple[CapTermView, ...]
    text: str  # the whole computation in one sentence
    next: tuple[UnlockView, ...] = ()  # a node cap: what the next node (per building) would unlock


@dataclass(frozen=True)
class CapView:
    """The release cap: what may be released now, and how it was computed."""

    releasable: Money
    explanation: CapExplanation

    @classmethod
    def of(cls, cap: caps.Cap) -> CapView:
        releasable = quantize(cap.releasable)
        terms = tuple(CapTermView(t.term, quantize(t.value), t.rule, t.detail) for t in cap.terms)
        unlocks = tuple(
            UnlockView(
                u.building, u.node_code, quantize(u.retention_drop), quantize(u.releasable_after), u.evidence
            )
            for u in cap.unlocks
        )
        explanation = CapExplanation(
            releasable, quantize(cap.required_retention), cap.rulebook_id, terms, cap.text, unlocks
        )
        return cls(releasable, explanation)


@dataclass(frozen=True)
class BuildingView:
    """A building: its part of the key supervised amount (split by pre-sale area), its highest confirmed
    node and the retention it keeps (CONTRACT §8)."""

    code: str
    name: str
    presale_area_m2: Area
    supervised_amount: Money
    node: str | None
    required_retention: Money  # gross, before a guarantee counted for the whole account


@dataclass(frozen=True)
class AccountView:
    account_no: str
    account_name: str
    status: Literal["active", "frozen", "closed"]
    closed_on: date | None  # supervision ended here: closure (解除监管) or a change of supervising bank
    balance: Money
    supervised_amount: Money
    required_retention: Money
    frozen_amount: Money
    releasable: Money
    cap: CapView
    rulebook: str
    # money received beyond the key supervised amount the developer may withdraw now (CONTRACT §8; 0.00
    # where the rule book has no non-key releases)
    non_key_releasable: Money
    non_key_cap: CapView
    buildings: tuple[BuildingView, ...]  # where the project has buildings (none: one building)
    # the tri-party supervision agreement and the bank's confirmation of it (CONTRACT §8)
    agreement_no: str | None
    confirmed_by_bank: bool
    confirmed_on: date | None  # the day the bank confirmed
    bank_opened_on: date | None  # the day the bank says it opened the account


@dataclass(frozen=True)
class NodeView:
    code: str
    name_zh: str
    name_en: str
    retention: str  # the share of the key amount retained from this node on
    confirmed: bool
    reached_on: date | None


@dataclass(frozen=True)
class BuildingNodes:
    code: str
    name: str
    permit_no: str | None  # the permit that added it, None for a building of the opening
    nodes: tuple[NodeView, ...]


@dataclass(frozen=True)
class ProjectView:
    project_id: int
    name: str
    developer_credit_code: str
    developer_name: str
    permit_no: str
    permit_date: date
    presale_area_m2: Area
    finish: Literal["shell", "finished"]
    supervised_amount: Money
    bank_code: str
    account_no: str
    account_name: str
    opened_on: date
    rulebook: str
    nodes: tuple[NodeView, ...]
    account: AccountView
    # each building's nodes, where the project has buildings (their figures are in account.buildings)
    building_nodes: tuple[BuildingNodes, ...] = ()

    @property
    def nodes_reached(self) -> int:
        return sum(1 for n in self.nodes if n.confirmed)


@dataclass(frozen=True)
class NodeConfirmationView:
    """The node is confirmed (for a building, where supervised so); the release cap before and after."""

    project_id: int
    building: str | None
    node_code: str
    name_zh: str
    name_en: str
    reached_on: date
    rulebook: str
    cap_before: CapView
    cap: CapView


def check_agreement_no(value: str) -> str:
    """A tri-party agreement number is a document number (CONTRACT §7): 422 on the field otherwise."""
    problem = identifier_problem(value)
    if problem is not None:
        raise InvalidInput(
            f"agreement_no {problem.message}",
            rule="agreement_no",
            errors=[FieldError("agreement_no", problem.message)],
        )
    return value


def pin_rulebook(uow: UnitOfWork, ctx: Context, jurisdiction: str, permit_date: date) -> RuleBook:
    """The version in force on the permit date; its hash is recorded at first use and checked after."""
    book = ctx.rulebooks.in_force(jurisdiction, permit_date)
    if book is None:
        raise InvalidInput(
            f"no {jurisdiction} rule book is in force on {permit_date}",
            rule="rulebook.effective_from",
            errors=[FieldError.coded("permit_date", "no_rulebook_in_force", jurisdiction=jurisdiction)],
        )
    recorded = uow.rulebook_records.record_first_use(book.id, book.sha256)
    if recorded != book.sha256:
        raise Conflict(f"rule book {book.id} changed after it was published; refusing to use it")
    return book


def register(ctx: Context, cmd: OpenProject, actor: Principal) -> ProjectView:
    """Open a project and its supervised account, pinned to the rule book in force on its permit date."""
    return ctx.run(_opened, cmd, actor)


def open_project(uow: UnitOfWork, ctx: Context, cmd: OpenProject, actor: Principal) -> dict[str, Any]:
    """`register` in the caller's transaction (the demo and the benches seed many at once), as a dict."""
    return wire(_opened(uow, ctx, cmd, actor))


def _opened(uow: UnitOfWork, ctx: Context, cmd: OpenProject, actor: Principal) -> ProjectView:
    developer = uow.parties.developer_by_code(cmd.developer_credit_code)
    if developer is None:
        raise InvalidInput(
            "unknown developer", errors=[FieldError.coded("developer_credit_code", "no_such_developer")]
        )
    bank = uow.parties.bank_by_code(cmd.bank_code)
    if bank is None:
        raise InvalidInput("unknown bank", errors=[FieldError.coded("bank_code", "no_such_bank")])
    if cmd.finish not in ("shell", "finished"):
        raise InvalidInput(
            "finish must be shell or finished", errors=[FieldError.coded("finish", "shell_or_finished")]
        )
    if cmd.presale_area_m2 <= 0:
        raise InvalidInput(
            "the pre-sale area must be positive", errors=[FieldError.coded("presale_area_m2", "positive")]
        )
    try:
        area_x100 = hundredths(cmd.presale_area_m2, what="the pre-sale area")
    except MoneyError as exc:
        raise InvalidInput(str(exc), errors=[FieldError("presale_area_m2", str(exc))]) from None
    buildings = _checked_buildings(cmd.buildings, cmd.presale_area_m2)
    if cmd.agreement_no is not None:
        check_agreement_no(cmd.agreement_no)
    if uow.projects.by_permit(cmd.permit_no):
        raise Conflict(
            f"project with permit {cmd.permit_no} already has a supervised account",
            rule="one_account_per_project",
        )
    if uow.instructions.account_no_taken(cmd.account_no):  # an account, or the new one of a pending transfer
        raise Conflict(f"account number {cmd.account_no} is already in use", rule="one_account_per_project")
    jurisdiction = cmd.jurisdiction or ctx.settings.jurisdiction
    book = pin_rulebook(uow, ctx, jurisdiction, cmd.permit_date)
    supervised = cmd.supervised_amount
    if supervised is None:
        rule = book.supervised_amount
        grade = rule.credit_grade_factors.get(developer.credit_grade, Decimal("1"))
        supervised = caps.supervised_amount(rule.cost_per_m2, cmd.presale_area_m2, rule.coefficient, grade)
    if supervised <= 0:
        raise InvalidInput(
            "the key supervised amount must be positive",
            errors=[FieldError.coded("supervised_amount", "positive")],
        )
    project = uow.projects.add(
        Project(
            developer_id=developer.id,
            name=cmd.name,
            permit_no=cmd.permit_no,
            permit_date=cmd.permit_date,
            presale_area_x100=area_x100,
            finish=cmd.finish,
            jurisdiction=jurisdiction,
            rulebook_id=book.id,
            supervised_amount_fen=to_fen(supervised),
        )
    )
    account = uow.projects.add(
        SupervisedAccount(
            project_id=project.id,
            bank_id=bank.id,
            account_no=cmd.account_no,
            account_name=cmd.account_name,
            opened_on=cmd.opened_on or ctx.today(),
            agreement_no=cmd.agreement_no,
        )
    )
    for b, area_x100 in buildings:
        uow.projects.add(
            Building(project_id=project.id, code=b.code, name=b.name, presale_area_x100=area_x100)
        )
    view = project_view(uow, ctx, project, account)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="project.opened",
        subject_type="project",
        subject_id=project.id,
        account_id=account.id,
        after=wire(view),
    )
    return view


def _checked_buildings(
    buildings: tuple[NewBuilding, ...], presale_area: Decimal
) -> list[tuple[NewBuilding, int]]:
    """The buildings of an opening with their areas in hundredths of m²: codes once each, areas positive and
    summing to the project's pre-sale area (the key amount is split by them)."""
    if len(buildings) > MAX_BUILDINGS:
        raise InvalidInput(
            f"at most {MAX_BUILDINGS} buildings", errors=[FieldError.at_most("buildings", MAX_BUILDINGS)]
        )
    checked, seen = [], set()
    for i, b in enumerate(buildings):
        if b.code in seen:
            raise InvalidInput(
                f"building {b.code} appears twice",
                errors=[FieldError.coded(f"buildings[{i}].code", "duplicate", value=b.code)],
            )
        seen.add(b.code)
        checked.append((b, _area_x100(b.presale_area_m2, f"buildings[{i}].presale_area_m2")))
    if checked and sum(a for _, a in checked) != round(presale_area * 100):
        raise InvalidInput(
            f"the buildings' areas must sum to the pre-sale area {presale_area}",
            rule="buildings.presale_area",
            errors=[FieldError.coded("buildings", "must_sum_to_area", area=presale_area)],
        )
    return checked


def _area_x100(area: Decimal, field_name: str) -> int:
    if area <= 0:
        raise InvalidInput("an area must be positive", errors=[FieldError.coded(field_name, "positive")])
    try:
        return hundredths(area, what="the pre-sale area")
    except MoneyError as exc:
        raise InvalidInput(str(exc), errors=[FieldError(field_name, str(exc))]) from None


def add_building(ctx: Context, cmd: AddBuilding, actor: Principal) -> ProjectView:
    """A building added with a new permit area (bureau admin): the pre-sale area grows by its area and the
    key supervised amount by the rule book's formula for that area; the cap is re-explained in the audit."""
    return ctx.run(_building_added, cmd, actor)


def _building_added(uow: UnitOfWork, ctx: Context, cmd: AddBuilding, actor: Principal) -> ProjectView:
    project = uow.projects.get(cmd.project_id) if valid_id(cmd.project_id) else None
    if project is None:
        raise NotFound(f"no project {cmd.project_id}")
    account = uow.projects.lock_account(uow.projects.account_for(project.id).id)
    if account.status == "closed":
        raise Conflict(f"account {account.account_no} is closed", rule="account.closed")
    book = ctx.rulebook(project.rulebook_id)
    if not book.by_building:
        raise InvalidInput(
            f"{book.id} does not supervise by building",
            rule=f"{book.id} buildings.supervise_by_building",
            errors=[FieldError.coded("code", "not_by_building")],
        )
    b = cmd.building
    area_x100 = _area_x100(b.presale_area_m2, "presale_area_m2")
    existing = uow.projects.buildings(project.id)
    if any(row.code == b.code for row in existing) or (b.code == "1" and not existing):
        raise Conflict(
            f"building {b.code} already exists in project {project.id}",
            rule="buildings.code",
            errors=[FieldError.coded("code", "building_exists", building=b.code)],
        )
    if len(existing) >= MAX_BUILDINGS:
        raise InvalidInput(
            f"at most {MAX_BUILDINGS} buildings", errors=[FieldError.at_most("code", MAX_BUILDINGS)]
        )
    developer = uow.session.get(Developer, project.developer_id)
    rule = book.supervised_amount
    grade = rule.credit_grade_factors.get(developer.credit_grade, Decimal("1"))
    added = caps.supervised_amount(rule.cost_per_m2, b.presale_area_m2, rule.coefficient, grade)
    before = project_view(uow, ctx, project, account)
    if not existing:
        # the project so far was one building: it becomes building "1", and its nodes that building's
        first = uow.projects.add(
            Building(
                project_id=project.id,
                code="1",
                name=project.name,
                presale_area_x100=project.presale_area_x100,
            )
        )
        for confirmation in uow.projects.confirmed_nodes(project.id):
            confirmation.building_id = first.id
    uow.projects.add(
        Building(
            project_id=project.id,
            code=b.code,
            name=b.name,
            presale_area_x100=area_x100,
            permit_no=cmd.permit_no,
        )
    )
    project.presale_area_x100 += area_x100
    project.supervised_amount_fen += to_fen(added)
    uow.session.flush()
    view = project_view(uow, ctx, project, account)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="building.added",
        subject_type="project",
        subject_id=project.id,
        account_id=account.id,
        before=wire(before),
        after=wire(view),
        details={"code": b.code, "permit_no": cmd.permit_no, "supervised_amount_added": to_wire(added)},
    )
    return view


def confirm(
    ctx: Context, cmd: ConfirmNode, actor: Principal, files: tuple[Upload, ...] = ()
) -> NodeConfirmationView:
    """An inspector confirms that construction reached a node: the release cap is recomputed. The evidence
    `files` are stored with the confirmation, so a refused one keeps no file. The account is locked first
    and the files stored after it, so two inspectors on one project never wait on each other's locks."""
    with ctx.writing() as uow:
        view = confirm_node(uow, ctx, cmd, actor)
        account = uow.projects.account_for(cmd.project_id)
        for upload in files:
            store_upload(uow, upload, uploaded_by=actor.ref, account_id=account.id)
        return ctx.commit(uow, view)


@dataclass(frozen=True)
class NodeForm:
    """What the node confirmation form shows."""

    project_id: int
    name: str
    permit_no: str
    permit_date: date
    finish: str
    rulebook: str
    node: Node
    confirmed_on: date | None
    missing_before: tuple[Node, ...]  # earlier nodes not confirmed yet
    releasable: Decimal
    today: date
    building: str | None = None  # confirming for this building (supervision by building)
    building_name: str | None = None


def node_form(ctx: Context, project_id: int, node_code: str, building: str | None = None) -> NodeForm:
    """NotFound for an unknown project, building or node."""
    with ctx.reading() as uow:
        project = uow.projects.get(project_id) if valid_id(project_id) else None
        if project is None:
            raise NotFound(f"no project {project_id}")
        book = ctx.rulebook(project.rulebook_id)
        node = book.node(node_code)
        if node is None:
            raise NotFound(f"no node {node_code}")
        row = uow.projects.building(project.id, building) if building is not None else None
        if building is not None and row is None:
            raise NotFound(f"no building {building} in project {project.id}")
        confirmed = {
            c.node_code: c.reached_on
            for c in uow.projects.confirmed_nodes(project.id)
            if c.building_id is None or (row is not None and c.building_id == row.id)
        }
        cap = release_cap(uow, ctx, project, uow.projects.account_for(project.id))
    return NodeForm(
        project_id=project.id,
        name=project.name,
        permit_no=project.permit_no,
        permit_date=project.permit_date,
        finish=project.finish,
        rulebook=book.id,
        node=node,
        confirmed_on=confirmed.get(node.code),
        missing_before=book.unconfirmed_before(node.code, confirmed),
        releasable=cap.releasable,
        today=ctx.today(),
        building=row.code if row else None,
        building_name=row.name if row else None,
    )


def confirm_node(uow: UnitOfWork, ctx: Context, cmd: ConfirmNode, actor: Principal) -> NodeConfirmationView:
    """`confirm` in the caller's transaction (the demo; the node page stores the evidence files with it)."""
    project = uow.projects.get(cmd.project_id)
    if project is None:
        raise NotFound(f"no project {cmd.project_id}")
    account = uow.projects.lock_account(uow.projects.account_for(project.id).id)
    book = ctx.rulebook(project.rulebook_id)
    node = node_of(book, cmd.node_code)
    building, confirmed = _confirming(uow, book, project, cmd.building)
    where = f" for building {building.code}" if building else ""
    if node.code in confirmed:
        raise Conflict(f"node {node.code} was already confirmed{where}", rule=f"{book.id} nodes.{node.code}")
    missing_before = [n.code for n in book.unconfirmed_before(node.code, confirmed)]
    if missing_before:
        raise InvalidInput(
            f"node {node.code} cannot be confirmed{where} before {', '.join(missing_before)}",
            rule=f"{book.id} nodes.order",
            errors=[FieldError.confirm_first("node_code", missing_before[0])],
        )
    if cmd.reached_on > ctx.today():
        raise InvalidInput(
            "the node cannot be reached in the future", errors=[FieldError.coded("reached_on", "in_future")]
        )
    if cmd.reached_on < project.permit_date:
        raise InvalidInput(
            "the node cannot be reached before the pre-sale permit",
            errors=[FieldError.coded("reached_on", "before_permit_date")],
        )
    given = {e.kind for e in cmd.evidence}
    lacking = [kind for kind in node.evidence if kind not in given]
    if lacking:
        raise InvalidInput(
            f"evidence missing for {node.code}: {', '.join(lacking)}",
            rule=f"{book.id} nodes.{node.code}.evidence",
            errors=[FieldError.missing("evidence", kind) for kind in lacking],
        )
    before = CapView.of(release_cap(uow, ctx, project, account))
    uow.projects.add(
        NodeConfirmation(
            project_id=project.id,
            account_id=account.id,
            building_id=building.id if building else None,
            node_code=node.code,
            reached_on=cmd.reached_on,
            evidence=[e.__dict__ for e in cmd.evidence],
            confirmed_by=actor.user_id,
            confirmed_on=ctx.today(),
            rulebook_id=book.id,
        )
    )
    after = CapView.of(release_cap(uow, ctx, project, account))
    audit.record(
        uow.session,
        actor=actor.ref,
        action="node.confirmed",
        subject_type="project",
        subject_id=project.id,
        account_id=account.id,
        before=wire(before),
        after=wire(after),
        details={
            "node_code": node.code,
            "reached_on": cmd.reached_on.isoformat(),
            **({"building": building.code} if building else {}),
        },
    )
    return NodeConfirmationView(
        project_id=project.id,
        building=building.code if building else None,
        node_code=node.code,
        name_zh=node.name_zh,
        name_en=node.name_en,
        reached_on=cmd.reached_on,
        rulebook=book.id,
        cap_before=before,
        cap=after,
    )


def _confirming(
    uow: UnitOfWork, book: RuleBook, project: Project, code: str | None
) -> tuple[Building | None, frozenset[str]]:
    """The building a confirmation is for (None: the whole project) and the nodes confirmed for it. A
    project supervised by building confirms each building's nodes; any other confirms the project's."""
    progress = uow.projects.progress(project.id)
    by_building = book.by_building and bool(progress.buildings)
    if code is None:
        if by_building:
            raise InvalidInput(
                f"project {project.id} is supervised by building: confirm the node for one of its buildings",
                rule=f"{book.id} buildings.supervise_by_building",
                errors=[FieldError.coded("building", "building_required")],
            )
        return None, progress.confirmed
    building = uow.projects.building(project.id, code)
    if building is None:
        raise NotFound(f"no building {code} in project {project.id}")
    if not by_building:
        raise InvalidInput(
            f"{book.id} does not supervise project {project.id} by building",
            rule=f"{book.id} buildings.supervise_by_building",
            errors=[FieldError.coded("building", "not_by_building")],
        )
    return building, next(b.confirmed for b in progress.buildings if b.code == code)


def node_of(book: RuleBook, node_code: str) -> Node:
    """The node `node_code` of `book`; InvalidInput (on the field node_code) when the book has none."""
    node = book.node(node_code)
    if node is None:
        raise InvalidInput(
            f"{book.id} has no node {node_code!r} (nodes: {', '.join(n.code for n in book.nodes)})",
            rule=f"{book.id} nodes",
            errors=[FieldError.coded("node_code", "not_a_node")],
        )
    return node


def release_cap(
    uow: UnitOfWork,
    ctx: Context,
    project: Project,
    account: SupervisedAccount,
    book: RuleBook | None = None,
    kind: str = "node",
) -> caps.Cap:
    """The cap of a release of `kind` under the project's pinned rule book, or under `book` to ask "what
    if" (changes nothing)."""
    inputs, rule = _cap_basis(uow, ctx, project, account, book)
    return caps.cap_for(kind, inputs, rule)


def both_caps(
    uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount
) -> tuple[caps.Cap, caps.Cap]:
    """The node cap and the non-key cap of the project now, from one reading of the figures."""
    inputs, rule = _cap_basis(uow, ctx, project, account, None)
    return caps.release_cap(inputs, rule), caps.non_key_cap(inputs, rule)


def cap_basis(
    uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount
) -> tuple[caps.CapInputs, caps.RetentionRule]:
    """The figures and the rule the project's caps are computed from now (to ask what a change would do)."""
    return _cap_basis(uow, ctx, project, account, None)


def _cap_basis(
    uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount, book: RuleBook | None
) -> tuple[caps.CapInputs, caps.RetentionRule]:
    book = book or ctx.rulebook(project.rulebook_id)
    rule = caps.rule_for(book, uow.projects.progress(project.id), project.finish)
    inputs = uow.cap_figures.inputs([(account.id, project.supervised_amount_fen)], ctx.today())
    return inputs[account.id], rule


def account_of(uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount) -> AccountView:
    return accounts_of(uow, ctx, [(project, account)])[account.id]


def accounts_of(
    uow: UnitOfWork, ctx: Context, pairs: list[tuple[Project, SupervisedAccount]]
) -> dict[int, AccountView]:
    """account id → its view, for many (project, account) pairs with a fixed number of queries: the cap
    figures, the nodes reached and the buildings are each read for all of them at once."""
    project_ids = [project.id for project, _ in pairs]
    progress = uow.projects.progress_of(project_ids)
    inputs = uow.cap_figures.inputs(((a.id, p.supervised_amount_fen) for p, a in pairs), ctx.today())
    buildings = uow.projects.buildings_of(project_ids)
    views = {}
    rule_for = caps.RuleMemo()
    for project, account in pairs:
        rule = rule_for(ctx.rulebook(project.rulebook_id), progress[project.id], project.finish)
        cap = caps.release_cap(inputs[account.id], rule)
        non_key = caps.non_key_cap(inputs[account.id], rule)
        views[account.id] = _account_view(project, account, cap, non_key, buildings[project.id])
    return views


def _account_view(
    project: Project, account: SupervisedAccount, cap: caps.Cap, non_key: caps.Cap, buildings: list[Building]
) -> AccountView:
    balance = cap.inputs.balance
    frozen = cap.inputs.frozen_held  # all that the freezes hold, whatever a node release is held against
    view = CapView.of(cap)
    return AccountView(
        account_no=account.account_no,
        account_name=account.account_name,
        status=account.status,
        closed_on=account.closed_on,
        balance=quantize(balance),
        supervised_amount=from_fen(project.supervised_amount_fen),
        required_retention=view.explanation.required_retention,
        frozen_amount=quantize(frozen),
        releasable=view.releasable,
        cap=view,
        rulebook=project.rulebook_id,
        non_key_releasable=non_key.releasable,
        non_key_cap=CapView.of(non_key),
        buildings=building_views(buildings, cap),
        agreement_no=account.agreement_no,
        confirmed_by_bank=account.confirmed_on is not None,
        confirmed_on=account.confirmed_on,
        bank_opened_on=account.bank_opened_on,
    )


def building_views(rows: list[Building], cap: caps.Cap) -> tuple[BuildingView, ...]:
    """Each building (`rows`, the project's) with its figures from a live cap's retention rule."""
    return _building_views(rows, cap.inputs.supervised_amount, cap.rule)


def building_figures(
    uow: UnitOfWork, ctx: Context, project: Project, on: date, confirmed_by: date | None = None
) -> tuple[BuildingView, ...]:
    """Each building with its figures as of the end of `on` (the nodes reached by then, and with
    `confirmed_by` confirmed by the end of that day too)."""
    book = ctx.rulebook(project.rulebook_id)
    progress = uow.projects.progress(project.id, until=on, confirmed_by=confirmed_by)
    rule = caps.rule_for(book, progress, project.finish)
    return _building_views(uow.projects.buildings(project.id), from_fen(project.supervised_amount_fen), rule)


def _building_views(
    rows: list[Building], supervised: Decimal, rule: caps.RetentionRule
) -> tuple[BuildingView, ...]:
    """Each building's part of the key amount (split by pre-sale area) and the retention it keeps: its own
    where the rule book supervises by building, else its part at the project's share."""
    if not rows:
        return ()
    own = {b.code: b for b in caps.building_retention(supervised, rule)}
    amounts = split_by_area(supervised, [Decimal(b.presale_area_x100) / 100 for b in rows])
    share = caps.retention_share(rule.node_share, rule.surcharge)
    return tuple(
        BuildingView(
            code=row.code,
            name=row.name,
            presale_area_m2=quantize(Decimal(row.presale_area_x100) / 100),
            supervised_amount=amount,
            node=own[row.code].node_code if row.code in own else rule.node_code,
            required_retention=own[row.code].gross if row.code in own else quantize(amount * share),
        )
        for row, amount in zip(rows, amounts, strict=True)
    )


def reached_dates(
    uow: UnitOfWork,
    project: Project,
    book: RuleBook,
    until: date | None = None,
    confirmed_by: date | None = None,
) -> tuple[dict[str, date], dict[str, dict[str, date]]]:
    """When the project reached each node (once every building had: the last of them), and when each
    building did (by building code; the whole project's confirmations count for each), up to `until`; with
    `confirmed_by`, only what the bureau had confirmed by the end of that day (a report of a past month
    says the nodes as they stood at its end, not as they stand when it is printed)."""
    rows = uow.projects.buildings(project.id)
    reached = {
        (c.building_id, c.node_code): c.reached_on
        for c in uow.projects.confirmed_nodes(project.id)
        if (until is None or c.reached_on <= until)
        and (confirmed_by is None or (c.confirmed_on is not None and c.confirmed_on <= confirmed_by))
    }
    per_building = {
        b.code: {
            n.code: day
            for n in book.nodes
            if (day := reached.get((b.id, n.code)) or reached.get((None, n.code)))
        }
        for b in rows
    }
    whole: dict[str, date] = {}
    for n in book.nodes:
        days = [per_building[b.code].get(n.code) for b in rows] if rows else [reached.get((None, n.code))]
        if all(days):
            whole[n.code] = max(days)
    return whole, per_building


def project_view(uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount) -> ProjectView:
    book = ctx.rulebook(project.rulebook_id)
    confirmed, per_building = reached_dates(uow, project, book)
    bank = uow.session.get(Bank, account.bank_id)
    developer = uow.session.get(Developer, project.developer_id)
    return ProjectView(
        project_id=project.id,
        name=project.name,
        developer_credit_code=developer.credit_code,
        developer_name=developer.name,
        permit_no=project.permit_no,
        permit_date=project.permit_date,
        presale_area_m2=quantize(Decimal(project.presale_area_x100) / 100),
        finish=project.finish,
        supervised_amount=from_fen(project.supervised_amount_fen),
        bank_code=bank.code,
        account_no=account.account_no,
        account_name=account.account_name,
        opened_on=account.opened_on,
        rulebook=project.rulebook_id,
        nodes=_node_views(book, confirmed.get),
        account=account_of(uow, ctx, project, account),
        building_nodes=tuple(
            BuildingNodes(b.code, b.name, b.permit_no, _node_views(book, per_building[b.code].get))
            for b in uow.projects.buildings(project.id)
        ),
    )


def _node_views(book: RuleBook, reached_on: Callable[[str], date | None]) -> tuple[NodeView, ...]:
    return tuple(
        NodeView(
            code=n.code,
            name_zh=n.name_zh,
            name_en=n.name_en,
            retention=str(n.retention),
            confirmed=reached_on(n.code) is not None,
            reached_on=reached_on(n.code),
        )
        for n in book.nodes
    )


def get(ctx: Context, project_id: int, actor: Principal) -> ProjectView:
    """A project, its account, nodes and release cap: for bureau users and the project's developer; to
    anyone else it does not exist."""
    with ctx.reading() as uow:
        project = uow.projects.get(project_id) if valid_id(project_id) else None
        visible = project is not None and (
            actor.is_bureau or (actor.kind == "developer" and actor.developer_id == project.developer_id)
        )
        if not visible:
            raise NotFound(f"no project {project_id}")
        return project_view(uow, ctx, project, uow.projects.account_for(project.id))


@dataclass(frozen=True)
class PortalProject:
    """A developer's project on the portal's overview, with what waits on it."""

    project: ProjectView
    open_notices: int
    releases_in_progress: int


def of_developer(ctx: Context, developer_id: int) -> tuple[PortalProject, ...]:
    with ctx.reading() as uow:
        q = uow.portal_reads
        notices = q.open_notices_by_project(developer_id)
        in_progress = q.releases_in_progress_by_project(developer_id)
        return tuple(
            PortalProject(
                project_view(uow, ctx, project, account),
                notices.get(project.id, 0),
                in_progress.get(project.id, 0),
            )
            for project, account in q.projects_of(developer_id)
        )


def _aware(moment: datetime) -> datetime:
    """A stored timestamp as an aware one (SQLite hands back UTC without its zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
