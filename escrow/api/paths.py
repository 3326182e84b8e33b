"""Document numbers with `/` in a URL path (CONTRACT.md §7): `/api/v1/contracts/HT%2F2026%2F0001/notices`.

An ASGI server decodes the path before the application sees it (`scope["path"]` holds
`/api/v1/contracts/HT/2026/0001/notices`; only `scope["raw_path"]` keeps `%2F`), so a router that splits on
`/` finds no route. Two small steps make every route with a `{…:str}` parameter answer for such numbers,
whatever the server (uvicorn, the test client):

1. before routing (`EncodedSlashes.__call__` of the app), a path whose raw form holds an encoded slash is
   decoded segment by segment, each encoded slash becoming `SLASH`, a private-use character that no
   document number may contain (escrow.domain.identifiers refuses it);
2. after routing (`restore_slashes`, the app's first middleware), the path parameters and the path get
   their `/` back, so handlers, pages and logs see the number as it was written.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from litestar import Litestar
from litestar.types import ASGIApp, Receive, Scope, Send

SLASH = "\ue000"  # Unicode private use: never part of a document number


def routing_path(raw_path: bytes) -> str | None:
    """The decoded path to route on, encoded slashes kept inside their segment as SLASH; None when the raw
    path has no encoded slash (the server's decoded path is right as it is) or is not ASCII."""
    raw_path = raw_path.split(b"?", 1)[0]  # some clients (httpx's test transport) pass the query along
    if b"%2f" not in raw_path.lower():
        return None
    try:
        text = raw_path.decode("ascii")
    except UnicodeDecodeError:
        return None
    return "/".join(unquote(segment).replace("/", SLASH) for segment in text.split("/"))


def restore(value: Any) -> Any:
    return value.replace(SLASH, "/") if isinstance(value, str) else value


def restore_slashes(app: ASGIApp) -> ASGIApp:
    """Middleware: the routed request's path parameters and path with their `/` back."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and SLASH in scope.get("path", ""):
            scope["path"] = restore(scope["path"])
            # a new dict: the router caches the one it returned, per path
            scope["path_params"] = {name: restore(v) for name, v in scope.get("path_params", {}).items()}
        await app(scope, receive, send)

    return middleware


class EncodedSlashes(Litestar):
    """The application, routing paths whose raw form has `%2F` on that raw form (see the module's doc)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (raw := scope.get("raw_path")):
            path = routing_path(raw)
            if path is not None:
                root = scope.get("root_path", "")
                prefix = root if root and scope["path"].startswith(root) and not path.startswith(root) else ""
                scope["path"] = prefix + path
        await super().__call__(scope, receive, send)
