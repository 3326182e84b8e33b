"""The monthly archive: a PDF only for the accounts with movements in the month, a line of the month's
city-level record for the others; rendered in worker processes; resumable after a run that died midway; never
run by the scheduler inside the web process."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from datetime import datetime

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from escrow import reports
from escrow.app import build_context, create_app
from escrow.jobs import tasks
from escrow.services import auditing, upkeep
from escrow.store.db import UnitOfWork
from escrow.store.models import ArchivedReport, AuditEvent, JobRun, QuietAccountMonth
from tests.conftest import project_body
from tests.http.test_reports import pdf_text

PERIOD = "2026-11"  # the month of the `today` fixture (2026-11-22), archived on the 1st of December
ARCHIVED_AT = datetime(2026, 12, 1, 3, 0).astimezone()


def _fund(flow, permit_no: str, n: int) -> None:
    contract = flow.contract(
        permit_no=permit_no, contract_no=f"HT-A-{n}", unit=f"A-{n}", total_price="100000.00"
    )
    notice = flow.notice(contract["contract_no"], "100000.00", kind="full")
    flow.deposit(
        account_no=notice["account_no"],
        bank_reference=f"FUND-A-{n}",
        amount="100000.00",
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=notice["notice_no"],
        kind="full",
        channel="transfer",
        value_date="2026-11-22",
    )


@pytest.fixture
def city(client, world, flow) -> dict[str, str]:
    """Four accounts opened in 2025: A, B and C received a deposit in November 2026, D nothing at all."""
    numbers = {}
    for n, name in enumerate("ABCD", start=1):
        permit = f"衡预售2025-10{n}"
        body = project_body(name=f"项目{name}", permit_no=permit, account_no=f"622200001111000{n}")
        r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{name}"))
        assert r.status_code == 201, r.text
        numbers[name] = r.json()["account_no"]
        if name != "D":
            _fund(flow, permit, n)
    return numbers


def _ctx(settings, engine, workers: int):
    return build_context(replace(settings, archive_workers=workers), engine, lambda: ARCHIVED_AT.date())


def _archived(engine) -> dict[str, ArchivedReport]:
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.execute(select(ArchivedReport).where(ArchivedReport.period == PERIOD)).scalars()
        by_account = {r.account_id: r for r in rows}
        return {uow.projects.account(i).account_no: r for i, r in by_account.items()}


def _quiet(engine) -> list[str]:
    with UnitOfWork(engine, readonly=True) as uow:
        return [q.account_no for q in uow.archived_reports.quiet("monthly", PERIOD)]


def test_an_account_without_movements_gets_a_line_of_the_city_record_and_no_pdf(engine, settings, city):
    ctx = _ctx(settings, engine, 1)
    summary = tasks.monthly_archive(engine, ctx, PERIOD, ARCHIVED_AT)
    assert (
        summary
        == f"3 monthly statements for {PERIOD} archived, 1 accounts without movement listed, 0 done before"
    )
    archived = _archived(engine)
    assert sorted(archived) == sorted(city[n] for n in "ABC")
    assert all(r.content.startswith(b"%PDF") for r in archived.values())
    assert _quiet(engine) == [city["D"]]
    with UnitOfWork(engine, readonly=True) as uow:
        (listed,) = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.quiet_listed"))
    assert listed.subject_id == PERIOD and listed.details["accounts"] == [city["D"]]
    # a second run finds every account done: no PDF, no line added
    again = tasks.monthly_archive(engine, ctx, PERIOD, ARCHIVED_AT)
    assert (
        again
        == f"0 monthly statements for {PERIOD} archived, 0 accounts without movement listed, 4 done before"
    )
    assert _quiet(engine) == [city["D"]]
    assert auditing.verify(engine).ok


def test_a_rerun_after_an_interrupted_run_archives_only_the_rest(engine, settings, city, monkeypatch):
    ctx = _ctx(settings, engine, 1)
    job = tasks.BY_ID["monthly-archive"]
    real = upkeep.archive_monthly

    def dies_at_b(ctx, account_id, account_no, *args):
        if account_no == city["B"]:
            raise RuntimeError("the process died while rendering")
        return real(ctx, account_id, account_no, *args)

    monkeypatch.setattr(upkeep, "archive_monthly", dies_at_b)
    assert tasks.run(job, engine, ctx, now=ARCHIVED_AT) == "failed"
    first = _archived(engine)
    assert sorted(first) == sorted(city[n] for n in "AC")  # what was not in flight is kept
    monkeypatch.setattr(upkeep, "archive_monthly", real)
    assert tasks.run(job, engine, ctx, now=ARCHIVED_AT) == "done"  # the failed run is claimed again
    second = _archived(engine)
    assert sorted(second) == sorted(city[n] for n in "ABC")
    assert {n: second[n].id for n in first} == {n: r.id for n, r in first.items()}  # A and C not redone
    with UnitOfWork(engine, readonly=True) as uow:
        (run,) = uow.session.scalars(select(JobRun).where(JobRun.job_id == job.id))
        archived_events = list(
            uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.archived"))
        )
    assert run.status == "done" and run.detail.startswith(f"1 monthly statements for {PERIOD} archived")
    assert len(archived_events) == 3  # one per PDF, none twice
    assert _quiet(engine) == [city["D"]]
    assert auditing.verify(engine).ok


def test_worker_processes_render_the_same_pdfs(engine, settings, city):
    summary = tasks.monthly_archive(engine, _ctx(settings, engine, 2), PERIOD, ARCHIVED_AT)
    assert summary.startswith(f"3 monthly statements for {PERIOD} archived")
    archived = _archived(engine)
    ctx = _ctx(settings, engine, 1)
    for name in "ABC":
        row = archived[city[name]]
        assert row.sha256 == hashlib.sha256(row.content).hexdigest()
        with ctx.reading() as uow:
            filename, here = reports.render("monthly", uow, ctx, account_no=city[name], year=2026, month=11)
        assert row.filename == filename
        assert pdf_text(row.content) == pdf_text(here)
        assert city[name] in pdf_text(row.content)
    assert auditing.verify(engine).ok


def test_the_web_process_never_schedules_the_monthly_archive(engine, settings, world):
    app = create_app(settings, engine=engine, scheduler=True)
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200
        scheduled = {job.id for job in app.state.scheduler.get_jobs()}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with UnitOfWork(engine, readonly=True) as uow:
                ran = {r.job_id: r.status for r in uow.session.scalars(select(JobRun))}
            if len(ran) == len(tasks.JOBS) - 1 and "running" not in ran.values():
                break
            time.sleep(0.2)
    assert "monthly-archive" not in {job_id.split("@")[0] for job_id in scheduled}
    assert {job.id for job in tasks.JOBS if job.in_web} <= scheduled
    assert ran == {job.id: "done" for job in tasks.JOBS if job.id != "monthly-archive"}
    with UnitOfWork(engine, readonly=True) as uow:
        assert list(uow.session.scalars(select(QuietAccountMonth))) == []


def test_the_number_of_archive_processes_is_checked(db_url, monkeypatch, capsys):
    from escrow.cli import main

    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_ARCHIVE_WORKERS", "two")
    assert main(["scheduler", "--once"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["escrow: error: ESCROW_ARCHIVE_WORKERS must be a whole number (0: one per CPU), not 'two'"]
    with pytest.raises(SystemExit) as refused:
        main(["scheduler", "--once", "--archive-workers", "0"])
    assert refused.value.code == 2
    assert "a whole number of at least 1" in capsys.readouterr().err
