"""The scheduler: `escrow scheduler` (a blocking scheduler in its own process) or, in the embedded SQLite
deployment, a background scheduler inside `escrow serve` started and stopped with the application — which
runs every job but the monthly archive (`Job.in_web`).

Jobs live in a memory job store under fixed ids (`replace_existing`): nothing is shared between processes
but the database, where each run is claimed (see `escrow.jobs.runs`).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from escrow.jobs import runs, tasks
from escrow.services.context import Context
from escrow.services.jobruns import Engine

log = logging.getLogger("escrow.jobs")

STARTUP_DELAY = timedelta(seconds=1)


def configure(
    scheduler: BaseScheduler, engine: Engine, ctx: Context, leadership: runs.Leadership, *, web: bool = False
) -> None:
    """Each job on its cron schedule, plus once shortly after start for the latest period that is due; in the
    web process (`web`) only the jobs meant for it (not the monthly archive)."""
    start = runs.local_now() + STARTUP_DELAY
    for i, job in enumerate(j for j in tasks.JOBS if j.in_web or not web):
        args = (job, engine, ctx, leadership)
        scheduler.add_job(
            tasks.run, CronTrigger(**job.cron), args=args, id=job.id, name=job.id, replace_existing=True
        )
        scheduler.add_job(
            tasks.run,
            "date",
            run_date=start + timedelta(milliseconds=200 * i),
            args=args,
            id=f"{job.id}@start",
            name=f"{job.id} (at start)",
            replace_existing=True,
        )


def _options() -> dict[str, Any]:
    return {
        "jobstores": {"default": MemoryJobStore()},
        "executors": {"default": ThreadPoolExecutor(2)},
        "job_defaults": {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    }


def run_blocking(engine: Engine, ctx: Context) -> None:
    """`escrow scheduler`: run the jobs in the foreground until SIGINT or SIGTERM."""
    leadership = runs.Leadership(engine)
    scheduler = BlockingScheduler(**_options())
    configure(scheduler, engine, ctx, leadership)

    def stop(_signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info(
        "scheduler started: %s%s",
        ", ".join(job.id for job in tasks.JOBS),
        " (acts while it holds the PostgreSQL advisory lock)" if leadership.applies else "",
    )
    try:
        scheduler.start()
    finally:
        leadership.release()
        log.info("scheduler stopped")


def run_once(engine: Engine, ctx: Context) -> dict[str, str]:
    """Each job once, for its latest due period (`escrow scheduler --once`)."""
    leadership = runs.Leadership(engine)
    try:
        return {job.id: tasks.run(job, engine, ctx, leadership) for job in tasks.JOBS}
    finally:
        leadership.release()


@asynccontextmanager
async def embedded(app: Any) -> AsyncIterator[None]:
    """A Litestar lifespan hook running the scheduler in the background while the application runs, on the
    database the app is connected to (its state's runtime: escrow.app.connect)."""
    engine, ctx = app.state.runtime.engine, app.state.runtime.ctx
    leadership = runs.Leadership(engine)
    scheduler = BackgroundScheduler(**_options())
    configure(scheduler, engine, ctx, leadership, web=True)
    app.state.scheduler = scheduler  # what it runs can be asked (the tests do)
    scheduler.start()
    log.info("in-process scheduler started")
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        leadership.release()
