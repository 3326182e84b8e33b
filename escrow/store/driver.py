"""Plain SQL sent straight to the database driver, for the hot paths where SQLAlchemy's statement building
and result machinery cost more than the statement itself: the public voucher look-up and the rate-limit
count it updates (docs/BENCHMARKS.md)."""

from __future__ import annotations

import threading
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
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment


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
