from __future__ import annotations

from typing import Any

from litestar import Request, get
from sqlalchemy import text

from escrow.api.deps import runtime
from escrow.api.responses import Health, answers


@get(
    "/health",
    sync_to_thread=True,
    tags=["health"],
    summary="Liveness and database check",
    responses=answers({200: (Health, "The service and its database answer")}),
)
def health(request: Request) -> dict[str, Any]:
    rt = runtime(request)
    with rt.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "database": rt.engine.dialect.name, "rulebooks": [b.id for b in rt.ctx.rulebooks]}
