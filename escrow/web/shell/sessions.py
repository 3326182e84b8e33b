"""Who is signed in, and the guard that checks the permission table.

    @get("/projects", guards=[requires("projects.view")])

`requires` sends a visitor who is not signed in to /login (keeping where they wanted to go) and answers a
signed-in user without the permission with the 403 page. Inside a handler, `user(request)` is the
`SignedIn` record and `principal(request)` the Principal that services take. Sessions live in the database
(escrow.services.signin); the cookie holds their random id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from escrow.domain.principal import Principal
from escrow.services import signin
from escrow.web.shell import cookies, i18n, pages, permissions

SESSION_COOKIE = cookies.SESSION  # the bare name; `__Host-escrow_session` over HTTPS (shell.cookies)


class SignInRequired(NotAuthorizedException):
    """Not signed in (or the session ended): go to the sign-in page."""

    def __init__(self, expired: bool = False):
        super().__init__("sign in first")
        self.expired = expired


def _load(connection: ASGIConnection) -> tuple[signin.SignedIn | None, bool]:
    cookie = cookies.read(connection, cookies.SESSION)
    if not cookie:
        return None, False
    chosen = i18n.pick(connection.query_params.get("lang"))  # the switch holds for the rest of the session
    found = signin.visit(pages.ctx(connection), cookie, pages.now(), chosen)
    return found.user, found.expired


async def signed_in(connection: ASGIConnection) -> signin.SignedIn | None:
    """The signed-in user, loaded once per request."""
    state = connection.scope.setdefault("state", {})
    if pages.USER_STATE not in state:
        state[pages.USER_STATE], state["web_session_expired"] = await pages.run(_load, connection)
    return state[pages.USER_STATE]


def user(request: Request) -> signin.SignedIn:
    found = pages.current_user(request)
    if found is None:  # a handler without a `requires` guard asked: treat as not signed in
        raise SignInRequired()
    return found


def principal(request: Request) -> Principal:
    return user(request).principal()


def may(request: Request, action: str) -> bool:
    found = pages.current_user(request)
    return found is not None and permissions.allowed(found.role, action)


def requires(*actions: str) -> Callable[[ASGIConnection, BaseRouteHandler], Any]:
    """A guard: signed in, and allowed every named action."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        found = await signed_in(connection)
        if found is None:
            raise SignInRequired(expired=connection.scope["state"].get("web_session_expired", False))
        for action in actions:
            if not permissions.allowed(found.role, action):
                raise PermissionDeniedException(f"{found.role} may not {action}")

    guard.__name__ = f"requires({', '.join(actions)})"
    return guard
