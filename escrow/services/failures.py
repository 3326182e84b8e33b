"""The database's own refusals, for the edges that answer them (the API's problem+json): a write that lost a
race to a unique constraint, a value out of a column's range, a database busy or unreachable. The edges never
import the store or SQLAlchemy; they name these through here."""

from __future__ import annotations

from escrow.store.db import DataError, IntegrityError, OperationalError

__all__ = ["DataError", "IntegrityError", "OperationalError"]
