"""Engines and the unit of work.

SQLite: WAL, foreign keys on, and every write transaction starts with BEGIN IMMEDIATE so that money-moving
writes are serialised (pysqlite's own transaction handling is switched off so we can issue it). PostgreSQL:
writers lock the account row with SELECT … FOR UPDATE (see repositories.lock_account).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from escrow.store import listings
from escrow.store import repositories as repos


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kw: Any) -> Engine:
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)
        _sqlite_setup(engine)
        return engine
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip on every checkout (measured in docs/BENCHMARKS.md). A connection that
    # died with a database restart fails once (503, retry) and SQLAlchemy then invalidates the pool.
    kw.setdefault("pool_recycle", 300)
    return create_engine(url, **kw)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class UnitOfWork:
    """One transaction. Rolls back unless `commit()` was called (cosmicpython's unit of work)."""

    def __init__(self, engine: Engine, *, readonly: bool = False):
        self.engine = engine
        self.readonly = readonly
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        bind = self.engine
        if self.readonly and self.engine.dialect.name == "sqlite":
            bind = self.engine.execution_options(sqlite_begin="DEFERRED")
        self.session = Session(bind=bind, expire_on_commit=False, autoflush=True)
        self.session.begin()
        self.parties = repos.Parties(self.session)
        self.projects = repos.Projects(self.session)
        self.contracts = repos.Contracts(self.session)
        self.deposits = repos.Deposits(self.session)
        self.statements = repos.Statements(self.session)
        self.journal = repos.Journal(self.session)
        self.holds = repos.Holds(self.session)
        self.stats = repos.Stats(self.session)
        self.rulebook_records = repos.RulebookRecords(self.session)
        self.idempotency = repos.Idempotency(self.session)
        self.releases = repos.Releases(self.session)
        self.refunds = repos.Refunds(self.session)
        self.instructions = repos.Instructions(self.session)
        self.freezes = repos.Freezes(self.session)
        self.web_sessions = repos.WebSessions(self.session)
        self.documents = repos.Documents(self.session)
        self.listings = listings.Listings(self.session)
        return self

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def __exit__(self, *exc: Any) -> None:
        # close() rolls back whatever was not committed; loaded rows stay readable (detached, not expired)
        self.session.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@contextmanager
def unit_of_work(engine: Engine, *, readonly: bool = False) -> Iterator[UnitOfWork]:
    with UnitOfWork(engine, readonly=readonly) as uow:
        yield uow
