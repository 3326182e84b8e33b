"""Developers' sales: signed contracts and the payment notices that tell buyers where to pay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from escrow.domain import checks
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.identifiers import identifier_problem
from escrow.domain.identity import id_problem
from escrow.domain.money import Area, Money, MoneyError, from_fen, hundredths, quantize, to_fen, to_wire
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    Bank,
    Contract,
    Deposit,
    PaymentNotice,
    Project,
    Refund,
    SupervisedAccount,
    Voucher,
)

NOTICE_KINDS = checks.NOTICE_KINDS


@dataclass(frozen=True)
class RegisterContract:
    permit_no: str
    contract_no: str
    buyer_name: str
    buyer_id_no: str
    unit: str
    area_m2: Decimal
    total_price: Decimal
    signed_on: date
    building: str | None = None  # the building's code, where the project has buildings


@dataclass(frozen=True)
class IssueNotice:
    contract_no: str
    kind: str
    amount: Decimal
    due_on: date


def own_project(uow: UnitOfWork, principal: Principal, permit_no: str) -> Project:
    """The developer's project with this permit; another developer's is as absent as a missing one."""
    project = uow.projects.by_permit(permit_no)
    if project is None or not _owns(principal, project):
        raise NotFound(f"no project with permit {permit_no}")
    return project


def own_contract(uow: UnitOfWork, principal: Principal, contract_no: str) -> tuple[Contract, Project]:
    contract = uow.contracts.by_no(contract_no)
    project = uow.projects.get(contract.project_id) if contract else None
    if contract is None or not _owns(principal, project):
        raise NotFound(f"no contract {contract_no}")
    return contract, project


def _owns(principal: Principal, project: Project) -> bool:
    return principal.is_bureau or (
        principal.developer_id is not None and principal.developer_id == project.developer_id
    )


NoticeKind = Literal[
    "earnest", "down_payment", "mortgage", "provident_fund_loan", "combination_loan", "full", "other"
]


@dataclass(frozen=True)
class ContractView:
    contract_no: str
    project_id: int
    permit_no: str
    account_no: str
    buyer_name: str
    unit: str
    area_m2: Area
    total_price: Money
    signed_on: date
    status: Literal["signed", "cancelled"]
    building: str | None = None  # the building's code, where the project has buildings


@dataclass(frozen=True)
class NoticeView:
    """A payment notice: where the buyer pays."""

    notice_no: str
    contract_no: str
    kind: NoticeKind
    amount: Money
    due_on: date
    account_no: str
    account_name: str
    bank_code: str
    bank_name: str
    status: Literal["open", "paid", "cancelled"]
    # Re-issued for a new supervised account after a change of bank: the account it named before (else null)
    reissued_from: str | None = None


def contract_view(
    contract: Contract, project: Project, account_no: str, building: str | None = None
) -> ContractView:
    return ContractView(
        contract_no=contract.contract_no,
        project_id=project.id,
        permit_no=project.permit_no,
        account_no=account_no,
        buyer_name=contract.buyer_name,
        unit=contract.unit,
        area_m2=quantize(Decimal(contract.area_x100) / 100),
        total_price=from_fen(contract.total_price_fen),
        signed_on=contract.signed_on,
        status=contract.status,
        building=building,
    )


def contract(ctx: Context, contract_no: str, actor: Principal) -> ContractView:
    """A contract of this developer (any contract, for the bureau)."""
    with ctx.reading() as uow:
        found, project = own_contract(uow, actor, contract_no)
        return contract_view(found, project, uow.projects.account_for(project.id).account_no)


def register(ctx: Context, cmd: RegisterContract, actor: Principal) -> ContractView:
    return ctx.run(_register, cmd, actor)


def register_contract(
    uow: UnitOfWork, ctx: Context, cmd: RegisterContract, actor: Principal
) -> dict[str, Any]:
    """`register` in the caller's unit of work (the demo's batch), as plain values."""
    return wire(_register(uow, ctx, cmd, actor))


def _register(uow: UnitOfWork, ctx: Context, cmd: RegisterContract, actor: Principal) -> ContractView:
    for name in ("permit_no", "contract_no"):  # the one rule, whoever calls (API, portal, demo)
        refused = identifier_problem(getattr(cmd, name))
        if refused is not None:
            raise InvalidInput(f"{name} {refused.message}", errors=[FieldError(name, refused.message)])
    project = own_project(uow, actor, cmd.permit_no)
    account = uow.projects.account_for(project.id)
    problem = id_problem(cmd.buyer_id_no)
    if problem:
        raise InvalidInput(f"buyer_id_no {problem}", errors=[FieldError("buyer_id_no", problem)])
    if cmd.signed_on > ctx.today():
        raise InvalidInput(
            "a contract cannot be signed in the future", errors=[FieldError.coded("signed_on", "in_future")]
        )
    if cmd.signed_on < project.permit_date:
        raise InvalidInput(
            "pre-sale contracts start at the pre-sale permit",
            errors=[FieldError.coded("signed_on", "before_permit_date")],
        )
    try:
        area_x100 = hundredths(cmd.area_m2, what="the area")
    except MoneyError as exc:
        raise InvalidInput(str(exc), errors=[FieldError("area_m2", str(exc))]) from None
    building = None
    if cmd.building is not None:
        building = uow.projects.building(project.id, cmd.building)
        if building is None:
            raise InvalidInput(
                f"no building {cmd.building} in project {project.id}",
                errors=[FieldError.coded("building", "no_such_building", building=cmd.building)],
            )
    if uow.contracts.by_no(cmd.contract_no):
        raise Conflict(f"contract {cmd.contract_no} is already registered")
    contract = uow.contracts.add(
        Contract(
            project_id=project.id,
            account_id=account.id,
            building_id=building.id if building else None,
            contract_no=cmd.contract_no,
            buyer_name=cmd.buyer_name,
            buyer_id_no=cmd.buyer_id_no.strip().upper(),
            unit=cmd.unit,
            area_x100=area_x100,
            total_price_fen=to_fen(cmd.total_price),
            signed_on=cmd.signed_on,
        )
    )
    view = contract_view(contract, project, account.account_no, cmd.building)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="contract.registered",
        subject_type="contract",
        subject_id=contract.contract_no,
        account_id=account.id,
        after=wire(view),
    )
    return view


def notice_view(uow: UnitOfWork, notice: PaymentNotice, contract: Contract) -> NoticeView:
    account = uow.session.get(SupervisedAccount, notice.account_id)
    bank = uow.session.get(Bank, account.bank_id)
    return NoticeView(
        notice_no=notice.notice_no,
        contract_no=contract.contract_no,
        kind=notice.kind,
        amount=from_fen(notice.amount_fen),
        due_on=notice.due_on,
        account_no=account.account_no,
        account_name=account.account_name,
        bank_code=bank.code,
        bank_name=bank.name,
        status=notice.status,
        reissued_from=uow.projects.reissued_from(notice, account),
    )


def issue(ctx: Context, cmd: IssueNotice, actor: Principal) -> NoticeView:
    return ctx.run(_issue, cmd, actor)


def issue_notice(uow: UnitOfWork, ctx: Context, cmd: IssueNotice, actor: Principal) -> dict[str, Any]:
    """`issue` in the caller's unit of work (the demo's batch), as plain values."""
    return wire(_issue(uow, ctx, cmd, actor))


def _issue(uow: UnitOfWork, ctx: Context, cmd: IssueNotice, actor: Principal) -> NoticeView:
    contract, _ = own_contract(uow, actor, cmd.contract_no)
    if contract.status != "signed":
        raise InvalidInput(
            f"contract {contract.contract_no} is {contract.status}", rule="contract_not_cancelled"
        )
    if cmd.kind not in NOTICE_KINDS:
        raise InvalidInput("unknown notice kind", errors=[FieldError.one_of("kind", NOTICE_KINDS)])
    total = uow.contracts.notices_total_fen(contract.id) + to_fen(cmd.amount)
    if total > contract.total_price_fen:
        price = to_wire(from_fen(contract.total_price_fen))
        raise InvalidInput(
            f"notices would total {to_wire(from_fen(total))}, above the contract price {price}",
            rule="notices_within_contract_price",
            errors=[FieldError.coded("amount", "above_owed")],
        )
    notice = PaymentNotice(
        notice_no=f"pending-{uuid.uuid4().hex}",
        contract_id=contract.id,
        account_id=contract.account_id,
        kind=cmd.kind,
        amount_fen=to_fen(cmd.amount),
        due_on=cmd.due_on,
    )
    uow.contracts.add(notice)
    notice.notice_no = notice_number(ctx.today(), notice.id)
    uow.session.flush()
    view = notice_view(uow, notice, contract)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="notice.issued",
        subject_type="notice",
        subject_id=notice.notice_no,
        account_id=contract.account_id,
        after=wire(view),
    )
    return view


# --- the developer portal's pages: read models, each in its own read-only unit of work -----------------


@dataclass(frozen=True)
class ContractRecord:
    """A contract with what its page shows: what was asked and paid, its notices, vouchers and refund."""

    view: ContractView
    contract: Contract
    project: Project
    refund: Refund | None
    asked_fen: int
    paid_fen: int
    notices: list[PaymentNotice]
    vouchers: list[tuple[Voucher, Deposit]]


@dataclass(frozen=True)
class NoticeRecord:
    view: NoticeView
    notice: PaymentNotice
    contract: Contract
    project: Project


def projects_of(ctx: Context, developer_id: int) -> list[tuple[Project, SupervisedAccount]]:
    with ctx.reading() as uow:
        return uow.portal_reads.projects_of(developer_id)


def contracts_of(
    ctx: Context, developer_id: int, q: str, *, offset: int, limit: int
) -> tuple[list[tuple[Contract, Project]], int, dict[int, int]]:
    """A page of the developer's contracts matching `q`, the total, and what was paid on each (fen)."""
    with ctx.reading() as uow:
        rows, total = uow.portal_reads.contracts(developer_id, q, offset=offset, limit=limit)
        return rows, total, uow.portal_reads.paid_by_contract([c.id for c, _ in rows])


