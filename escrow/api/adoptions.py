"""Rule book adoptions: the bureau adopts a later version for chosen live projects, decided with four eyes
(DESIGN.md §4, services/adoptions.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from pydantic import Field

from escrow.api.deps import Id, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.releases import refused
from escrow.api.routes import KeyedController, list_route, read_route, write_route
from escrow.api.schemas import Body, DecisionIn, line, text
from escrow.domain.paging import Page
from escrow.domain.principal import Principal
from escrow.services import adoptions, approvals

ProjectId = Annotated[int, Field(ge=1, le=2**31 - 1)]
AdoptionStatus = Literal["submitted", "approved", "rejected"]


class AdoptionIn(Body):
    rulebook: Annotated[
        line(80, min_length=3), Field(description="the version adopted, e.g. hengshui@2025.2")
    ]
    project_ids: Annotated[list[ProjectId], Field(min_length=1, max_length=adoptions.MAX_PROJECTS)]
    reason: text(adoptions.MAX_REASON)


class AdoptionController(KeyedController):
    tags = ["bureau"]
    exception_handlers = {approvals.Refused: refused}

    @write_route(
        "/rulebook-adoptions",
        "Adopt a later rule book version for chosen live projects (four eyes)",
        "Submitted for review: the version, the chosen projects and the approval chain",
    )
    @idempotent
    def submit(
        self, request: Request, data: JSONBody[AdoptionIn], principal: NamedDependency[Principal]
    ) -> adoptions.AdoptionView:
        require_bureau(principal, *adoptions.APPLICANT_ROLES)
        cmd = adoptions.Adopt(data.rulebook, tuple(data.project_ids), data.reason)
        return adoptions.submit(services(request), cmd, principal)

    @list_route(
        "/rulebook-adoptions",
        "Rule book adoptions, newest first",
        "The adoptions",
        (400, 403),
    )
    def list_adoptions(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        page: NamedDependency[Page],
        status: Annotated[AdoptionStatus | None, QueryParameter(description="only this status")] = None,
    ) -> Response[list[adoptions.Row]]:
        require_bureau(principal)
        return paged(request, adoptions.page_of_listing(services(request), principal, status, page))

    @read_route(
        "/rulebook-adoptions/{adoption_id:int}",
        "A rule book adoption with its projects and approval steps",
        "The adoption",
    )
    def adoption(
        self, request: Request, adoption_id: Id, principal: NamedDependency[Principal]
    ) -> adoptions.AdoptionView:
        require_bureau(principal)
        return adoptions.get(services(request), adoption_id, principal)

    @write_route(
        "/rulebook-adoptions/{adoption_id:int}/decisions",
        "Take the next step of an adoption's approval chain (reviewer, approver)",
        "The adoption after this step",
    )
    @idempotent
    def decide(
        self,
        request: Request,
        adoption_id: Id,
        data: JSONBody[DecisionIn],
        principal: NamedDependency[Principal],
    ) -> adoptions.AdoptionView:
        require_bureau(principal)
        decision = approvals.Decision(data.decision, data.comment)
        return adoptions.decide(services(request), adoption_id, decision, principal)
