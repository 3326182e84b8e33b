"""`@idempotent`: every API write runs once per (principal, Idempotency-Key).

The decorated handler calls one write use case with `services(request)`, the context that carries this
request's guard (escrow.services.idempotency); the use case claims the key and stores the answer inside its
own transaction. A repeat with the same body gets the stored answer (`Idempotent-Replayed: true`) and changes
nothing; the same key with another body is 422; a missing or malformed key is 400.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.serialization import encode_json, get_serializer
from pydantic import BaseModel

from escrow.api.problems import ProblemException
from escrow.services.idempotency import ClaimLost, IdempotencyGuard, Replay

KEY = re.compile(r"^[\x21-\x7e]{1,64}$")
JSON = "application/json"
_GUARD = "idempotency_guard"


def key_of(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if key is None:
        raise ProblemException(400, "idempotency-key-missing", "every POST needs an Idempotency-Key header")
    if not KEY.match(key):
        raise ProblemException(
            400, "idempotency-key-invalid", "the Idempotency-Key must be 1–64 visible ASCII characters"
        )
    return key


def request_hash(request: Request, data: Any) -> str:
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    if isinstance(payload, bytes):  # a raw body (a statement file): its digest and how it is encoded
        payload = {
            "sha256": hashlib.sha256(payload).hexdigest(),
            "content_type": request.headers.get("content-type"),
        }
    canonical = json.dumps([request.method, request.url.path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def guard_of(request: Request) -> IdempotencyGuard | None:
    return request.state.get(_GUARD)


def answer_once(guard: IdempotencyGuard, attempt: Callable[[], object], name: str) -> Response:
    """Run `attempt`, one transaction writing under `guard`, and answer what the guard kept: a replay of the
    stored answer if the key was used before, else the new one. A claim lost to a concurrent request with the
    same key is retried (then its record replays); past three tries the answer is 409."""
    for _attempt in range(3):
        try:
            attempt()
        except Replay as replay:
            return Response(
                content=replay.body,
                status_code=replay.code,
                media_type=JSON,
                headers={"Idempotent-Replayed": "true"},
            )
        except ClaimLost:
            continue  # a concurrent request with this key won; read its record
        if guard.answered is None:  # a handler that wrote without its guard: a bug, never an answer
            raise RuntimeError(f"{name} did not write through services(request)")
        code, body = guard.answered
        return Response(content=body, status_code=code, media_type=JSON)
    raise ProblemException(409, "conflict", "the request conflicts with a concurrent one; retry it")


def idempotent(
    handler: Callable[..., Any] | None = None,
    *,
    status: Callable[[Any], int] | None = None,
    present: Callable[[Any], Any] | None = None,
) -> Any:
    """Decorate a POST handler that takes `request`, `principal` and (optionally) `data`. `status` chooses the
    answer's status code from the view (default: the route's status code); `present` turns the view into the
    body answered (e.g. wire names that are Python keywords), default the view itself."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Response:
            request: Request = kwargs["request"]
            serializer = get_serializer(request.route_handler.resolve_type_encoders())

            def answer(view: object) -> tuple[int, bytes]:
                code = status(view) if status else request.route_handler.status_code
                body = present(view) if present else view
                return code, encode_json(body, serializer=serializer)

            guard = IdempotencyGuard(
                principal_ref=kwargs["principal"].ref,
                key=key_of(request),
                request_hash=request_hash(request, kwargs.get("data", kwargs.get("body"))),
                answer=answer,
            )
            request.state[_GUARD] = guard
            return answer_once(guard, lambda: fn(*args, **kwargs), fn.__qualname__)

        return run

    return decorate(handler) if handler is not None else decorate
