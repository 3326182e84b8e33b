"""Releases and refunds: developers apply, bureau users decide (CONTRACT.md §3, Developer and Bureau)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from escrow.api.deps import Id, require_bureau, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.problems import problem
from escrow.api.routes import KeyedController, list_route, read_route, write_route
from escrow.api.schemas import CancellationIn, DecisionIn, ReleaseIn
from escrow.domain.errors import Forbidden
from escrow.domain.paging import Page
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


class ReleaseController(KeyedController):
    tags = ["releases"]
    exception_handlers = {approvals.Refused: refused}

    @write_route(
        "/releases",
        "Apply for a release (拨付申请)",
        "Submitted, with the cap it was judged on",
        tags=["developer"],
    )
    @idempotent
    def apply(
        self, request: Request, data: JSONBody[ReleaseIn], principal: NamedDependency[Principal]
    ) -> releases.ReleaseView:
        require_kind(principal, "developer")
        cmd = releases.ApplyRelease(
            project_id=data.project_id,
            kind=data.kind,
            node_code=data.node_code,
            amount=Decimal(data.amount),
            purpose=data.purpose,
            payees=tuple(
                releases.Payee(p.name, p.account_no, p.bank_name, p.role, Decimal(p.amount))
                for p in data.payees
            ),
            documents=tuple(releases.Document(d.kind, d.filename, d.sha256) for d in data.documents),
            beyond_plan_reason=data.beyond_plan_reason,
        )
        return releases.apply(services(request), cmd, principal)

    @list_route(
        "/releases",
        "Releases: a developer's own, or all for bureau users",
        "The releases, newest first",
        (400, 403),
        tags=["developer", "bureau"],
    )
    def list_releases(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        page: NamedDependency[Page],
        status: Annotated[ReleaseStatus | None, QueryParameter(description="only this status")] = None,
    ) -> Response[list[releases.ReleaseView]]:
        if not (principal.is_bureau or principal.kind == "developer"):
            raise Forbidden("releases are listed for developers and housing bureau users")
        return paged(request, releases.page_of_listing(services(request), principal, status, page))

    @read_route(
        "/releases/{release_id:int}",
        "A release with its payees, documents, approval steps and instruction",
        "The release",
        (404,),
        tags=["developer", "bureau"],
    )
    def release(
        self, request: Request, release_id: Id, principal: NamedDependency[Principal]
    ) -> releases.ReleaseView:
        return releases.get(services(request), release_id, principal)

    @write_route(
        "/releases/{release_id:int}/decisions",
        "Take the next step of a release's approval chain (reviewer, approver, director)",
        "The release after this step",
        tags=["bureau"],
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

    @write_route(
        "/contracts/{contract_no:str}/cancellation",
        "Cancel a contract (退房) and start the refund of what the buyer paid",
        "The contract is cancelled: the refund, or none if nothing was paid",
        tags=["developer"],
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

    @read_route(
        "/refunds/{refund_id:int}",
        "A refund with its approval steps",
        "The refund",
        (404,),
        tags=["developer", "bureau"],
    )
    def refund(
        self, request: Request, refund_id: Id, principal: NamedDependency[Principal]
    ) -> refunds.RefundView:
        return refunds.get(services(request), refund_id, principal)

    @write_route(
        "/refunds/{refund_id:int}/decisions",
        "Take the next step of a refund's approval chain (reviewer, approver)",
        "The refund after this step",
        tags=["bureau"],
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
