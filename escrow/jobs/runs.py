"""Claiming a run, and leadership among schedulers.

A run is claimed by inserting its `job_runs` row (unique per job id and period) in a transaction of its own:
whoever commits it first runs the job; everyone else finds the row and skips. A run that failed, or that
has been `running` longer than STALE (its scheduler died), may be claimed again — the jobs are idempotent, so
a retry finishes what the first attempt began.

On PostgreSQL the acting scheduler also holds a session-level advisory lock on a connection of its own; a
second scheduler that cannot take it stands by and takes over when the first one's connection goes away.
SQLite has one writer at a time anyway, and an embedded deployment runs one process.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, or_, text, update
from sqlalchemy.exc import IntegrityError

from escrow.store.db import UnitOfWork
from escrow.store.models import JobRun, utcnow

STALE = timedelta(hours=2)
SCHEDULER_LOCK = 0x45534353  # "ESCS"


def claim(engine: Engine, job_id: str, period: str) -> int | None:
    """The id of the run claimed for (job, period), or None if another run has it or finished it."""
    now = utcnow()
    with UnitOfWork(engine) as uow:
        run = JobRun(job_id=job_id, period=period, status="running", started_at=now)
        try:
            uow.session.add(run)
            uow.session.flush()
            uow.commit()
            return run.id
        except IntegrityError:
            uow.rollback()
    with UnitOfWork(engine) as uow:  # the row exists: take it over only if it failed or went stale
        claimed = uow.session.execute(
            update(JobRun)
            .where(
                JobRun.job_id == job_id,
                JobRun.period == period,
                or_(
                    JobRun.status == "failed",
                    and_(JobRun.status == "running", JobRun.started_at < now - STALE),
                ),
            )
            .values(status="running", started_at=now, finished_at=None, detail="")
            .returning(JobRun.id)
        ).scalar()
        uow.commit()
        return claimed


def finish(engine: Engine, run_id: int, status: str, detail: str) -> None:
    with UnitOfWork(engine) as uow:
        uow.session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, detail=detail[:4000], finished_at=utcnow())
        )
        uow.commit()


class Leadership:
    """Whether this scheduler may act: always on SQLite; on PostgreSQL while it holds the advisory lock."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn: Connection | None = None
        self._mutex = threading.Lock()

    @property
    def applies(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        if not self.applies:
            return True
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    self._conn.commit()
                    return True
                except Exception:  # the connection died and the lock with it: try to take it again
                    self._drop()
            conn = self.engine.connect()
            try:
                held = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK}).scalar()
                conn.commit()  # the lock is the session's; no transaction stays open
            except Exception:
                conn.invalidate()
                conn.close()
                raise
            if held:
                self._conn = conn
                return True
            conn.close()
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never return a connection that may hold the lock to the pool
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def release(self) -> None:
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEDULER_LOCK})
                    self._conn.commit()
                except Exception:
                    pass
                self._drop()


def local_now() -> datetime:
    return datetime.now().astimezone()
