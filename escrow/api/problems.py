"""Every error as RFC 9457 problem+json: type, title, status, detail, and `errors` for validation failures.
Never a stack trace; a bug answers a bare 500 problem and is logged."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from escrow.domain.errors import FIELD_WORDS, DomainError, FieldError
from escrow.feeds import FeedError
from escrow.services.failures import DataError, IntegrityError, OperationalError

log = logging.getLogger("escrow.api")
PROBLEM = "application/problem+json"
TYPE_BASE = "https://escrow.invalid/problems/"  # documented in the README; not a live page

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    503: "Service unavailable",
}
_KINDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    503: "unavailable",
}


class ProblemException(HTTPException):
    """Raised by handlers for errors outside the domain (headers, idempotency)."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.kind = kind
        self.errors = errors or []


def problem(
    status: int,
    kind: str,
    detail: str,
    *,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind,
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [_error_entry(e) for e in errors]
    if extra:
        body.update(extra)
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers)


def _error_entry(error: FieldError) -> dict[str, Any]:
    """`{field, message}` as CONTRACT.md fixes them; a coded error adds its `code` and `params`, the same
    outcome the web pages put in words (escrow.catalog.outcomes)."""
    entry: dict[str, Any] = {"field": error.field, "message": error.message}
    if error.code:
        entry.update(code=error.code, params=dict(error.params))
    return entry


def _domain(_: Request, exc: DomainError) -> Response:
    extra: dict[str, Any] | None = {"rule": exc.rule} if exc.rule else None
    blockers = getattr(exc, "blockers", None)  # escrow.domain.lifecycle.Refused: what stands in the way
    if blockers:
        extra = {**(extra or {}), "blockers": [b.to_json() for b in blockers]}
    return problem(exc.status, exc.kind, exc.detail, title=exc.title, errors=exc.errors, extra=extra)


def _field_from(key: str | None, message: str) -> str:
    named = re.search(r"parameter '([\w-]+)'", message)
    if named:
        return named.group(1)
    if key and key != "body":
        return str(key)
    match = re.search(r"at `\$\.([\w.\[\]]+)`", message)
    return match.group(1) if match else "body"


def _coded(exc: ValidationException) -> dict[str, tuple[str, dict[str, str]]]:
    """Field key → (code, params) of the schema errors raised with a field-error code of the domain (a
    PydanticCustomError whose type is a FIELD_WORDS code, e.g. `above_largest_amount`)."""
    coded: dict[str, tuple[str, dict[str, str]]] = {}
    for error in getattr(exc.__cause__, "errors", None) or []:
        if isinstance(error, dict) and error.get("type") in FIELD_WORDS:
            key = ".".join(str(part) for part in error.get("loc", ()))
            coded[key] = (error["type"], {k: str(v) for k, v in (error.get("ctx") or {}).items()})
    return coded


def _validation(_: Request, exc: ValidationException) -> Response:
    extra = exc.extra if isinstance(exc.extra, list) else []
    coded = _coded(exc)
    errors = []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid")).removeprefix("Value error, ")
            code, params = coded.get(str(item.get("key")), (None, {}))
            errors.append(FieldError(_field_from(item.get("key"), message), message, code, params))
    detail = str(exc.detail or "")
    if "JSON" in detail and not errors:  # the body is not JSON at all
        return problem(400, "malformed-body", "the request body is not valid JSON")
    if not errors:
        errors = [FieldError(_field_from(None, detail), detail or "invalid")]
    sources = {item.get("source") for item in extra if isinstance(item, dict)}
    if sources == {"path"}:  # an id out of range, like a path that matches no route
        return problem(404, "not-found", "no such resource")
    if (sources and sources <= {"query", "path", "header"}) or "query parameter" in detail + str(extra):
        return problem(400, "bad-request", "invalid query or path parameter", errors=errors)
    return problem(422, "validation-error", "the request body is invalid", errors=errors)


def _http(_: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ProblemException):
        return problem(exc.status_code, exc.kind, str(exc.detail), errors=exc.errors, headers=exc.headers)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", "Bearer")
    detail = str(exc.detail) if exc.detail else _TITLES.get(status, "Error")
    fallback = "bad-request" if status < 500 else "internal-error"  # a status none of _KINDS names
    return problem(status, _KINDS.get(status, fallback), detail, headers=headers or None)


def _feed(_: Request, exc: Exception) -> Response:
    field = f"line {exc.line}" if getattr(exc, "line", None) else (getattr(exc, "field", None) or "body")
    return problem(
        422,
        "statement-invalid",
        str(exc),
        title="The statement cannot be read",
        errors=[FieldError(field, str(exc))],
    )


def _integrity(_: Request, exc: IntegrityError) -> Response:
    # A race lost to another request (its unique constraint won); the client may retry.
    log.info("integrity conflict: %s", exc.orig)
    return problem(409, "conflict", "the request conflicts with a concurrent change; retry it")


def _data(_: Request, exc: DataError) -> Response:
    # e.g. an id beyond the column's range in a path: no such thing exists
    log.info("data error: %s", exc.orig)
    return problem(404, "not-found", "no such resource (a value is out of range)")


def _operational(_: Request, exc: OperationalError) -> Response:
    log.warning("database unavailable or busy: %s", exc.orig)
    return problem(503, "unavailable", "the database is busy; retry shortly", headers={"Retry-After": "1"})


def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal-error", "an internal error occurred", title="Internal error"
    )


EXCEPTION_HANDLERS = {
    FeedError: _feed,
    DomainError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    IntegrityError: _integrity,
    DataError: _data,
    OperationalError: _operational,
    Exception: _unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "ProblemException", "problem"]
