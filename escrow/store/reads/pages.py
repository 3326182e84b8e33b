"""Read queries behind the web pages (escrow.web) that no other read model answers: a page of refunds with
their contracts, projects and steps; the parties of a release; the stored uploads a page links to and whose
account an upload belongs to. Each is a fixed number of queries, never one per row; nothing writes.

`DatabaseUnavailable` is the store's name for the driver's error when the database cannot be reached or is
locked: the pages answer it with "busy, try again" (503) instead of a bug report.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from escrow.store.models import (
    ApprovalStep,
    Contract,
    Developer,
    Project,
    Refund,
    StoredDocument,
    SupervisedAccount,
)
from escrow.store.repos.base import Reads
from escrow.store.repos.projects import current_account_of_project

DatabaseUnavailable = OperationalError


class PageReads(Reads):
    def refund_list(
        self, *, status: str | None = None, offset: int = 0, limit: int = 20
    ) -> list[tuple[Refund, Contract, Project]]:
        """One page of refunds, newest first, each with its contract and the contract's project."""
        stmt = (
            select(Refund, Contract, Project)
            .join(Contract, Contract.id == Refund.contract_id)
            .join(Project, Project.id == Contract.project_id)
        )
        if status is not None:
            stmt = stmt.where(Refund.status == status)
        rows = self.session.execute(stmt.order_by(Refund.id.desc()).offset(offset).limit(limit)).all()
        return [(refund, contract, project) for refund, contract, project in rows]

    def refund_steps_taken(self, refund_ids: list[int]) -> dict[int, int]:
        """How many approval steps each refund has behind it."""
        return self.count_by(ApprovalStep.refund_id, refund_ids)

    def release_parties(
        self, account_id: int, developer_id: int
    ) -> tuple[SupervisedAccount | None, Developer | None]:
        """The supervised account a release pays out of and the developer who applied."""
        return self.session.get(SupervisedAccount, account_id), self.session.get(Developer, developer_id)

    def stored_documents(self, account_id: int, sha256s: list[str]) -> dict[str, int]:
        """sha256 → id of the latest stored upload with that content on this account (for download links)."""
        if not sha256s:
            return {}
        rows = self.session.execute(
            select(StoredDocument.sha256, func.max(StoredDocument.id))
            .where(StoredDocument.account_id == account_id, StoredDocument.sha256.in_(sha256s))
            .group_by(StoredDocument.sha256)
        ).all()
        return {sha: doc_id for sha, doc_id in rows}

    def developer_of_account(self, account_id: int) -> int | None:
        """The developer whose project the account supervises, or None for an unknown account."""
        return self.session.scalar(
            select(Project.developer_id)
            .join(SupervisedAccount, current_account_of_project())
            .where(SupervisedAccount.id == account_id)
        )
