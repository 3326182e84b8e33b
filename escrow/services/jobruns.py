"""The scheduler's book of runs, and the lock that makes one scheduler the acting one.

A run is claimed by inserting its `job_runs` row (unique per job id and period) in a transaction of its own:
whoever commits it first runs the job; everyone else finds the row and skips. A run that failed, or that
has been `running` longer than STALE (its scheduler died), may be claimed again — the jobs are idempotent, so
a retry finishes what the first attempt began.
"""

from __future__ import annotations

from datetime import timedelta

from escrow.store.db import Engine, IntegrityError, UnitOfWork
from escrow.store.locks import SessionLock
from escrow.store.models import JobRun, utcnow

__all__ = ["STALE", "Engine", "SessionLock", "claim", "finish"]  # Engine and the lock: for escrow.jobs

STALE = timedelta(hours=2)


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
