"""The scheduler's records: one claimed run per job and period, and the monthly statements it archived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, insert, or_, select, update

from escrow.store.models import ArchivedReport, JobRun, QuietAccountMonth
from escrow.store.repos.base import Repo


class JobRuns(Repo):
    def take_over(self, job_id: str, period: str, now: datetime, stale_before: datetime) -> int | None:
        """Claim the existing run of (job, period) again if it failed or has been running since before
        `stale_before` (its scheduler died); returns its id, or None if it is someone else's or done."""
        return self.session.execute(
            update(JobRun)
            .where(
                JobRun.job_id == job_id,
                JobRun.period == period,
                or_(
                    JobRun.status == "failed",
                    and_(JobRun.status == "running", JobRun.started_at < stale_before),
                ),
            )
            .values(status="running", started_at=now, finished_at=None, detail="")
            .returning(JobRun.id)
        ).scalar()

    def finish(self, run_id: int, status: str, detail: str, now: datetime) -> None:
        self.session.execute(
            update(JobRun).where(JobRun.id == run_id).values(status=status, detail=detail, finished_at=now)
        )


class ArchivedReports(Repo):
    def accounts_done(self, kind: str, period: str) -> set[int]:
        """The accounts whose report of this kind and period is archived already."""
        return set(
            self.session.scalars(
                select(ArchivedReport.account_id).where(
                    ArchivedReport.kind == kind, ArchivedReport.period == period
                )
            )
        )

    def accounts_quiet(self, kind: str, period: str) -> set[int]:
        """The accounts listed in the period's city-level record as without movement (no report of theirs)."""
        return set(
            self.session.scalars(
                select(QuietAccountMonth.account_id).where(
                    QuietAccountMonth.kind == kind, QuietAccountMonth.period == period
                )
            )
        )

    def add_quiet(self, kind: str, period: str, accounts: list[tuple[int, str]]) -> None:
        """List (account id, account no) pairs in the period's city-level record, in one INSERT."""
        if accounts:
            self.session.execute(
                insert(QuietAccountMonth),
                [{"account_id": i, "account_no": no, "kind": kind, "period": period} for i, no in accounts],
            )

    def quiet(self, kind: str, period: str) -> list[QuietAccountMonth]:
        """The period's city-level record, in account number order."""
        return self.all_of(
            QuietAccountMonth,
            QuietAccountMonth.kind == kind,
            QuietAccountMonth.period == period,
            order_by=QuietAccountMonth.account_no,
        )
