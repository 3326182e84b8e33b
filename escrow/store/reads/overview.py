"""Read models behind the city's charts (the dashboard and the city report): the journal's sums by month,
the cash by supervising bank at a day's end, and the live accounts with their bank and project. Each is one
or two grouped statements whatever the number of accounts or months; nothing writes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Row, extract, func, select

from escrow.domain.ledger import Ledger
from escrow.store.models import AccountBalance, Bank, JournalEntry, JournalLeg, Project, SupervisedAccount
from escrow.store.repos.base import Reads

BALANCES = AccountBalance.__table__


class OverviewReads(Reads):
    def totals_by_month(self, start: date, end: date) -> dict[tuple[int, int], dict[str, int]]:
        """(year, month) → kind → total fen of the city's entries booked in [start, end], one GROUP BY of
        the booking day's year and month (both engines compile `extract`)."""
        year = extract("year", JournalEntry.booked_on)
        month = extract("month", JournalEntry.booked_on)
        rows = self.session.execute(
            select(year, month, JournalEntry.kind, func.sum(JournalEntry.amount_fen))
            .where(JournalEntry.booked_on >= start, JournalEntry.booked_on <= end)
            .group_by(year, month, JournalEntry.kind)
        )
        out: dict[tuple[int, int], dict[str, int]] = {}
        for y, m, kind, total in rows:
            out.setdefault((int(y), int(m)), {})[kind] = int(total)
        return out

    def cash_by_bank_until(self, end: date) -> list[tuple[int, str, int]]:
        """(bank id, bank name, fen) of the cash in the accounts at each bank at the end of `end`: the
        maintained balances now less the cash booked after `end` (as `Journal.cash_total_until`), two
        statements grouped by bank. Banks that never held an account are left out."""
        now = self.session.execute(
            select(Bank.id, Bank.name, func.sum(BALANCES.c.balance_fen))
            .join(SupervisedAccount, SupervisedAccount.id == BALANCES.c.account_id)
            .join(Bank, Bank.id == SupervisedAccount.bank_id)
            .where(BALANCES.c.ledger == Ledger.CASH.value)
            .group_by(Bank.id, Bank.name)
        ).all()
        later = dict(
            self.session.execute(
                select(SupervisedAccount.bank_id, func.sum(JournalLeg.amount_fen))
                .join(SupervisedAccount, SupervisedAccount.id == JournalLeg.account_id)
                .where(
                    JournalLeg.entry_id.in_(select(JournalEntry.id).where(JournalEntry.booked_on > end)),
                    JournalLeg.ledger == Ledger.CASH.value,
                )
                .group_by(SupervisedAccount.bank_id)
            ).all()
        )
        return [(bank_id, name, int(fen) - int(later.get(bank_id) or 0)) for bank_id, name, fen in now]

    def live_accounts(self) -> list[Row]:
        """Every account not closed, in account id order: id, number, status, its bank's name, its project's
        id, name, rule book, finish and key supervised amount."""
        rows = self.session.execute(
            select(
                SupervisedAccount.id,
                SupervisedAccount.account_no,
                SupervisedAccount.status,
                Bank.name.label("bank_name"),
                Project.id.label("project_id"),
                Project.name.label("project_name"),
                Project.rulebook_id,
                Project.finish,
                Project.supervised_amount_fen,
            )
            .join(Project, Project.id == SupervisedAccount.project_id)
            .join(Bank, Bank.id == SupervisedAccount.bank_id)
            .where(SupervisedAccount.status != "closed")
            .order_by(SupervisedAccount.id)
        )
        return list(rows)
