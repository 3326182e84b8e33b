"""Reports rendered off the request path: a job is queued (a `report_jobs` row), rendered by a worker
process, and its PDF kept in the row for the requester to download.

- `request` checks the parameters, that the report can be made (the account exists, the period is one to
  report on) and that the principal may see it, then queues the job in the caller's transaction;
- `ReportRunner` renders queued jobs in a separate worker process (one per server process, started on first
  use): WeasyPrint is CPU-bound Python, and in a process of its own it never holds the server's GIL or its
  rendering lock, so the server keeps answering while a city report renders;
- `run` claims a queued job (an UPDATE … WHERE status = 'queued', so that two runners never render one job),
  renders it and stores the PDF or the reason it failed;
- `run_pending` renders whatever is still queued (e.g. after a restart): the scheduler may call it; a job
  left `running` by a process that died is reported as failed once it is older than STALE_AFTER.

Who may see which report (`check_access`): a voucher, a notice and an account's monthly statement — the
bank that supervises the account, the developer of the project and bureau users; a release approval form —
the developer who applied and bureau users; the city report — bureau users. To anyone else the subject
does not exist (404), except the city report, which is refused by role (403).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from typing import Any, Literal

from escrow import reports
from escrow.config import Settings
from escrow.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.services.releases import visible_release
from escrow.store.db import Engine, UnitOfWork
from escrow.store.models import ReportJob, utcnow
from escrow.store.reads.reports import ReportQueries

log = logging.getLogger("escrow.reports")

STALE_AFTER = timedelta(minutes=15)
SLOW_KINDS = ("monthly", "city")  # only through a job: they may take seconds


# --- who may see what -------------------------------------------------------------------------------------


def _party_may_see(principal: Principal, bank_id: int, developer_id: int) -> bool:
    return (
        principal.is_bureau
        or (principal.bank_id is not None and principal.bank_id == bank_id)
        or (principal.developer_id is not None and principal.developer_id == developer_id)
    )


def check_access(uow: UnitOfWork, principal: Principal, kind: str, params: dict[str, Any]) -> None:
    """Raise NotFound (or Forbidden for the city report) unless `principal` may see this report."""
    q = ReportQueries(uow.session)
    if kind == "voucher":
        row = q.voucher(params["voucher_no"])
        if row is None or not _party_may_see(principal, row[2].bank_id, row[3].developer_id):
            raise NotFound(f"no voucher {params['voucher_no']}")
    elif kind == "notice":
        row = q.notice(params["notice_no"])
        if row is None or not _party_may_see(principal, row[2].bank_id, row[3].developer_id):
            raise NotFound(f"no payment notice {params['notice_no']}")
    elif kind == "release":
        visible_release(uow, principal, params["release_id"])
    elif kind == "monthly":
        row = q.account(params["account_no"])
        if row is None or not _party_may_see(principal, row[0].bank_id, row[1].developer_id):
            raise NotFound(f"no supervised account {params['account_no']}")
    elif kind == "city" and not principal.is_bureau:
        raise Forbidden("the city report is for housing bureau users")


# --- jobs -------------------------------------------------------------------------------------------------


def _wire(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


@dataclass(frozen=True)
class ReportJobView:
    job_id: int
    kind: Literal["voucher", "notice", "release", "monthly", "city"]
    params: dict[str, Any]
    status: Literal["queued", "running", "done", "failed"]  # queued → running → done | failed
    created_at: str  # ISO 8601 with its zone
    finished_at: str | None
    filename: str | None
    size: int | None  # bytes of the PDF, once done
    error: str | None  # why it failed
    file_url: str | None  # where to download the PDF, once done


@dataclass(frozen=True)
class Pdf:
    filename: str
    content: bytes


def job_view(job: ReportJob) -> ReportJobView:
    wire_names = {"start": "from", "end": "to"}  # as the request names them
    params = {wire_names.get(k, k): v for k, v in (job.params or {}).items() if k != "as_of"}
    return ReportJobView(
        job_id=job.id,
        kind=job.kind,
        params=params,
        status=job.status,
        created_at=_ts(job.created_at),
        finished_at=_ts(job.finished_at),
        filename=job.filename,
        size=len(job.content) if job.content is not None else None,
        error=job.error,
        file_url=f"/api/v1/reports/{job.id}/file" if job.status == "done" else None,
    )


def request(ctx: Context, principal: Principal, kind: str, params: dict[str, Any]) -> ReportJobView:
    """Queue a report for `principal`; once this returns (committed), hand the job id to a runner."""
    checked = reports.normalise(kind, params)
    with ctx.writing() as uow:
        check_access(uow, principal, kind, checked)
        checked = reports.check(kind, uow, ctx, **checked)
        job = ReportJob(
            kind=kind,
            params={**_wire(checked), "as_of": ctx.today().isoformat()},
            status="queued",
            requested_by=principal.ref,
        )
        uow.report_jobs.add(job)
        return ctx.commit(uow, job_view(job))


def render_now(ctx: Context, principal: Principal, kind: str, **params: Any) -> Pdf:
    """A quick document (voucher, notice, release form) rendered on the request; NotFound unless
    `principal` may see it, or if the parameters cannot name anything."""
    try:
        checked = reports.normalise(kind, params)
    except InvalidInput:  # a path segment that cannot name anything
        raise NotFound(f"no {kind} {next(iter(params.values()))}") from None
    with ctx.reading() as uow:
        check_access(uow, principal, kind, checked)
        return Pdf(*reports.render(kind, uow, ctx, **checked))


def _visible_job(uow: UnitOfWork, principal: Principal, job_id: int) -> ReportJob:
    """The principal's own job; anyone else's does not exist. A job abandoned by a dead process is
    reported as failed."""
    job = uow.report_jobs.get(job_id)
    if job is None or job.requested_by != principal.ref:
        raise NotFound(f"no report job {job_id}")
    created = job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=UTC)
    if job.status in ("queued", "running") and utcnow() - created > STALE_AFTER:
        job.status, job.error, job.finished_at = (
            "failed",
            "the report was interrupted; ask for it again",
            utcnow(),
        )
        uow.session.flush()
    return job


def job(ctx: Context, principal: Principal, job_id: int) -> ReportJobView:
    with ctx.writing() as uow:  # writes when it finds the job abandoned
        return ctx.commit(uow, job_view(_visible_job(uow, principal, job_id)))


class ReportNotReady(Conflict):
    """The job's PDF cannot be handed over: still queued or running (`retry`), or failed."""

    def __init__(self, detail: str, *, retry: bool):
        super().__init__(detail)
        self.retry = retry


