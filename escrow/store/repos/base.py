"""What every repository and read model shares: the session, the limits of an id, chunked IN lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import select
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


class Repo(Reads):
    """A repository: the writes and look-ups of one aggregate."""

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row
