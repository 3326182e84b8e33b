"""City figures for a period: what a bureau gives at a press conference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from escrow.domain import ledger
from escrow.domain.errors import FieldError, InvalidInput
from escrow.domain.ledger import EntryKind
from escrow.domain.money import from_fen, to_wire
from escrow.services.context import Context
from escrow.store.db import UnitOfWork


def for_period(ctx: Context, start: date, end: date) -> dict[str, str | int]:
    """The city's figures for a period (GET /api/v1/stats, the dashboard). A dict: its first key is `from`,
    which no dataclass field can be called."""
    with ctx.reading() as uow:
        return city_stats(uow, start, end)


def city_stats(uow: UnitOfWork, start: date, end: date) -> dict[str, str | int]:
    if end < start:
        raise InvalidInput(
            "the period ends before it starts", errors=[FieldError.coded("to", "before_start")]
        )
    opened, area_x100 = uow.stats.accounts_opened(start, end)
    totals = uow.journal.totals_by_kind(start, end)
    deposits = ledger.received_fen(totals)  # net of reversals and of unidentified money sent back
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "accounts_opened": opened,
        "presale_area_m2": to_wire(Decimal(area_x100) / 100),
        "deposits_total": to_wire(from_fen(deposits)),
        "releases_total": to_wire(from_fen(totals.get(EntryKind.RELEASE, 0))),
        "balance_total": to_wire(from_fen(uow.journal.cash_total_until(end))),
    }
