"""Pages of a list (CONTRACT.md §10): at most `limit` items, after an opaque cursor; a keyset, not an offset,
so that a page never skips or repeats an item when rows are added meanwhile.

A cursor names the position of the last item a page held — the values of the list's order keys, ids and
ranks (whole numbers) — as URL-safe base64 of `v1:` and the numbers. It is opaque to clients: they pass back
what the `Link: <…>; rel="next"` header of the page before gave them. One that does not decode, or holds
another number of keys than the list orders by, is refused naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from escrow.domain.errors import FieldError, InvalidInput

DEFAULT_LIMIT = 100  # configured by the project (CONTRACT.md §10 fixes these two)
MAX_LIMIT = 1000
_PREFIX = "v1:"
_MAX_KEY = 2**63 - 1  # the widest id column

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Which page: at most `limit` items after the position `after` (None: from the first)."""

    limit: int = DEFAULT_LIMIT
    after: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Paged(Generic[T]):
    """A page's items and the position of its last item when more follow (None: this was the last page)."""

    items: list[T]
    next: tuple[int, ...] | None = None


def page_of(items: list[T], page: Page, position: Callable[[T], tuple[int, ...]]) -> Paged[T]:
    """A page from what a store query read with `limit + 1`: the extra item, if read, says more follow.
    `position(item)` gives an item's order keys."""
    if len(items) <= page.limit:
        return Paged(list(items))
    kept = list(items[: page.limit])
    return Paged(kept, position(kept[-1]))


def encode_cursor(position: tuple[int, ...]) -> str:
    text = _PREFIX + ",".join(str(key) for key in position)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: int) -> tuple[int, ...]:
    """The position a cursor names; InvalidInput naming `cursor` if it is not one of `keys` order keys."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, binascii.Error):
        text = ""
    parts = text.removeprefix(_PREFIX).split(",") if text.startswith(_PREFIX) else []
    position = tuple(int(part) for part in parts if part.isascii() and part.isdigit())
    if len(position) != keys or len(parts) != keys or any(key > _MAX_KEY for key in position):
        raise InvalidInput(
            "the cursor is not one this list gave",
            errors=[FieldError("cursor", "pass back the cursor of the Link header's next page")],
        )
    return position


def limit_of(value: str | None) -> int:
    """The `limit` query parameter: a whole number from 1 to MAX_LIMIT; absent, DEFAULT_LIMIT."""
    if value is None:
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_LIMIT}",
            errors=[FieldError("limit", f"a whole number from 1 to {MAX_LIMIT}")],
        )
    return int(value)
