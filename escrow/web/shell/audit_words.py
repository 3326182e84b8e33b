"""The audit trail as a page shows it: each event's time, who acted (in words) and what happened (a sentence
of the catalog), never an actor reference or an event code (escrow.catalog.actors, escrow.catalog.events)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from escrow.catalog.actors import actor_words
from escrow.catalog.events import event_sentence
from escrow.catalog.words import node_name
from escrow.rulebooks import RuleBook
from escrow.web.shell.filters import long_date


@dataclass(frozen=True)
class EventLine:
    occurred_at: Any
    actor: str
    sentence: str


def event_lines(
    _: Callable[..., str],
    lang: str,
    events: Iterable[Any],
    names: Mapping[tuple[str, int], Any],
    book: RuleBook | None = None,
) -> list[EventLine]:
    """Every event in words; `names` the batch look-up of its actors, `book` names the nodes."""
    lines = []
    for e in events:
        actor = actor_words(_, e.actor, names)
        sentence = event_sentence(
            _,
            e.action,
            actor=actor,
            subject_id=e.subject_id,
            details=e.details,
            long_date=lambda value: long_date(value, lang),
            node_name=(lambda code: node_name(book, code, lang)) if book is not None else (lambda code: code),
        )
        lines.append(EventLine(e.occurred_at, actor, sentence))
    return lines
