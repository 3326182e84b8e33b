"""What the operators' metrics read from the database at scrape time (`GET /metrics`): a few small GROUP BY
queries, each over an index or a small table, whatever the city's size."""

from __future__ import annotations

from sqlalchemy import func, select

from escrow.store.models import Alert, JobRun
from escrow.store.repos.base import Reads
from escrow.store.repos.webhooks import pending_backlog


class OpsReads(Reads):
    def open_alerts(self) -> list[tuple[str, str, int]]:
        """(rule, severity, count) of the alerts not resolved: read from the partial index of the open
        alerts (`state != 'resolved'`, ix_alerts_unresolved_order)."""
        rows = self.session.execute(
            select(Alert.rule, Alert.severity, func.count())
            .where(Alert.state != "resolved")
            .group_by(Alert.rule, Alert.severity)
        )
        return [(rule, severity, int(n)) for rule, severity, n in rows]

    def job_runs(self) -> list[tuple[str, str, int]]:
        """(job id, status, count) of the scheduled jobs' runs: one row per job and period, so a small table
        (the jobs × the days and months the service has run)."""
        rows = self.session.execute(
            select(JobRun.job_id, JobRun.status, func.count()).group_by(JobRun.job_id, JobRun.status)
        )
        return [(job, status, int(n)) for job, status, n in rows]

    def webhook_backlog(self) -> int:
        """The webhook deliveries waiting to be sent: the outbox's pending rows (over its partial index)."""
        return pending_backlog(self.session)
