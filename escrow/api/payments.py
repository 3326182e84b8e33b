"""Supervising banks: payment instructions to execute, court freezes and deductions (CONTRACT.md §3, Bank)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter

from escrow.api.deps import Id, authenticate, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.releases import refused
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    problems,
)
from escrow.api.schemas import DeductionIn, ExecutionIn, FreezeIn, FreezeLiftIn
from escrow.domain.principal import Principal
from escrow.services import approvals, freezes, instructions


class PaymentController(Controller):
    path = "/api/v1"
    tags = ["bank"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}
    exception_handlers = {approvals.Refused: refused}

    @get(
        "/instructions",
        sync_to_thread=True,
        summary="Approved releases and refunds, and returns of unassigned money, on this bank's accounts",
        response_description="The instructions",
        responses=problems(*GET_ERRORS, 400, 403),
    )
    def list_instructions(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        status: Annotated[
            Literal["pending", "executed"] | None, QueryParameter(description="pending or executed")
        ] = None,
    ) -> list[instructions.Instruction]:
        require_kind(principal, "bank")
        return instructions.for_bank(services(request), principal, status)

    @get(
        "/instructions/{instruction_id:int}",
        sync_to_thread=True,
        summary="One payment instruction",
        operation_class=DocumentedOperation,
        response_description="The instruction",
        responses=problems(*GET_ERRORS, 403, 404),
    )
    def instruction(
        self, request: Request, instruction_id: Id, principal: NamedDependency[Principal]
    ) -> instructions.Instruction:
        require_kind(principal, "bank")
        return instructions.get(services(request), instruction_id, principal)

    @post(
        "/instructions/{instruction_id:int}/execution",
        sync_to_thread=True,
        status_code=201,
        summary="Confirm that the bank paid an instruction: the books move now",
        operation_class=IdempotentOperation,
        response_description="The executed instruction",
        responses=problems(*POST_ERRORS, 403, 404),
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

    @post(
        "/freezes",
        sync_to_thread=True,
        status_code=201,
        summary="Record a court freeze (冻结)",
        operation_class=IdempotentOperation,
        response_description="The freeze and the account it holds",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def place_freeze(
        self, request: Request, data: JSONBody[FreezeIn], principal: NamedDependency[Principal]
    ) -> freezes.FreezeView:
        require_kind(principal, "bank")
        cmd = freezes.PlaceFreeze(
            data.account_no, data.authority, data.order_no, Decimal(data.amount), data.ordered_on
        )
        return freezes.place(services(request), cmd, principal)

    @get(
        "/freezes/{freeze_id:int}",
        sync_to_thread=True,
        summary="A court freeze",
        operation_class=DocumentedOperation,
        response_description="The freeze",
        responses=problems(*GET_ERRORS, 403, 404),
    )
    def freeze(
        self, request: Request, freeze_id: Id, principal: NamedDependency[Principal]
    ) -> freezes.FreezeView:
        require_kind(principal, "bank")
        return freezes.get(services(request), freeze_id, principal)

    @post(
        "/freezes/{freeze_id:int}/lift",
        sync_to_thread=True,
        status_code=201,
        summary="Lift a court freeze (解除冻结); the body is optional",
        operation_class=IdempotentOperation,
        response_description="The lifted freeze",
        responses=problems(*POST_ERRORS, 403, 404),
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

    @post(
        "/freezes/{freeze_id:int}/deduction",
        sync_to_thread=True,
        status_code=201,
        summary="Record a court deduction (扣划) of frozen money",
        operation_class=IdempotentOperation,
        response_description="The freeze after the deduction, and the deduction",
        responses=problems(*POST_ERRORS, 403, 404),
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
