"""Release applications (拨付申请) and their approval (DESIGN.md §1, §3, §4).

A developer applies at a confirmed node for an amount within the current release cap, paying construction,
equipment and material partners directly, with the documents the rule book requires. Bureau users take the
rule book's approval chain one step at a time; at every approving step the cap is checked again under the
account lock, because other releases may have been approved in between. The last approval creates a payment
instruction, which reserves the amount (pending_out) until the bank executes it; the books move only then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from escrow.domain.caps import Cap
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.money import from_fen, to_fen, to_wire
from escrow.domain.principal import Principal
from escrow.rulebooks import RuleBook
from escrow.services import approvals
from escrow.services.accounts import reconciliation
from escrow.services.context import Context
from escrow.services.projects import release_cap
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    ApprovalStep,
    PaymentInstruction,
    Project,
    Release,
    ReleaseDocument,
    ReleasePayee,
    SupervisedAccount,
)


@dataclass(frozen=True)
class Payee:
    name: str
    account_no: str
    bank_name: str
    role: str
    amount: Decimal


@dataclass(frozen=True)
class Document:
    kind: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class ApplyRelease:
    project_id: int
    node_code: str
    amount: Decimal
    purpose: str
    payees: tuple[Payee, ...]
    documents: tuple[Document, ...] = field(default_factory=tuple)


def cap_json(cap: Cap) -> dict[str, Any]:
    return {"releasable": to_wire(cap.releasable), "explanation": cap.to_json()}


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


def payee_view(p: ReleasePayee) -> dict[str, str]:
    return {
        "name": p.name,
        "account_no": p.account_no,
        "bank_name": p.bank_name,
        "role": p.role,
        "amount": to_wire(from_fen(p.amount_fen)),
    }


def release_view(uow: UnitOfWork, ctx: Context, release: Release) -> dict[str, Any]:
    book = ctx.rulebook(release.rulebook_id)
    project = uow.projects.get(release.project_id)
    account = uow.session.get(SupervisedAccount, release.account_id)
    chain = book.approval_steps_for(from_fen(release.amount_fen))
    steps = uow.releases.steps(release.id)
    instruction = uow.instructions.for_release(release.id)
    return {
        "release_id": release.id,
        "project_id": project.id,
        "project_name": project.name,
        "permit_no": project.permit_no,
        "account_no": account.account_no,
        "node_code": release.node_code,
        "amount": to_wire(from_fen(release.amount_fen)),
        "purpose": release.purpose,
        "status": release.status,
        "cap": release.cap,
        "rulebook": release.rulebook_id,
        "approval_chain": approvals.chain_view(chain),
        "next_step": approvals.next_step_view(chain, len(steps), release.status),
        "steps": [approvals.step_view(uow, s) for s in steps],
        "payees": [payee_view(p) for p in uow.releases.payees(release.id)],
        "documents": [
            {"kind": d.kind, "filename": d.filename, "sha256": d.sha256}
            for d in uow.releases.documents(release.id)
        ],
        "instruction": (
            {
                "instruction_id": instruction.id,
                "status": instruction.status,
                "bank_reference": instruction.bank_reference,
                "executed_on": instruction.executed_on.isoformat() if instruction.executed_on else None,
            }
            if instruction
            else None
        ),
        "created_at": approvals.timestamp(release.created_at),
    }


def _check_application(
    uow: UnitOfWork, book: RuleBook, project: Project, account: SupervisedAccount, cmd: ApplyRelease
) -> None:
    """Every rule of an application except the cap, in the order a clerk would check them."""
    if account.status == "closed":
        raise InvalidInput(f"account {account.account_no} is closed", rule="account_open")
    node = book.node(cmd.node_code)
    if node is None:
        raise InvalidInput(
            f"{book.id} has no node {cmd.node_code!r} (nodes: {', '.join(n.code for n in book.nodes)})",
            rule=f"{book.id} nodes",
            errors=[FieldError.coded("node_code", "not_a_node")],
        )
    confirmed = {c.node_code for c in uow.projects.confirmed_nodes(project.id)}
    if node.code not in confirmed:
        raise InvalidInput(
            f"node {node.code} ({node.name_zh}) has not been confirmed by the bureau",
            rule=f"{book.id} release.node_confirmed",
            errors=[FieldError.coded("node_code", "not_confirmed")],
        )
    allowed = book.release.payee_roles
    wrong = [(i, p) for i, p in enumerate(cmd.payees) if p.role not in allowed]
    if wrong:
        raise InvalidInput(
            f"payees are paid directly and only in the roles {', '.join(allowed)}; "
            f"not {', '.join(sorted({p.role for _, p in wrong}))}",
            rule=f"{book.id} release.payee_roles",
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
    lacking = [kind for kind in book.release.required_documents if kind not in given]
    if lacking:
        raise InvalidInput(
            f"documents missing: {', '.join(lacking)}",
            rule=f"{book.id} release.required_documents",
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


def apply(uow: UnitOfWork, ctx: Context, cmd: ApplyRelease, actor: Principal) -> dict[str, Any]:
    project = uow.projects.get(cmd.project_id)
    if project is None or actor.developer_id is None or project.developer_id != actor.developer_id:
        raise NotFound(f"no project {cmd.project_id}")
    account = approvals.lock_account(uow, uow.projects.account_for(project.id).id)
    book = ctx.rulebook(project.rulebook_id)
    _check_application(uow, book, project, account, cmd)
    cap = release_cap(uow, ctx, project, account)
    if cmd.amount > cap.releasable:
        raise cap_refusal(cmd.amount, cap, when="now")
    release = uow.releases.add(
        Release(
            project_id=project.id,
            account_id=account.id,
            developer_id=project.developer_id,
            node_code=cmd.node_code,
            amount_fen=to_fen(cmd.amount),
            purpose=cmd.purpose,
            status="submitted",
            cap=cap_json(cap),
            rulebook_id=book.id,
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
    uow.session.flush()
    view = release_view(uow, ctx, release)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="release.submitted",
        subject_type="release",
        subject_id=release.id,
        account_id=account.id,
        after={k: view[k] for k in ("amount", "node_code", "payees", "documents", "status")},
        details={"cap": view["cap"]["releasable"], "rulebook": book.id},
    )
    return view


def decide(
    uow: UnitOfWork, ctx: Context, release_id: int, decision: approvals.Decision, actor: Principal
) -> dict[str, Any]:
    """One step of the approval chain. The account is locked first: the cap re-check and the instruction
    it leads to must not interleave with another approval or an execution on the same account."""
    release = uow.releases.get(release_id)
    if release is None or not actor.is_bureau:
        raise NotFound(f"no release {release_id}")
    account = approvals.lock_account(uow, release.account_id)
    uow.session.refresh(release)
    if release.status != "submitted":
        raise Conflict(f"release {release.id} is already {release.status}")
    book = ctx.rulebook(release.rulebook_id)
    amount = from_fen(release.amount_fen)
    chain = book.approval_steps_for(amount)
    taken = uow.releases.steps(release.id)
    step_no, step = approvals.check_step(book, chain, taken, decision, actor, subject=f"release {release.id}")
    project = uow.projects.get(release.project_id)
    cap = release_cap(uow, ctx, project, account)  # this release is not pending yet: it is not in the cap
    if decision.decision == "approve":
        check_reconciled(uow, account)
        if amount > cap.releasable:
            raise cap_refusal(amount, cap, when=f"at step {step_no} ({step.label_en})")
    uow.releases.add(
        ApprovalStep(
            release_id=release.id,
            account_id=account.id,
            step_no=step_no,
            role=step.role,
            decided_by=actor.user_id,
            decision=decision.decision,
            comment=decision.comment.strip(),
            cap=cap_json(cap),
            rulebook_id=book.id,
        )
    )
    before = release.status
    instruction = None
    if decision.decision == "reject":
        release.status = "rejected"
    elif step_no == len(chain):
        release.status = "approved"
        instruction = uow.instructions.add(
            PaymentInstruction(
                kind="release",
                release_id=release.id,
                account_id=account.id,
                amount_fen=release.amount_fen,
                status="pending",
            )
        )
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"release.step_{decision.decision}d",
        subject_type="release",
        subject_id=release.id,
        account_id=account.id,
        before={"status": before, "steps": len(taken)},
        after={"status": release.status, "steps": step_no},
        details={
            "step_no": step_no,
            "role": step.role,
            "comment": decision.comment.strip(),
            "releasable": to_wire(cap.releasable),
            "rulebook": book.id,
        },
    )
    if release.status != before:
        audit.record(
            uow.session,
            actor=actor.ref,
            action=f"release.{release.status}",
            subject_type="release",
            subject_id=release.id,
            account_id=account.id,
            before={"status": before},
            after={"status": release.status},
            details={"instruction_id": instruction.id} if instruction else {},
        )
    return release_view(uow, ctx, release)


def listing(
    uow: UnitOfWork, ctx: Context, actor: Principal, status: str | None = None
) -> list[dict[str, Any]]:
    """A developer's own releases; every release for bureau users (newest first)."""
    developer_id = None if actor.is_bureau else actor.developer_id
    if developer_id is None and not actor.is_bureau:
        return []
    return [release_view(uow, ctx, r) for r in uow.releases.listing(developer_id=developer_id, status=status)]
