"""Developers: contracts, payment notices, receipts (CONTRACT.md §3, Developer)."""

from __future__ import annotations

from decimal import Decimal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from escrow.api.deps import authenticate, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    problems,
)
from escrow.api.schemas import ContractIn, NoticeIn, ReceiptIn
from escrow.domain.principal import Principal
from escrow.services import deposits, sales


class DeveloperController(Controller):
    path = "/api/v1"
    tags = ["developer"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}

    @post(
        "/contracts",
        sync_to_thread=True,
        status_code=201,
        summary="Register a signed pre-sale contract",
        operation_class=IdempotentOperation,
        response_description="The registered contract",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def register_contract(
        self, request: Request, data: JSONBody[ContractIn], principal: NamedDependency[Principal]
    ) -> sales.ContractView:
        require_kind(principal, "developer")
        cmd = sales.RegisterContract(
            permit_no=data.permit_no,
            contract_no=data.contract_no,
            buyer_name=data.buyer_name,
            buyer_id_no=data.buyer_id_no,
            unit=data.unit,
            area_m2=data.area_m2,
            total_price=Decimal(data.total_price),
            signed_on=data.signed_on,
        )
        return sales.register(services(request), cmd, principal)

    @get(
        "/contracts/{contract_no:str}",
        sync_to_thread=True,
        summary="A contract of this developer",
        operation_class=DocumentedOperation,
        response_description="The contract",
        responses=problems(*GET_ERRORS, 403, 404),
    )
    def contract(
        self, request: Request, contract_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> sales.ContractView:
        require_kind(principal, "developer")
        return sales.contract(services(request), contract_no, principal)

    @post(
        "/contracts/{contract_no:str}/notices",
        sync_to_thread=True,
        status_code=201,
        summary="Issue a payment notice (缴款通知书)",
        operation_class=IdempotentOperation,
        response_description="The notice: where the buyer pays",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def issue_notice(
        self,
        request: Request,
        contract_no: FromPath[str],
        data: JSONBody[NoticeIn],
        principal: NamedDependency[Principal],
    ) -> sales.NoticeView:
        require_kind(principal, "developer")
        cmd = sales.IssueNotice(contract_no, data.kind, Decimal(data.amount), data.due_on)
        return sales.issue(services(request), cmd, principal)

    @post(
        "/vouchers/{voucher_no:str}/receipt",
        sync_to_thread=True,
        status_code=201,
        summary="Exchange a payment voucher for a receipt (缴款票据)",
        operation_class=IdempotentOperation,
        response_description="The voucher is receipted",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def receipt(
        self,
        request: Request,
        voucher_no: FromPath[str],
        data: JSONBody[ReceiptIn],
        principal: NamedDependency[Principal],
    ) -> deposits.ReceiptView:
        require_kind(principal, "developer")
        return deposits.receipt(services(request), voucher_no, data.receipt_no, principal)
