"""The jobs: when each runs, which period a run covers, and what it does.

| job id              | when (local time)   | period      | does                                             |
|---------------------|---------------------|-------------|--------------------------------------------------|
| `alert-sweep`       | every 15 minutes    | the quarter | evaluate every alert rule: open, update, resolve |
| `statement-check`   | Monday–Friday 23:30 | the day     | alert per account lacking that day's statement   |
| `prune-idempotency` | daily 03:15         | the day     | delete idempotency records older than 7 days     |
|                     |                     |             | (and old look-up counters, report jobs, sessions)|
| `monthly-archive`   | daily 02:30         | last month  | archive each account's monthly PDF statement     |

The monthly archive is due on the 1st; it fires daily so that a month whose run failed or never happened
(the scheduler was down on the 1st) is done the next day — once it is done the daily run finds its claim and
does nothing. Every scheduler also runs each job once when it starts, for the latest period that is due.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from escrow.jobs import runs
from escrow.services import alerts, ratelimit, reportjobs, signin
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import Engine, IntegrityError, UnitOfWork
from escrow.store.models import ArchivedReport

log = logging.getLogger("escrow.jobs")

IDEMPOTENCY_KEEP = timedelta(days=7)  # CONTRACT §2: keys are kept at least 7 days
RATE_LIMIT_KEEP = timedelta(days=2)  # the failed-look-up alert reads the last 24 hours
REPORT_JOB_KEEP = timedelta(days=7)  # a requested PDF stays downloadable for a week
PRUNE_BATCH = 5_000
ACTOR = alerts.SCHEDULER


@dataclass(frozen=True)
class Job:
    id: str
    cron: dict[str, Any]  # APScheduler CronTrigger fields
    due: Callable[[datetime], str]  # the period of the latest scheduled run at or before `now`
    work: Callable[[Engine, Context, str, datetime], str]  # does the job for a period; returns a summary


# --- periods -----------------------------------------------------------------------------------------------


def _latest_daily(now: datetime, at: time, weekdays: range | tuple[int, ...] = range(7)) -> date:
    for back in range(8):
        day = now.date() - timedelta(days=back)
        if day.weekday() in weekdays and datetime.combine(day, at, tzinfo=now.tzinfo) <= now:
            return day
    raise AssertionError("a weekday recurs within a week")


def _previous_month(day: date) -> str:
    first = day.replace(day=1) - timedelta(days=1)
    return f"{first:%Y-%m}"


def quarter(now: datetime) -> str:
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0).strftime(
        "%Y-%m-%dT%H:%M"
    )


def statement_day(now: datetime) -> str:
    return _latest_daily(now, time(23, 30), range(5)).isoformat()


def prune_day(now: datetime) -> str:
    return _latest_daily(now, time(3, 15)).isoformat()


def archive_month(now: datetime) -> str:
    return _previous_month(_latest_daily(now, time(2, 30)))


# --- the work ----------------------------------------------------------------------------------------------


def alert_sweep(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    with UnitOfWork(engine) as uow:
        result = alerts.sweep(uow, ctx, now)
        uow.commit()
    return str(result)


def statement_check(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    day = date.fromisoformat(period)
    with UnitOfWork(engine) as uow:
        missing = alerts.missing_statements(uow, day)
        result = alerts.raise_alerts(uow, missing)
        uow.commit()
    return f"{len(missing)} accounts without a statement for {day}; {result}"


def prune_idempotency(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    cutoff = now.astimezone(UTC) - IDEMPOTENCY_KEEP
    total = 0
    while True:  # in batches: short transactions, no long lock on a large table
        with UnitOfWork(engine) as uow:
            ids = uow.idempotency.prune(cutoff, PRUNE_BATCH)
            if ids:
                audit.record(
                    uow.session,
                    actor=ACTOR,
                    action="idempotency.pruned",
                    subject_type="idempotency_records",
                    subject_id=f"{ids[0]}-{ids[-1]}",
                    details={"deleted": len(ids), "created_before": cutoff.isoformat(), "period": period},
                )
                uow.commit()
        total += len(ids)
        if len(ids) < PRUNE_BATCH:
            break
    with UnitOfWork(engine) as uow:  # look-up counters and finished report jobs past their keep time
        buckets = ratelimit.purge(uow, now.astimezone(UTC) - RATE_LIMIT_KEEP)
        jobs = reportjobs.purge(uow, now.astimezone(UTC) - REPORT_JOB_KEEP)
        sessions = signin.purge(uow, now.astimezone(UTC))
        uow.commit()
    return (
        f"{total} idempotency records older than {cutoff:%Y-%m-%d %H:%M} UTC deleted; "
        f"{buckets} rate-limit windows, {jobs} report jobs and {sessions} expired web sessions pruned"
    )


def monthly_archive(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    from escrow import reports  # the report renderer (issue 5); imported when the job runs

    year, month = map(int, period.split("-"))
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    with UnitOfWork(engine, readonly=True) as uow:
        done = uow.archived_reports.accounts_done("monthly", period)
        accounts = [
            (a.id, a.account_no) for a in uow.projects.accounts_opened_by(last_day) if a.id not in done
        ]
    archived, failed = 0, []
    for account_id, account_no in accounts:
        try:
            with UnitOfWork(engine, readonly=True) as uow:
                filename, content = reports.render(
                    "monthly", uow, ctx, account_no=account_no, year=year, month=month
                )
            sha256 = hashlib.sha256(content).hexdigest()
            with UnitOfWork(engine) as uow:
                row = uow.archived_reports.add(
                    ArchivedReport(
                        account_id=account_id,
                        kind="monthly",
                        period=period,
                        filename=filename,
                        sha256=sha256,
                        content=content,
                    )
                )
                audit.record(
                    uow.session,
                    actor=ACTOR,
                    action="report.archived",
                    subject_type="archived_report",
                    subject_id=row.id,
                    account_id=account_id,
                    after={"sha256": sha256, "filename": filename},
                    details={"kind": "monthly", "period": period, "sha256": sha256, "bytes": len(content)},
                )
                uow.commit()
            archived += 1
        except IntegrityError:
            continue  # archived meanwhile by another run
        except Exception as exc:
            log.warning("monthly-archive %s: account %s failed: %s", period, account_no, exc)
            failed.append(account_no)
    summary = f"{archived} monthly statements for {period} archived, {len(done)} already archived"
    if failed:
        raise RuntimeError(f"{summary}; failed for {len(failed)} accounts: {', '.join(failed[:10])}")
    return summary


JOBS: tuple[Job, ...] = (
    Job("alert-sweep", {"minute": "*/15"}, quarter, alert_sweep),
    Job(
        "statement-check",
        {"day_of_week": "mon-fri", "hour": 23, "minute": 30},
        statement_day,
        statement_check,
    ),
    Job("prune-idempotency", {"hour": 3, "minute": 15}, prune_day, prune_idempotency),
    Job("monthly-archive", {"hour": 2, "minute": 30}, archive_month, monthly_archive),
)
BY_ID = {job.id: job for job in JOBS}


# --- one run -----------------------------------------------------------------------------------------------


def run(
    job: Job,
    engine: Engine,
    ctx: Context,
    leadership: runs.Leadership | None = None,
    now: datetime | None = None,
) -> str:
    """Run `job` for its latest due period unless that run is claimed already. Returns what happened: `done`,
    `failed`, `skipped` (claimed or finished by another run) or `standby` (another scheduler leads)."""
    now = now or runs.local_now()
    period = job.due(now)
    if leadership is not None and not leadership.acquire():
        log.info("%s %s: standby (another scheduler holds the lock)", job.id, period)
        return "standby"
    run_id = runs.claim(engine, job.id, period)
    if run_id is None:
        log.info("%s %s: skipped (already run)", job.id, period)
        return "skipped"
    job_ctx = replace(ctx, today=lambda: now.date())
    try:
        detail = job.work(engine, job_ctx, period, now)
    except Exception as exc:
        runs.finish(engine, run_id, "failed", "".join(traceback.format_exception(exc))[-4000:])
        log.error("%s %s: failed: %s", job.id, period, exc)
        return "failed"
    runs.finish(engine, run_id, "done", detail)
    log.info("%s %s: done: %s", job.id, period, detail)
    return "done"
