"""Plain SQL sent straight to the database driver, for the hot paths where SQLAlchemy's statement building
and result machinery cost more than the statement itself: the public voucher look-up and the rate-limit
count it updates (docs/BENCHMARKS.md)."""

from __future__ import annotations

import functools
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine


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
        return _sqlite_text(moment) if self.sqlite else moment


@functools.lru_cache(maxsize=64)  # a rate-limit window start: the same one for a minute of look-ups
def _sqlite_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Busy(Exception):
    """`counting_at_once` found the SQLite file locked by another writer: nothing was counted; do it again
    where waiting costs nothing (`counting_transaction`, in a worker thread)."""


# One connection per engine for `counting_at_once`, used by the event loop's thread only.
_AT_ONCE: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()


@contextmanager
def counting_at_once(engine: Engine) -> Iterator[DriverSQL]:
    """SQLite only, for a caller on the event loop: statements that each commit on their own (the count is
    one upsert, atomic by itself), on a connection of its own that never waits for a lock: when another
    writer holds the file (a long statement import, another process) it raises Busy at once instead of
    stalling the loop, and the caller goes through `counting_transaction` in a thread. No pool checkout,
    no BEGIN and COMMIT: a third of the look-up's database cost (docs/BENCHMARKS.md)."""
    raw = _AT_ONCE.get(engine)
    if raw is None:
        raw = _AT_ONCE[engine] = engine.raw_connection()  # kept: checked out for the engine's life
        raw.cursor().execute("PRAGMA busy_timeout=0")
    cursor = raw.cursor()
    try:
        yield DriverSQL(cursor, "sqlite")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise Busy from exc
        raise
    finally:
        cursor.close()


_SQLITE_WRITERS: dict[int, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _writer_lock(engine: Engine) -> AbstractContextManager[Any]:
    """SQLite: one write transaction at a time per process, queued on a lock here rather than in SQLite's
    busy handler, which sleeps in growing steps and would turn 32 concurrent look-ups into long waits.
    PostgreSQL needs none (the bucket's row lock orders a client's look-ups; a lock here measured slower)."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _LOCKS_LOCK:
        return _SQLITE_WRITERS.setdefault(id(engine), threading.Lock())


@contextmanager
def counting_transaction(engine: Engine) -> Iterator[DriverSQL]:
    """A write transaction of its own on a pooled driver connection, committed when the block ends (rolled
    back if it raises), for writes that only count — a crash may lose the last moments of counting, never
    money."""
    sqlite = engine.dialect.name == "sqlite"
    with _writer_lock(engine):
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if sqlite:  # the engine's connections leave transactions to us (escrow.store.db)
                cursor.execute("BEGIN IMMEDIATE")
            else:  # a count need not wait for the disk: the client's row lock is then held for the
                # statement, not for an fsync
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield DriverSQL(cursor, engine.dialect.name)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()  # back to the pool
