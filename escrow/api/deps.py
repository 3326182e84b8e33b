"""What handlers share: the runtime, the authenticated principal, and the idempotent transaction runner."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import NotAuthorizedException
from litestar.params import PathParameter
from pydantic import BaseModel

from escrow.api.idempotency import guard_of, request_hash
from escrow.api.problems import ProblemException
from escrow.domain.errors import FieldError, Forbidden
from escrow.domain.principal import Principal
from escrow.services.context import Context, Engine
from escrow.services.idempotency import ClaimLost, IdempotencyGuard, Replay
from escrow.services.parties import principal_of_key

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,64}$")
# A resource id in a path. Beyond the id columns' range nothing can exist: the problem handler answers 404.
Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
JSON = "application/json"


@dataclass
class Runtime:
    engine: Engine
    ctx: Context


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def services(request: Request) -> Context:
    """The context a handler passes to its use case: with this request's idempotency guard, if any."""
    ctx = runtime(request).ctx
    guard = guard_of(request)
    return ctx.guarded(guard) if guard is not None else ctx


def authenticate(request: Request) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("an API key is required: Authorization: Bearer <key>")
    principal = principal_of_key(runtime(request).ctx, token.strip())
    if principal is None:
        raise NotAuthorizedException("the API key is not valid")
    return principal


def query_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProblemException(
            400,
            "bad-request",
            f"{name} must be a date such as 2026-11-22",
            errors=[FieldError(name, "not a valid date (YYYY-MM-DD)")],
        ) from None


def require_kind(principal: Principal, kind: str) -> None:
    """Bank endpoints need a bank key, developer endpoints a developer key."""
    if principal.kind != kind:
        raise Forbidden(f"this endpoint is for {kind} keys")


def require_bureau(principal: Principal, *roles: str) -> None:
    """Bureau endpoints: only bureau users, and of the named roles (any bureau role if none named)."""
    if not principal.is_bureau:
        raise Forbidden("this endpoint is for housing bureau users")
    if roles and principal.role not in roles:
        raise Forbidden(f"this action needs the role {' or '.join(roles)}")


def run_idempotent(
    request: Request,
    principal: Principal,
    data: BaseModel | dict | None,
    effect: Callable[[Any], tuple[int, dict[str, Any]]],
) -> Response:
    """Run a POST's effect, given the use case's unit of work, once per (principal, Idempotency-Key); for the
    handlers not yet written as `@idempotent` use cases. The effect runs under the same guard as theirs
    (escrow.services.idempotency): the key is claimed and the answer kept in the effect's transaction, a
    repeat replays it, and a refusal (4xx) keeps nothing.
    """
    key = request.headers.get("idempotency-key")
    if key is None:
        raise ProblemException(400, "idempotency-key-missing", "every POST needs an Idempotency-Key header")
    if not IDEMPOTENCY_KEY.match(key):
        raise ProblemException(
            400, "idempotency-key-invalid", "the Idempotency-Key must be 1–64 visible ASCII characters"
        )

    def answer(result: tuple[int, dict[str, Any]]) -> tuple[int, bytes]:
        status, body = result
        return status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    guard = IdempotencyGuard(principal.ref, key, request_hash(request, data), answer)
    ctx = runtime(request).ctx.guarded(guard)
    for _attempt in range(3):
        try:
            with ctx.writing() as uow:
                ctx.commit(uow, effect(uow))
        except Replay as replay:
            return Response(
                content=replay.body,
                status_code=replay.code,
                media_type=JSON,
                headers={"Idempotent-Replayed": "true"},
            )
        except ClaimLost:
            continue  # a concurrent request with this key won; read its record
        status, body = guard.answered
        return Response(content=body, status_code=status, media_type=JSON)
    raise ProblemException(409, "conflict", "the request conflicts with a concurrent request; retry it")
