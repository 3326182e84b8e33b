"""Banks send their statements: camt.053/054 (XML), MT940 (text), CSV or JSON (CONTRACT.md §3, §4)."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import RawBody

from escrow.api import responses as R
from escrow.api.deps import authenticate, require_kind, run_idempotent, runtime
from escrow.api.responses import BEARER, POST_ERRORS, StatementOperation, answers
from escrow.domain.principal import Principal
from escrow.services import reconcile
from escrow.store.db import UnitOfWork

MAX_STATEMENT_BYTES = 256 * 1024 * 1024


def import_file(
    uow: UnitOfWork,
    ctx,
    data: bytes,
    principal: Principal,
    *,
    content_type: str | None = None,
    fmt: str | None = None,
    filename: str | None = None,
    progress=None,
) -> tuple[int, dict[str, Any]]:
    """Parse and reconcile one file; shared by the API and the CLI. FeedError and refusals propagate."""
    from escrow import feeds

    kind = fmt or feeds.detect_format(data, content_type, filename)
    statements = feeds.parse(data, kind, content_type=content_type, filename=filename)
    status, results = reconcile.import_statements(
        uow, ctx, statements, statements[0].format if statements else kind, principal, progress
    )
    body = dict(results[0])
    if len(results) > 1:
        body["statements"] = results
    return status, body


class StatementController(Controller):
    path = "/api/v1"
    tags = ["bank"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}

    @post(
        "/statements",
        sync_to_thread=True,
        status_code=201,
        request_max_body_size=MAX_STATEMENT_BYTES,
        summary="Send an end-of-day statement; it is reconciled against the books",
        operation_class=StatementOperation,
        responses=answers(
            {
                201: (R.StatementImport, "Imported and reconciled"),
                200: (R.StatementImport, "Imported before: the earlier results; nothing changed"),
            },
            *POST_ERRORS,
            403,
        ),
    )
    def import_statement(
        self, request: Request, body: RawBody, principal: NamedDependency[Principal]
    ) -> Response:
        require_kind(principal, "bank")
        ctx = runtime(request).ctx
        content_type = request.headers.get("content-type")
        fingerprint = {"sha256": hashlib.sha256(body).hexdigest(), "content_type": content_type}
        return run_idempotent(
            request,
            principal,
            fingerprint,
            lambda uow: import_file(uow, ctx, body, principal, content_type=content_type),
        )
