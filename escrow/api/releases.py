"""Releases and refunds: developers apply, bureau users decide (CONTRACT.md §3, Developer and Bureau)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from escrow.api import responses as R
from escrow.api.deps import Id, authenticate, require_bureau, require_kind, run_idempotent, runtime
from escrow.api.problems import problem
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    answers,
)
from escrow.api.schemas import CancellationIn, DecisionIn, ReleaseIn
from escrow.domain.errors import Forbidden
from escrow.domain.principal import Principal
from escrow.services import approvals, refunds, releases
from escrow.store.db import UnitOfWork

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
        responses=answers(
            {201: (R.Release, "Submitted, with the cap it was judged on")}, *POST_ERRORS, 403, 404
        ),
    )
    def apply(
        self, request: Request, data: JSONBody[ReleaseIn], principal: NamedDependency[Principal]
    ) -> Response:
        require_kind(principal, "developer")
        ctx = runtime(request).ctx
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
        return run_idempotent(
            request, principal, data, lambda uow: (201, releases.apply(uow, ctx, cmd, principal))
        )

    @get(
        "/releases",
        sync_to_thread=True,
        summary="Releases: a developer's own, or all for bureau users",
        tags=["developer", "bureau"],
        responses=answers({200: (list[R.Release], "The releases, newest first")}, *GET_ERRORS, 400, 403),
    )
    def list_releases(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        status: Annotated[ReleaseStatus | None, QueryParameter(description="only this status")] = None,
    ) -> list[dict[str, Any]]:
        if not (principal.is_bureau or principal.kind == "developer"):
            raise Forbidden("releases are listed for developers and housing bureau users")
        rt = runtime(request)
        with UnitOfWork(rt.engine, readonly=True) as uow:
            return releases.listing(uow, rt.ctx, principal, status)

    @get(
        "/releases/{release_id:int}",
        sync_to_thread=True,
        summary="A release with its payees, documents, approval steps and instruction",
        tags=["developer", "bureau"],
        operation_class=DocumentedOperation,
        responses=answers({200: (R.Release, "The release")}, *GET_ERRORS, 404),
    )
    def release(
        self, request: Request, release_id: Id, principal: NamedDependency[Principal]
    ) -> dict[str, Any]:
        rt = runtime(request)
        with UnitOfWork(rt.engine, readonly=True) as uow:
            return releases.release_view(uow, rt.ctx, releases.visible_release(uow, principal, release_id))

    @post(
        "/releases/{release_id:int}/decisions",
        sync_to_thread=True,
        status_code=201,
        summary="Take the next step of a release's approval chain (reviewer, approver, director)",
        tags=["bureau"],
        operation_class=IdempotentOperation,
        responses=answers({201: (R.Release, "The release after this step")}, *POST_ERRORS, 403, 404),
    )
    def decide_release(
        self,
        request: Request,
        release_id: Id,
        data: JSONBody[DecisionIn],
        principal: NamedDependency[Principal],
    ) -> Response:
        require_bureau(principal)
        ctx = runtime(request).ctx
        decision = approvals.Decision(data.decision, data.comment)
        return run_idempotent(
            request,
            principal,
            data,
            lambda uow: (201, releases.decide(uow, ctx, release_id, decision, principal)),
        )

    @post(
        "/contracts/{contract_no:str}/cancellation",
        sync_to_thread=True,
        status_code=201,
        summary="Cancel a contract (退房) and start the refund of what the buyer paid",
        tags=["developer"],
        operation_class=IdempotentOperation,
        responses=answers(
            {201: (R.Cancellation, "The contract is cancelled: the refund, or none if nothing was paid")},
            *POST_ERRORS,
            403,
            404,
        ),
    )
    def cancel_contract(
        self,
        request: Request,
        contract_no: FromPath[str],
        data: JSONBody[CancellationIn],
        principal: NamedDependency[Principal],
    ) -> Response:
        require_kind(principal, "developer")
        ctx = runtime(request).ctx
        cmd = refunds.CancelContract(contract_no, data.reason)
        return run_idempotent(
            request, principal, data, lambda uow: (201, refunds.cancel(uow, ctx, cmd, principal))
        )

    @get(
        "/refunds/{refund_id:int}",
        sync_to_thread=True,
        summary="A refund with its approval steps",
        tags=["developer", "bureau"],
        operation_class=DocumentedOperation,
        responses=answers({200: (R.Refund, "The refund")}, *GET_ERRORS, 404),
    )
    def refund(
        self, request: Request, refund_id: Id, principal: NamedDependency[Principal]
    ) -> dict[str, Any]:
        rt = runtime(request)
        with UnitOfWork(rt.engine, readonly=True) as uow:
            found, _ = refunds.visible_refund(uow, principal, refund_id)
            return refunds.refund_view(uow, rt.ctx, found)

    @post(
        "/refunds/{refund_id:int}/decisions",
        sync_to_thread=True,
        status_code=201,
        summary="Take the next step of a refund's approval chain (reviewer, approver)",
        tags=["bureau"],
        operation_class=IdempotentOperation,
        responses=answers({201: (R.Refund, "The refund after this step")}, *POST_ERRORS, 403, 404),
    )
    def decide_refund(
        self,
        request: Request,
        refund_id: Id,
        data: JSONBody[DecisionIn],
        principal: NamedDependency[Principal],
    ) -> Response:
        require_bureau(principal)
        ctx = runtime(request).ctx
        decision = approvals.Decision(data.decision, data.comment)
        return run_idempotent(
            request,
            principal,
            data,
            lambda uow: (201, refunds.decide(uow, ctx, refund_id, decision, principal)),
        )
