"""Developers: contracts, payment notices, receipts (CONTRACT.md §3, Developer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from escrow.api import responses as R
from escrow.api.deps import authenticate, require_kind, run_idempotent, runtime
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    answers,
)
from escrow.api.schemas import ContractIn, NoticeIn, ReceiptIn
from escrow.domain.principal import Principal
from escrow.services import deposits, sales
from escrow.store.db import UnitOfWork


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
        responses=answers({201: (R.Contract, "The registered contract")}, *POST_ERRORS, 403, 404),
    )
    def register_contract(
        self, request: Request, data: JSONBody[ContractIn], principal: NamedDependency[Principal]
    ) -> Response:
        require_kind(principal, "developer")
        ctx = runtime(request).ctx
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
        return run_idempotent(
            request, principal, data, lambda uow: (201, sales.register_contract(uow, ctx, cmd, principal))
        )

    @get(
        "/contracts/{contract_no:str}",
        sync_to_thread=True,
        summary="A contract of this developer",
        operation_class=DocumentedOperation,
        responses=answers({200: (R.Contract, "The contract")}, *GET_ERRORS, 403, 404),
    )
    def contract(
        self, request: Request, contract_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> dict[str, Any]:
        require_kind(principal, "developer")
        with UnitOfWork(runtime(request).engine, readonly=True) as uow:
            contract, project = sales.own_contract(uow, principal, contract_no)
            return sales.contract_view(contract, project, uow.projects.account_for(project.id).account_no)

    @post(
        "/contracts/{contract_no:str}/notices",
        sync_to_thread=True,
        status_code=201,
        summary="Issue a payment notice (缴款通知书)",
        operation_class=IdempotentOperation,
        responses=answers(
            {201: (R.PaymentNotice, "The notice: where the buyer pays")}, *POST_ERRORS, 403, 404
        ),
    )
    def issue_notice(
        self,
        request: Request,
        contract_no: FromPath[str],
        data: JSONBody[NoticeIn],
        principal: NamedDependency[Principal],
    ) -> Response:
        require_kind(principal, "developer")
        ctx = runtime(request).ctx
        cmd = sales.IssueNotice(contract_no, data.kind, Decimal(data.amount), data.due_on)
        return run_idempotent(
            request, principal, data, lambda uow: (201, sales.issue_notice(uow, ctx, cmd, principal))
        )

    @post(
        "/vouchers/{voucher_no:str}/receipt",
        sync_to_thread=True,
        status_code=201,
        summary="Exchange a payment voucher for a receipt (缴款票据)",
        operation_class=IdempotentOperation,
        responses=answers({201: (R.Receipt, "The voucher is receipted")}, *POST_ERRORS, 403, 404),
    )
    def receipt(
        self,
        request: Request,
        voucher_no: FromPath[str],
        data: JSONBody[ReceiptIn],
        principal: NamedDependency[Principal],
    ) -> Response:
        require_kind(principal, "developer")
        return run_idempotent(
            request,
            principal,
            data,
            lambda uow: (201, deposits.receipt(uow, voucher_no, data.receipt_no, principal)),
        )
