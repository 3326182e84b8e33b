"""The methods a path answers, said the same way everywhere (RFC 9110 §9.3.2, §9.3.7, §15.5.6):

- `OPTIONS` on any path answers 204 with `Allow` listing every method the path has, whichever controller
  declares it. Litestar's own OPTIONS handler lists only the methods of the first controller that declared
  the path (`/api/v1/releases`: POST in one, GET in another), so its `Allow` is replaced by the route's;
- `HEAD` is answered wherever `GET` is: the GET handler runs and its headers are sent without the body;
- a `405` carries the same `Allow`.

`Allow` lists the methods sorted, `HEAD` with every `GET`.
"""

from __future__ import annotations

from typing import Any

from litestar.types import Message, Receive, Scope, Send

from escrow.api.paths import EncodedSlashes


def allow_value(methods: set[str]) -> str:
    """The `Allow` header for a path with these methods: HEAD with GET, OPTIONS always, sorted."""
    allowed = {m.upper() for m in methods} | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


def _listed(header: bytes) -> set[str]:
    return {m.strip() for m in header.decode("latin-1").split(",") if m.strip()}


class AllowedMethods(EncodedSlashes):
    """The application (the `EncodedSlashes` Litestar), answering OPTIONS, HEAD and 405 as the module says."""

    _methods: dict[str, set[str]] | None = None

    def route_methods(self, path_template: str) -> set[str] | None:
        """The methods of the route with this template (every handler of every controller on it)."""
        if self._methods is None:
            found: dict[str, set[str]] = {}
            for route in self.routes:
                methods = getattr(route, "methods", None)
                if methods:
                    found.setdefault(getattr(route, "path_format", route.path), set()).update(methods)
            self._methods = found
        return self._methods.get(path_template)

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope["method"] = "GET"  # the GET handler answers; only its headers are sent
        await super().__call__(scope, receive, self._sender(scope, send, head=head))

    def _sender(self, scope: Scope, send: Send, *, head: bool) -> Send:
        options = scope["method"] == "OPTIONS"

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 405 or (options and status in (200, 204)):
                    message = {**message, "headers": self._allow(scope, message, status)}
            elif message["type"] == "http.response.body" and head and message.get("body"):
                message = {**message, "body": b""}
            await send(message)

        return sender

    def _allow(self, scope: Scope, message: Message, status: int) -> list[tuple[bytes, bytes]]:
        headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
        given = [v for k, v in message.get("headers", []) if k.lower() == b"allow"]
        methods: set[str] | None = None
        if status != 405:
            template = scope.get("path_template")
            methods = self.route_methods(template) if isinstance(template, str) else None
        if methods is None:  # a 405: the router named the methods of the path it found
            methods = set().union(*(_listed(v) for v in given)) if given else set()
        if methods:
            headers.append((b"allow", allow_value(methods).encode("latin-1")))
        return headers
