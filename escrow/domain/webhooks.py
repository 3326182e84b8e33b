"""Webhooks (CONTRACT.md §10): which events there are and who may hear them, how a delivery is signed, when a
failed one is tried again, and which URLs may be subscribed.

Invariants (tests/integration/test_webhooks.py, tests/http/test_api_webhooks.py):
- OUTBOX_WITH_THE_EVENT: a delivery row is written in the transaction of the event it tells, so a committed
  event has its deliveries (they survive a crash before they are sent) and a rolled-back one has none;
- ONLY_THE_OWNER: a webhook belongs to one bank or one developer; it hears only its owner's events (a bank
  the instructions of the accounts it supervises, a developer its projects' deposits and decisions), and
  another principal's webhook is not found;
- SIGNED_WITH_A_TIME: every delivery carries `Escrow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
  "t.body">` under the webhook's current secret (a rotated secret signs nothing any more);
- TRIED_FOR_A_DAY: a delivery that fails is tried again with back-off until a 2xx answer, for at least
  RETRY_FOR after the event; only then is it marked failed (and stays in the deliveries log).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from escrow.domain.errors import FieldError

OUTBOX_WITH_THE_EVENT = "webhook.outbox_with_the_event"
ONLY_THE_OWNER = "webhook.only_the_owner"
SIGNED_WITH_A_TIME = "webhook.signed_with_a_time"
TRIED_FOR_A_DAY = "webhook.tried_for_a_day"

INSTRUCTION_CREATED = "instruction.created"
DEPOSIT_POSTED = "deposit.posted"
RELEASE_DECIDED = "release.decided"
REFUND_DECIDED = "refund.decided"

# Who may subscribe to which events: the bank of the account hears its payment instructions, the developer of
# the project the money of its account and the decisions on its applications.
AUDIENCE: dict[str, str] = {
    INSTRUCTION_CREATED: "bank",
    DEPOSIT_POSTED: "developer",
    RELEASE_DECIDED: "developer",
    REFUND_DECIDED: "developer",
}
EVENTS: tuple[str, ...] = tuple(AUDIENCE)

SIGNATURE_HEADER = "Escrow-Signature"
EVENT_ID_HEADER = "Escrow-Event-Id"

# Back-off (configured values, not a rule of the measures): 1 minute after the first failure, doubling, at
# most 1 hour apart; tried until RETRY_FOR has passed since the event (CONTRACT §10: at least 24 hours).
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
RETRY_FOR = timedelta(hours=24)

URL_MAX = 2000
EVENTS_MAX = len(EVENTS)


def events_for(kind: str) -> tuple[str, ...]:
    """The events a bank's (or a developer's) webhook may subscribe to."""
    return tuple(e for e, audience in AUDIENCE.items() if audience == kind)


def next_attempt(attempts: int, failed_at: datetime, event_at: datetime) -> datetime | None:
    """When to try a delivery again after its `attempts`-th failure at `failed_at`; None once RETRY_FOR has
    passed since the event (it is then given up: failed)."""
    if failed_at - event_at >= RETRY_FOR:
        return None
    return failed_at + min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 12), LONGEST_WAIT)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Escrow-Signature` header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does (and the tests): the header's v1 is the HMAC of its t and the body."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def url_errors(url: str) -> list[FieldError]:
    """What is wrong with a webhook URL: it must be an absolute http or https URL with a host, without user
    name or password (a credential would be stored and shown with the webhook; the signature authenticates
    the sender instead) and without a fragment, at most URL_MAX characters."""
    if not url or url != url.strip() or any(c.isspace() or ord(c) < 32 for c in url):
        return [FieldError("url", "an http or https URL without spaces")]
    if len(url) > URL_MAX:
        return [FieldError.at_most_chars("url", URL_MAX)]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return [FieldError("url", "not a valid URL")]
    if parts.scheme not in ("http", "https"):
        return [FieldError("url", "must start with http:// or https://")]
    if not parts.hostname:
        return [FieldError("url", "must name a host")]
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return [FieldError("url", "must not contain a user name or password")]
    if parts.fragment:
        return [FieldError("url", "must not contain a fragment (#…)")]
    return []


def event_errors(kind: str, events: list[str]) -> list[FieldError]:
    """The events must be known, meant for this kind of owner, at least one and each once."""
    allowed = events_for(kind)
    if not events:
        return [FieldError("events", f"at least one of {', '.join(allowed)}")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, event in enumerate(events):
        if event not in allowed:
            errors.append(FieldError(f"events[{i}]", f"one of {', '.join(allowed)}"))
        elif event in seen:
            errors.append(FieldError.coded(f"events[{i}]", "duplicate", value=event))
        seen.add(event)
    return errors