def job_file(ctx: Context, principal: Principal, job_id: int) -> Pdf:
    """A finished job's PDF, or ReportNotReady."""
    with ctx.writing() as uow:
        found = ctx.commit(uow, _visible_job(uow, principal, job_id))
    if found.status == "failed":
        raise ReportNotReady(f"the report failed: {found.error}", retry=False)
    if found.status != "done" or found.content is None:
        raise ReportNotReady(f"the report is {found.status}; try again shortly", retry=True)
    return Pdf(found.filename or f"report-{found.id}.pdf", found.content)


def _claim(engine: Engine, job_id: int) -> bool:
    with UnitOfWork(engine) as uow:
        claimed = uow.report_jobs.claim(job_id)
        uow.commit()
    return claimed


def _finish(engine: Engine, job_id: int, **values: Any) -> None:
    with UnitOfWork(engine) as uow:
        uow.report_jobs.finish(job_id, finished_at=utcnow(), **values)
        uow.commit()


def _abandon(engine: Engine, job_id: int) -> None:
    """A job its worker will not finish (the process died, the server is stopping): failed, if unfinished."""
    with UnitOfWork(engine) as uow:
        uow.report_jobs.fail_unfinished(
            job_id, error="the report was interrupted; ask for it again", finished_at=utcnow()
        )
        uow.commit()


def run(engine: Engine, ctx: Context, job_id: int) -> str:
    """Render one queued job and store the outcome; returns the job's final status ("skipped" if another
    runner had claimed it)."""
    if not _claim(engine, job_id):
        return "skipped"
    try:
        with UnitOfWork(engine, readonly=True) as uow:
            job = uow.report_jobs.get(job_id)
            params = {k: v for k, v in job.params.items() if k != "as_of"}
            if job.params.get("as_of"):  # as of the day it was asked for, whoever renders it when
                day = date.fromisoformat(job.params["as_of"])
                ctx = dataclasses.replace(ctx, today=lambda: day)
            name, content = reports.render(job.kind, uow, ctx, **params)
    except DomainError as exc:  # e.g. the data changed since the job was queued
        _finish(engine, job_id, status="failed", error=exc.detail)
        return "failed"
    except Exception:
        log.exception("report job %s failed", job_id)
        _finish(
            engine, job_id, status="failed", error="an internal error stopped the report; ask for it again"
        )
        return "failed"
    _finish(engine, job_id, status="done", filename=name, content=content, error=None)
    return "done"


def run_pending(engine: Engine, ctx: Context, limit: int = 20) -> int:
    """Render up to `limit` queued jobs in this process, oldest first; returns how many were rendered."""
    with UnitOfWork(engine, readonly=True) as uow:
        ids = uow.report_jobs.queued_ids(limit)
    return sum(1 for job_id in ids if run(engine, ctx, job_id) != "skipped")


def purge(uow: UnitOfWork, before: datetime) -> int:
    """Delete jobs created before `before` (their PDFs with them); the caller commits."""
    return uow.report_jobs.purge(before)


# --- the worker process -----------------------------------------------------------------------------------


def _work(settings: Settings, job_id: int, as_of: str) -> str:
    """In the worker process: render one job against the database of `settings`, as of the day the job
    was asked for."""
    from escrow.rulebooks import load_dir
    from escrow.store.db import make_engine

    day = date.fromisoformat(as_of)
    engine = make_engine(settings.database_url)
    try:
        ctx = Context(settings=settings, rulebooks=load_dir(settings.rules_dir), today=lambda: day)
        return run(engine, ctx, job_id)
    finally:
        engine.dispose()


class ReportRunner:
    """Renders report jobs in one worker process, started on first use and stopped with the app."""

    def __init__(self, engine: Engine, settings: Settings):
        self.engine = engine
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
            return self._pool

    def submit(self, job_id: int, as_of: date) -> Future[str]:
        future = self._executor().submit(_work, self.settings, job_id, as_of.isoformat())
        future.add_done_callback(lambda f: self._done(job_id, f))
        return future

    def _done(self, job_id: int, future: Future[str]) -> None:
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or error is not None:
            if error is not None:
                log.error("report job %s: the worker process failed: %r", job_id, error)
                with self._lock:  # a broken pool cannot take more work: start a new one next time
                    self._pool = None
            try:
                _abandon(self.engine, job_id)
            except Exception:  # the database may be gone too (shutdown); the job is reported stale later
                log.exception("report job %s: cannot record the failure", job_id)

    def shutdown(self) -> None:
        """Queued jobs are cancelled (and reported failed); a job being rendered is finished (seconds at
        most), so that the worker process exits with the server rather than outliving it."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
