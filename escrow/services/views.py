"""Views as JSON-native values — what the API writes for a view — for the callers that keep a view as a
dict (the audit trail's `after`, the pages and the demo that read a view's fields by name)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from escrow.domain.money import to_wire


def wire(value: Any) -> Any:
    """A view (frozen dataclasses, tuples, Decimal amounts, dates) as dicts, lists and strings: an amount as
    its wire string, a date or a timestamp in ISO 8601."""
    if value is None or type(value) in _AS_IS:  # the common leaves first (the demo's bulk path wires ~10⁶)
        return value
    names = _FIELDS.get(type(value))
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: wire(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(v) for v in value]
    if isinstance(value, Decimal):
        return to_wire(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


_AS_IS = frozenset((str, int, bool, float))
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, by its type
