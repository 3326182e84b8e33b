"""Per-client rate limits counted in the database, so that every worker process shares one count.

A fixed window per client: the row `(key, window_start)` of `rate_limit_buckets` counts the requests of the
window (`count`) and, for voucher look-ups, the failed ones (`failures`: no such voucher, or a wrong code).
One `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement adds the request and reads the totals back, in
the caller's transaction, on SQLite (≥ 3.35) and PostgreSQL alike: concurrent requests of one client, in
any worker, serialise on the row and each sees the count including itself.

Keys are `<purpose>:<client>`, e.g. `voucher-lookup:203.0.113.7`; the alert rule on failed look-ups reads
`failures` per key and window (`failures_since`). Old windows are deleted by `purge`. The SQL lives in
`escrow.store.repos.ratelimits`; the hot path sends it as plain driver SQL (`escrow.store.driver`).
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from escrow.store.db import Connection, UnitOfWork
from escrow.store.driver import DriverSQL
from escrow.store.repos.ratelimits import count_request

VOUCHER_LOOKUP = "voucher-lookup"
SIGN_IN = "sign-in"  # failed sign-ins per client address (password spraying): escrow.services.signin


@dataclass(frozen=True)
class Limit:
    """At most `requests` requests and `failures` failed ones per client in each window of `window` s."""

    requests: int = 60
    failures: int = 10
    window: int = 60

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Limit:
        """`ESCROW_LOOKUPS_PER_MINUTE` (default 60) and `ESCROW_FAILED_LOOKUPS_PER_MINUTE` (default 10), as
        read by escrow.config.Settings."""
        from escrow.config import Settings
        from escrow.errors import CliError

        try:
            return cls.of(Settings.from_env(env))
        except CliError as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def of(cls, settings: Any) -> Limit:
        return cls(requests=settings.lookups_per_minute, failures=settings.failed_lookups_per_minute)

    @classmethod
    def for_sign_in(cls, settings: Any) -> Limit:
        """Failed sign-ins per client address: `ESCROW_SIGNIN_FAILURES` (default 20) in each window of
        `ESCROW_SIGNIN_WINDOW_SECONDS` (default 900, a quarter of an hour), configured values (Settings). An
        office behind one address is not locked out by a few mistyped passwords, while password spraying (a
        few guesses against many user names, which the per-user lock-out does not see) stops after 20.
        Successful sign-ins are not limited."""
        return cls(
            requests=2**31 - 1, failures=settings.signin_failures, window=settings.signin_window_seconds
        )


@dataclass(frozen=True)
class Hit:
    """A client's totals in the current window, this request included."""

    count: int
    failures: int
    window_start: datetime
    retry_after: int  # seconds until the window ends
    limited: bool


@functools.lru_cache(maxsize=4096)  # the look-up's hot path: parsing an address costs more than its count
def client_key(purpose: str, address: str | None) -> str:
    """`purpose:address`; an IPv6 client counts by its /64 (one subscriber's network), so that it cannot
    dodge the limit by walking through its own addresses."""
    if not address:
        return f"{purpose}:unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{purpose}:{address[:100]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"{purpose}:{ip.ipv4_mapped}"
        return f"{purpose}:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"{purpose}:{ip}"


def window_of(now: datetime, window: int) -> datetime:
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % window, UTC)


def hit(
    sql: Connection | DriverSQL, key: str, limit: Limit, *, failed: bool, now: datetime | None = None
) -> Hit:
    """Count one request (and a failure if `failed`) for `key` in the current window and say whether the
    client is over either limit — one statement, in the caller's transaction (the caller commits). A unit of
    work passes `uow.session.connection()`."""
    sql = sql if isinstance(sql, DriverSQL) else DriverSQL.on(sql)
    now = now or datetime.now(UTC)
    start = window_of(now, limit.window)
    count, failures = count_request(sql, key, start, 1 if failed else 0)
    retry_after = max(1, int((start + timedelta(seconds=limit.window) - now).total_seconds() + 0.999))
    return Hit(
        count=count,
        failures=failures,
        window_start=start,
        retry_after=retry_after,
        limited=count > limit.requests or failures > limit.failures,
    )


def forgive(uow: UnitOfWork, key: str, window_start: datetime) -> None:
    """Take back one failure counted in advance (`hit(…, failed=True)` before the outcome was known, so
    that concurrent attempts in any worker cannot slip past the limit) once the attempt succeeded."""
    uow.rate_limits.forgive(key, window_start)


@dataclass(frozen=True)
class FailureCount:
    client: str
    window_start: datetime
    failures: int
    count: int


def failures_since(uow: UnitOfWork, since: datetime, purpose: str = VOUCHER_LOOKUP) -> list[FailureCount]:
    """Failed look-ups per client and window from `since` on (windows with at least one failure), most
    failures first: what the alert rule on guessed voucher numbers watches."""
    prefix = f"{purpose}:"
    rows = uow.rate_limits.failures_since(prefix, since)
    return [
        FailureCount(
            client=key.removeprefix(prefix),
            window_start=start if start.tzinfo else start.replace(tzinfo=UTC),
            failures=failures,
            count=count,
        )
        for key, start, failures, count in rows
    ]


def purge(uow: UnitOfWork, before: datetime) -> int:
    """Delete the windows that started before `before`; returns how many. The caller commits."""
    return uow.rate_limits.purge(before)
