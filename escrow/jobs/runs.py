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

from escrow.store.db import Engine, IntegrityError, UnitOfWork
from escrow.store.locks import SessionLock
from escrow.store.models import JobRun, utcnow

STALE = timedelta(hours=2)
SCHEDULER_LOCK = 0x45534353  # "ESCS"


def claim(engine: Engine, job_id: str, period: str) -> int | None:
    """The id of the run claimed for (job, period), or None if another run has it or finished it."""
    now = utcnow()
    with UnitOfWork(engine) as uow:
        run = JobRun(job_id=job_id, period=period, status="running", started_at=now)
        try:
            uow.job_runs.add(run)
            uow.commit()
            return run.id
        except IntegrityError:
            uow.rollback()
    with UnitOfWork(engine) as uow:  # the row exists: take it over only if it failed or went stale
        claimed = uow.job_runs.take_over(job_id, period, now, stale_before=now - STALE)
        uow.commit()
        return claimed


def finish(engine: Engine, run_id: int, status: str, detail: str) -> None:
    with UnitOfWork(engine) as uow:
        uow.job_runs.finish(run_id, status, detail[:4000], utcnow())
        uow.commit()


class Leadership:
    """Whether this scheduler may act: always on SQLite; on PostgreSQL while it holds the advisory lock."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = SessionLock(engine, SCHEDULER_LOCK)
        self._mutex = threading.Lock()

    @property
    def applies(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        if not self.applies:
            return True
        with self._mutex:  # still ours, or (the connection died and the lock with it) taken again
            return self._lock.still_held() or self._lock.try_take()

    def release(self) -> None:
        with self._mutex:
            self._lock.release()


def local_now() -> datetime:
    return datetime.now().astimezone()
