"""Key supervised amount changes and their approval steps (rows of the one `approval_steps` table, keyed by
`supervised_amount_change_id`)."""

from __future__ import annotations

from sqlalchemy import select

from escrow.store.models import ApprovalStep, Release, SupervisedAmountChange
from escrow.store.repos.base import Repo, valid_id

OPEN = "submitted"
# Releases still waiting on the money: applied for (submitted) or approved with the bank's instruction unpaid.
PENDING_RELEASE = ("submitted", "approved")


class AmountChanges(Repo):
    def get(self, change_id: int) -> SupervisedAmountChange | None:
        return self.session.get(SupervisedAmountChange, change_id) if valid_id(change_id) else None

    def steps(self, change_id: int) -> list[ApprovalStep]:
        return self.all_of(
            ApprovalStep,
            ApprovalStep.supervised_amount_change_id == change_id,
            order_by=ApprovalStep.step_no,
        )

    def steps_of(self, change_ids: list[int]) -> dict[int, list[ApprovalStep]]:
        """change id → its steps in step order, for a page listing several changes."""
        found: dict[int, list[ApprovalStep]] = {i: [] for i in change_ids}
        if change_ids:
            rows = self.all_of(
                ApprovalStep,
                ApprovalStep.supervised_amount_change_id.in_(change_ids),
                order_by=(ApprovalStep.supervised_amount_change_id, ApprovalStep.step_no),
            )
            for step in rows:
                found[step.supervised_amount_change_id].append(step)
        return found

    def open_for_project(self, project_id: int) -> SupervisedAmountChange | None:
        return self.session.scalar(
            select(SupervisedAmountChange)
            .where(SupervisedAmountChange.project_id == project_id, SupervisedAmountChange.status == OPEN)
            .order_by(SupervisedAmountChange.id)
            .limit(1)
        )

    def of_project(self, project_id: int) -> list[SupervisedAmountChange]:
        """Every change of the project, newest first."""
        return self.all_of(
            SupervisedAmountChange,
            SupervisedAmountChange.project_id == project_id,
            order_by=SupervisedAmountChange.id.desc(),
        )

    def pending_releases(self, project_id: int) -> list[Release]:
        """The project's releases submitted, or approved and not yet paid, in id order."""
        return self.all_of(
            Release,
            Release.project_id == project_id,
            Release.status.in_(PENDING_RELEASE),
            order_by=Release.id,
        )
