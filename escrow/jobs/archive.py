"""The monthly archive's rendering, in parallel processes: a PDF takes about a tenth of a second of CPU, so a
city's thousands of accounts are spread over N processes (`ESCROW_ARCHIVE_WORKERS`, `escrow scheduler
--archive-workers`; the number of CPUs by default). Each worker is a spawned process with its own engine and
context (nothing of the parent's connections crosses a fork); each PDF is archived in a transaction of its
own, so a crash loses at most the PDFs in flight and the next run archives the rest."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date

from escrow.config import Settings
from escrow.services import upkeep
from escrow.services.context import Context

log = logging.getLogger("escrow.jobs")

_worker_ctx: Context | None = None  # the context of this worker process (set by `_start`)


@dataclass
class Outcome:
    archived: int = 0
    failed: list[str] = field(default_factory=list)  # account numbers


def workers(settings: Settings) -> int:
    return settings.archive_workers or os.cpu_count() or 1


def _start(settings: Settings, today: str) -> None:
    """A worker's start: its own engine and context, its clock fixed at the run's day."""
    global _worker_ctx
    from escrow.app import build_context  # the wiring of an engine and the rule books, as in the parent
    from escrow.services.database import open_database

    day = date.fromisoformat(today)
    _worker_ctx = build_context(settings, open_database(settings.database_url, migrate=False), lambda: day)


def _archive(account_id: int, account_no: str, year: int, month: int, actor: str) -> bool:
    assert _worker_ctx is not None, "a worker renders only after its start"
    return upkeep.archive_monthly(_worker_ctx, account_id, account_no, year, month, actor)


def archive_all(
    ctx: Context, accounts: tuple[tuple[int, str], ...], year: int, month: int, actor: str, processes: int
) -> Outcome:
    """Render and keep each account's monthly statement in `processes` worker processes (here if 1)."""
    out = Outcome()
    if processes <= 1 or len(accounts) <= 1:
        for account_id, account_no in accounts:
            try:
                out.archived += upkeep.archive_monthly(ctx, account_id, account_no, year, month, actor)
            except Exception as exc:
                log.warning("monthly-archive %04d-%02d: account %s failed: %s", year, month, account_no, exc)
                out.failed.append(account_no)
        return out
    with ProcessPoolExecutor(
        max_workers=min(processes, len(accounts)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(ctx.settings, ctx.today().isoformat()),
    ) as pool:
        running = {pool.submit(_archive, i, no, year, month, actor): no for i, no in accounts}
        for done in as_completed(running):
            try:
                out.archived += done.result()
            except Exception as exc:
                log.warning(
                    "monthly-archive %04d-%02d: account %s failed: %s", year, month, running[done], exc
                )
                out.failed.append(running[done])
    return out
