from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from escrow.config import Settings
from escrow.rulebooks import RuleBook, RuleBooks


def _today() -> date:
    return date.today()


@dataclass
class Context:
    """What every use case may need besides the unit of work."""

    settings: Settings
    rulebooks: RuleBooks
    today: Callable[[], date] = field(default=_today)

    def rulebook(self, rulebook_id: str) -> RuleBook:
        book = self.rulebooks.get(rulebook_id)
        if book is None:  # start-up refuses to run without every pinned version, so this is a bug
            raise RuntimeError(f"rule book {rulebook_id} is pinned by a project but not loaded")
        return book
