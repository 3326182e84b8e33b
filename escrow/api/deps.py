"""What handlers share: the runtime, the authenticated principal, and the idempotent transaction runner."""

from __future__ import annotations

import hashlib
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
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from escrow.api.idempotency import guard_of
from escrow.api.problems import ProblemException
from escrow.domain.errors import FieldError, Forbidden
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.services.parties import principal_for_key
from escrow.store.db import UnitOfWork
from escrow.store.models import IdempotencyRecord

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
    with UnitOfWork(runtime(request).engine, readonly=True) as uow:
        principal = principal_for_key(uow, token.strip())
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


def _request_hash(request: Request, data: BaseModel | dict | None) -> str:
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    canonical = json.dumps([request.method, request.url.path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise ProblemException(
            422, "idempotency-key-reused", "this Idempotency-Key was used with a different request body"
        )
    return Response(
        content=record.response_body.encode(),
        status_code=record.status_code,
        media_type=JSON,
        headers={"Idempotent-Replayed": "true"},
    )


def run_idempotent(
    request: Request,
    principal: Principal,
    data: BaseModel | dict | None,
    effect: Callable[[UnitOfWork], tuple[int, dict[str, Any]]],
) -> Response:
    """Run a POST's effect once per (principal, Idempotency-Key).

    The key is claimed by inserting its record in the same transaction as the effect, and the response is
    stored before the explicit commit: two concurrent requests with one key produce one effect (the loser
    waits on the unique index, then replays). Refusals (4xx) are not stored: they changed nothing, and a
    retry is judged afresh.
    """
    key = request.headers.get("idempotency-key")
    if key is None:
        raise ProblemException(400, "idempotency-key-missing", "every POST needs an Idempotency-Key header")
    if not IDEMPOTENCY_KEY.match(key):
        raise ProblemException(
            400, "idempotency-key-invalid", "the Idempotency-Key must be 1–64 visible ASCII characters"
        )
    request_hash = _request_hash(request, data)
    engine = runtime(request).engine
    for _attempt in range(3):
        with UnitOfWork(engine) as uow:
            existing = uow.idempotency.get(principal.ref, key)
            if existing is not None:
                return _replay(existing, request_hash)
            record = IdempotencyRecord(
                principal=principal.ref, key=key, request_hash=request_hash, status_code=0, response_body=""
            )
            try:
                uow.idempotency.add(record)
            except IntegrityError:
                continue  # a concurrent request with this key won; read its record
            status, body = effect(uow)
            record.status_code = status
            record.response_body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            uow.commit()
            return Response(content=record.response_body.encode(), status_code=status, media_type=JSON)
    raise ProblemException(409, "conflict", "the request conflicts with a concurrent request; retry it")
