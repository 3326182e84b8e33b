"""Opening projects with their supervised account, confirming nodes, and the release cap."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from escrow.domain import caps
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.money import MoneyError, from_fen, hundredths, to_fen, to_wire
from escrow.domain.principal import Principal
from escrow.rulebooks import RuleBook
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Bank, Developer, NodeConfirmation, Project, SupervisedAccount


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


def open_project(uow: UnitOfWork, ctx: Context, cmd: OpenProject, actor: Principal) -> dict[str, Any]:
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
    if uow.projects.by_permit(cmd.permit_no):
        raise Conflict(
            f"project with permit {cmd.permit_no} already has a supervised account",
            rule="one_account_per_project",
        )
    if uow.projects.account_by_no(cmd.account_no):
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
        )
    )
    view = project_view(uow, ctx, project, account)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="project.opened",
        subject_type="project",
        subject_id=project.id,
        account_id=account.id,
        after=view,
    )
    return view


def confirm_node(uow: UnitOfWork, ctx: Context, cmd: ConfirmNode, actor: Principal) -> dict[str, Any]:
    project = uow.projects.get(cmd.project_id)
    if project is None:
        raise NotFound(f"no project {cmd.project_id}")
    account = uow.projects.lock_account(uow.projects.account_for(project.id).id)
    book = ctx.rulebook(project.rulebook_id)
    node = book.node(cmd.node_code)
    if node is None:
        raise InvalidInput(
            f"{book.id} has no node {cmd.node_code!r} (nodes: {', '.join(n.code for n in book.nodes)})",
            rule=f"{book.id} nodes",
            errors=[FieldError.coded("node_code", "not_a_node")],
        )
    confirmed = {c.node_code for c in uow.projects.confirmed_nodes(project.id)}
    if node.code in confirmed:
        raise Conflict(f"node {node.code} was already confirmed", rule=f"{book.id} nodes.{node.code}")
    missing_before = [n.code for n in book.nodes[: book.node_index(node.code)] if n.code not in confirmed]
    if missing_before:
        raise InvalidInput(
            f"node {node.code} cannot be confirmed before {', '.join(missing_before)}",
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
    before = account_view(uow, ctx, project, account)["cap"]
    uow.projects.add(
        NodeConfirmation(
            project_id=project.id,
            account_id=account.id,
            node_code=node.code,
            reached_on=cmd.reached_on,
            evidence=[e.__dict__ for e in cmd.evidence],
            confirmed_by=actor.user_id,
            rulebook_id=book.id,
        )
    )
    after = account_view(uow, ctx, project, account)["cap"]
    audit.record(
        uow.session,
        actor=actor.ref,
        action="node.confirmed",
        subject_type="project",
        subject_id=project.id,
        account_id=account.id,
        before=before,
        after=after,
        details={"node_code": node.code, "reached_on": cmd.reached_on.isoformat()},
    )
    return {
        "project_id": project.id,
        "node_code": node.code,
        "name_zh": node.name_zh,
        "name_en": node.name_en,
        "reached_on": cmd.reached_on.isoformat(),
        "rulebook": book.id,
        "cap_before": before,
        "cap": after,
    }


def retention_rule(book: RuleBook, confirmed: set[str] | frozenset[str], finish: str) -> caps.RetentionRule:
    """What `book` says about retention for a project with these confirmed nodes and this finish."""
    node = book.highest_node(confirmed)
    return caps.RetentionRule(
        rulebook_id=book.id,
        node_code=node.code if node else None,
        node_share=node.retention if node else Decimal("1"),
        surcharge=book.surcharge_for(node, finish),
        guarantee_max_share=book.guarantee_max_share,
        guarantee_requires_full_amount=book.guarantee_requires_full_amount,
    )


def release_cap(
    uow: UnitOfWork,
    ctx: Context,
    project: Project,
    account: SupervisedAccount,
    book: RuleBook | None = None,
) -> caps.Cap:
    """The cap under the project's pinned rule book, or under `book` to ask "what if" (changes nothing)."""
    book = book or ctx.rulebook(project.rulebook_id)
    confirmed = {c.node_code for c in uow.projects.confirmed_nodes(project.id)}
    rule = retention_rule(book, confirmed, project.finish)
    inputs = uow.cap_figures.inputs([(project, account)], ctx.today())[account.id]
    return caps.release_cap(inputs, rule)


def account_view(
    uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount
) -> dict[str, Any]:
    cap = release_cap(uow, ctx, project, account)
    balance = next(t.value for t in cap.terms if t.term == "balance")
    frozen = next(t.value for t in cap.terms if t.term == "frozen")
    return {
        "account_no": account.account_no,
        "account_name": account.account_name,
        "status": account.status,
        "balance": to_wire(balance),
        "supervised_amount": to_wire(from_fen(project.supervised_amount_fen)),
        "required_retention": to_wire(cap.required_retention),
        "frozen_amount": to_wire(frozen),
        "releasable": to_wire(cap.releasable),
        "cap": {"releasable": to_wire(cap.releasable), "explanation": cap.to_json()},
        "rulebook": project.rulebook_id,
    }


def project_view(
    uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount
) -> dict[str, Any]:
    book = ctx.rulebook(project.rulebook_id)
    confirmed = {c.node_code: c for c in uow.projects.confirmed_nodes(project.id)}
    bank = uow.session.get(Bank, account.bank_id)
    developer = uow.session.get(Developer, project.developer_id)
    acct = account_view(uow, ctx, project, account)
    return {
        "project_id": project.id,
        "name": project.name,
        "developer_credit_code": developer.credit_code,
        "developer_name": developer.name,
        "permit_no": project.permit_no,
        "permit_date": project.permit_date.isoformat(),
        "presale_area_m2": to_wire(Decimal(project.presale_area_x100) / 100),
        "finish": project.finish,
        "supervised_amount": acct["supervised_amount"],
        "bank_code": bank.code,
        "account_no": account.account_no,
        "account_name": account.account_name,
        "opened_on": account.opened_on.isoformat(),
        "rulebook": project.rulebook_id,
        "nodes": [
            {
                "code": n.code,
                "name_zh": n.name_zh,
                "name_en": n.name_en,
                "retention": str(n.retention),
                "confirmed": n.code in confirmed,
                "reached_on": confirmed[n.code].reached_on.isoformat() if n.code in confirmed else None,
            }
            for n in book.nodes
        ],
        "account": acct,
    }
