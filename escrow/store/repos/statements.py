"""Bank statements and their lines, as reconciled against the books."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from escrow.store.models import Statement, StatementLine
from escrow.store.repos.base import Repo

STATEMENT_LINE_COLUMNS = (
    "statement_id",
    "account_id",
    "line_no",
    "bank_reference",
    "booked_on",
    "amount_fen",
    "direction",
    "counterparty_name",
    "counterparty_account",
    "remittance",
    "match",
    "deposit_id",
)
BANK_REFERENCE_MAX = StatementLine.__table__.c.bank_reference.type.length  # and Deposit.bank_reference's


def _same(value: Any) -> Any:
    return value


class Statements(Repo):
    def driver_date(self) -> Callable[[date], Any]:
        """How `insert_lines` wants a line's date: ISO text on SQLite (as SQLAlchemy keeps dates there), the
        date itself on PostgreSQL. Applied as each row is built, so that a row is never built twice."""
        return date.isoformat if self.session.connection().dialect.name == "sqlite" else _same

    def insert_lines(self, rows: list[tuple]) -> None:
        """Insert statement lines (tuples in STATEMENT_LINE_COLUMNS order, their date as `driver_date`
        gives it) with the driver's executemany: SQLAlchemy's per-row parameter processing would cost more
        than the insert itself."""
        self.insert_many("statement_lines", STATEMENT_LINE_COLUMNS, rows)

    def latest(self, account_id: int) -> Statement | None:
        return self.session.scalar(
            select(Statement)
            .where(Statement.account_id == account_id)
            .order_by(Statement.statement_date.desc(), Statement.id.desc())
            .limit(1)
        )

    def latest_of(self, account_ids: list[int]) -> dict[int, Statement]:
        """account id → its latest statement (as `latest`), for the accounts that have one, in one
        query."""
        found: dict[int, Statement] = {}
        rank = (
            func.row_number()
            .over(
                partition_by=Statement.account_id,
                order_by=(Statement.statement_date.desc(), Statement.id.desc()),
            )
            .label("rank")
        )
        ranked = select(Statement.id, rank).where(self.among(Statement.account_id, account_ids)).subquery()
        for row in self.session.scalars(
            select(Statement).join(ranked, ranked.c.id == Statement.id).where(ranked.c.rank == 1)
        ):
            found[row.account_id] = row
        return found

    def by_digest(self, account_id: int, digest: str) -> Statement | None:
        """The account's statement imported earlier with the same content."""
        return self.one_of(Statement, Statement.account_id == account_id, Statement.digest == digest)

    def deposits_shown(self, account_id: int) -> set[int]:
        """Ids of the account's deposits that a line of an end-of-day statement (not of a camt.054
        notification) has shown already."""
        query = (
            select(StatementLine.deposit_id)
            .join(Statement, Statement.id == StatementLine.statement_id)
            .where(
                StatementLine.account_id == account_id,
                StatementLine.deposit_id.is_not(None),
                Statement.format != "camt054",
            )
        )
        return set(self.session.scalars(query))
