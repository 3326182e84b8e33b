"""The reports' reads: every query of the report package (`escrow.reports`) is here, the month and city
aggregates included; each returns plain rows for `escrow.reports.data` to shape."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, select

from escrow.domain.ledger import Ledger
from escrow.store.models import (
    Bank,
    Contract,
    Deposit,
    Developer,
    Freeze,
    JournalEntry,
    JournalLeg,
    PaymentNotice,
    Project,
    Refund,
    Release,
    Statement,
    SupervisedAccount,
    User,
    Voucher,
)
from escrow.store.repos.base import Reads
from escrow.store.repos.journal import Journal


def _with_parties(stmt: Select) -> Select:
    """Join an account's project, bank and developer to a query that has the account."""
    return (
        stmt.join(Project, Project.id == SupervisedAccount.project_id)
        .join(Bank, Bank.id == SupervisedAccount.bank_id)
        .join(Developer, Developer.id == Project.developer_id)
    )


class ReportQueries(Reads):
    # --- one document -------------------------------------------------------------------------------

    def voucher(self, voucher_no: str) -> tuple[Any, ...] | None:
        """(Voucher, Deposit, SupervisedAccount, Project, Bank, Developer, PaymentNotice | None,
        Contract | None)."""
        voucher = select(
            Voucher, Deposit, SupervisedAccount, Project, Bank, Developer, PaymentNotice, Contract
        )
        return self.session.execute(
            _with_parties(
                voucher.join(Deposit, Deposit.id == Voucher.deposit_id).join(
                    SupervisedAccount, SupervisedAccount.id == Voucher.account_id
                )
            )
            .outerjoin(PaymentNotice, PaymentNotice.id == Deposit.notice_id)
            .outerjoin(Contract, Contract.id == Deposit.contract_id)
            .where(Voucher.voucher_no == voucher_no)
        ).first()

    def notice(self, notice_no: str) -> tuple[Any, ...] | None:
        """(PaymentNotice, Contract, SupervisedAccount, Project, Bank, Developer)."""
        notice = select(PaymentNotice, Contract, SupervisedAccount, Project, Bank, Developer)
        return self.session.execute(
            _with_parties(
                notice.join(Contract, Contract.id == PaymentNotice.contract_id).join(
                    SupervisedAccount, SupervisedAccount.id == PaymentNotice.account_id
                )
            ).where(PaymentNotice.notice_no == notice_no)
        ).first()

    def account(self, account_no: str) -> tuple[Any, ...] | None:
        """(SupervisedAccount, Project, Bank, Developer)."""
        return self.session.execute(
            _with_parties(select(SupervisedAccount, Project, Bank, Developer)).where(
                SupervisedAccount.account_no == account_no
            )
        ).first()

    def release_parties(self, release: Release) -> tuple[Any, ...]:
        """(SupervisedAccount, Project, Bank, Developer) of a release."""
        return self.session.execute(
            _with_parties(select(SupervisedAccount, Project, Bank, Developer)).where(
                SupervisedAccount.id == release.account_id
            )
        ).one()

    def users(self, ids: Iterable[int]) -> dict[int, User]:
        return self.by_ids(ids, select(User), User.id)

    # --- one account's month ------------------------------------------------------------------------

    def cash_entries(self, account_id: int, start: date, end: date) -> list[tuple[int, date, str, str, int]]:
        """The account's journal entries booked in [start, end] that move cash, in booking order:
        (entry id, booked_on, kind, reference, cash effect in fen: + in, − out)."""
        cash = func.sum(JournalLeg.amount_fen)
        rows = self.session.execute(
            select(JournalEntry.id, JournalEntry.booked_on, JournalEntry.kind, JournalEntry.reference, cash)
            .join(
                JournalLeg,
                and_(JournalLeg.entry_id == JournalEntry.id, JournalLeg.ledger == Ledger.CASH.value),
            )
            .where(
                JournalEntry.account_id == account_id,
                JournalEntry.booked_on >= start,
                JournalEntry.booked_on <= end,
            )
            .group_by(JournalEntry.id, JournalEntry.booked_on, JournalEntry.kind, JournalEntry.reference)
            .order_by(JournalEntry.booked_on, JournalEntry.id)
        )
        return [(i, booked, kind, ref, int(fen)) for i, booked, kind, ref, fen in rows if fen]

    def entry_counts(self, account_id: int, start: date, end: date) -> dict[str, tuple[int, int]]:
        """kind → (entries, total size in fen) booked on the account in [start, end], cash-moving or not."""
        rows = self.session.execute(
            select(JournalEntry.kind, func.count(JournalEntry.id), func.sum(JournalEntry.amount_fen))
            .where(
                JournalEntry.account_id == account_id,
                JournalEntry.booked_on >= start,
                JournalEntry.booked_on <= end,
            )
            .group_by(JournalEntry.kind)
        )
        return {kind: (int(n), int(total or 0)) for kind, n, total in rows}

    def deposits(self, ids: Iterable[int]) -> dict[int, tuple[Deposit, str | None]]:
        """Deposits by id with their voucher numbers."""
        with_voucher_no = select(Deposit, Voucher.voucher_no).outerjoin(
            Voucher, Voucher.deposit_id == Deposit.id
        )
        return self.by_ids(ids, with_voucher_no, Deposit.id)

    def releases(self, ids: Iterable[int]) -> dict[int, Release]:
        return self.by_ids(ids, select(Release), Release.id)

    def refunds(self, ids: Iterable[int]) -> dict[int, tuple[Refund, str]]:
        """Refunds by id with their contract numbers."""
        with_contract_no = select(Refund, Contract.contract_no).join(
            Contract, Contract.id == Refund.contract_id
        )
        return self.by_ids(ids, with_contract_no, Refund.id)

    def statements(self, account_id: int, start: date, end: date) -> list[Statement]:
        return list(
            self.session.scalars(
                select(Statement)
                .where(
                    Statement.account_id == account_id,
                    Statement.statement_date >= start,
                    Statement.statement_date <= end,
                )
                .order_by(Statement.statement_date, Statement.id)
            )
        )

    def freezes_active_on(self, account_id: int, day: date) -> list[Freeze]:
        """Freezes ordered on or before `day` that are still active."""
        return self.all_of(
            Freeze,
            Freeze.account_id == account_id,
            Freeze.ordered_on <= day,
            Freeze.status == "active",
            order_by=Freeze.id,
        )

    def cash_until(self, account_id: int, day: date) -> int:
        return Journal(self.session).cash_until(account_id, day)

    # --- the city -----------------------------------------------------------------------------------

    def any_account_opened_by(self, end: date) -> bool:
        found = self.session.scalar(
            select(SupervisedAccount.id).where(SupervisedAccount.opened_on <= end).limit(1)
        )
        return found is not None

    def accounts_opened_by(self, end: date) -> list[tuple[Any, ...]]:
        """Every account opened on or before `end`: (SupervisedAccount, Project, Bank, Developer), by
        opening date."""
        return list(
            self.session.execute(
                _with_parties(select(SupervisedAccount, Project, Bank, Developer))
                .where(SupervisedAccount.opened_on <= end)
                .order_by(SupervisedAccount.opened_on, SupervisedAccount.id)
            )
        )

    def flows_by_account(self, start: date, end: date) -> dict[int, dict[str, int]]:
        """account id → kind → total size in fen of the entries booked in [start, end]."""
        rows = self.session.execute(
            select(JournalEntry.account_id, JournalEntry.kind, func.sum(JournalEntry.amount_fen))
            .where(JournalEntry.booked_on >= start, JournalEntry.booked_on <= end)
            .group_by(JournalEntry.account_id, JournalEntry.kind)
        )
        flows: dict[int, dict[str, int]] = {}
        for account_id, kind, total in rows:
            flows.setdefault(account_id, {})[kind] = int(total or 0)
        return flows

    def cash_by_account_until(self, end: date, account_ids: list[int]) -> dict[int, int]:
        """account id → its cash at the end of `end` (`Journal.cash_of_until`: the balance now less what was
        booked later, never the whole history)."""
        return Journal(self.session).cash_of_until(account_ids, end)
