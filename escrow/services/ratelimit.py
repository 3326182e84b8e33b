"""Per-client rate limits counted in the database, so that every worker process shares one count.

A fixed window per client: the row `(key, window_start)` of `rate_limit_buckets` counts the requests of the
window (`count`) and, for voucher look-ups, the failed ones (`failures`: no such voucher, or a wrong code).
One `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement adds the request and reads the totals back, in
the caller's transaction, on SQLite (≥ 3.35) and PostgreSQL alike: concurrent requests of one client, in
any worker, serialise on the row and each sees the count including itself.

Keys are `<purpose>:<client>`, e.g. `voucher-lookup:203.0.113.7`; the alert rule on failed look-ups reads
`failures` per key and window (`failures_since`). Old windows are deleted by `purge`.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from escrow.store.db import UnitOfWork
from escrow.store.models import RateLimitBucket

VOUCHER_LOOKUP = "voucher-lookup"


@dataclass(frozen=True)
class Limit:
    """At most `requests` requests and `failures` failed ones per client in each window of `window` s."""

    requests: int = 60
    failures: int = 10
    window: int = 60

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Limit:
        """`ESCROW_LOOKUPS_PER_MINUTE` (default 60) and `ESCROW_FAILED_LOOKUPS_PER_MINUTE` (default 10)."""
        env = dict(os.environ if env is None else env)

        def number(name: str, default: int) -> int:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
            return int(raw)

        return cls(
            requests=number("ESCROW_LOOKUPS_PER_MINUTE", cls.requests),
            failures=number("ESCROW_FAILED_LOOKUPS_PER_MINUTE", cls.failures),
        )


@dataclass(frozen=True)
class Hit:
    """A client's totals in the current window, this request included."""

    count: int
    failures: int
    window_start: datetime
    retry_after: int  # seconds until the window ends
    limited: bool


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


class DriverSQL:
    """Plain SQL with positional parameters sent to the database driver, on a SQLAlchemy connection or a
    DBAPI cursor: the public look-up's hot path skips SQLAlchemy's statement building and result machinery.
    Statements are written with `{0}` where a parameter goes (`?` on SQLite, `%s` on psycopg)."""

    def __init__(self, target: Connection | Any, dialect: str):
        self.target, self.sqlite = target, dialect == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    @classmethod
    def on(cls, connection: Connection) -> DriverSQL:
        return cls(connection, connection.dialect.name)

    def rows(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        sql = statement.format(self.mark)
        if isinstance(self.target, Connection):
            return [tuple(row) for row in self.target.exec_driver_sql(sql, params)]
        self.target.execute(sql, params)
        return self.target.fetchall()

    def timestamp(self, moment: datetime) -> Any:
        """As the column stores it: SQLAlchemy keeps SQLite DateTime values as naive UTC text."""
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment


_UPSERT = (
    "INSERT INTO rate_limit_buckets (key, window_start, count, failures) VALUES ({0}, {0}, 1, {0}) "
    "ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_buckets.count + 1, "
    "failures = rate_limit_buckets.failures + {0} RETURNING count, failures"
)


def hit(
    sql: Connection | DriverSQL, key: str, limit: Limit, *, failed: bool, now: datetime | None = None
) -> Hit:
    """Count one request (and a failure if `failed`) for `key` in the current window and say whether the
    client is over either limit — one statement, in the caller's transaction (the caller commits). A unit of
    work passes `uow.session.connection()`."""
    sql = sql if isinstance(sql, DriverSQL) else DriverSQL.on(sql)
    now = now or datetime.now(UTC)
    start = window_of(now, limit.window)
    failure = 1 if failed else 0
    ((count, failures),) = sql.rows(_UPSERT, (key, sql.timestamp(start), failure, failure))
    retry_after = max(1, int((start + timedelta(seconds=limit.window) - now).total_seconds() + 0.999))
    return Hit(
        count=count,
        failures=failures,
        window_start=start,
        retry_after=retry_after,
        limited=count > limit.requests or failures > limit.failures,
    )


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
    rows = uow.session.execute(
        select(
            RateLimitBucket.key, RateLimitBucket.window_start, RateLimitBucket.failures, RateLimitBucket.count
        )
        .where(
            RateLimitBucket.key.startswith(prefix, autoescape=True),
            RateLimitBucket.window_start >= since,
            RateLimitBucket.failures > 0,
        )
        .order_by(RateLimitBucket.failures.desc(), RateLimitBucket.window_start)
    )
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
    result = uow.session.execute(delete(RateLimitBucket).where(RateLimitBucket.window_start < before))
    return result.rowcount or 0
