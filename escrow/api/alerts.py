"""Alerts for the housing bureau: the list, acknowledging and resolving (CONTRACT.md §3, Bureau)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from pydantic import Field

from escrow.api.deps import Id, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.routes import KeyedController, list_route, write_route
from escrow.api.schemas import Body, line, said, text
from escrow.domain.ids import MAX_ID
from escrow.domain.paging import Page
from escrow.domain.principal import Principal
from escrow.services import alerts


class AlertActionIn(Body):
    comment: text(2000, min_length=0) = ""


class AlertFilterIn(Body):
    """Which alerts a bulk action takes: the unresolved ones matching all of these (empty: any)."""

    state: line(16) | None = Field(None, description="open | acknowledged", json_schema_extra=said(line(16)))
    severity: line(16) | None = Field(
        None, description="critical | warning | info", json_schema_extra=said(line(16))
    )
    rule: line(64) | None = Field(None, description="a rule name", json_schema_extra=said(line(64)))
    project_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None

    def to_filter(self) -> alerts.AlertFilter:
        return alerts.AlertFilter(
            (self.state,) if self.state else (), self.severity or "", self.rule or "", self.project_id
        )


class AlertBulkIn(Body):
    """Either `alert_ids` or `filter`."""

    alert_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None, Field(max_length=alerts.BULK_MAX)
    ] = None
    filter: AlertFilterIn | None = None
    comment: text(2000, min_length=0) = ""


def _bulk(request: Request, principal: Principal, action: str, data: AlertBulkIn) -> alerts.BulkResult:
    require_bureau(principal)
    return alerts.handle_many(
        services(request),
        action,
        principal,
        alert_ids=data.alert_ids,
        matching=data.filter.to_filter() if data.filter is not None else None,
        comment=data.comment,
    )


_BULK_DESCRIPTION = (
    "Give `alert_ids` (at most 1000) or a `filter` (the unresolved alerts matching it, the most urgent "
    "first, at most 1000; `remaining` says how many more match). One transaction; each alert changed is "
    "audited as the single action audits it. Alerts resolved already are left alone and listed in "
    "`already_resolved`; an id that does not exist refuses the whole request (404) and changes nothing."
)


def _bulk_route(path: str, summary: str) -> Any:
    """The route of a bulk action: both answer what changed, with the same statuses and description."""
    return write_route(
        path, summary, "What changed", (403, 404, 422), status_code=200, description=_BULK_DESCRIPTION
    )


class AlertController(KeyedController):
    path = "/api/v1/alerts"
    tags = ["bureau"]

    @list_route(
        "/",
        "Alerts raised by the scheduled checks (bureau users)",
        "The alerts",
        (403, 422),
        keys=2,
        description=(
            "Most severe first, then newest first, a page at a time. One alert per rule and subject: a "
            "condition that persists keeps its alert up to date, one that clears is resolved by the next "
            "sweep (every 15 minutes), one that returns is reopened — also after someone resolved it by hand."
        ),
    )
    def list_alerts(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        page: NamedDependency[Page],
        alert_state: Annotated[
            str | None, QueryParameter(name="state", description="open | acknowledged | resolved")
        ] = None,
        severity: Annotated[str | None, QueryParameter(description="critical | warning | info")] = None,
        rule: Annotated[str | None, QueryParameter(description="a rule name")] = None,
        account_no: Annotated[str | None, QueryParameter(description="a supervised account")] = None,
    ) -> Response[list[alerts.AlertView]]:
        require_bureau(principal)
        found = alerts.page_of_listing(
            services(request), page, state=alert_state, severity=severity, rule=rule, account_no=account_no
        )
        return paged(request, found)

    @write_route(
        "/{alert_id:int}/acknowledgement",
        "Acknowledge an alert: someone is on it (bureau users; the body is optional)",
        "The acknowledged alert",
        status_code=200,
    )
    @idempotent
    def acknowledge(
        self,
        request: Request,
        alert_id: Id,
        principal: NamedDependency[Principal],
        data: JSONBody[AlertActionIn | None] = None,
    ) -> alerts.AlertView:
        require_bureau(principal)
        return alerts.acknowledge(services(request), alert_id, principal, data.comment if data else "")

    @write_route(
        "/{alert_id:int}/resolution",
        "Resolve an alert (bureau users; the body is optional)",
        "The resolved alert",
        status_code=200,
        description="If its condition still holds, the next sweep reopens it.",
    )
    @idempotent
    def resolve(
        self,
        request: Request,
        alert_id: Id,
        principal: NamedDependency[Principal],
        data: JSONBody[AlertActionIn | None] = None,
    ) -> alerts.AlertView:
        require_bureau(principal)
        return alerts.resolve(services(request), alert_id, principal, data.comment if data else "")

    @_bulk_route("/acknowledgements", "Acknowledge many alerts at once (bureau users)")
    @idempotent
    def acknowledge_many(
        self, request: Request, principal: NamedDependency[Principal], data: JSONBody[AlertBulkIn]
    ) -> alerts.BulkResult:
        return _bulk(request, principal, "acknowledge", data)

    @_bulk_route("/resolutions", "Resolve many alerts at once (bureau users)")
    @idempotent
    def resolve_many(
        self, request: Request, principal: NamedDependency[Principal], data: JSONBody[AlertBulkIn]
    ) -> alerts.BulkResult:
        return _bulk(request, principal, "resolve", data)
