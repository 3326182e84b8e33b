"""What operators ask of the running service: is it ready to serve (`GET /ready`), and the figures read from
the database for `GET /metrics` (the process's own counters live in `escrow.ops.metrics`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from escrow.services.context import Context
from escrow.store.db import Engine, OperationalError
from escrow.store.migrate import current_revision, head_revision


@dataclass(frozen=True)
class Readiness:
    """`ready` once the database answers and its schema is at the head revision of this code's migrations."""

    status: Literal["ready", "not_ready"]
    database: str  # the dialect: sqlite or postgresql
    revision: str | None  # the database's schema revision (None: never migrated, or it did not answer)
    head: str | None  # the revision this code expects
    reason: Literal["", "database_unreachable", "schema_behind"] = ""
    detail: str = ""

    @property
    def ready(self) -> bool:
        return self.status == "ready"


def readiness(engine: Engine) -> Readiness:
    head = head_revision()
    dialect = engine.dialect.name
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        return Readiness(
            "not_ready", dialect, None, head, "database_unreachable", f"the database does not answer: {first}"
        )
    if revision != head:
        return Readiness(
            "not_ready",
            dialect,
            revision,
            head,
            "schema_behind",
            f"the database schema is at revision {revision or 'none'}, not {head}; run: escrow db upgrade",
        )
    return Readiness("ready", dialect, revision, head)


@dataclass(frozen=True)
class OpsFigures:
    """The database's figures for the metrics, read in one transaction."""

    open_alerts: list[tuple[str, str, int]]  # (rule, severity, count) not resolved
    job_runs: list[tuple[str, str, int]]  # (job id, status: running | done | failed, count)
    webhook_backlog: int  # webhook deliveries waiting to be sent


def figures(ctx: Context) -> OpsFigures:
    with ctx.reading() as uow:
        reads = uow.ops_reads
        return OpsFigures(reads.open_alerts(), reads.job_runs(), reads.webhook_backlog())
