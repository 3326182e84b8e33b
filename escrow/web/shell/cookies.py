"""The browser UI's cookies and their names.

Over HTTPS (the scheme as the server resolves it: uvicorn's, or the one a trusted proxy forwarded — see
escrow.api.edge; or whenever ESCROW_PUBLIC_URL is https) every cookie is `Secure`, `Path=/`, without
`Domain`, and named with the `__Host-` prefix, so that no other host (a sibling sub-domain, a plain-HTTP man
in the middle) can set or overwrite it (RFC 6265bis, cookie name prefixes). Browsers refuse a `__Host-`
cookie without `Secure`, so on plain HTTP (a laptop demo, local development) the same cookies go by their
bare names. Both are HttpOnly and SameSite=Lax:

- session: `__Host-escrow_session` over HTTPS, `escrow_session` over HTTP — the session's random id;
- pre-session CSRF: `__Host-escrow_csrf` / `escrow_csrf` — a random value the sign-in form's CSRF token is
  bound to before any session exists (escrow.web.shell.csrf).

A cookie is read only under the name of the request's scheme: an HTTP cookie does not count over HTTPS.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

SESSION = "escrow_session"
CSRF = "escrow_csrf"
HOST_PREFIX = "__Host-"


def over_https(connection: ASGIConnection) -> bool:
    """The request came over HTTPS, or the site's configured public address (ESCROW_PUBLIC_URL) is https —
    then browsers only ever reach it over HTTPS, even when a proxy that is not trusted hides the scheme."""
    if connection.scope.get("scheme") == "https":
        return True
    runtime = connection.scope["app"].state.get("runtime")
    return runtime is not None and runtime.ctx.settings.public_base_url.startswith("https://")


def name(connection: ASGIConnection, bare: str) -> str:
    """The cookie's name for this request's scheme."""
    return HOST_PREFIX + bare if over_https(connection) else bare


def read(connection: ASGIConnection, bare: str) -> str | None:
    return connection.cookies.get(name(connection, bare)) or None


def make(connection: ASGIConnection, bare: str, value: str, *, max_age: int | None = None) -> Cookie:
    """HttpOnly, SameSite=Lax, Path=/ and no Domain; `Secure` and `__Host-` over HTTPS."""
    return Cookie(
        key=name(connection, bare),
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=over_https(connection),
        path="/",
    )
