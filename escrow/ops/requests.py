"""Every HTTP request's id, access line and counts, wrapped around the whole application (routing, the
exception handlers and not-found answers included), so that every answer — an error too — carries the
`X-Request-ID` header.

The id is the client's `X-Request-ID` when it is 1–128 visible ASCII characters (a proxy's or a bank's
correlation id), else a new random one: a header that could forge or split a log line is never logged. The
route is Litestar's path template (`/api/v1/projects/{project_id:int}`), never the raw path, so that ids in
paths do not multiply the metrics' series; a path no route matches counts as `unmatched`.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from escrow.ops import metrics
from escrow.ops.logs import request_id

HEADER = b"x-request-id"
MAX_LENGTH = 128
UNMATCHED = "unmatched"
# the methods the metrics name; any other (a client may send any token) counts as OTHER, so that no client
# can add series
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
access_log = logging.getLogger("escrow.access")


def valid_request_id(value: bytes | None) -> str | None:
    """The client's id if it is 1–128 visible ASCII characters (0x21–0x7E), else None."""
    if not value or len(value) > MAX_LENGTH or any(b < 0x21 or b > 0x7E for b in value):
        return None
    return value.decode("ascii")


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestContext:
    """ASGI wrapper: the request id (context variable and response header), the access line, the metrics."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or ()).get(HEADER)
        rid = valid_request_id(sent) or new_request_id()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode("ascii"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED
            method = scope.get("method", "")
            metrics.request_answered(method if method in METHODS else "OTHER", route, status, seconds)
            client = scope.get("client")
            access_log.info(
                "%s %s %s %.1f ms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "client": client[0] if client else None,
                },
            )
            request_id.reset(token)
