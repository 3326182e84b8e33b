"""What every request and answer passes through at the edge of the app (wired once, in escrow.app).

**The client's address and scheme behind proxies.** `behind_proxies` runs uvicorn's `ProxyHeadersMiddleware`
in front of everything else, trusting the proxies named by `ESCROW_FORWARDED_ALLOW_IPS` (a comma-separated
list of addresses or networks, `*` for any; default `127.0.0.1`, a proxy on the same machine). A request from
a trusted proxy gets the client address from `X-Forwarded-For` (the nearest address that is not itself a
trusted proxy) and the scheme from `X-Forwarded-Proto`; from anyone else those headers are ignored. Every
consumer then reads the ASGI scope (`request.client.host`, `scope["scheme"]`): the per-address rate limits
(the public look-ups', the sign-in's — escrow.api.public.client_address), the `__Host-`/Secure cookie names
and HSTS. `escrow serve` hands the same setting to uvicorn; applying it twice changes nothing, since after
the first pass the client is the buyer, not a trusted proxy.

**Security headers on every answer** (`security_headers`, a `before_send` hook, so that error pages, 404s
and static files get them too): `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
`Referrer-Policy: same-origin` (a voucher number and its code travel in /verify's query string: no other
site sees them), a Content-Security-Policy — for pages only this site's scripts, styles, images and forms,
no inline script or style, no framing (`frame-ancestors 'none'`); for the API and health answers nothing at
all may load — and `Strict-Transport-Security` when the request came over HTTPS. The interactive API
documentation under /schema loads its viewer from a CDN, so it gets `frame-ancestors 'none'` only. A header
a handler set itself is kept.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

DEFAULT_TRUSTED = "127.0.0.1"

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = "frame-ancestors 'none'"
HSTS = "max-age=31536000"  # a year (RFC 6797); sub-domains are the bureau's other sites: not included

_API_PREFIXES = ("/api/", "/health", "/ready", "/metrics")


def trusted_proxies(setting: str) -> list[str]:
    """The proxies whose X-Forwarded-For and X-Forwarded-Proto count (ESCROW_FORWARDED_ALLOW_IPS, a
    comma-separated list; Settings.forwarded_allow_ips)."""
    return [item.strip() for item in setting.split(",") if item.strip()] or [DEFAULT_TRUSTED]


def behind_proxies(app: ASGIApp, trusted: list[str]) -> ASGIApp:
    return ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type]


def policy_for(path: str) -> str:
    if path.startswith(_API_PREFIXES):
        return API_POLICY
    if path.startswith("/schema"):
        return DOCS_POLICY
    return PAGE_POLICY


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
    wanted = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "content-security-policy": policy_for(scope.get("path", "")),
    }
    if scope.get("scheme") == "https":
        wanted["strict-transport-security"] = HSTS
    for name, value in wanted.items():
        if headers.get(name) is None:
            headers.add(name, value)
