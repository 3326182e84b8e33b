"""What every repository and read model shares: the session, the limits of an id, chunked IN lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from escrow.domain.ids import MAX_ID, valid_id  # noqa: F401  (re-exported for the repositories)

T = TypeVar("T")

CHUNK = 500  # values per IN (…) list: well inside every engine's parameter limit


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    items = list(values)
    for i in range(0, len(items), size):
        yield items[i : i + size]


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
        found: dict[Any, int] = {}
        for chunk in chunks(sorted(set(values))):
            rows = self.session.execute(select(key, func.count()).where(key.in_(chunk)).group_by(key))
            found.update((value, n) for value, n in rows)
        return found

    def by_ids(self, ids: Iterable[int], stmt: Select, id_column: Any) -> dict[int, Any]:
        """The rows of `stmt` whose `id_column` is one of `ids`, a chunk of ids at a time, keyed by the id of
        the row's first entity: that entity, or the whole row as a tuple when it has more columns."""
        found: dict[int, Any] = {}
        for chunk in chunks(sorted(set(ids))):
            for row in self.session.execute(stmt.where(id_column.in_(chunk))):
                found[row[0].id] = row[0] if len(row) == 1 else tuple(row)
        return found


class Repo(Reads):
    """A repository: the writes and look-ups of one aggregate."""

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row
