"""Supervising banks: payment instructions to execute, court freezes and deductions (CONTRACT.md §3, Bank)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from escrow.api.deps import Id, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.releases import refused
from escrow.api.routes import KeyedController, list_route, read_route, write_route
from escrow.api.schemas import DeductionIn, ExecutionIn, FreezeIn, FreezeLiftIn
from escrow.domain.paging import Page
from escrow.domain.principal import Principal
from escrow.services import approvals, freezes, instructions


class PaymentController(KeyedController):
    tags = ["bank"]
    exception_handlers = {approvals.Refused: refused}

    @list_route(
        "/instructions",
        "Approved releases and refunds, and returns of unassigned money, on this bank's accounts",
        "The instructions, oldest first",
        (400, 403),
    )
    def list_instructions(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        page: NamedDependency[Page],
        status: Annotated[
            Literal["pending", "executed"] | None, QueryParameter(description="pending or executed")
        ] = None,
    ) -> Response[list[instructions.Instruction]]:
        require_kind(principal, "bank")
        return paged(request, instructions.page_for_bank(services(request), principal, status, page))

    @read_route("/instructions/{instruction_id:int}", "One payment instruction", "The instruction")
    def instruction(
        self, request: Request, instruction_id: Id, principal: NamedDependency[Principal]
    ) -> instructions.Instruction:
        require_kind(principal, "bank")
        return instructions.get(services(request), instruction_id, principal)

    @write_route(
        "/instructions/{instruction_id:int}/execution",
        "Confirm that the bank paid an instruction: the books move now",
        "The executed instruction",
    )
    @idempotent
    def execute(
        self,
        request: Request,
        instruction_id: Id,
        data: JSONBody[ExecutionIn],
        principal: NamedDependency[Principal],
    ) -> instructions.Instruction:
        require_kind(principal, "bank")
        cmd = instructions.Execute(data.bank_reference, data.executed_on)
        return instructions.execute(services(request), instruction_id, cmd, principal)

    @write_route("/freezes", "Record a court freeze (冻结)", "The freeze and the account it holds")
    @idempotent
    def place_freeze(
        self, request: Request, data: JSONBody[FreezeIn], principal: NamedDependency[Principal]
    ) -> freezes.FreezeView:
        require_kind(principal, "bank")
        cmd = freezes.PlaceFreeze(
            data.account_no,
            data.authority,
            data.order_no,
            Decimal(data.amount) if data.amount is not None else None,
            data.ordered_on,
            kind=data.kind,
        )
        return freezes.place(services(request), cmd, principal)

    @read_route("/freezes/{freeze_id:int}", "A court freeze", "The freeze")
    def freeze(
        self, request: Request, freeze_id: Id, principal: NamedDependency[Principal]
    ) -> freezes.FreezeView:
        require_kind(principal, "bank")
        return freezes.get(services(request), freeze_id, principal)

    @write_route(
        "/freezes/{freeze_id:int}/lift",
        "Lift a court freeze (解除冻结); the body is optional",
        "The lifted freeze",
    )
    @idempotent
    def lift_freeze(
        self,
        request: Request,
        freeze_id: Id,
        principal: NamedDependency[Principal],
        data: JSONBody[FreezeLiftIn | None] = None,
    ) -> freezes.FreezeView:
        require_kind(principal, "bank")
        return freezes.lift(services(request), freeze_id, principal, data.order_no if data else None)

    @write_route(
        "/freezes/{freeze_id:int}/deduction",
        "Record a court deduction (扣划) of frozen money",
        "The freeze after the deduction, and the deduction",
    )
    @idempotent
    def deduct(
        self,
        request: Request,
        freeze_id: Id,
        data: JSONBody[DeductionIn],
        principal: NamedDependency[Principal],
    ) -> freezes.DeductionView:
        require_kind(principal, "bank")
        cmd = freezes.Deduct(Decimal(data.amount), data.creditor_role, data.bank_reference, data.executed_on)
        return freezes.deduct(services(request), freeze_id, cmd, principal)
