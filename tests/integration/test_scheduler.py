"""The scheduler: which period a run covers, one claimed run per job and period, one acting scheduler on
PostgreSQL, the in-process scheduler only when asked for, and two `escrow scheduler` processes started
together running each job once per period."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from escrow.app import build_context, create_app
from escrow.jobs import runs, tasks
from escrow.services import auditing
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    ArchivedReport,
    JobRun,
    QuietAccountMonth,
    RateLimitBucket,
    ReportJob,
    WebSession,
    utcnow,
)
from tests.conftest import REPO, project_body


def _local(*args: int) -> datetime:
    return datetime(*args).astimezone()


def test_the_period_a_run_covers():
    assert tasks.quarter(_local(2026, 11, 22, 10, 44, 59)) == "2026-11-22T10:30"
    assert tasks.quarter(_local(2026, 11, 22, 10, 45)) == "2026-11-22T10:45"
    # the statement check is due at 23:30 on working days: before that, the day before's check is the latest
    assert tasks.statement_day(_local(2026, 11, 19, 23, 29)) == "2026-11-18"
    assert tasks.statement_day(_local(2026, 11, 19, 23, 30)) == "2026-11-19"
    assert tasks.statement_day(_local(2026, 11, 22, 23, 59)) == "2026-11-20"  # Sunday: Friday's
    assert tasks.statement_day(_local(2026, 11, 23, 8, 0)) == "2026-11-20"  # Monday morning: still Friday's
    assert tasks.prune_day(_local(2026, 11, 22, 3, 14)) == "2026-11-21"
    assert tasks.prune_day(_local(2026, 11, 22, 3, 15)) == "2026-11-22"
    # the archive of a month is due from 02:30 on the 1st of the next
    assert tasks.archive_month(_local(2026, 12, 1, 2, 29)) == "2026-10"
    assert tasks.archive_month(_local(2026, 12, 1, 2, 30)) == "2026-11"
    assert tasks.archive_month(_local(2026, 12, 17, 9, 0)) == "2026-11"
    assert tasks.archive_month(_local(2027, 1, 1, 3, 0)) == "2026-12"
    # the audit anchor of a day is published at 23:55
    assert tasks.anchor_day(_local(2026, 11, 22, 23, 54)) == "2026-11-21"
    assert tasks.anchor_day(_local(2026, 11, 22, 23, 55)) == "2026-11-22"
    assert [job.id for job in tasks.JOBS] == [
        "alert-sweep",
        "statement-check",
        "prune-idempotency",
        "monthly-archive",
        "audit-anchor",
        "notify-mail",
        "webhook-deliver",
    ]


def test_a_run_is_claimed_once_and_again_only_when_it_failed_or_went_stale(engine):
    first = runs.claim(engine, "job", "2026-11-22")
    assert first is not None
    assert runs.claim(engine, "job", "2026-11-22") is None  # running
    assert runs.claim(engine, "job", "2026-11-23") is not None  # another period
    runs.finish(engine, first, "failed", "boom")
    assert runs.claim(engine, "job", "2026-11-22") == first  # a failed run is retried
    assert runs.claim(engine, "job", "2026-11-22") is None
    with UnitOfWork(engine) as uow:  # its scheduler died two hours ago
        uow.session.execute(
            update(JobRun).where(JobRun.id == first).values(started_at=utcnow() - runs.STALE * 1.1)
        )
        uow.commit()
    assert runs.claim(engine, "job", "2026-11-22") == first
    runs.finish(engine, first, "done", "ok")
    assert runs.claim(engine, "job", "2026-11-22") is None
    with UnitOfWork(engine, readonly=True) as uow:
        row = uow.session.get(JobRun, first)
    assert (row.status, row.detail) == ("done", "ok") and row.finished_at is not None


def test_a_failed_job_is_recorded_and_retried(engine, settings, monkeypatch):
    ctx = build_context(settings, engine)
    calls = []

    def flaky(engine, ctx, period, now):
        calls.append(period)
        if len(calls) == 1:
            raise RuntimeError("the disk is full")
        return "fine"

    job = tasks.Job("flaky", {"minute": 0}, tasks.quarter, flaky)
    now = _local(2026, 11, 22, 10, 0)
    assert tasks.run(job, engine, ctx, now=now) == "failed"
    with UnitOfWork(engine, readonly=True) as uow:
        row = uow.session.scalar(select(JobRun))
    assert row.status == "failed" and "the disk is full" in row.detail
    assert tasks.run(job, engine, ctx, now=now) == "done"
    assert tasks.run(job, engine, ctx, now=now) == "skipped"
    assert calls == ["2026-11-22T10:00", "2026-11-22T10:00"]


def test_the_daily_anchor_is_written_once_a_day_and_verifies(engine, settings, project):
    from escrow.store.models import AuditAnchor

    ctx = build_context(settings, engine)
    evening = _local(2026, 11, 22, 23, 56)
    assert tasks.run(tasks.BY_ID["audit-anchor"], engine, ctx, now=evening) == "done"
    assert (
        tasks.run(tasks.BY_ID["audit-anchor"], engine, ctx, now=evening + timedelta(minutes=1)) == "skipped"
    )
    with UnitOfWork(engine, readonly=True) as uow:
        anchors = list(uow.session.scalars(select(AuditAnchor)))
        run = uow.session.scalar(select(JobRun).where(JobRun.job_id == "audit-anchor"))
    assert len(anchors) == 1 and anchors[0].chains == 2  # the city's chain and the project's account
    assert run.period == "2026-11-22" and anchors[0].root in run.detail
    report = auditing.verify(engine, anchor=anchors[0].root)
    assert report.ok and report.anchors == 1


def test_pruning_keeps_idempotency_records_seven_days(engine, settings, client, world):
    from escrow.store.models import IdempotencyRecord

    with UnitOfWork(engine) as uow:
        for days, key in ((8, "old"), (6, "young")):
            uow.session.add(
                IdempotencyRecord(
                    principal="bank:1",
                    key=key,
                    request_hash="x",
                    status_code=201,
                    response_body="{}",
                    created_at=utcnow() - timedelta(days=days),
                )
            )
        for days, key in ((3, "old"), (1, "young")):
            uow.session.add(
                RateLimitBucket(key=f"voucher-lookup:{key}", window_start=utcnow() - timedelta(days=days))
            )
        for days, who in ((8, "old"), (6, "young")):
            uow.session.add(
                ReportJob(kind="city", requested_by=who, created_at=utcnow() - timedelta(days=days))
            )
        admin = uow.parties.user_by_name("admin")
        for minutes, key in ((-1, "expired"), (5, "live")):
            uow.session.add(
                WebSession(
                    key=key, user_id=admin.id, data=b"{}", expires_at=utcnow() + timedelta(minutes=minutes)
                )
            )
        uow.commit()
    ctx = build_context(settings, engine)
    assert tasks.run(tasks.BY_ID["prune-idempotency"], engine, ctx) == "done"
    with UnitOfWork(engine, readonly=True) as uow:
        assert list(uow.session.scalars(select(IdempotencyRecord.key))) == ["young"]
        assert list(uow.session.scalars(select(RateLimitBucket.key))) == ["voucher-lookup:young"]
        assert list(uow.session.scalars(select(ReportJob.requested_by))) == ["young"]
        assert list(uow.session.scalars(select(WebSession.key))) == ["live"]
    assert auditing.verify(engine).ok


@pytest.mark.only_backend("postgresql")
def test_only_one_scheduler_acts_on_postgresql(engine, settings):
    ctx = build_context(settings, engine)
    first, second = runs.Leadership(engine), runs.Leadership(engine)
    try:
        assert first.acquire() and first.acquire()  # held, and still held
        assert not second.acquire()
        assert tasks.run(tasks.BY_ID["alert-sweep"], engine, ctx, second) == "standby"
        first.release()  # or its process died: the lock goes with its connection
        assert second.acquire()
        assert tasks.run(tasks.BY_ID["alert-sweep"], engine, ctx, second) == "done"
    finally:
        first.release()
        second.release()
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(func.count(JobRun.id))) == 1


def _runs(engine) -> dict[str, str]:
    with UnitOfWork(engine, readonly=True) as uow:
        return {r.job_id: r.status for r in uow.session.scalars(select(JobRun))}


def _wait_for_runs(engine, seconds: float, jobs: int = len(tasks.JOBS)) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = _runs(engine)
        if len(found) == jobs and "running" not in found.values():
            return found
        time.sleep(0.2)
    return _runs(engine)


def test_the_app_runs_no_scheduler_unless_asked(engine, settings, world):
    from litestar.testing import TestClient

    with TestClient(create_app(settings, engine=engine)) as c:
        assert c.get("/health").status_code == 200
        time.sleep(1.5)
    assert _runs(engine) == {}
    in_web = [job for job in tasks.JOBS if job.in_web]  # all but the monthly archive
    with TestClient(create_app(settings, engine=engine, scheduler=True)) as c:
        assert c.get("/health").status_code == 200
        found = _wait_for_runs(engine, 30, len(in_web))
    assert found == {job.id: "done" for job in in_web}


@pytest.fixture
def opened(client, world) -> dict:
    r = client.post("/api/v1/projects", json=project_body(), headers=world.headers("admin", "s-open"))
    assert r.status_code == 201, r.text
    return r.json()


def test_two_scheduler_processes_started_together_run_each_job_once_per_period(db_url, engine, opened):
    env = {
        **os.environ,
        "ESCROW_DATABASE_URL": db_url,
        "ESCROW_RULES_DIR": str(REPO / "rules"),
        "ESCROW_SECRET_KEY": "s" * 32,  # on PostgreSQL the scheduler refuses to start without one
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "escrow", "scheduler"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        found = _wait_for_runs(engine, 90)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        logs = [p.communicate(timeout=30)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    assert found == {job.id: "done" for job in tasks.JOBS}, logs
    outcome = re.compile(r"escrow\.jobs (\S+) (\S+): (done|skipped|standby|failed)")
    done = Counter(
        (job, period) for log in logs for job, period, what in outcome.findall(log) if what == "done"
    )
    daily = [job for job in tasks.JOBS if job.id not in tasks.FREQUENT]
    assert set(done) >= {(job.id, job.due(datetime.now().astimezone())) for job in daily}, logs
    assert all(n == 1 for n in done.values()), (done, logs)  # once per job and period, across both
    if engine.dialect.name == "postgresql":  # the one without the lock only stood by
        acted = [any(what == "done" for _, _, what in outcome.findall(log)) for log in logs]
        assert sorted(acted) == [False, True], logs
    # the account had no movement last month: a line of the month's city-level record, no PDF (the PDFs of
    # accounts with movements: tests/integration/test_monthly_archive.py)
    with UnitOfWork(engine, readonly=True) as uow:
        assert list(uow.session.scalars(select(ArchivedReport))) == []
        (quiet,) = uow.session.scalars(select(QuietAccountMonth))
    assert quiet.account_no == opened["account_no"]
    assert quiet.period == tasks.archive_month(datetime.now().astimezone())
    assert auditing.verify(engine).ok


def test_scheduler_once_runs_each_due_job_and_a_second_time_nothing(db_url, monkeypatch, capsys, world):
    from escrow.cli import main

    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))
    monkeypatch.setenv("ESCROW_SECRET_KEY", "s" * 32)  # on PostgreSQL the scheduler needs one
    assert main(["scheduler", "--once"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{job.id}\tdone" for job in tasks.JOBS]
    assert main(["scheduler", "--once"]) == 0
    again = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    for frequent in tasks.FREQUENT:  # done if a new quarter (minute) began meanwhile
        assert again.pop(frequent) in ("skipped", "done")
    assert again == {job.id: "skipped" for job in tasks.JOBS if job.id not in tasks.FREQUENT}
