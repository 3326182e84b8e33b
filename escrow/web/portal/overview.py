"""The developer portal (`/developer…`): a developer's staff see their projects, register contracts, issue
payment notices and apply for releases. The pages live in portal_contracts.py and portal_releases.py; this
module is the overview and the list of controllers the web router collects."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from escrow.services import projects
from escrow.web.portal.common import developer_id, labels
from escrow.web.portal.contracts import ContractsController, NoticesController
from escrow.web.portal.fund_plans import FundPlanController
from escrow.web.portal.releases import ReleasesController
from escrow.web.shell import pages
from escrow.web.shell.sessions import requires


class OverviewController(Controller):
    path = "/developer"
    include_in_schema = False

    @get("/", guards=[requires("portal.view")])
    async def overview(self, request: Request) -> Template:
        found = await pages.run(projects.of_developer, pages.ctx(request), developer_id(request))
        return pages.render(
            request, "portal/overview/index.html", projects=found, **labels(pages.gettext(request))
        )


CONTROLLERS = [
    OverviewController,
    ContractsController,
    NoticesController,
    ReleasesController,
    FundPlanController,
]
