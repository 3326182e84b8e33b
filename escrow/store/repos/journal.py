"""The double-entry journal: entries and their legs, never updated or deleted, and the sums over them.

An account's lifetime sums (each ledger's balance, each kind's total) are also kept in two maintained tables
(`account_balances`, `account_kind_totals`, migration 0015), added to by `post` in the transaction that
books the entry, so that reading an account costs the same whatever its history. Whoever writes journal rows
another way (a bulk load) calls `rebuild_balances` for those accounts before committing; `escrow audit verify`
checks the tables against the journal (`summed_figures` against `maintained_figures`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from escrow.domain import ledger
from escrow.domain.ledger import Balances, Entry, EntryKind, Ledger
from escrow.store.models import AccountBalance, AccountKindTotal, JournalEntry, JournalLeg
from escrow.store.repos.base import Repo

RECEIVED_KINDS = tuple(kind.value for kind in ledger.RECEIVED_SIGN)

BALANCES = AccountBalance.__table__
KIND_TOTALS = AccountKindTotal.__table__
LEGS = JournalLeg.__table__
ENTRIES = JournalEntry.__table__

# (figure, account id, ledger or kind) → fen: the maintained sums or the journal's (the audit compares them)
Figures = dict[tuple[str, int, str], int]


def upsert_insert(session: Session) -> Callable[[Any], Any]:
    """The dialect's INSERT, which has ON CONFLICT … DO UPDATE on both engines."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class Journal(Repo):
    def post(self, account_id: int, entry: Entry) -> JournalEntry:
        """Append one balanced entry and its legs (the domain Entry has already checked the balance)."""
        row = JournalEntry(
            account_id=account_id,
            kind=entry.kind.value,
            booked_on=entry.booked_on,
            reference=entry.reference,
            amount_fen=entry.amount_fen,
        )
        self.add(row)
        self.session.add_all(
            JournalLeg(
                entry_id=row.id, account_id=account_id, ledger=leg.ledger.value, amount_fen=leg.amount_fen
            )
            for leg in entry.legs
        )
        self.session.flush()
        self._add_to_sums(account_id, ledger.ledger_sums(entry.legs), entry.kind, row.amount_fen)
        return row

    def _add_to_sums(
        self, account_id: int, sums: dict[Ledger, int], kind: EntryKind, amount_fen: int
    ) -> None:
        """Add one entry to the account's maintained sums: one upsert per table (each row is locked by its
        update, and the account's lock already orders the entries of one account)."""
        insert_ = upsert_insert(self.session)
        balances = insert_(BALANCES).values(
            [
                {"account_id": account_id, "ledger": name.value, "balance_fen": fen}
                for name, fen in sums.items()
            ]
        )
        self.session.execute(
            balances.on_conflict_do_update(
                index_elements=[BALANCES.c.account_id, BALANCES.c.ledger],
                set_={"balance_fen": BALANCES.c.balance_fen + balances.excluded.balance_fen},
            )
        )
        totals = insert_(KIND_TOTALS).values(account_id=account_id, kind=kind.value, total_fen=amount_fen)
        self.session.execute(
            totals.on_conflict_do_update(
                index_elements=[KIND_TOTALS.c.account_id, KIND_TOTALS.c.kind],
                set_={"total_fen": KIND_TOTALS.c.total_fen + totals.excluded.total_fen},
            )
        )

    def rebuild_balances(self, account_ids: Iterable[int] | None = None) -> None:
        """Recompute the maintained sums of these accounts (None: of every account) from the journal, with
        one INSERT … SELECT … GROUP BY per table: for bulk loads that write journal rows directly (and the
        same sums as migration 0015's backfill). Nothing else may book on these accounts
        meanwhile (a bulk load owns them, or holds their locks)."""
        ids = None if account_ids is None else list(account_ids)
        for table, source, key, value in (
            (BALANCES, LEGS, "ledger", "balance_fen"),
            (KIND_TOTALS, ENTRIES, "kind", "total_fen"),
        ):
            grouped = select(source.c.account_id, source.c[key], func.sum(source.c.amount_fen)).group_by(
                source.c.account_id, source.c[key]
            )
            cleared = delete(table)
            if ids is not None:
                grouped = grouped.where(self.among(source.c.account_id, ids))
                cleared = cleared.where(self.among(table.c.account_id, ids))
            self.session.execute(cleared)
            self.session.execute(insert(table).from_select(["account_id", key, value], grouped))

    def summed_figures(self) -> Figures:
        """Every account's sums as the journal gives them (the whole journal: for the audit)."""
        legs = select(LEGS.c.account_id, LEGS.c.ledger, func.sum(LEGS.c.amount_fen)).group_by(
            LEGS.c.account_id, LEGS.c.ledger
        )
        kinds = select(ENTRIES.c.account_id, ENTRIES.c.kind, func.sum(ENTRIES.c.amount_fen)).group_by(
            ENTRIES.c.account_id, ENTRIES.c.kind
        )
        return self._figures(legs, kinds)

    def maintained_figures(self) -> Figures:
        """Every account's sums as the maintained tables hold them."""
        return self._figures(
            select(BALANCES.c.account_id, BALANCES.c.ledger, BALANCES.c.balance_fen),
            select(KIND_TOTALS.c.account_id, KIND_TOTALS.c.kind, KIND_TOTALS.c.total_fen),
        )

    def _figures(self, ledgers: Any, kinds: Any) -> Figures:
        found: Figures = {}
        for figure, stmt in (("ledger", ledgers), ("kind", kinds)):
            for account_id, name, fen in self.session.execute(stmt):
                found[(figure, account_id, name)] = int(fen)
        return found

    def balances(self, account_id: int) -> Balances:
        return self.balances_of([account_id])[account_id]

    def balances_of(self, account_ids: list[int]) -> dict[int, Balances]:
        """The ledger balances of each account, from the maintained table, in one query."""
        sums: dict[int, dict[Ledger, int]] = {}
        rows = self.session.execute(
            select(BALANCES.c.account_id, BALANCES.c.ledger, BALANCES.c.balance_fen).where(
                self.among(BALANCES.c.account_id, account_ids)
            )
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
        """As `received_fen`, per account, from the maintained kind totals, in one query."""
        totals: dict[int, dict[str, int]] = {account_id: {} for account_id in account_ids}
        rows = self.session.execute(
            select(KIND_TOTALS.c.account_id, KIND_TOTALS.c.kind, KIND_TOTALS.c.total_fen).where(
                self.among(KIND_TOTALS.c.account_id, account_ids), KIND_TOTALS.c.kind.in_(RECEIVED_KINDS)
            )
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
        """The city's cash at the end of `end`: every account's cash balance now (the maintained balances)
        less the cash booked after `end` (a date-bounded sum: nothing for a period that ends today), each
        summed per account in SQL and across accounts in Python (as `totals_by_kind`). No list of ids: the
        same two statements whatever the number of accounts."""
        now = self.session.scalars(
            select(func.sum(BALANCES.c.balance_fen))
            .where(BALANCES.c.ledger == Ledger.CASH.value)
            .group_by(BALANCES.c.account_id)
        )
        later = self.session.scalars(
            select(func.sum(JournalLeg.amount_fen))
            .where(JournalLeg.entry_id.in_(_booked_after(end)), JournalLeg.ledger == Ledger.CASH.value)
            .group_by(JournalLeg.account_id)
        )
        return sum(int(fen) for fen in now) - sum(int(fen) for fen in later)

    def cash_of_until(self, account_ids: list[int], end: date) -> dict[int, int]:
        """account id → its cash balance at the end of `end`: its balance now (`balances_of`, which the
        maintained balances answer without summing the history) less the cash booked after `end` — a
        date-bounded sum, nothing at all for a period that ends today."""
        now = self.balances_of(account_ids)
        rows = self.session.execute(
            select(JournalLeg.account_id, func.sum(JournalLeg.amount_fen))
            .where(
                JournalLeg.entry_id.in_(_booked_after(end)),
                self.among(JournalLeg.account_id, account_ids),
                JournalLeg.ledger == Ledger.CASH.value,
            )
            .group_by(JournalLeg.account_id)
        )
        later = {account_id: int(total or 0) for account_id, total in rows}
        return {a: now[a].cash - later.get(a, 0) for a in account_ids}

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


def _booked_after(end: date) -> Select:
    """The ids of the entries booked after `end`, as a subquery the legs are looked up by: both engines then
    start from the booking-day index (a join let SQLite's planner scan every leg of the journal)."""
    return select(JournalEntry.id).where(JournalEntry.booked_on > end)
