from __future__ import annotations

from litestar import Request, get

from escrow.api.deps import services
from escrow.services import database


@get(
    "/health",
    sync_to_thread=True,
    tags=["health"],
    summary="Liveness and database check",
    response_description="The service and its database answer",
)
def health(request: Request) -> database.Health:
    return database.health(services(request))
