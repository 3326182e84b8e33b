"""Sending webhook deliveries from their stored rows (the outbox), outside any request's transaction: the
job `webhook-deliver` claims the deliveries due (each webhook's oldest pending one, so a webhook hears its
events in order), POSTs each as JSON with its signature, and records it as delivered (a 2xx answer) or failed
(anything else, or no answer within TIMEOUT: tried again with back-off, escrow.domain.webhooks.next_attempt,
for at least a day after the event). A crash between sending and recording sends that delivery again after
its claim lapses: at least once, never lost; receivers de-duplicate by `Escrow-Event-Id`.

Each round claims at most a batch; the job goes round again while deliveries keep coming due (the next of a
webhook is due once the one before it is delivered), at most ROUNDS times a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from escrow import __version__
from escrow.domain import webhooks as rules
from escrow.services import webhooks
from escrow.services.context import Context

TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # seconds; a receiver answers quickly and works afterwards
ROUNDS = 20


@dataclass(frozen=True)
class Sent:
    delivered: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.delivered} webhook deliveries sent, {self.failed} failed (to be tried again)"


def headers(out: webhooks.Outgoing, now: datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"escrow-webhooks/{__version__}",
        rules.EVENT_ID_HEADER: out.event_id,
        rules.SIGNATURE_HEADER: rules.signature(out.secret, int(now.timestamp()), out.body),
    }


def send_one(client: httpx.Client, ctx: Context, out: webhooks.Outgoing, now: datetime) -> bool:
    """POST one delivery and record what came of it; never raises for the receiver's failures."""
    try:
        answer = client.post(out.url, content=out.body, headers=headers(out, now))
    except httpx.HTTPError as exc:
        webhooks.failed(ctx, out.delivery_id, now, None, f"{type(exc).__name__}: {exc}")
        return False
    if 200 <= answer.status_code < 300:
        webhooks.delivered(ctx, out.delivery_id, now, answer.status_code)
        return True
    webhooks.failed(ctx, out.delivery_id, now, answer.status_code, f"HTTP {answer.status_code}")
    return False


def send_due(ctx: Context, now: datetime | None = None) -> Sent:
    """Send every delivery due at `now`; a failure is recorded on its row, never raised."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    delivered = failed = 0
    # no redirects followed (the subscribed URL is the one that hears), no proxy from the environment
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
        for _ in range(ROUNDS):
            due = webhooks.claim_due(ctx, now)
            if not due:
                break
            for out in due:
                if send_one(client, ctx, out, now):
                    delivered += 1
                else:
                    failed += 1
    return Sent(delivered, failed)
