"""Developers: contracts, payment notices, receipts (CONTRACT.md §3, Developer)."""

from __future__ import annotations

from decimal import Decimal

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from escrow.api.deps import require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.routes import KeyedController, read_route, write_route
from escrow.api.schemas import ContractIn, NoticeIn, ReceiptIn
from escrow.domain.principal import Principal
from escrow.services import deposits, sales


class DeveloperController(KeyedController):
    tags = ["developer"]

    @write_route("/contracts", "Register a signed pre-sale contract", "The registered contract")
    @idempotent
    def register_contract(
        self, request: Request, data: JSONBody[ContractIn], principal: NamedDependency[Principal]
    ) -> sales.ContractView:
        require_kind(principal, "developer")
        cmd = data.to(sales.RegisterContract, total_price=Decimal(data.total_price))
        return sales.register(services(request), cmd, principal)

    @read_route("/contracts/{contract_no:str}", "A contract of this developer", "The contract")
    def contract(
        self, request: Request, contract_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> sales.ContractView:
        require_kind(principal, "developer")
        return sales.contract(services(request), contract_no, principal)

    @write_route(
        "/contracts/{contract_no:str}/notices",
        "Issue a payment notice (缴款通知书)",
        "The notice: where the buyer pays",
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

    @write_route(
        "/vouchers/{voucher_no:str}/receipt",
        "Exchange a payment voucher for a receipt (缴款票据)",
        "The voucher is receipted",
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
