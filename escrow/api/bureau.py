"""Bureau endpoints: opening projects, confirming nodes, city figures (CONTRACT.md §3, Bureau)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from escrow.api import responses as R
from escrow.api.deps import Id, authenticate, query_date, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    answers,
    problems,
)
from escrow.api.schemas import NodeConfirmationIn, ProjectIn
from escrow.domain.principal import Principal
from escrow.services import projects, stats


class BureauController(Controller):
    path = "/api/v1"
    tags = ["bureau"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}

    @post(
        "/projects",
        sync_to_thread=True,
        status_code=201,
        summary="Open a project and its supervised account",
        operation_class=IdempotentOperation,
        response_description="The project, its supervised account and nodes",
        responses=problems(*POST_ERRORS, 403),
    )
    @idempotent
    def open_project(
        self, request: Request, data: JSONBody[ProjectIn], principal: NamedDependency[Principal]
    ) -> projects.ProjectView:
        require_bureau(principal, "admin")
        cmd = projects.OpenProject(
            developer_credit_code=data.developer_credit_code,
            name=data.name,
            permit_no=data.permit_no,
            permit_date=data.permit_date,
            presale_area_m2=data.presale_area_m2,
            finish=data.finish,
            bank_code=data.bank_code,
            account_no=data.account_no,
            account_name=data.account_name,
            supervised_amount=Decimal(data.supervised_amount) if data.supervised_amount else None,
            jurisdiction=data.jurisdiction,
            opened_on=data.opened_on,
        )
        return projects.register(services(request), cmd, principal)

    @get(
        "/projects/{project_id:int}",
        sync_to_thread=True,
        summary="A project, its account, nodes and release cap",
        operation_class=DocumentedOperation,
        response_description="The project",
        responses=problems(*GET_ERRORS, 404),
    )
    def project(
        self, request: Request, project_id: Id, principal: NamedDependency[Principal]
    ) -> projects.ProjectView:
        return projects.get(services(request), project_id, principal)

    @post(
        "/projects/{project_id:int}/nodes/{node_code:str}/confirmation",
        sync_to_thread=True,
        status_code=201,
        summary="Confirm that construction reached a node (inspectors)",
        operation_class=IdempotentOperation,
        response_description="The node is confirmed; the release cap before and after",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def confirm_node(
        self,
        request: Request,
        project_id: Id,
        node_code: FromPath[str],
        data: JSONBody[NodeConfirmationIn],
        principal: NamedDependency[Principal],
    ) -> projects.NodeConfirmationView:
        require_bureau(principal, "inspector")
        cmd = projects.ConfirmNode(
            project_id=project_id,
            node_code=node_code,
            reached_on=data.reached_on,
            evidence=tuple(projects.Evidence(**e.model_dump()) for e in data.evidence),
        )
        return projects.confirm(services(request), cmd, principal)

    @get(
        "/stats",
        sync_to_thread=True,
        summary="City figures for a period",
        responses=answers({200: (R.CityStats, "The period's figures")}, *GET_ERRORS, 400, 403, 422),
    )
    def stats(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        start: Annotated[str, QueryParameter(name="from", description="first day, YYYY-MM-DD")],
        end: Annotated[str, QueryParameter(name="to", description="last day, YYYY-MM-DD")],
    ) -> dict[str, Any]:
        require_bureau(principal)
        period = (query_date(start, "from"), query_date(end, "to"))
        return stats.for_period(services(request), *period)
