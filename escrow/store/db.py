"""Engines and the unit of work.

SQLite: WAL, foreign keys on, and every write transaction starts with BEGIN IMMEDIATE so that money-moving
writes are serialised (pysqlite's own transaction handling is switched off so we can issue it). PostgreSQL:
writers lock the account row with SELECT … FOR UPDATE (see `repos.projects.Projects.lock_account`).

The unit of work carries one of each repository (`store/repos/`) and read model (`store/reads/`) under a
fixed name. The layers above the store take the types they name from here — `Engine`, `Connection` and the
driver errors they catch (`IntegrityError`, `OperationalError`, `DataError`) — and never import SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from escrow.store.reads.actors import Actors
from escrow.store.reads.admin import AdminReads
from escrow.store.reads.alerts import AlertReads
from escrow.store.reads.audit_trail import AuditTrail
from escrow.store.reads.bank import BankReads
from escrow.store.reads.caps import CapFigures
from escrow.store.reads.listings import Listings
from escrow.store.reads.ops import OpsReads
from escrow.store.reads.overview import OverviewReads
from escrow.store.reads.pages import PageReads
from escrow.store.reads.portal import PortalReads
from escrow.store.repos.adoptions import Adoptions
from escrow.store.repos.alerts import Alerts
from escrow.store.repos.amount_changes import AmountChanges
from escrow.store.repos.contracts import Contracts
from escrow.store.repos.deposits import Deposits
from escrow.store.repos.documents import Documents
from escrow.store.repos.freezes import Freezes
from escrow.store.repos.fund_plans import FundPlans
from escrow.store.repos.guarantees import Guarantees
from escrow.store.repos.held_uploads import HeldUploads
from escrow.store.repos.holds import Holds
from escrow.store.repos.idempotency import Idempotency
from escrow.store.repos.jobs import ArchivedReports, JobRuns
from escrow.store.repos.journal import Journal
from escrow.store.repos.notifications import Notifications
from escrow.store.repos.parties import Parties
from escrow.store.repos.payments import Instructions, Refunds, Releases
from escrow.store.repos.projects import Projects, Stats
from escrow.store.repos.ratelimits import RateLimits
from escrow.store.repos.report_jobs import ReportJobs
from escrow.store.repos.rulebooks import RulebookRecords
from escrow.store.repos.stagings import Stagings
from escrow.store.repos.statements import Statements
from escrow.store.repos.web_sessions import WebSessions
from escrow.store.repos.webhooks import Webhooks

__all__ = [
    "Connection",
    "DataError",
    "Engine",
    "IntegrityError",
    "OperationalError",
    "UnitOfWork",
    "is_sqlite",
    "make_engine",
    "ping",
    "unit_of_work",
]


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


def ping(engine: Engine) -> None:
    """A round trip to the database (the health check); raises the driver's error if it does not answer."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


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
        session = self.session
        self.parties = Parties(session)
        self.projects = Projects(session)
        self.contracts = Contracts(session)
        self.deposits = Deposits(session)
        self.statements = Statements(session)
        self.stagings = Stagings(session)
        self.journal = Journal(session)
        self.holds = Holds(session)
        self.stats = Stats(session)
        self.rulebook_records = RulebookRecords(session)
        self.idempotency = Idempotency(session)
        self.releases = Releases(session)
        self.refunds = Refunds(session)
        self.instructions = Instructions(session)
        self.freezes = Freezes(session)
        self.guarantees = Guarantees(session)
        self.web_sessions = WebSessions(session)
        self.documents = Documents(session)
        self.alerts = Alerts(session)
        self.rate_limits = RateLimits(session)
        self.report_jobs = ReportJobs(session)
        self.job_runs = JobRuns(session)
        self.archived_reports = ArchivedReports(session)
        self.adoptions = Adoptions(session)
        self.fund_plans = FundPlans(session)
        self.amount_changes = AmountChanges(session)
        self.held_uploads = HeldUploads(session)
        self.notifications = Notifications(session)
        self.webhooks = Webhooks(session)
        # read models
        self.listings = Listings(session)
        self.cap_figures = CapFigures(session)
        self.alert_reads = AlertReads(session)
        self.overview = OverviewReads(session)
        self.audit_trail = AuditTrail(session)
        self.page_reads = PageReads(session)
        self.portal_reads = PortalReads(session)
        self.admin_reads = AdminReads(session)
        self.bank_reads = BankReads(session)
        self.actors = Actors(session)
        self.ops_reads = OpsReads(session)
        return self

    def commit(self) -> None:
        self.session.commit()

    def snapshot(self) -> None:
        """Read everything of this transaction from one snapshot (PostgreSQL's REPEATABLE READ; SQLite's
        read transaction is one already). Call it before the first query."""
        if self.dialect == "postgresql":
            self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

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
