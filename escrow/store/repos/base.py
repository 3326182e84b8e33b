"""What every repository and read model shares: the session, the limits of an id, a list of values as one
parameter (`among`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Select, Text, any_, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from escrow.domain.ids import MAX_ID, valid_id  # noqa: F401  (re-exported for the repositories)

T = TypeVar("T")


def among(session: Session, column: Any, values: Iterable[int] | Iterable[str]) -> ColumnElement[bool]:
    """`column` is one of `values` — however many, in one statement with one bound parameter: an array on
    PostgreSQL (`= ANY(…)`), a JSON array read by `json_each` on SQLite. A city-wide read then costs the
    same number of statements at 191 accounts as at 20,000 (an IN list would need a chunk per 500 ids, under
    the engines' limits on parameters), and the statement's text, hence its cached plan, never depends on
    how many values there are."""
    items = sorted(set(values))
    if not items:
        return column.in_([])
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(_array(items))
    return column.in_(select(listed(session, items).c.value))


def listed(session: Session, values: Iterable[int] | Iterable[str]) -> Any:
    """`values` as a table of one column, `value`, from one bound parameter (`unnest` of an array on
    PostgreSQL, `json_each` on SQLite): to insert or join many values in one statement. Not empty: the
    values' type (integer or text) is read from them."""
    items = sorted(set(values))
    if not items:
        raise ValueError("listed() needs at least one value")
    if session.get_bind().dialect.name == "postgresql":
        return func.unnest(_array(items)).table_valued("value").render_derived()
    return func.json_each(literal(json.dumps(items), Text())).table_valued("value")


def _array(items: list[int] | list[str]) -> Any:
    kind = BigInteger() if isinstance(items[0], int) else Text()
    return literal(items, postgresql.ARRAY(kind))


class Reads:
    """A read model: queries on the unit of work's session, never a write."""

    def __init__(self, session: Session):
        self.session = session

    def all_of(self, model: type[T], *where: Any, order_by: Any) -> list[T]:
        """Every row of `model` that meets all of `where`, in the order given (a column or a tuple)."""
        order = order_by if isinstance(order_by, tuple) else (order_by,)
        return list(self.session.scalars(select(model).where(*where).order_by(*order)))

    def one_of(self, model: type[T], *where: Any) -> T | None:
        """The row of `model` that meets all of `where` (a unique key), or None."""
        return self.session.scalar(select(model).where(*where))

    def total_of(self, column: Any, *where: Any) -> int:
        """The sum of an integer column (fen) over the rows that meet all of `where`; 0 for none."""
        return int(self.session.scalar(select(func.coalesce(func.sum(column), 0)).where(*where)) or 0)

    def count_by(self, key: Any, values: Iterable[Any]) -> dict[Any, int]:
        """How many rows have each of `values` in the column `key` (values without rows are left out)."""
        rows = self.session.execute(select(key, func.count()).where(self.among(key, values)).group_by(key))
        return {value: n for value, n in rows}

    def by_ids(self, ids: Iterable[int], stmt: Select, id_column: Any) -> dict[int, Any]:
        """The rows of `stmt` whose `id_column` is one of `ids`, keyed by the id of the row's first entity:
        that entity, or the whole row as a tuple when it has more columns."""
        return {
            row[0].id: row[0] if len(row) == 1 else tuple(row)
            for row in self.session.execute(stmt.where(self.among(id_column, ids)))
        }

    def among(self, column: Any, values: Iterable[int] | Iterable[str]) -> ColumnElement[bool]:
        return among(self.session, column, values)


class Repo(Reads):
    """A repository: the writes and look-ups of one aggregate."""

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def insert_many(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Insert rows (tuples in `columns` order, in the driver's own types) with the driver's executemany:
        SQLAlchemy's per-row parameter processing would cost more than the insert itself (statement lines)."""
        connection = self.session.connection()
        mark = "?" if connection.dialect.name == "sqlite" else "%s"
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()
