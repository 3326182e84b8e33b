"""Rate-limit windows per client (`rate_limit_buckets`): requests and failed ones per key and window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from escrow.store.driver import DriverSQL
from escrow.store.models import RateLimitBucket
from escrow.store.repos.base import Repo

# One statement adds the request and reads the totals back, on SQLite (≥ 3.35) and PostgreSQL alike:
# concurrent requests of one client serialise on the row and each sees the count including itself
_UPSERT = (
    "INSERT INTO rate_limit_buckets (key, window_start, count, failures) VALUES ({0}, {0}, 1, {0}) "
    "ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_buckets.count + 1, "
    "failures = rate_limit_buckets.failures + {0} RETURNING count, failures"
)


def count_request(sql: DriverSQL, key: str, window_start: datetime, failure: int) -> tuple[int, int]:
    """Add one request (and `failure`, 0 or 1) to the window of `key`; returns its (count, failures)."""
    ((count, failures),) = sql.rows(_UPSERT, (key, sql.timestamp(window_start), failure, failure))
    return count, failures


class RateLimits(Repo):
    def failures_since(self, prefix: str, since: datetime) -> list[tuple[str, datetime, int, int]]:
        """(key, window start, failures, count) of the windows from `since` on with a failure, for keys
        starting with `prefix`; most failures first."""
        rows = self.session.execute(
            select(
                RateLimitBucket.key,
                RateLimitBucket.window_start,
                RateLimitBucket.failures,
                RateLimitBucket.count,
            )
            .where(
                RateLimitBucket.key.startswith(prefix, autoescape=True),
                RateLimitBucket.window_start >= since,
                RateLimitBucket.failures > 0,
            )
            .order_by(RateLimitBucket.failures.desc(), RateLimitBucket.window_start)
        )
        return [(key, start, failures, count) for key, start, failures, count in rows]

    def failure_totals_since(self, prefix: str, since: datetime, at_least: int) -> list[tuple[str, int]]:
        """(key, failures summed over its windows from `since` on) for the keys starting with `prefix`
        that failed at least `at_least` times, by key."""
        total = func.sum(RateLimitBucket.failures)
        rows = self.session.execute(
            select(RateLimitBucket.key, total)
            .where(RateLimitBucket.key.startswith(prefix), RateLimitBucket.window_start >= since)
            .group_by(RateLimitBucket.key)
            .having(total >= at_least)
            .order_by(RateLimitBucket.key)
        )
        return [(key, int(failures)) for key, failures in rows]

    def forgive(self, key: str, window_start: datetime) -> None:
        """One failure fewer in the window of `key` (never below zero)."""
        self.session.execute(
            update(RateLimitBucket)
            .where(
                RateLimitBucket.key == key,
                RateLimitBucket.window_start == window_start,
                RateLimitBucket.failures > 0,
            )
            .values(failures=RateLimitBucket.failures - 1)
        )

    def purge(self, before: datetime) -> int:
        """Delete the windows that started before `before`; returns how many."""
        result = self.session.execute(delete(RateLimitBucket).where(RateLimitBucket.window_start < before))
        return result.rowcount or 0
