"""What the scheduled jobs keep in order, each step a transaction of its own: pruning what is past its keep
time, and archiving each account's monthly statement."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from escrow.services import ratelimit, reportjobs, signin
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import IntegrityError
from escrow.store.models import ArchivedReport


def prune_idempotency(ctx: Context, cutoff: datetime, *, batch: int, period: str, actor: str) -> int:
    """Delete idempotency records created before `cutoff`, in batches: short transactions, no long lock on a
    large table. Returns how many were deleted."""
    total = 0
    while True:
        with ctx.writing() as uow:
            ids = uow.idempotency.prune(cutoff, batch)
            if ids:
                audit.record(
                    uow.session,
                    actor=actor,
                    action="idempotency.pruned",
                    subject_type="idempotency_records",
                    subject_id=f"{ids[0]}-{ids[-1]}",
                    details={"deleted": len(ids), "created_before": cutoff.isoformat(), "period": period},
                )
                ctx.commit(uow, None)
        total += len(ids)
        if len(ids) < batch:
            return total


@dataclass(frozen=True)
class Purged:
    rate_limit_windows: int
    report_jobs: int
    web_sessions: int


def purge_expired(ctx: Context, *, windows_before: datetime, jobs_before: datetime, now: datetime) -> Purged:
    """Look-up counters and finished report jobs past their keep time, and expired web sessions."""
    with ctx.writing() as uow:
        return ctx.commit(
            uow,
            Purged(
                ratelimit.purge(uow, windows_before),
                reportjobs.purge(uow, jobs_before),
                signin.purge(uow, now),
            ),
        )


@dataclass(frozen=True)
class ToArchive:
    done: int  # accounts whose statement for the period is archived already (or listed as quiet)
    accounts: tuple[tuple[int, str], ...]  # (account id, account no) with movements, still to archive
    quiet: tuple[tuple[int, str], ...]  # (account id, account no) without movements, not yet listed


def monthly_to_archive(ctx: Context, period: str, last_day: date) -> ToArchive:
    """The accounts opened by the month's last day whose monthly statement for `period` is neither archived
    nor stood in for by a line of the month's city-level record: those with a journal entry booked in the
    month (a PDF each) and those without (a line each)."""
    with ctx.reading() as uow:
        done = uow.archived_reports.accounts_done("monthly", period)
        done |= uow.archived_reports.accounts_quiet("monthly", period)
        moved = uow.journal.moved_between(last_day.replace(day=1), last_day)
        todo = [(a.id, a.account_no) for a in uow.projects.accounts_opened_by(last_day) if a.id not in done]
    return ToArchive(
        len(done),
        tuple(a for a in todo if a[0] in moved),
        tuple(a for a in todo if a[0] not in moved),
    )


def list_quiet(ctx: Context, period: str, accounts: tuple[tuple[int, str], ...], actor: str) -> int:
    """Add the accounts without movement to the month's city-level record, with one audit event for the lot
    (no PDF is rendered for them); returns how many were listed."""
    if not accounts:
        return 0
    with ctx.writing() as uow:
        listed = uow.archived_reports.accounts_quiet("monthly", period)  # by a run meanwhile
        new = [(i, no) for i, no in accounts if i not in listed]
        uow.archived_reports.add_quiet("monthly", period, new)
        audit.record(
            uow.session,
            actor=actor,
            action="report.quiet_listed",
            subject_type="monthly_archive",
            subject_id=period,
            details={"kind": "monthly", "period": period, "accounts": sorted(no for _, no in new)},
        )
        return ctx.commit(uow, len(new))


def archive_monthly(
    ctx: Context, account_id: int, account_no: str, year: int, month: int, actor: str
) -> bool:
    """Render and keep one account's monthly statement; False if another run archived it meanwhile."""
    from escrow import reports  # the report renderer; imported when the job runs

    period = f"{year:04d}-{month:02d}"
    with ctx.reading() as uow:
        filename, content = reports.render("monthly", uow, ctx, account_no=account_no, year=year, month=month)
    sha256 = hashlib.sha256(content).hexdigest()
    try:
        with ctx.writing() as uow:
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
                actor=actor,
                action="report.archived",
                subject_type="archived_report",
                subject_id=row.id,
                account_id=account_id,
                after={"sha256": sha256, "filename": filename},
                details={"kind": "monthly", "period": period, "sha256": sha256, "bytes": len(content)},
            )
            ctx.commit(uow, None)
    except IntegrityError:
        return False
    return True
