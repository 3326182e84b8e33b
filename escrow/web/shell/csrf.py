"""CSRF protection of every form of the browser UI, with the token bound to the session.

The token is an HMAC (SHA-256, keyed by ESCROW_SECRET_KEY) of the session cookie's random id: a page hands
it out in the form's `_csrf_token` field (`{{ csrf_input }}`, `csrf_token()` for HTMX's `X-CSRFToken`
header), and a POST (any unsafe method) must send back the token of the session its own cookie names — a
token of another session, a forged one or none is refused with 403 and the "form expired" page. Before any
session exists (the sign-in form) the token is bound the same way to a random pre-session cookie
(`escrow_csrf`), so that nobody can sign a visitor in to an account of theirs (login CSRF). Signing in opens
a new session, so the pre-session token is worth nothing afterwards. Cookie names and flags:
escrow.web.shell.cookies.

The API authenticates with bearer keys, not cookies; the buyer's look-ups only read: both are left out
(`EXCLUDE`). Litestar's own CSRF middleware (a double-submit cookie, not bound to a session) is not used.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from escrow.web.shell import cookies

FIELD = "_csrf_token"
HEADER = "x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXCLUDE = re.compile(r"^/(api/|schema|health|ready|metrics)")


def token_for(secret: str, binding: str, kind: str) -> str:
    """The token of a session (`kind` "session") or pre-session cookie ("pre") value."""
    return hmac.new(secret.encode(), f"{kind}:{binding}".encode(), hashlib.sha256).hexdigest()


class CSRFMiddleware:
    """ASGI middleware (wired in escrow.app with the secret)."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or EXCLUDE.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        session = cookies.read(request, cookies.SESSION)
        pre = cookies.read(request, cookies.CSRF)
        new_pre = None
        if session:
            expected = token_for(self.secret, session, "session")
        else:
            if not pre:
                pre = new_pre = secrets.token_urlsafe(32)
            expected = token_for(self.secret, pre, "pre")
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(HEADER)
            content_type, _ = request.content_type
            if not sent and content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
                sent = (await request.form()).get(FIELD)
            if new_pre or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
                raise PermissionDeniedException("CSRF token verification failed")
        ScopeState.from_scope(scope).csrf_token = expected
        if new_pre is None:
            await self.app(scope, receive, send)
            return
        cookie = cookies.make(request, cookies.CSRF, new_pre).to_header(header="")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
