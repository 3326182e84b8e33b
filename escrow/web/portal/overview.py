"""The developer portal (`/developer…`): a developer's staff see their projects, register contracts, issue
payment notices and apply for releases. The pages live in portal_contracts.py and portal_releases.py; this
module is the overview and the list of controllers the web router collects."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from escrow.services import projects
from escrow.store.db import UnitOfWork
from escrow.web.portal.common import developer_id, labels
from escrow.web.portal.contracts import ContractsController, NoticesController
from escrow.web.portal.releases import ReleasesController
from escrow.web.shell import pages
from escrow.web.shell.sessions import requires


def _overview(request: Request) -> list[dict[str, Any]]:
    dev, ctx = developer_id(request), pages.ctx(request)
    with UnitOfWork(pages.engine(request), readonly=True) as uow:
        q = uow.portal_reads
        notices = q.open_notices_by_project(dev)
        in_progress = q.releases_in_progress_by_project(dev)
        found = []
        for project, account in q.projects_of(dev):
            view = projects.project_view(uow, ctx, project, account)
            view["open_notices"] = notices.get(project.id, 0)
            view["releases_in_progress"] = in_progress.get(project.id, 0)
            view["nodes_reached"] = sum(1 for n in view["nodes"] if n["confirmed"])
            found.append(view)
        return found


class OverviewController(Controller):
    path = "/developer"
    include_in_schema = False

    @get("/", guards=[requires("portal.view")])
    async def overview(self, request: Request) -> Template:
        found = await pages.run(_overview, request)
        return pages.render(
            request, "portal/overview/index.html", projects=found, **labels(pages.gettext(request))
        )


CONTROLLERS = [OverviewController, ContractsController, NoticesController, ReleasesController]
