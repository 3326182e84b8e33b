"""The jobs: when each runs, which period a run covers, and what it does.

| job id              | when (local time)   | period      | does                                             |
|---------------------|---------------------|-------------|--------------------------------------------------|
| `alert-sweep`       | every 15 minutes    | the quarter | evaluate every alert rule: open, update, resolve |
| `statement-check`   | Monday–Friday 23:30 | the day     | alert per account lacking that day's statement   |
| `prune-idempotency` | daily 03:15         | the day     | delete idempotency records older than 7 days     |
|                     |                     |             | (and old look-up counters, report jobs, sessions)|
| `monthly-archive`   | daily 02:30         | last month  | archive each account's monthly PDF statement     |
| `audit-anchor`      | daily 23:55         | the day     | anchor every audit chain's head (a Merkle root,  |
|                     |                     |             | recorded on the city chain): published daily     |
| `notify-mail`       | every minute        | the minute  | e-mail the notifications due (escrow.jobs.mail)  |
| `webhook-deliver`   | every minute        | the minute  | send the webhook deliveries due, with back-off   |
|                     |                     |             | (escrow.jobs.webhooks)                           |

The monthly archive is due on the 1st; it fires daily so that a month whose run failed or never happened
(the scheduler was down on the 1st) is done the next day — once it is done the daily run finds its claim and
does nothing. It runs only in `escrow scheduler` (or `escrow scheduler --once`), never in the scheduler
embedded in `escrow serve`: rendering a city's PDFs has no place in the web process. Every scheduler also
runs each of its jobs once when it starts, for the latest period that is due.
"""

from __future__ import annotations

import calendar
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from escrow.jobs import archive, mail, runs, webhooks
from escrow.services import alerts, auditing, upkeep
from escrow.services.context import Context
from escrow.services.jobruns import Engine

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
    in_web: bool = True  # also run by the scheduler embedded in `escrow serve` (SQLite)


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


def anchor_day(now: datetime) -> str:
    return _latest_daily(now, time(23, 55)).isoformat()


def minute(now: datetime) -> str:
    return now.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


def archive_month(now: datetime) -> str:
    return _previous_month(_latest_daily(now, time(2, 30)))


# --- the work ----------------------------------------------------------------------------------------------


# Each job works through the services with the context `run` gives it (its clock, the engine passed in).


def alert_sweep(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    return str(alerts.run_sweep(ctx, now))


def statement_check(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    day = date.fromisoformat(period)
    found = alerts.check_statements(ctx, day)
    return f"{found.missing} accounts without a statement for {day}; {found.result}"


def prune_idempotency(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    now_utc = now.astimezone(UTC)
    cutoff = now_utc - IDEMPOTENCY_KEEP
    total = upkeep.prune_idempotency(ctx, cutoff, batch=PRUNE_BATCH, period=period, actor=ACTOR)
    purged = upkeep.purge_expired(
        ctx, windows_before=now_utc - RATE_LIMIT_KEEP, jobs_before=now_utc - REPORT_JOB_KEEP, now=now_utc
    )
    return (
        f"{total} idempotency records older than {cutoff:%Y-%m-%d %H:%M} UTC deleted; "
        f"{purged.rate_limit_windows} rate-limit windows, {purged.report_jobs} report jobs and "
        f"{purged.web_sessions} expired web sessions pruned"
    )


def monthly_archive(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    """A PDF for each account with movements in the month (in parallel processes, escrow.jobs.archive), a
    line of the month's city-level record for each without; resumable, every account done once."""
    year, month = map(int, period.split("-"))
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    todo = upkeep.monthly_to_archive(ctx, period, last_day)
    quiet = upkeep.list_quiet(ctx, period, todo.quiet, ACTOR)
    outcome = archive.archive_all(ctx, todo.accounts, year, month, ACTOR, archive.workers(ctx.settings))
    summary = (
        f"{outcome.archived} monthly statements for {period} archived, {quiet} accounts without movement "
        f"listed, {todo.done} done before"
    )
    if outcome.failed:
        failed = sorted(outcome.failed)
        raise RuntimeError(f"{summary}; failed for {len(failed)} accounts: {', '.join(failed[:10])}")
    return summary


def audit_anchor(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    made = auditing.anchor(engine, actor=ACTOR)
    return f"anchor {made.id} over {made.chains} chains: root {made.root}"


def notify_mail(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    return str(mail.send_due(ctx, now))


def webhook_deliver(engine: Engine, ctx: Context, period: str, now: datetime) -> str:
    return str(webhooks.send_due(ctx, now))


JOBS: tuple[Job, ...] = (
    Job("alert-sweep", {"minute": "*/15"}, quarter, alert_sweep),
    Job(
        "statement-check",
        {"day_of_week": "mon-fri", "hour": 23, "minute": 30},
        statement_day,
        statement_check,
    ),
    Job("prune-idempotency", {"hour": 3, "minute": 15}, prune_day, prune_idempotency),
    # heavy (a PDF per account, in worker processes): only `escrow scheduler`, never inside the web process
    Job("monthly-archive", {"hour": 2, "minute": 30}, archive_month, monthly_archive, in_web=False),
    Job("audit-anchor", {"hour": 23, "minute": 55}, anchor_day, audit_anchor),
    Job("notify-mail", {"minute": "*"}, minute, notify_mail),
    Job("webhook-deliver", {"minute": "*"}, minute, webhook_deliver),
)
# Jobs whose period is a few minutes: within a test, a new period may come due (and run) again.
FREQUENT = frozenset({"alert-sweep", "notify-mail", "webhook-deliver"})
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
    job_ctx = replace(ctx, today=lambda: now.date(), engine=engine)
    try:
        detail = job.work(engine, job_ctx, period, now)
    except Exception as exc:
        runs.finish(engine, run_id, "failed", "".join(traceback.format_exception(exc))[-4000:])
        log.error("%s %s: failed: %s", job.id, period, exc)
        return "failed"
    runs.finish(engine, run_id, "done", detail)
    log.info("%s %s: done: %s", job.id, period, detail)
    return "done"
