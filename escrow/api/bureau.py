"""Bureau endpoints: opening projects, confirming nodes, city figures (CONTRACT.md §3, Bureau)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from escrow.api import responses as R
from escrow.api.deps import Id, query_date, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.routes import KeyedController, read_route, write_route
from escrow.api.schemas import NodeConfirmationIn, ProjectIn
from escrow.domain.principal import Principal
from escrow.services import projects, stats


class BureauController(KeyedController):
    tags = ["bureau"]

    @write_route(
        "/projects",
        "Open a project and its supervised account",
        "The project, its supervised account and nodes",
        (403,),
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

    @read_route(
        "/projects/{project_id:int}", "A project, its account, nodes and release cap", "The project", (404,)
    )
    def project(
        self, request: Request, project_id: Id, principal: NamedDependency[Principal]
    ) -> projects.ProjectView:
        return projects.get(services(request), project_id, principal)

    @write_route(
        "/projects/{project_id:int}/nodes/{node_code:str}/confirmation",
        "Confirm that construction reached a node (inspectors)",
        "The node is confirmed; the release cap before and after",
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

    @read_route(
        "/stats",
        "City figures for a period",
        errors=(400, 403, 422),
        success={200: (R.CityStats, "The period's figures")},
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
