"""Rule book adoptions: a later version adopted for chosen live projects, its chosen projects and its
approval steps (rows of the one `approval_steps` table, keyed by `adoption_id`)."""

from __future__ import annotations

from sqlalchemy import func, select

from escrow.domain.paging import Page
from escrow.store.models import (
    ApprovalStep,
    Developer,
    Project,
    RulebookAdoption,
    RulebookAdoptionProject,
    SupervisedAccount,
)
from escrow.store.repos.base import Repo, valid_id
from escrow.store.repos.projects import current_account_of_project


class Adoptions(Repo):
    def get(self, adoption_id: int) -> RulebookAdoption | None:
        return self.session.get(RulebookAdoption, adoption_id) if valid_id(adoption_id) else None

    def steps(self, adoption_id: int) -> list[ApprovalStep]:
        return self.all_of(
            ApprovalStep, ApprovalStep.adoption_id == adoption_id, order_by=ApprovalStep.step_no
        )

    def chosen(self, adoption_id: int) -> list[RulebookAdoptionProject]:
        return self.all_of(
            RulebookAdoptionProject,
            RulebookAdoptionProject.adoption_id == adoption_id,
            order_by=RulebookAdoptionProject.project_id,
        )

    def chosen_with_projects(
        self, adoption_id: int
    ) -> list[tuple[RulebookAdoptionProject, Project, SupervisedAccount, str]]:
        """The chosen projects with their project, account and developer name, by project id."""
        rows = self.session.execute(
            select(RulebookAdoptionProject, Project, SupervisedAccount, Developer.name)
            .join(Project, Project.id == RulebookAdoptionProject.project_id)
            .join(SupervisedAccount, SupervisedAccount.id == RulebookAdoptionProject.account_id)
            .join(Developer, Developer.id == Project.developer_id)
            .where(RulebookAdoptionProject.adoption_id == adoption_id)
            .order_by(Project.id)
        ).all()
        return [(c, p, a, d) for c, p, a, d in rows]

    def of_project(self, project_id: int) -> list[tuple[RulebookAdoption, RulebookAdoptionProject]]:
        """Every adoption that chose the project, newest first."""
        rows = self.session.execute(
            select(RulebookAdoption, RulebookAdoptionProject)
            .join(RulebookAdoptionProject, RulebookAdoptionProject.adoption_id == RulebookAdoption.id)
            .where(RulebookAdoptionProject.project_id == project_id)
            .order_by(RulebookAdoption.id.desc())
        ).all()
        return [(a, c) for a, c in rows]

    def listing(
        self, *, status: str | None = None, limit: int = 50, page: Page | None = None
    ) -> list[RulebookAdoption]:
        """Newest first: the latest `limit`; with `page`, the page's and one more (escrow.domain.paging)."""
        stmt = select(RulebookAdoption)
        if status is not None:
            stmt = stmt.where(RulebookAdoption.status == status)
        if page is not None:
            limit = page.limit + 1
            if page.after is not None:
                stmt = stmt.where(RulebookAdoption.id < page.after[0])
        return list(self.session.scalars(stmt.order_by(RulebookAdoption.id.desc()).limit(limit)))

    def count_chosen(self, adoption_ids: list[int]) -> dict[int, int]:
        return self.count_by(RulebookAdoptionProject.adoption_id, adoption_ids)

    def projects_with_accounts(
        self, project_ids: list[int]
    ) -> dict[int, tuple[Project, SupervisedAccount, str]]:
        """project id → (project, account, developer credit grade) for the ids that exist."""
        return self.by_ids(
            project_ids,
            select(Project, SupervisedAccount, Developer.credit_grade)
            .join(SupervisedAccount, current_account_of_project())
            .join(Developer, Developer.id == Project.developer_id),
            Project.id,
        )

    def credit_grades(self, project_ids: list[int]) -> dict[int, str]:
        """project id → its developer's credit grade (for the key supervised amount's formula)."""
        found: dict[int, str] = {}
        rows = self.session.execute(
            select(Project.id, Developer.credit_grade)
            .join(Developer, Developer.id == Project.developer_id)
            .where(self.among(Project.id, project_ids))
        )
        found.update((project_id, grade) for project_id, grade in rows)
        return found

    def open_for_projects(self, project_ids: list[int]) -> dict[int, int]:
        """project id → the id of a submitted (still open) adoption that chose it."""
        found: dict[int, int] = {}
        rows = self.session.execute(
            select(RulebookAdoptionProject.project_id, RulebookAdoption.id)
            .join(RulebookAdoption, RulebookAdoption.id == RulebookAdoptionProject.adoption_id)
            .where(
                self.among(RulebookAdoptionProject.project_id, project_ids),
                RulebookAdoption.status == "submitted",
            )
        )
        found.update((project_id, adoption_id) for project_id, adoption_id in rows)
        return found

    def pending_count(self) -> int:
        stmt = select(func.count(RulebookAdoption.id)).where(RulebookAdoption.status == "submitted")
        return int(self.session.scalar(stmt) or 0)
