"""Fund demand plans (资金需求计划): their versions, items and approval steps (rows of the one
`approval_steps` table, keyed by `fund_plan_id`), and what the project's node releases drew."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from escrow.domain.paging import Page
from escrow.store.models import (
    ApprovalStep,
    Developer,
    FundPlan,
    FundPlanItem,
    Project,
    Release,
    ReleasePayee,
)
from escrow.store.repos.base import Repo, valid_id

DRAWN = ("approved", "executed")  # the releases that drew money against the plan


class FundPlans(Repo):
    def get(self, plan_id: int) -> FundPlan | None:
        return self.session.get(FundPlan, plan_id) if valid_id(plan_id) else None

    def steps(self, plan_id: int) -> list[ApprovalStep]:
        return self.all_of(ApprovalStep, ApprovalStep.fund_plan_id == plan_id, order_by=ApprovalStep.step_no)

    def items(self, plan_id: int) -> list[FundPlanItem]:
        return self.all_of(FundPlanItem, FundPlanItem.plan_id == plan_id, order_by=FundPlanItem.line_no)

    def of_project(self, project_id: int, page: Page | None = None) -> list[FundPlan]:
        """Every version, newest first; with `page`, the page's and one more (escrow.domain.paging: the
        position is the version's id, which grows with its number)."""
        if page is None:
            return self.all_of(FundPlan, FundPlan.project_id == project_id, order_by=FundPlan.version.desc())
        stmt = select(FundPlan).where(FundPlan.project_id == project_id)
        if page.after is not None:
            stmt = stmt.where(FundPlan.id < page.after[0])
        return list(self.session.scalars(stmt.order_by(FundPlan.id.desc()).limit(page.limit + 1)))

    def with_status(self, project_id: int, status: str) -> list[FundPlan]:
        return self.all_of(
            FundPlan,
            FundPlan.project_id == project_id,
            FundPlan.status == status,
            order_by=FundPlan.version.desc(),
        )

    def approved(self, project_id: int) -> FundPlan | None:
        """The plan in force: the latest approved version."""
        found = self.with_status(project_id, "approved")
        return found[0] if found else None

    def last_version(self, project_id: int) -> int:
        stmt = select(func.coalesce(func.max(FundPlan.version), 0)).where(FundPlan.project_id == project_id)
        return int(self.session.scalar(stmt) or 0)

    def approved_in_force(self) -> list[FundPlan]:
        """The plan in force of every project that has one (for the alerts)."""
        return self.all_of(FundPlan, FundPlan.status == "approved", order_by=FundPlan.project_id)

    def approved_in_force_with_projects(self) -> list[tuple[FundPlan, Project]]:
        """As `approved_in_force`, each plan with its project, in one query (the alert sweep)."""
        rows = self.session.execute(
            select(FundPlan, Project)
            .join(Project, Project.id == FundPlan.project_id)
            .where(FundPlan.status == "approved")
            .order_by(FundPlan.project_id, FundPlan.id)
        )
        return [(plan, project) for plan, project in rows]

    def items_of(self, plan_ids: list[int]) -> dict[int, list[FundPlanItem]]:
        """plan id → its items in line order, in one query."""
        found: dict[int, list[FundPlanItem]] = {i: [] for i in plan_ids}
        stmt = select(FundPlanItem).where(self.among(FundPlanItem.plan_id, plan_ids))
        for item in self.session.scalars(stmt.order_by(FundPlanItem.plan_id, FundPlanItem.line_no)):
            found[item.plan_id].append(item)
        return found

    def submitted(self, limit: int = 200) -> list[tuple[FundPlan, str, str]]:
        """Plans waiting for a decision, oldest first, with the project's and the developer's names."""
        rows = self.session.execute(
            select(FundPlan, Project.name, Developer.name)
            .join(Project, Project.id == FundPlan.project_id)
            .join(Developer, Developer.id == FundPlan.developer_id)
            .where(FundPlan.status == "submitted")
            .order_by(FundPlan.id)
            .limit(limit)
        ).all()
        return [(p, n, d) for p, n, d in rows]

    def drawings(self, project_id: int) -> list[tuple[str, str, int, date]]:
        """(node code, payee role, amount in fen, the day it was approved) of every payee of the project's
        node releases approved or executed. A release approved before 0012 recorded no approval day: the day
        it was applied for stands in."""
        return self.drawings_of([project_id])[project_id]

    def drawings_of(self, project_ids: list[int]) -> dict[int, list[tuple[str, str, int, date]]]:
        """project id → its `drawings`, in one query."""
        found: dict[int, list[tuple[str, str, int, date]]] = {i: [] for i in project_ids}
        rows = self.session.execute(
            select(
                Release.project_id,
                Release.node_code,
                ReleasePayee.role,
                ReleasePayee.amount_fen,
                Release.approved_on,
                Release.created_at,
            )
            .join(ReleasePayee, ReleasePayee.release_id == Release.id)
            .where(
                self.among(Release.project_id, project_ids),
                Release.kind == "node",
                Release.status.in_(DRAWN),
                Release.node_code.is_not(None),
            )
            .order_by(Release.id, ReleasePayee.id)
        )
        for project_id, n, r, a, on, created in rows:
            found[project_id].append((n, r, a, on or _day(created)))
        return found


def _day(value: datetime) -> date:
    return value.date()
