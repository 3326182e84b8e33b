"""The fund demand plan (资金需求计划, CONTRACT.md §8): the developer files and revises a project's plan, the
bureau decides it along the rule book's chain (services/fund_plans.py)."""

from __future__ import annotations

from decimal import Decimal

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody

from escrow.api.deps import Id, require_bureau, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.releases import refused
from escrow.api.routes import KeyedController, list_route, read_route, write_route
from escrow.api.schemas import DecisionIn, FundPlanIn
from escrow.domain.paging import Page
from escrow.domain.principal import Principal
from escrow.services import approvals, fund_plans


class FundPlanController(KeyedController):
    tags = ["fund plans"]
    exception_handlers = {approvals.Refused: refused}

    @write_route(
        "/projects/{project_id:int}/fund-plan",
        "File or revise the project's fund demand plan (资金需求计划)",
        "Submitted for review: the new version with its items and approval chain",
        (403, 404, 409),
        tags=["developer"],
        operation_id="postFundPlan",
    )
    @idempotent
    def file_plan(
        self,
        request: Request,
        project_id: Id,
        data: JSONBody[FundPlanIn],
        principal: NamedDependency[Principal],
    ) -> fund_plans.FundPlanView:
        require_kind(principal, "developer")
        cmd = fund_plans.FilePlan(
            project_id=project_id,
            items=tuple(
                fund_plans.ItemIn(i.node_code, i.month, i.role, Decimal(i.amount), i.building)
                for i in data.items
            ),
            note=data.note,
        )
        return fund_plans.file(services(request), cmd, principal)

    @read_route(
        "/projects/{project_id:int}/fund-plan",
        "The project's approved fund demand plan with what was drawn against each item",
        "The plan in force",
        tags=["developer", "bureau"],
        operation_id="getFundPlan",
    )
    def plan_in_force(
        self, request: Request, project_id: Id, principal: NamedDependency[Principal]
    ) -> fund_plans.FundPlanView:
        return fund_plans.in_force(services(request), project_id, principal)

    @list_route(
        "/projects/{project_id:int}/fund-plan/versions",
        "Every version of the project's fund demand plan, newest first",
        "The versions",
        tags=["developer", "bureau"],
        operation_id="listFundPlanVersions",
    )
    def plan_versions(
        self,
        request: Request,
        project_id: Id,
        principal: NamedDependency[Principal],
        page: NamedDependency[Page],
    ) -> Response[list[fund_plans.FundPlanView]]:
        return paged(request, fund_plans.page_of_versions(services(request), project_id, principal, page))

    @read_route(
        "/fund-plans/{plan_id:int}",
        "One version of a fund demand plan with its approval steps",
        "The plan",
        tags=["developer", "bureau"],
        operation_id="getFundPlanVersion",
    )
    def plan(
        self, request: Request, plan_id: Id, principal: NamedDependency[Principal]
    ) -> fund_plans.FundPlanView:
        return fund_plans.get(services(request), plan_id, principal)

    @write_route(
        "/fund-plans/{plan_id:int}/decisions",
        "Take the next step of a fund plan's approval chain (reviewer, approver)",
        "The plan after this step",
        tags=["bureau"],
        operation_id="decideFundPlan",
    )
    @idempotent
    def decide_plan(
        self, request: Request, plan_id: Id, data: JSONBody[DecisionIn], principal: NamedDependency[Principal]
    ) -> fund_plans.FundPlanView:
        require_bureau(principal)
        decision = approvals.Decision(data.decision, data.comment)
        return fund_plans.decide(services(request), plan_id, decision, principal)
