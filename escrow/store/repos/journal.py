"""The double-entry journal: entries and their legs, never updated or deleted, and the sums over them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.domain.ledger import Balances, Entry, EntryKind, Ledger
from escrow.store.models import JournalEntry, JournalLeg
from escrow.store.repos.base import Repo, chunks

RECEIVED_KINDS = tuple(kind.value for kind in ledger.RECEIVED_SIGN)


class Journal(Repo):
    def post(self, account_id: int, entry: Entry) -> JournalEntry:
        """Append one balanced entry and its legs (the domain Entry has already checked the balance)."""
        row = JournalEntry(
            account_id=account_id,
            kind=entry.kind.value,
            booked_on=entry.booked_on,
            reference=entry.reference,
            amount_fen=sum(leg.amount_fen for leg in entry.legs if leg.amount_fen > 0),
        )
        self.add(row)
        self.session.add_all(
            JournalLeg(
                entry_id=row.id, account_id=account_id, ledger=leg.ledger.value, amount_fen=leg.amount_fen
            )
            for leg in entry.legs
        )
        self.session.flush()
        return row

    def balances(self, account_id: int) -> Balances:
        return self.balances_of([account_id])[account_id]

    def balances_of(self, account_ids: list[int]) -> dict[int, Balances]:
        """The ledger balances of each account, in one grouped query per chunk of ids."""
        sums: dict[int, dict[Ledger, int]] = {}
        for ids in chunks(account_ids):
            rows = self.session.execute(
                select(JournalLeg.account_id, JournalLeg.ledger, func.sum(JournalLeg.amount_fen))
                .where(JournalLeg.account_id.in_(ids))
                .group_by(JournalLeg.account_id, JournalLeg.ledger)
            )
            for account_id, name, total in rows:
                sums.setdefault(account_id, {})[Ledger(name)] = int(total)
        return {a: Balances.from_ledger_sums(sums.get(a, {})) for a in account_ids}

    def moved_between(self, start: date, end: date) -> set[int]:
        """The accounts with a journal entry booked from `start` to `end` (the monthly archive's test of
        movement), in one query."""
        stmt = select(JournalEntry.account_id).where(JournalEntry.booked_on.between(start, end)).distinct()
        return set(self.session.scalars(stmt))

    def received_fen(self, account_id: int) -> int:
        """Money received for the project: deposits net of reversals and of unidentified money returned to
        its payer (for the guarantee precondition)."""
        return self.received_of([account_id])[account_id]

    def received_of(self, account_ids: list[int]) -> dict[int, int]:
        """As `received_fen`, per account."""
        totals: dict[int, dict[str, int]] = {account_id: {} for account_id in account_ids}
        for ids in chunks(account_ids):
            rows = self.session.execute(
                select(JournalEntry.account_id, JournalEntry.kind, func.sum(JournalEntry.amount_fen))
                .where(JournalEntry.account_id.in_(ids), JournalEntry.kind.in_(RECEIVED_KINDS))
                .group_by(JournalEntry.account_id, JournalEntry.kind)
            )
            for account_id, kind, total in rows:
                totals[account_id][kind] = int(total)
        return {account_id: ledger.received_fen(by_kind) for account_id, by_kind in totals.items()}

    def entries(self, account_id: int) -> list[Entry]:
        """The account's journal as domain entries, in booking order (for invariant checks)."""
        legs: dict[int, list[ledger.Leg]] = {}
        for leg in self.session.scalars(
            select(JournalLeg).where(JournalLeg.account_id == account_id).order_by(JournalLeg.id)
        ):
            legs.setdefault(leg.entry_id, []).append(ledger.Leg(Ledger(leg.ledger), leg.amount_fen))
        rows = self.session.scalars(
            select(JournalEntry).where(JournalEntry.account_id == account_id).order_by(JournalEntry.id)
        )
        return [Entry(EntryKind(r.kind), tuple(legs.get(r.id, ())), r.booked_on, r.reference) for r in rows]

    def amounts_by_reference(self, account_id: int, kind: EntryKind) -> list[tuple[str, int]]:
        """(reference, amount in fen) of the account's entries of one kind."""
        rows = self.session.execute(
            select(JournalEntry.reference, JournalEntry.amount_fen).where(
                JournalEntry.account_id == account_id, JournalEntry.kind == kind.value
            )
        )
        return [(reference, fen) for reference, fen in rows]

    def totals_by_kind(self, start: date, end: date) -> dict[str, int]:
        """kind → total size in fen of the city's entries booked in [start, end]. Summed per account in SQL
        (each account's sums stay far inside 64 bits: escrow.domain.money's bounds) and across accounts in
        Python, so that no city-wide SQL sum can overflow SQLite's 64-bit integers."""
        rows = self.session.execute(
            select(JournalEntry.kind, func.sum(JournalEntry.amount_fen))
            .where(JournalEntry.booked_on >= start, JournalEntry.booked_on <= end)
            .group_by(JournalEntry.account_id, JournalEntry.kind)
        )
        totals: dict[str, int] = {}
        for kind, total in rows:
            totals[kind] = totals.get(kind, 0) + int(total)
        return totals

    def cash_until(self, account_id: int, end: date) -> int:
        """The account's cash balance at the end of `end` (entries booked on or before it)."""
        total = self.session.scalar(
            select(func.coalesce(func.sum(JournalLeg.amount_fen), 0))
            .join(JournalEntry, JournalEntry.id == JournalLeg.entry_id)
            .where(
                JournalLeg.account_id == account_id,
                JournalLeg.ledger == Ledger.CASH.value,
                JournalEntry.booked_on <= end,
            )
        )
        return int(total or 0)

    def cash_total_until(self, end: date) -> int:
        """The city's cash at the end of `end`: summed per account in SQL, across accounts in Python (as
        `totals_by_kind`)."""
        rows = self.session.scalars(
            select(func.sum(JournalLeg.amount_fen))
            .join(JournalEntry, JournalEntry.id == JournalLeg.entry_id)
            .where(JournalLeg.ledger == Ledger.CASH.value, JournalEntry.booked_on <= end)
            .group_by(JournalLeg.account_id)
        )
        return sum(int(total or 0) for total in rows)

    def cash_by_day(self, account_id: int) -> list[tuple[date, int]]:
        """(booking day, net cash movement in fen) of the account, by day: its cash read in date order."""
        rows = self.session.execute(
            select(JournalEntry.booked_on, func.sum(JournalLeg.amount_fen))
            .join(JournalEntry, JournalEntry.id == JournalLeg.entry_id)
            .where(JournalLeg.account_id == account_id, JournalLeg.ledger == Ledger.CASH.value)
            .group_by(JournalEntry.booked_on)
            .order_by(JournalEntry.booked_on)
        )
        return [(day, int(total or 0)) for day, total in rows]

    def has_reference(self, account_id: int, reference: str) -> bool:
        """Whether an entry with this reference was already booked on the account."""
        return (
            self.session.scalar(
                select(JournalEntry.id)
                .where(JournalEntry.account_id == account_id, JournalEntry.reference == reference)
                .limit(1)
            )
            is not None
        )