def contract_record(ctx: Context, contract_no: str, actor: Principal) -> ContractRecord:
    """NotFound unless the contract is the actor's."""
    with ctx.reading() as uow:
        found, project = own_contract(uow, actor, contract_no)
        account = uow.projects.account_for(project.id)
        return ContractRecord(
            view=contract_view(found, project, account.account_no),
            contract=found,
            project=project,
            refund=uow.refunds.for_contract(found.id),
            asked_fen=uow.contracts.notices_total_fen(found.id),
            paid_fen=uow.contracts.paid_fen(found.id),
            notices=uow.portal_reads.notices_of(found.id),
            vouchers=uow.portal_reads.vouchers_of(found.id),
        )


def notice_record(ctx: Context, notice_no: str, actor: Principal) -> NoticeRecord:
    """The notice with its contract and project; NotFound unless it is the actor's."""
    with ctx.reading() as uow:
        notice = uow.contracts.notice_by_no(notice_no)
        if notice is None:
            raise NotFound(f"no payment notice {notice_no}")
        found = uow.session.get(Contract, notice.contract_id)
        found, project = own_contract(uow, actor, found.contract_no)
        return NoticeRecord(notice_view(uow, notice, found), notice, found, project)


def notice_pdf(ctx: Context, notice_no: str, actor: Principal) -> tuple[str, bytes]:
    """The notice as a PDF (file name, bytes); NotFound unless it is the actor's."""
    from escrow import reports
    from escrow.services import reportjobs

    with ctx.reading() as uow:
        try:
            params = reports.normalise("notice", {"notice_no": notice_no})
        except InvalidInput:
            raise NotFound(f"no payment notice {notice_no}") from None
        reportjobs.check_access(uow, actor, "notice", params)
        return reports.render("notice", uow, ctx, **params)


def notice_number(on: date, notice_id: int) -> str:
    """A payment notice's number: the day it is issued and its id (unique because the id is)."""
    return f"TZ{on:%Y%m%d}{notice_id:07d}"
