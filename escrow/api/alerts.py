"""Alerts for the housing bureau: the list, acknowledging and resolving (CONTRACT.md §3, Bureau)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter
from pydantic import Field

from escrow.api.deps import Id, authenticate, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    problems,
)
from escrow.api.schemas import Body
from escrow.domain.principal import Principal
from escrow.services import alerts


class AlertActionIn(Body):
    comment: Annotated[str, Field(max_length=2000)] = ""


class AlertController(Controller):
    path = "/api/v1/alerts"
    tags = ["bureau"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}

    @get(
        "/",
        sync_to_thread=True,
        summary="Alerts raised by the scheduled checks (bureau users)",
        description=(
            "Most severe first, then newest first (at most 500). One alert per rule and subject: a "
            "condition that persists keeps its alert up to date, one that clears is resolved by the next "
            "sweep (every 15 minutes), one that returns is reopened — also after someone resolved it by hand."
        ),
        operation_class=DocumentedOperation,  # no Litestar 400: every error is problem+json
        response_description="The alerts",
        responses=problems(*GET_ERRORS, 403, 422),
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

    @post(
        "/{alert_id:int}/acknowledgement",
        sync_to_thread=True,
        status_code=200,
        summary="Acknowledge an alert: someone is on it (bureau users; the body is optional)",
        operation_class=IdempotentOperation,
        response_description="The acknowledged alert",
        responses=problems(*POST_ERRORS, 403, 404),
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

    @post(
        "/{alert_id:int}/resolution",
        sync_to_thread=True,
        status_code=200,
        summary="Resolve an alert (bureau users; the body is optional)",
        description="If its condition still holds, the next sweep reopens it.",
        operation_class=IdempotentOperation,
        response_description="The resolved alert",
        responses=problems(*POST_ERRORS, 403, 404),
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
