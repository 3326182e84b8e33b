"""Alerts for the housing bureau: the list, acknowledging and resolving (CONTRACT.md §3, Bureau)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter
from pydantic import Field

from escrow.api.deps import Id, authenticate, require_bureau, run_idempotent, runtime
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    Out,
    Timestamp,
    answers,
)
from escrow.api.schemas import Body
from escrow.domain.principal import Principal
from escrow.services import alerts
from escrow.store.db import UnitOfWork

State = Literal["open", "acknowledged", "resolved"]
Severity = Literal["critical", "warning", "info"]


class AlertSubject(Out):
    type: Annotated[str, Field(description="what the alert concerns", examples=["account", "deposit"])]
    id: Annotated[
        str, Field(description="its account number, id or client address", examples=["6222000011112222"])
    ]


class AlertOut(Out):
    alert_id: int
    rule: Annotated[str, Field(description=" | ".join(alerts.RULES), examples=["suspense_overdue"])]
    title: Annotated[str, Field(description="the rule in words")]
    severity: Severity
    owner_role: Annotated[str, Field(description="the bureau role expected to act", examples=["reviewer"])]
    state: State
    subject: AlertSubject
    account_no: str | None
    message: str
    link: Annotated[str, Field(description="the page of what it concerns", examples=["/projects/1"])]
    created_at: Timestamp
    updated_at: Timestamp
    resolved_at: Timestamp | None
    acknowledged_by: Annotated[str | None, Field(description="username of who acknowledged or resolved it")]


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
        responses=answers({200: (list[AlertOut], "The alerts")}, *GET_ERRORS, 403, 422),
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
    ) -> list[dict[str, Any]]:
        require_bureau(principal)
        with UnitOfWork(runtime(request).engine, readonly=True) as uow:
            return alerts.listing(uow, state=alert_state, severity=severity, rule=rule, account_no=account_no)

    @post(
        "/{alert_id:int}/acknowledgement",
        sync_to_thread=True,
        status_code=200,
        summary="Acknowledge an alert: someone is on it (bureau users; the body is optional)",
        operation_class=IdempotentOperation,
        responses=answers({200: (AlertOut, "The acknowledged alert")}, *POST_ERRORS, 403, 404),
    )
    def acknowledge(
        self,
        request: Request,
        alert_id: Id,
        principal: NamedDependency[Principal],
        data: JSONBody[AlertActionIn | None] = None,
    ) -> Response:
        require_bureau(principal)
        comment = data.comment if data else ""
        return run_idempotent(
            request, principal, data, lambda uow: (200, alerts.acknowledge(uow, alert_id, principal, comment))
        )

    @post(
        "/{alert_id:int}/resolution",
        sync_to_thread=True,
        status_code=200,
        summary="Resolve an alert (bureau users; the body is optional)",
        description="If its condition still holds, the next sweep reopens it.",
        operation_class=IdempotentOperation,
        responses=answers({200: (AlertOut, "The resolved alert")}, *POST_ERRORS, 403, 404),
    )
    def resolve(
        self,
        request: Request,
        alert_id: Id,
        principal: NamedDependency[Principal],
        data: JSONBody[AlertActionIn | None] = None,
    ) -> Response:
        require_bureau(principal)
        comment = data.comment if data else ""
        return run_idempotent(
            request, principal, data, lambda uow: (200, alerts.resolve(uow, alert_id, principal, comment))
        )
