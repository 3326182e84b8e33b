"""Bank guarantees (保函) that stand in for part of the required retention (DESIGN.md §4, CONTRACT.md §8).

What a guarantee counts for in the cap is decided in escrow.domain.caps (`retention`, `guarantee_limit`);
this module holds the rest of their arithmetic:

- `peak_in_force`: the most that registered guarantees stand in for together on any one day of a period.
  A new guarantee is refused when that peak plus its own amount is above the rule book's share
  (`guarantee.max_share`): the share limits what guarantees replace *together*, not each one alone, and a
  renewal that overlaps its predecessor by a few days is judged on those days too.
- `allocate`: how a counted total is shared out among the guarantees in force, oldest first (what the pages
  show as each guarantee's counted amount; the cap itself only knows the total).
- `status_on`: a registered guarantee is `active` until released; past its `valid_until` it is shown as
  `expired` (derived from the date, never stored, so that nothing depends on a job having run). Either way
  an expired guarantee no longer counts: the cap sums only the guarantees valid on the day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from escrow.domain.money import ZERO

# The contract's warning period before valid_until (CONTRACT.md §8: "an alert warns 30 days before"); a
# configured value, not quoted from the measures.
EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Period:
    """A guarantee's validity, both days included, and its amount."""

    valid_from: date
    valid_until: date
    amount: Decimal

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_until


def peak_in_force(existing: Iterable[Period], start: date, end: date) -> Decimal:
    """The largest sum of `existing` guarantees in force on any one day from `start` to `end` (both
    included). A sum of intervals is largest on the first day of one of them (or on `start`), so only those
    days are looked at."""
    periods = [p for p in existing if p.valid_from <= end and p.valid_until >= start]
    days = {start, *(p.valid_from for p in periods if p.valid_from > start)}
    return max((sum((p.amount for p in periods if p.in_force_on(d)), ZERO) for d in days), default=ZERO)


def allocate(counted: Decimal, amounts: Sequence[Decimal]) -> list[Decimal]:
    """`counted` shared out among guarantees of `amounts` in order (oldest first): each takes what it can
    until the total is used up."""
    left, out = counted, []
    for amount in amounts:
        take = min(amount, max(ZERO, left))
        out.append(take)
        left -= take
    return out


def status_on(stored: str, valid_until: date, today: date) -> str:
    """`released` once released; else `expired` past its last valid day, `active` until then."""
    if stored != "active":
        return stored
    return "expired" if valid_until < today else "active"


def expiring(valid_until: date, today: date, days: int = EXPIRY_WARNING_DAYS) -> bool:
    """Whether a guarantee still registered is within `days` of its last valid day, or past it."""
    return valid_until <= today + timedelta(days=days)
