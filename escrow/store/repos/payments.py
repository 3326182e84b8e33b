"""Money leaving the account on the bureau's approval: release applications with their payees, documents
and approval steps, refunds of cancelled contracts, and the payment instructions the bank executes."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from escrow.domain.lifecycle import ENDING_KINDS
from escrow.domain.paging import Page
from escrow.store.models import (
    ApprovalStep,
    Developer,
    Freeze,
    Guarantee,
    PaymentInstruction,
    Project,
    Refund,
    Release,
    ReleaseDocument,
    ReleasePayee,
    SupervisedAccount,
)
from escrow.store.repos.base import Repo, valid_id


class Releases(Repo):
    """Release applications with their payees, documents and approval steps."""

    def get(self, release_id: int) -> Release | None:
        return self.session.get(Release, release_id) if valid_id(release_id) else None

    def payees(self, release_id: int) -> list[ReleasePayee]:
        return self.all_of(ReleasePayee, ReleasePayee.release_id == release_id, order_by=ReleasePayee.id)

    def documents(self, release_id: int) -> list[ReleaseDocument]:
        return self.all_of(
            ReleaseDocument, ReleaseDocument.release_id == release_id, order_by=ReleaseDocument.id
        )

    def steps(self, release_id: int) -> list[ApprovalStep]:
        return self.all_of(ApprovalStep, ApprovalStep.release_id == release_id, order_by=ApprovalStep.step_no)

    def listing(
        self,
        *,
        developer_id: int | None = None,
        status: str | None = None,
        limit: int = 200,
        page: Page | None = None,
    ) -> list[Release]:
        """Newest first: the latest `limit`; with `page`, the page's and one more (escrow.domain.paging)."""
        stmt = select(Release)
        if developer_id is not None:
            stmt = stmt.where(Release.developer_id == developer_id)
        if status is not None:
            stmt = stmt.where(Release.status == status)
        if page is not None:
            limit = page.limit + 1
            if page.after is not None:
                stmt = stmt.where(Release.id < page.after[0])
        return list(self.session.scalars(stmt.order_by(Release.id.desc()).limit(limit)))

    def search(
        self, *, status: str | None = None, project_id: int | None = None, offset: int = 0, limit: int = 20
    ) -> tuple[list[tuple[Release, str, str]], int]:
        """One page of releases, newest first, with the project's and the developer's names; and the total."""
        where = []
        if status is not None:
            where.append(Release.status == status)
        if project_id is not None:
            where.append(Release.project_id == project_id)
        total = self.session.scalar(select(func.count()).select_from(Release).where(*where)) or 0
        rows = self.session.execute(
            select(Release, Project.name, Developer.name)
            .join(Project, Project.id == Release.project_id)
            .join(Developer, Developer.id == Release.developer_id)
            .where(*where)
            .order_by(Release.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return [(r, p, d) for r, p, d in rows], total

    def steps_taken(self, release_ids: list[int]) -> dict[int, int]:
        """How many approval steps each release has behind it."""
        return self.count_by(ApprovalStep.release_id, release_ids)

    def projects_with_releases(self) -> list[tuple[int, str]]:
        """(project id, name) of every project that has a release application, for the list's filter."""
        rows = self.session.execute(
            select(Project.id, Project.name)
            .where(Project.id.in_(select(Release.project_id)))
            .order_by(Project.name)
        ).all()
        return [(i, n) for i, n in rows]


class Refunds(Repo):
    """Refunds of cancelled contracts and their approval steps."""

    def get(self, refund_id: int) -> Refund | None:
        return self.session.get(Refund, refund_id) if valid_id(refund_id) else None

    def for_contract(self, contract_id: int) -> Refund | None:
        return self.session.scalar(
            select(Refund).where(Refund.contract_id == contract_id).order_by(Refund.id.desc()).limit(1)
        )

    def steps(self, refund_id: int) -> list[ApprovalStep]:
        return self.all_of(ApprovalStep, ApprovalStep.refund_id == refund_id, order_by=ApprovalStep.step_no)

    def listing(self, *, status: str | None = None, offset: int = 0, limit: int = 20) -> list[Refund]:
        """Newest first, one page of them."""
        stmt = select(Refund)
        if status is not None:
            stmt = stmt.where(Refund.status == status)
        return list(self.session.scalars(stmt.order_by(Refund.id.desc()).offset(offset).limit(limit)))

    def count(self, *, status: str | None = None) -> int:
        stmt = select(func.count(Refund.id))
        if status is not None:
            stmt = stmt.where(Refund.status == status)
        return int(self.session.scalar(stmt) or 0)


class Instructions(Repo):
    """Payment instructions: approved releases and refunds for the supervising bank to pay."""

    def get(self, instruction_id: int) -> PaymentInstruction | None:
        return self.session.get(PaymentInstruction, instruction_id) if valid_id(instruction_id) else None

    def for_release(self, release_id: int) -> PaymentInstruction | None:
        return self.one_of(PaymentInstruction, PaymentInstruction.release_id == release_id)

    def for_refund(self, refund_id: int) -> PaymentInstruction | None:
        return self.one_of(PaymentInstruction, PaymentInstruction.refund_id == refund_id)

    def for_deposit(self, deposit_id: int) -> PaymentInstruction | None:
        """The return of an unassigned deposit to its payer."""
        return self.one_of(PaymentInstruction, PaymentInstruction.deposit_id == deposit_id)

    def of_bank(
        self, bank_id: int, status: str | None = None, page: Page | None = None
    ) -> list[PaymentInstruction]:
        """In id order; with `page`, the page's and one more (escrow.domain.paging)."""
        stmt = (
            select(PaymentInstruction)
            .join(SupervisedAccount, SupervisedAccount.id == PaymentInstruction.account_id)
            .where(SupervisedAccount.bank_id == bank_id)
        )
        if status is not None:
            stmt = stmt.where(PaymentInstruction.status == status)
        if page is not None:
            if page.after is not None:
                stmt = stmt.where(PaymentInstruction.id > page.after[0])
            stmt = stmt.limit(page.limit + 1)
        return list(self.session.scalars(stmt.order_by(PaymentInstruction.id)))

    def executed_with_reference(self, bank_id: int, bank_reference: str) -> PaymentInstruction | None:
        return self.session.scalar(
            select(PaymentInstruction)
            .join(SupervisedAccount, SupervisedAccount.id == PaymentInstruction.account_id)
            .where(SupervisedAccount.bank_id == bank_id, PaymentInstruction.bank_reference == bank_reference)
            .limit(1)
        )

    def executed_amounts(self, account_id: int) -> dict[str, int]:
        """bank reference → amount in fen of the account's executed instructions."""
        rows = self.session.execute(
            select(PaymentInstruction.bank_reference, PaymentInstruction.amount_fen).where(
                PaymentInstruction.account_id == account_id, PaymentInstruction.status == "executed"
            )
        )
        return {reference: fen for reference, fen in rows}

    def transferred_into(self, account_id: int) -> dict[str, int]:
        """bank reference → amount in fen of the executed transfer that opened the account (a change of
        supervising bank): its credit on the new bank's statement is that transfer, not new money."""
        rows = self.session.execute(
            select(PaymentInstruction.bank_reference, PaymentInstruction.amount_fen).where(
                PaymentInstruction.new_account_id == account_id, PaymentInstruction.status == "executed"
            )
        )
        return {reference: fen for reference, fen in rows}

    def ending_of(self, account_id: int) -> PaymentInstruction | None:
        """The account's pending closure or transfer (at most one), if any."""
        return self.session.scalar(
            select(PaymentInstruction)
            .where(
                PaymentInstruction.account_id == account_id,
                PaymentInstruction.status == "pending",
                PaymentInstruction.kind.in_(ENDING_KINDS),
            )
            .limit(1)
        )

    def account_no_taken(self, account_no: str) -> bool:
        """Whether `account_no` names an account or the new account of a pending transfer."""
        taken = self.session.scalar(
            select(SupervisedAccount.id).where(SupervisedAccount.account_no == account_no).limit(1)
        )
        pending = self.session.scalar(
            select(PaymentInstruction.id)
            .where(
                PaymentInstruction.kind == "transfer",
                PaymentInstruction.status == "pending",
                PaymentInstruction.payee_account_no == account_no,
            )
            .limit(1)
        )
        return taken is not None or pending is not None

    def open_counts(self, account_id: int, today: date) -> dict[str, int]:
        """What is still open on the account: releases and refunds submitted or approved and not paid,
        instructions pending (other than a closure or transfer), freezes in force, guarantees in force (not
        released and not expired on `today`)."""

        def count(model: Any, *where: Any) -> Any:
            return (
                select(func.count())
                .select_from(model)
                .where(model.account_id == account_id, *where)
                .scalar_subquery()
            )

        counts = {
            "releases_open": count(Release, Release.status.in_(("submitted", "approved"))),
            "refunds_open": count(Refund, Refund.status.in_(("submitted", "approved"))),
            "instructions_pending": count(
                PaymentInstruction,
                PaymentInstruction.status == "pending",
                PaymentInstruction.kind.not_in(ENDING_KINDS),
            ),
            "freezes_in_force": count(Freeze, Freeze.status == "active"),
            "guarantees_in_force": count(
                Guarantee, Guarantee.status == "active", Guarantee.expires_on >= today
            ),
        }
        row = self.session.execute(select(*(c.label(name) for name, c in counts.items()))).one()
        return {name: int(value or 0) for name, value in zip(counts, row, strict=True)}
