"""Portal: the fund demand plan (资金需求计划) of a developer's project — the plan in force against what was
drawn, the version waiting for the bureau, and the form that files a new version (items as rows: node,
month, payee role, amount). A revision starts from the plan in force; the bureau decides it at
`/fund-plans/{plan_id}` and it supersedes the plan in force once approved.

The form is checked here for form (amounts, months, rows) and by escrow.services.fund_plans.file for the
rules (nodes of the rule book, payee roles, one version submitted at a time); refusals show by the rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import zip_longest
from typing import Any

from litestar import Controller, Request, Response, get, post

from escrow.domain.errors import DomainError
from escrow.services import fund_plans, releases
from escrow.services.context import Context
from escrow.web.bureau.fund_plans import STATUS_BADGES, STATUS_NAMES, labellers
from escrow.web.portal.common import developer_id, labels, money, text
from escrow.web.shell import once, pages, sessions
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

ITEM_FIELDS = ("node_code", "month", "role", "amount")
BLANK_ROWS = 3
MAX_ROWS = 500
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ROW = re.compile(r"items\[\d+\]")

pages.NOTICES["fund_plan_submitted"] = N_("The fund plan was submitted to the housing bureau for review.")


def _page(request: Request, project_id: str | None) -> dict[str, Any]:
    """The developer's projects, and the chosen one's plan (NotFound if it is not the developer's)."""
    ctx = pages.ctx(request)
    lang = pages.language(request)
    found = releases.application_form(ctx, developer_id(request), project_id)
    result: dict[str, Any] = {
        "projects": [(str(i), f"{name} · {permit_no}") for i, name, permit_no in found.projects],
        "project": None,
    }
    if found.project is None:
        return result
    chosen = found.project
    book = ctx.rulebook(chosen.rulebook)
    seen = fund_plans.overview(ctx, chosen.project_id, sessions.principal(request))
    result["project"] = {
        "project_id": chosen.project_id,
        "name": chosen.name,
        "rulebook": book.id,
        "overview": seen,
        "nodes": [(n.code, n.name_en if lang == "en" else n.name_zh) for n in book.nodes],
        "roles": list(book.release.payee_roles),
    }
    result.update(labellers(request, book.id))
    return result


def _rows(form: pages.Form) -> list[dict[str, str]]:
    columns = [form.getall(f"item_{name}") for name in ITEM_FIELDS]
    rows = []
    for cells in zip_longest(*columns, fillvalue=""):
        row = dict(zip(ITEM_FIELDS, cells, strict=True))
        if row["month"] or row["amount"]:  # a row with only its selects chosen counts as blank
            rows.append(row)
    return rows


def _read(
    form: pages.Form, rows: list[dict[str, str]], project: dict[str, Any], _: Callable[..., str]
) -> fund_plans.FilePlan | None:
    if not rows:
        form.error("items", _("Add at least one item."))
    if len(rows) > MAX_ROWS:
        form.error("items", _("At most %(value)s items.", value=MAX_ROWS))
    nodes = {code for code, _name in project["nodes"]}
    items = []
    for i, row in enumerate(rows):
        key = f"items[{i}]"
        if row["node_code"] not in nodes:
            form.error(f"{key}.node_code", _("Choose a node of the rule book."))
        if row["role"] not in project["roles"]:
            form.error(f"{key}.role", _("Choose one of the listed values."))
        if not MONTH.match(row["month"]):
            form.error(f"{key}.month", _("A month such as 2027-03."))
        amount = money(form, "", _, value=row["amount"], key=f"{key}.amount")
        if amount is not None:
            items.append(fund_plans.ItemIn(row["node_code"], row["month"], row["role"], amount))
    note = text(form, "note", _, limit=fund_plans.MAX_NOTE, required=False)
    if not form.ok:
        return None
    return fund_plans.FilePlan(project["project_id"], tuple(items), note)


def _file(request: Request, cmd: fund_plans.FilePlan) -> Callable[[Context], fund_plans.FundPlanView]:
    actor = sessions.principal(request)
    return lambda ctx: fund_plans.file(ctx, cmd, actor)


def _starting_rows(project: dict[str, Any] | None) -> list[dict[str, str]]:
    """A revision starts from the plan in force (or the version waiting), then blank rows."""
    rows: list[dict[str, str]] = []
    if project:
        seen = project["overview"]
        base = seen.pending or seen.in_force
        if base is not None:
            rows = [
                {"node_code": i.node_code, "month": i.month, "role": i.role, "amount": str(i.amount)}
                for i in base.items
            ]
    return rows + [{}] * BLANK_ROWS


class FundPlanController(Controller):
    path = "/developer/fund-plan"
    include_in_schema = False
    guards = [requires("portal.view", "portal.fund_plan")]

    @get("/")
    async def page(self, request: Request) -> Response:
        context = await pages.run(_page, request, request.query_params.get("project_id"))
        project = context["project"]
        values = {"project_id": str(project["project_id"])} if project else {}
        return self._render(request, context, values=values, errors={}, rows=_starting_rows(project))

    @post("/", status_code=303)
    async def file(self, request: Request) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        context = await pages.run(_page, request, form.get("project_id") or None)
        project = context["project"]
        rows = _rows(form)
        headline, status = _("Please correct the marked fields"), 422
        if project is None:
            form.error("project_id", _("Choose one of your projects."))
        else:
            cmd = _read(form, rows, project, _)
            if cmd is not None:
                try:
                    return await once.submit(
                        request,
                        form,
                        _file(request, cmd),
                        lambda view: f"/developer/fund-plan?project_id={view.project_id}",
                        notice="fund_plan_submitted",
                    )
                except DomainError as exc:
                    headline, errors = pages.field_errors(request, exc)
                    for name, message in errors.items():
                        # an item listed twice is said at its node
                        form.error(f"{name}.node_code" if ROW.fullmatch(name) else name, message)
                    status = exc.status
        return self._render(
            request,
            context,
            status=status,
            values=form.values,
            errors=form.errors,
            rows=rows + [{}] * BLANK_ROWS,
            message=headline,
        )

    @staticmethod
    def _render(request: Request, context: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        return pages.render(
            request,
            "portal/fund_plans/index.html",
            status=status,
            plan_status_names=STATUS_NAMES,
            plan_status_badges=STATUS_BADGES,
            **labels(pages.gettext(request)),
            **context,
            **extra,
        )


CONTROLLERS = [FundPlanController]
