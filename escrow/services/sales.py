"""Developers' sales: signed contracts and the payment notices that tell buyers where to pay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.identity import id_problem
from escrow.domain.money import MoneyError, from_fen, hundredths, to_fen, to_wire
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Bank, Contract, PaymentNotice, Project, SupervisedAccount

NOTICE_KINDS = ("earnest", "down_payment", "mortgage", "full", "other")


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


def contract_view(contract: Contract, project: Project, account_no: str) -> dict[str, Any]:
    return {
        "contract_no": contract.contract_no,
        "project_id": project.id,
        "permit_no": project.permit_no,
        "account_no": account_no,
        "buyer_name": contract.buyer_name,
        "unit": contract.unit,
        "area_m2": to_wire(Decimal(contract.area_x100) / 100),
        "total_price": to_wire(from_fen(contract.total_price_fen)),
        "signed_on": contract.signed_on.isoformat(),
        "status": contract.status,
    }


def register_contract(
    uow: UnitOfWork, ctx: Context, cmd: RegisterContract, actor: Principal
) -> dict[str, Any]:
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
    if uow.contracts.by_no(cmd.contract_no):
        raise Conflict(f"contract {cmd.contract_no} is already registered")
    contract = uow.contracts.add(
        Contract(
            project_id=project.id,
            account_id=account.id,
            contract_no=cmd.contract_no,
            buyer_name=cmd.buyer_name,
            buyer_id_no=cmd.buyer_id_no.strip().upper(),
            unit=cmd.unit,
            area_x100=area_x100,
            total_price_fen=to_fen(cmd.total_price),
            signed_on=cmd.signed_on,
        )
    )
    view = contract_view(contract, project, account.account_no)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="contract.registered",
        subject_type="contract",
        subject_id=contract.contract_no,
        account_id=account.id,
        after=view,
    )
    return view


def notice_view(uow: UnitOfWork, notice: PaymentNotice, contract: Contract) -> dict[str, Any]:
    account = uow.session.get(SupervisedAccount, notice.account_id)
    bank = uow.session.get(Bank, account.bank_id)
    return {
        "notice_no": notice.notice_no,
        "contract_no": contract.contract_no,
        "kind": notice.kind,
        "amount": to_wire(from_fen(notice.amount_fen)),
        "due_on": notice.due_on.isoformat(),
        "account_no": account.account_no,
        "account_name": account.account_name,
        "bank_code": bank.code,
        "bank_name": bank.name,
        "status": notice.status,
    }


def issue_notice(uow: UnitOfWork, ctx: Context, cmd: IssueNotice, actor: Principal) -> dict[str, Any]:
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
    notice.notice_no = f"TZ{ctx.today():%Y%m%d}{notice.id:07d}"  # unique: the id is
    uow.session.flush()
    view = notice_view(uow, notice, contract)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="notice.issued",
        subject_type="notice",
        subject_id=notice.notice_no,
        account_id=contract.account_id,
        after=view,
    )
    return view
