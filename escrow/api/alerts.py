"""Alerts for the housing bureau: the list, acknowledging and resolving (CONTRACT.md §3, Bureau)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from pydantic import Field

from escrow.api.deps import Id, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.routes import KeyedController, read_route, write_route
from escrow.api.schemas import Body
from escrow.domain.principal import Principal
from escrow.services import alerts


class AlertActionIn(Body):
    comment: Annotated[str, Field(max_length=2000)] = ""


class AlertController(KeyedController):
    path = "/api/v1/alerts"
    tags = ["bureau"]

    @read_route(
        "/",
        "Alerts raised by the scheduled checks (bureau users)",
        "The alerts",
        (403, 422),
        description=(
            "Most severe first, then newest first (at most 500). One alert per rule and subject: a "
            "condition that persists keeps its alert up to date, one that clears is resolved by the next "
            "sweep (every 15 minutes), one that returns is reopened — also after someone resolved it by hand."
        ),
    )
    def list_alerts(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        alert_state: Annotated[
            str | None, QueryParameter(name="state", description="open | acknowledged | resolved")
        ] = None,
        severity: Annotated[str | None, QueryParameter(description="critical | warning | info")] = None,
        rule: Annotated[str | None, QueryParameter(description="a rule name")] = None,
        account_no: Annotated[str | None, QueryParameter(description="a supervised account")] = None,
    ) -> tuple[alerts.AlertView, ...]:
        require_bureau(principal)
        return alerts.listing(
            services(request), state=alert_state, severity=severity, rule=rule, account_no=account_no
        )

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
