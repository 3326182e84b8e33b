"""How the keyed API declares its endpoints: one base controller, and a read and a write route.

Every endpoint for a bank, a developer or the bureau lives under /api/v1, names its principal by a bearer API
key, runs its (synchronous) use case off the event loop and documents only the problems it answers; every
write is a POST that documents its Idempotency-Key. Written once here, a handler states only what is its own:
path, summary, what it answers and which problems beyond the shared ones.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec

from escrow.api import paging
from escrow.api import responses as documented
from escrow.api.deps import authenticate
from escrow.api.problems import problem
from escrow.api.responses import JSON
from escrow.domain.errors import FieldError

# The problems most endpoints answer beyond the shared ones: another kind of key, and no such resource.
NOT_YOURS = (403, 404)


class KeyedController(Controller):
    """A controller whose handlers take `principal`: the bank, developer or bureau user of the API key."""

    path = "/api/v1"
    security = documented.BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}


def read_route(
    path: str,
    summary: str,
    described: str | None = None,
    errors: tuple[int, ...] = NOT_YOURS,
    *,
    success: dict[int, tuple[Any, str] | ResponseSpec] | None = None,
    **options: Any,
) -> Any:
    """A GET answering `described` (the success body is the handler's return type; or, where the return type
    does not say it, `success`: status → (body type, description), or a spec such as a PDF's) or a
    problem."""
    return get(
        path,
        sync_to_thread=True,
        summary=summary,
        response_description=described,
        responses=documented.answers(success or {}, *documented.GET_ERRORS, *errors),
        **{"operation_class": documented.DocumentedOperation, **options},
    )


def write_route(
    path: str,
    summary: str,
    described: str | None = None,
    errors: tuple[int, ...] = NOT_YOURS,
    *,
    status_code: int = 201,
    success: dict[int, tuple[Any, str]] | None = None,
    reads_json: bool = True,
    changes: bool = True,
    **options: Any,
) -> Any:
    """An idempotent POST answering `described` (or, where it may answer more than one status, `success`:
    status → (body type, description)) or a problem. Its body is JSON (`reads_json`): one sent as another
    media type is 415 before anything reads it; a handler reading another format says `reads_json=False`
    and answers its own 415. A POST that only computes an answer and changes nothing (`changes=False`, e.g.
    a deposit's check) takes no Idempotency-Key: one sent is ignored (CONTRACT.md §10)."""
    if reads_json:
        options.setdefault("before_request", json_only)
    operation = documented.IdempotentOperation if changes else documented.DocumentedOperation
    return post(
        path,
        sync_to_thread=True,
        status_code=status_code,
        summary=summary,
        response_description=described,
        responses=documented.answers(success or {}, *documented.POST_ERRORS, *errors),
        **{"operation_class": operation, **options},
    )


def json_only(request: Request) -> Response | None:
    """before_request of a JSON endpoint: a body declared as another media type (a form, XML, text) is a
    415 problem naming Content-Type. No Content-Type at all is read as JSON, as before."""
    declared = request.headers.get("content-type")
    if declared is None:
        return None
    mime = declared.split(";", 1)[0].strip().lower()
    if mime == JSON or (mime.startswith("application/") and mime.endswith("+json")):
        return None
    detail = f"the body must be JSON (Content-Type: {JSON}), not {mime or 'an empty media type'}"
    return problem(415, "unsupported-media-type", detail, errors=[FieldError("Content-Type", detail)])


def list_route(
    path: str,
    summary: str,
    described: str | None = None,
    errors: tuple[int, ...] = NOT_YOURS,
    *,
    keys: int = 1,
    **options: Any,
) -> Any:
    """A GET answering a list a page at a time (escrow.api.paging): the handler takes `page: Page` and
    answers `paged(request, …)`; its store query orders by `keys` order keys, the last of them the id.
    A limit or cursor it cannot take is 422."""
    return read_route(path, summary, described, (*errors, 422), **{**paging.list_options(keys), **options})
