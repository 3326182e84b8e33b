"""Read queries of the bank portal (escrow.web.bank): the statements a bank sent and the freezes on its
accounts. Every query is scoped by the caller to one bank; nothing writes."""

from __future__ import annotations

from sqlalchemy import select

from escrow.store.models import Freeze, PaymentInstruction, Statement, SupervisedAccount
from escrow.store.repos.base import Reads


class BankReads(Reads):
    def statements(
        self, bank_id: int, account_id: int | None = None, limit: int = 200
    ) -> list[tuple[Statement, str]]:
        """The bank's latest statements on the accounts it supervises (one account's, if named), newest
        first, each with its account number."""
        query = (
            select(Statement, SupervisedAccount.account_no)
            .join(SupervisedAccount, SupervisedAccount.id == Statement.account_id)
            .where(SupervisedAccount.bank_id == bank_id)
            .order_by(Statement.statement_date.desc(), Statement.id.desc())
            .limit(limit)
        )
        if account_id is not None:
            query = query.where(Statement.account_id == account_id)
        return [(statement, account_no) for statement, account_no in self.session.execute(query)]

    def freezes(self, bank_id: int, account_id: int | None = None) -> list[tuple[Freeze, str]]:
        """Court freezes on the bank's accounts (one account's, if named), in force first, then newest."""
        query = (
            select(Freeze, SupervisedAccount.account_no)
            .join(SupervisedAccount, SupervisedAccount.id == Freeze.account_id)
            .where(SupervisedAccount.bank_id == bank_id)
            .order_by(Freeze.status, Freeze.ordered_on.desc(), Freeze.id.desc())
        )
        if account_id is not None:
            query = query.where(Freeze.account_id == account_id)
        return [(freeze, account_no) for freeze, account_no in self.session.execute(query)]

    def waiting_on(self, account_id: int) -> list[PaymentInstruction]:
        """The instructions on one account the bank has yet to execute, oldest first."""
        return self.all_of(
            PaymentInstruction,
            PaymentInstruction.account_id == account_id,
            PaymentInstruction.status == "pending",
            order_by=PaymentInstruction.id,
        )
