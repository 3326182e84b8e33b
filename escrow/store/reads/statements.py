"""Read queries behind the page that explains one imported bank statement line by line
(escrow.services.statement_explained): the statement with its account and project, its lines, what each
line matched in the books, the books' deposits it did not show, and the account's statements around it.
A fixed number of queries whatever the statement's length; nothing writes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from escrow.store.models import (
    Deposit,
    JournalEntry,
    PaymentInstruction,
    Project,
    Statement,
    StatementLine,
    SupervisedAccount,
    Voucher,
)
from escrow.store.repos.base import Reads
from escrow.store.repos.journal import Journal


class StatementReads(Reads):
    def statement(self, statement_id: int) -> tuple[Statement, SupervisedAccount, Project] | None:
        row = self.session.execute(
            select(Statement, SupervisedAccount, Project)
            .join(SupervisedAccount, SupervisedAccount.id == Statement.account_id)
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(Statement.id == statement_id)
        ).first()
        return (row[0], row[1], row[2]) if row else None

    def lines(self, statement_id: int, limit: int) -> tuple[list[StatementLine], int]:
        """The statement's lines, those that did not match first, then in the statement's order, at most
        `limit` of them; and how many it has."""
        total = self.session.scalar(
            select(func.count()).select_from(StatementLine).where(StatementLine.statement_id == statement_id)
        )
        first_the_differences = (StatementLine.match == "matched", StatementLine.line_no)
        rows = self.session.scalars(
            select(StatementLine)
            .where(StatementLine.statement_id == statement_id)
            .order_by(*first_the_differences)
            .limit(limit)
        )
        return list(rows), int(total or 0)

    def deposits(self, ids: list[int]) -> dict[int, tuple[Deposit, str | None]]:
        """deposit id → (the deposit, its voucher number or None)."""
        rows = self.session.execute(
            select(Deposit, Voucher.voucher_no)
            .outerjoin(Voucher, Voucher.deposit_id == Deposit.id)
            .where(self.among(Deposit.id, ids))
        )
        return {d.id: (d, voucher_no) for d, voucher_no in rows}

    def deposits_by_reference(self, bank_id: int, references: list[str]) -> dict[str, Deposit]:
        """bank reference → the bank's deposit with it (unique per bank)."""
        if not references:
            return {}
        rows = self.session.scalars(
            select(Deposit).where(Deposit.bank_id == bank_id, self.among(Deposit.bank_reference, references))
        )
        return {d.bank_reference: d for d in rows}

    def instructions_by_reference(
        self, account_id: int, references: list[str]
    ) -> dict[str, PaymentInstruction]:
        """bank reference → the account's executed payment instruction the bank paid under it."""
        if not references:
            return {}
        rows = self.session.scalars(
            select(PaymentInstruction).where(
                PaymentInstruction.account_id == account_id,
                PaymentInstruction.status == "executed",
                self.among(PaymentInstruction.bank_reference, references),
            )
        )
        return {i.bank_reference: i for i in rows if i.bank_reference}

    def own_entries(self, account_id: int, references: list[str]) -> dict[str, str]:
        """journal reference (`interest:…`, `fee:…`, `deduction:…`) → its entry kind, for the references a
        statement's lines may have matched."""
        if not references:
            return {}
        rows = self.session.execute(
            select(JournalEntry.reference, JournalEntry.kind).where(
                JournalEntry.account_id == account_id, self.among(JournalEntry.reference, references)
            )
        )
        return {reference: kind for reference, kind in rows}

    def books_only(self, statement: Statement, limit: int) -> list[tuple[Deposit, str | None]]:
        """The account's deposits with a value date up to the statement's, not reversed, that no line of
        this statement or an earlier one showed (what made its "books only" count), with their voucher
        numbers; oldest first, at most `limit`."""
        shown = (
            select(StatementLine.id)
            .where(StatementLine.deposit_id == Deposit.id, StatementLine.statement_id <= statement.id)
            .exists()
        )
        rows = self.session.execute(
            select(Deposit, Voucher.voucher_no)
            .outerjoin(Voucher, Voucher.deposit_id == Deposit.id)
            .where(
                Deposit.account_id == statement.account_id,
                Deposit.value_date <= statement.statement_date,
                Deposit.status != "reversed",
                ~shown,
            )
            .order_by(Deposit.value_date, Deposit.id)
            .limit(limit)
        )
        return [(d, voucher_no) for d, voucher_no in rows]

    def cash_until(self, account_id: int, day: date) -> int:
        return Journal(self.session).cash_until(account_id, day)

    def latest_statement(self, account_id: int) -> Statement | None:
        return self.session.scalar(
            select(Statement)
            .where(Statement.account_id == account_id)
            .order_by(Statement.statement_date.desc(), Statement.id.desc())
            .limit(1)
        )
