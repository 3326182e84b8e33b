from __future__ import annotations

from typing import Any

from litestar import Request, get

from escrow.api.deps import runtime
from escrow.api.responses import Health, answers
from escrow.store.db import ping


@get(
    "/health",
    sync_to_thread=True,
    tags=["health"],
    summary="Liveness and database check",
    responses=answers({200: (Health, "The service and its database answer")}),
)
def health(request: Request) -> dict[str, Any]:
    rt = runtime(request)
    ping(rt.engine)
    return {"status": "ok", "database": rt.engine.dialect.name, "rulebooks": [b.id for b in rt.ctx.rulebooks]}
