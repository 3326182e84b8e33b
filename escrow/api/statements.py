"""Banks send their statements: camt.053/054 (XML, or a ZIP of such files), MT940 (text), CSV or JSON
(CONTRACT.md §3, §4, §9). A body no parser reads (a PDF, an image) is 415; a file that cannot be read, 422."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import RawBody

from escrow.api.deps import require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.problems import ProblemException
from escrow.api.responses import StatementOperation
from escrow.api.routes import KeyedController, write_route
from escrow.domain.errors import FieldError
from escrow.domain.principal import Principal
from escrow.feeds import UnsupportedMedia
from escrow.services import reconcile

MAX_STATEMENT_BYTES = 256 * 1024 * 1024


def _statement_status(view: reconcile.StatementImport) -> int:
    """201 when something was imported; 200 when every statement was imported before (nothing changed)."""
    return 201 if view.imported_now else 200


class StatementController(KeyedController):
    tags = ["bank"]

    @write_route(
        "/statements",
        "Send an end-of-day statement; it is reconciled against the books",
        errors=(403,),
        reads_json=False,
        success={
            201: (reconcile.StatementsImport, "Imported and reconciled"),
            200: (reconcile.StatementsImport, "Imported before: the earlier results; nothing changed"),
        },
        request_max_body_size=MAX_STATEMENT_BYTES,
        operation_class=StatementOperation,
    )
    @idempotent(status=_statement_status)
    def import_statement(
        self, request: Request, body: RawBody, principal: NamedDependency[Principal]
    ) -> reconcile.StatementImport:
        require_kind(principal, "bank")
        content_type = request.headers.get("content-type")
        try:
            return reconcile.import_file(services(request), body, principal, content_type=content_type)
        except UnsupportedMedia as exc:
            raise ProblemException(
                415, "unsupported-media-type", str(exc), [FieldError("Content-Type", str(exc))]
            ) from None
