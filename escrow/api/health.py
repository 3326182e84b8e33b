from __future__ import annotations

from litestar import Request, Response, get

from escrow.api.deps import runtime, services
from escrow.api.problems import problem
from escrow.services import database, operations


@get(
    "/health",
    sync_to_thread=True,
    tags=["health"],
    summary="Liveness and database check",
    response_description="The service and its database answer",
)
def health(request: Request) -> database.Health:
    return database.health(services(request))


# An operator's endpoint, like /metrics: outside the integrators' OpenAPI document (README "Configuration")
@get("/ready", sync_to_thread=True, include_in_schema=False)
def ready(request: Request) -> Response[operations.Readiness]:
    """200 once the database answers and its schema is at the head revision of this version's migrations;
    otherwise 503 problem+json whose `reason` says which (`database_unreachable`, `schema_behind`) and whose
    `detail` says what to do. A load balancer sends traffic only to a ready worker."""
    state = operations.readiness(runtime(request).engine)
    if not state.ready:
        return problem(
            503,
            "not-ready",
            state.detail,
            title="Not ready",
            extra={"reason": state.reason, "revision": state.revision, "head": state.head},
            headers={"Retry-After": "5"},
        )
    return Response(state)
