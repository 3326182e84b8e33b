"""Statement lines staged before their statement is published (escrow.services.reconcile, migration 0028).

A large statement's lines are written here in transactions of a few thousand lines each, each releasing the
database's write lock, with what they matched when they were staged; one short transaction then publishes
them into `statement_lines` with one INSERT … SELECT. Nobody else reads a staging.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from escrow.store.models import (
    Deposit,
    JournalEntry,
    Statement,
    StatementStagedLine,
    StatementStaging,
    Voucher,
)
from escrow.store.repos.base import Repo

STAGED_COLUMNS = (
    "staging_id",
    "line_no",
    "bank_reference",
    "booked_on",
    "amount_fen",
    "direction",
    "kind",
    "counterparty_name",
    "counterparty_account",
    "remittance",
    "match",
    "deposit_id",
)
_PUBLISHED = (  # statement_lines column ← staged column
    ("line_no", "line_no"),
    ("bank_reference", "bank_reference"),
    ("booked_on", "booked_on"),
    ("amount_fen", "amount_fen"),
    ("direction", "direction"),
    ("counterparty_name", "counterparty_name"),
    ("counterparty_account", "counterparty_account"),
    ("remittance", "remittance"),
    ("match", "match"),
    ("deposit_id", "deposit_id"),
)
PENDING = "pending"


class Stagings(Repo):
    def open(self, account_id: int) -> int:
        """A new staging for the account: its id."""
        return self.add(StatementStaging(account_id=account_id)).id

    def insert(self, rows: list[tuple]) -> None:
        """Staged lines (tuples in STAGED_COLUMNS order, the date as `Statements.driver_date` gives it),
        through the driver's executemany (as `Statements.insert_lines`)."""
        self.insert_many("statement_staged_lines", STAGED_COLUMNS, rows)

    def staged_count(self, staging_id: int) -> int:
        return self.session.scalar(select(func.count()).where(StatementStagedLine.staging_id == staging_id))

    def pending(self, staging_id: int) -> list[StatementStagedLine]:
        """The lines whose outcome is decided when the statement is published (a credit nobody posted, the
        bank's own interest or fee), in file order: few in a real statement."""
        return list(
            self.session.scalars(
                select(StatementStagedLine)
                .where(StatementStagedLine.staging_id == staging_id, StatementStagedLine.match == PENDING)
                .order_by(StatementStagedLine.line_no, StatementStagedLine.id)
            )
        )

    def decide(self, line_id: int, match: str, deposit_id: int | None) -> None:
        self.session.execute(
            update(StatementStagedLine)
            .where(StatementStagedLine.id == line_id)
            .values(match=match, deposit_id=deposit_id)
        )

    def outcomes(self, staging_id: int) -> dict[str, int]:
        """match → how many lines."""
        rows = self.session.execute(
            select(StatementStagedLine.match, func.count())
            .where(StatementStagedLine.staging_id == staging_id)
            .group_by(StatementStagedLine.match)
        )
        return {match: n for match, n in rows}

    def publish(self, staging_id: int, statement_id: int, account_id: int) -> None:
        """The staged lines become the statement's lines, in file order, with one INSERT … SELECT."""
        self.session.flush()
        columns = ", ".join(target for target, _ in _PUBLISHED)
        sources = ", ".join(source for _, source in _PUBLISHED)
        self.session.connection().exec_driver_sql(
            *_driver(
                self.session,
                f"INSERT INTO statement_lines (statement_id, account_id, {columns}) "
                f"SELECT {{0}}, {{0}}, {sources} FROM statement_staged_lines "
                "WHERE staging_id = {0} ORDER BY line_no, id",
                (statement_id, account_id, staging_id),
            )
        )

    def confirm_vouchers(self, staging_id: int) -> int:
        """Issued vouchers of the deposits the staged lines matched become confirmed; how many."""
        matched = select(StatementStagedLine.deposit_id).where(
            StatementStagedLine.staging_id == staging_id,
            StatementStagedLine.match == "matched",
            StatementStagedLine.deposit_id.is_not(None),
        )
        vouchers = Voucher.__table__
        result = self.session.connection().execute(
            update(vouchers)
            .where(vouchers.c.deposit_id.in_(matched), vouchers.c.status == "issued")
            .values(status="confirmed")
        )
        return result.rowcount or 0

    def watermark(self, account_id: int) -> tuple[Any, ...]:
        """What a staged match depends on, as one comparable value: the newest journal entry, deposit,
        voucher and statement of the account. Unchanged between staging and publishing, the matches made
        when staging still hold (every reversal, execution, interest, fee and deposit is a journal entry)."""
        return tuple(
            self.session.execute(
                select(
                    select(func.max(JournalEntry.id))
                    .where(JournalEntry.account_id == account_id)
                    .scalar_subquery(),
                    select(func.max(Deposit.id)).where(Deposit.account_id == account_id).scalar_subquery(),
                    select(func.max(Voucher.id))
                    .join(Deposit, Deposit.id == Voucher.deposit_id)
                    .where(Deposit.account_id == account_id)
                    .scalar_subquery(),
                    select(func.max(Statement.id))
                    .where(Statement.account_id == account_id)
                    .scalar_subquery(),
                )
            ).one()
        )

    def drop(self, staging_id: int, batch: int | None = None) -> int:
        """Delete the staging and (up to `batch` of) its lines; how many lines were deleted. Called in a
        loop of short transactions for a large staging, until it answers 0."""
        lines = StatementStagedLine
        where = lines.staging_id == staging_id
        if batch is not None:
            ids = select(lines.id).where(where).limit(batch).scalar_subquery()
            where = lines.id.in_(ids)
        deleted = self.session.execute(delete(lines).where(where)).rowcount or 0
        if batch is None or deleted < batch:
            self.session.execute(delete(StatementStaging).where(StatementStaging.id == staging_id))
        return deleted

    def stale(self, before: datetime) -> list[int]:
        """Stagings created before `before`: left by an interrupted import."""
        return list(
            self.session.scalars(select(StatementStaging.id).where(StatementStaging.created_at < before))
        )


def _driver(session: Any, statement: str, params: tuple) -> tuple[str, tuple]:
    mark = "?" if session.get_bind().dialect.name == "sqlite" else "%s"
    return statement.format(mark), params


def staged_row(
    staging_id: int, stored_date: Any, line: Any, fen: int, match: str, deposit_id: int | None
) -> tuple:
    """One staged line in STAGED_COLUMNS order (`line` a feeds.StatementLine)."""
    return (
        staging_id,
        line.line_no,
        line.bank_reference,
        stored_date(line.booked_on),
        fen,
        line.direction,
        line.kind,
        line.counterparty_name[:200],
        line.counterparty_account[:64],
        line.remittance or "",
        match,
        deposit_id,
    )


__all__ = ["PENDING", "STAGED_COLUMNS", "Stagings", "staged_row"]
