"""Releases and refunds: developers apply, bureau users decide (CONTRACT.md §3, Developer and Bureau)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from escrow.api.deps import Id, authenticate, require_bureau, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.problems import problem
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    problems,
)
from escrow.api.schemas import CancellationIn, DecisionIn, ReleaseIn
from escrow.domain.errors import Forbidden
from escrow.domain.principal import Principal
from escrow.services import approvals, refunds, releases

ReleaseStatus = Literal["submitted", "approved", "rejected", "executed"]


def refused(_: Request, exc: approvals.Refused) -> Response:
    """A rule refusal with the facts it was judged on (the cap and its explanation) next to the rule."""
    return problem(
        exc.status,
        exc.kind,
        exc.detail,
        title=exc.title,
        errors=exc.errors,
        extra={"rule": exc.rule, **exc.facts},
    )


class ReleaseController(Controller):
    path = "/api/v1"
    tags = ["releases"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}
    exception_handlers = {approvals.Refused: refused}

    @post(
        "/releases",
        sync_to_thread=True,
        status_code=201,
        summary="Apply for a release (拨付申请)",
        tags=["developer"],
        operation_class=IdempotentOperation,
        response_description="Submitted, with the cap it was judged on",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def apply(
        self, request: Request, data: JSONBody[ReleaseIn], principal: NamedDependency[Principal]
    ) -> releases.ReleaseView:
        require_kind(principal, "developer")
        cmd = releases.ApplyRelease(
            project_id=data.project_id,
            node_code=data.node_code,
            amount=Decimal(data.amount),
            purpose=data.purpose,
            payees=tuple(
                releases.Payee(p.name, p.account_no, p.bank_name, p.role, Decimal(p.amount))
                for p in data.payees
            ),
            documents=tuple(releases.Document(d.kind, d.filename, d.sha256) for d in data.documents),
        )
        return releases.apply(services(request), cmd, principal)

    @get(
        "/releases",
        sync_to_thread=True,
        summary="Releases: a developer's own, or all for bureau users",
        tags=["developer", "bureau"],
        response_description="The releases, newest first",
        responses=problems(*GET_ERRORS, 400, 403),
    )
    def list_releases(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        status: Annotated[ReleaseStatus | None, QueryParameter(description="only this status")] = None,
    ) -> list[releases.ReleaseView]:
        if not (principal.is_bureau or principal.kind == "developer"):
            raise Forbidden("releases are listed for developers and housing bureau users")
        return releases.listing(services(request), principal, status)

    @get(
        "/releases/{release_id:int}",
        sync_to_thread=True,
        summary="A release with its payees, documents, approval steps and instruction",
        tags=["developer", "bureau"],
        operation_class=DocumentedOperation,
        response_description="The release",
        responses=problems(*GET_ERRORS, 404),
    )
    def release(
        self, request: Request, release_id: Id, principal: NamedDependency[Principal]
    ) -> releases.ReleaseView:
        return releases.get(services(request), release_id, principal)

    @post(
        "/releases/{release_id:int}/decisions",
        sync_to_thread=True,
        status_code=201,
        summary="Take the next step of a release's approval chain (reviewer, approver, director)",
        tags=["bureau"],
        operation_class=IdempotentOperation,
        response_description="The release after this step",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def decide_release(
        self,
        request: Request,
        release_id: Id,
        data: JSONBody[DecisionIn],
        principal: NamedDependency[Principal],
    ) -> releases.ReleaseView:
        require_bureau(principal)
        decision = approvals.Decision(data.decision, data.comment)
        return releases.decide(services(request), release_id, decision, principal)

    @post(
        "/contracts/{contract_no:str}/cancellation",
        sync_to_thread=True,
        status_code=201,
        summary="Cancel a contract (退房) and start the refund of what the buyer paid",
        tags=["developer"],
        operation_class=IdempotentOperation,
        response_description="The contract is cancelled: the refund, or none if nothing was paid",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def cancel_contract(
        self,
        request: Request,
        contract_no: FromPath[str],
        data: JSONBody[CancellationIn],
        principal: NamedDependency[Principal],
    ) -> refunds.Cancellation | refunds.CancellationWithoutRefund:
        require_kind(principal, "developer")
        cmd = refunds.CancelContract(contract_no, data.reason)
        return refunds.cancel(services(request), cmd, principal)

    @get(
        "/refunds/{refund_id:int}",
        sync_to_thread=True,
        summary="A refund with its approval steps",
        tags=["developer", "bureau"],
        operation_class=DocumentedOperation,
        response_description="The refund",
        responses=problems(*GET_ERRORS, 404),
    )
    def refund(
        self, request: Request, refund_id: Id, principal: NamedDependency[Principal]
    ) -> refunds.RefundView:
        return refunds.get(services(request), refund_id, principal)

    @post(
        "/refunds/{refund_id:int}/decisions",
        sync_to_thread=True,
        status_code=201,
        summary="Take the next step of a refund's approval chain (reviewer, approver)",
        tags=["bureau"],
        operation_class=IdempotentOperation,
        response_description="The refund after this step",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def decide_refund(
        self,
        request: Request,
        refund_id: Id,
        data: JSONBody[DecisionIn],
        principal: NamedDependency[Principal],
    ) -> refunds.RefundView:
        require_bureau(principal)
        decision = approvals.Decision(data.decision, data.comment)
        return refunds.decide(services(request), refund_id, decision, principal)
