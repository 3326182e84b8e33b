"""Report jobs: queued by a request, claimed and rendered by a worker, their PDF kept in the row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from escrow.store.models import ReportJob
from escrow.store.repos.base import Repo, valid_id


class ReportJobs(Repo):
    def get(self, job_id: int) -> ReportJob | None:
        return self.session.get(ReportJob, job_id) if valid_id(job_id) else None

    def claim(self, job_id: int) -> bool:
        """Queued → running, unless another runner took it first (an UPDATE … WHERE status = 'queued')."""
        claimed = self.session.execute(
            update(ReportJob)
            .where(ReportJob.id == job_id, ReportJob.status == "queued")
            .values(status="running")
        ).rowcount
        return bool(claimed)

    def finish(self, job_id: int, **values: Any) -> None:
        self.session.execute(update(ReportJob).where(ReportJob.id == job_id).values(**values))

    def fail_unfinished(self, job_id: int, **values: Any) -> None:
        """Record a failure, unless the job finished meanwhile."""
        self.session.execute(
            update(ReportJob)
            .where(ReportJob.id == job_id, ReportJob.status.in_(("queued", "running")))
            .values(status="failed", **values)
        )

    def queued_ids(self, limit: int) -> list[int]:
        """The oldest queued jobs first."""
        return list(
            self.session.scalars(
                select(ReportJob.id).where(ReportJob.status == "queued").order_by(ReportJob.id).limit(limit)
            )
        )

    def purge(self, created_before: datetime) -> int:
        """Delete jobs created before the cutoff (their PDFs with them); returns how many."""
        result = self.session.execute(delete(ReportJob).where(ReportJob.created_at < created_before))
        return result.rowcount or 0
