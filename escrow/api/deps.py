"""What handlers share: the runtime, the authenticated principal, and the idempotent transaction runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import NotAuthorizedException
from litestar.params import PathParameter
from pydantic import BaseModel

from escrow.api.idempotency import answer_once, guard_of, key_of, request_hash
from escrow.api.problems import ProblemException
from escrow.domain.errors import FieldError, Forbidden
from escrow.domain.principal import Principal
from escrow.services.context import Context, Engine
from escrow.services.idempotency import IdempotencyGuard
from escrow.services.parties import principal_of_key

# A resource id in a path. Beyond the id columns' range nothing can exist: the problem handler answers 404.
Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


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
    (escrow.services.idempotency) and answers as they do: the key is claimed and the answer kept in the
    effect's transaction, a repeat replays it, and a refusal (4xx) keeps nothing.
    """

    def answer(result: tuple[int, dict[str, Any]]) -> tuple[int, bytes]:
        status, body = result
        return status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    guard = IdempotencyGuard(principal.ref, key_of(request), request_hash(request, data), answer)
    ctx = runtime(request).ctx.guarded(guard)

    def attempt() -> None:
        with ctx.writing() as uow:
            ctx.commit(uow, effect(uow))

    return answer_once(guard, attempt, getattr(effect, "__qualname__", "effect"))
