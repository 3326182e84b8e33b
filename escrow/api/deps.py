"""What handlers share: the runtime, the service context, the authenticated principal, and query checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar import Request
from litestar.exceptions import NotAuthorizedException
from litestar.params import PathParameter

from escrow.api.idempotency import guard_of
from escrow.api.problems import ProblemException
from escrow.domain.errors import FieldError, Forbidden
from escrow.domain.principal import Principal
from escrow.services.context import Context, Engine
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
    """The principal of the request's API key, read afresh: a revoked key is refused at once."""
    return _principal(request, cached=False)


def authenticate_cached(request: Request) -> Principal:
    """As `authenticate`, from the per-process cache of principals: only for a use case that re-checks its
    key in its own transaction (posting a deposit: escrow.store.repos.deposits `target`)."""
    return _principal(request, cached=True)


def _principal(request: Request, *, cached: bool) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("an API key is required: Authorization: Bearer <key>")
    principal = principal_of_key(runtime(request).ctx, token.strip(), cached=cached)
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
