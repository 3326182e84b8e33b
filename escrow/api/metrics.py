"""`GET /metrics`: Prometheus text format (escrow.ops.metrics), for the loopback address only, or for a
scraper that sends `Authorization: Bearer $ESCROW_METRICS_TOKEN`.

Anyone else gets 404, as for a path that does not exist: the endpoint does not tell strangers it is there.
The token is compared in constant time. Behind a reverse proxy on the same host the client is the address
the proxy forwards (`--forwarded-allow-ips`); a proxy that does not send `X-Forwarded-For` makes every
client look local — set the token and keep /metrics off the proxy there.
"""

from __future__ import annotations

import hmac
import ipaddress

from litestar import Request, Response, get

from escrow.api.deps import runtime
from escrow.api.problems import problem
from escrow.ops import metrics
from escrow.services import operations


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def may_scrape(request: Request, token: str) -> bool:
    if is_loopback(request.client.host if request.client else None):
        return True
    if not token:
        return False
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


@get("/metrics", sync_to_thread=True, include_in_schema=False)
def scrape(request: Request) -> Response:
    ctx = runtime(request).ctx
    if not may_scrape(request, ctx.settings.metrics_token):
        return problem(404, "not-found", "no such resource")
    found = operations.figures(ctx)
    body = metrics.exposition(found.open_alerts, found.job_runs, found.webhook_backlog)
    return Response(body, media_type=metrics.CONTENT_TYPE)
