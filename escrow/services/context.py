"""What every use case needs besides its arguments: settings, rule books, the clock, and the database.

A use case opens its own unit of work and commits it explicitly before it returns its view:

    def place(ctx: Context, cmd: PlaceFreeze, actor: Principal) -> FreezeView:
        with ctx.writing() as uow:
            ...
            return ctx.commit(uow, view)

A use case whose whole work is one function of a unit of work, `step(uow, ctx, …)`, is just
`return ctx.run(step, …)`. `ctx.reading()` is a read-only unit of work.

A context may carry a `WriteGuard` (the API's idempotency key): `writing()` lets it claim its record first and
`commit()` lets it keep the view's answer, both in the use case's own transaction, so that one key has
exactly one effect. Use cases know nothing of how the edge encodes that answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from argon2 import PasswordHasher

from escrow.config import Settings
from escrow.rulebooks import RuleBook, RuleBooks
from escrow.store.db import Engine, UnitOfWork

View = TypeVar("View")
Args = ParamSpec("Args")


def _today() -> date:
    return date.today()


class WriteGuard(Protocol):
    """Something that must happen inside a write use case's transaction (see escrow.services.idempotency)."""

    def claim(self, uow: UnitOfWork) -> None: ...

    def keep(self, uow: UnitOfWork, view: object) -> None: ...


class Expiring:
    """A small per-process map whose entries live `seconds` (0: nothing is kept), for what may be read a
    little stale: the principal of an API key (escrow.services.parties.principal_of_key)."""

    def __init__(self, seconds: float, limit: int = 10_000) -> None:
        self.seconds, self.limit = seconds, limit
        self._items: dict[str, tuple[float, object]] = {}

    def get(self, key: str) -> Any:
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            self._items.pop(key, None)
            return None
        return found[1]

    def put(self, key: str, value: object) -> None:
        if self.seconds <= 0:
            return
        if len(self._items) >= self.limit:  # many keys: start again rather than grow without bound
            self._items.clear()
        self._items[key] = (time.monotonic() + self.seconds, value)

    def clear(self) -> None:
        self._items.clear()


@dataclass
class Context:
    settings: Settings
    rulebooks: RuleBooks
    today: Callable[[], date] = field(default=_today)
    engine: Engine | None = None
    guard: WriteGuard | None = None
    principals: Expiring | None = None  # API keys' principals; shared by every guarded copy
    hasher: PasswordHasher | None = None  # passwords' argon2 hasher (escrow.services.passwords)

    def __post_init__(self) -> None:
        if self.principals is None:
            self.principals = Expiring(getattr(self.settings, "key_cache_seconds", 0))
        if self.hasher is None:
            from escrow.services.passwords import DEFAULT_HASHER

            self.hasher = DEFAULT_HASHER

    def rulebook(self, rulebook_id: str) -> RuleBook:
        book = self.rulebooks.get(rulebook_id)
        if book is None:  # start-up refuses to run without every pinned version, so this is a bug
            raise RuntimeError(f"rule book {rulebook_id} is pinned by a project but not loaded")
        return book

    def guarded(self, guard: WriteGuard | None) -> Context:
        return replace(self, guard=guard)

    def reading(self) -> UnitOfWork:
        return UnitOfWork(self._engine(), readonly=True)

    @contextmanager
    def writing(self) -> Iterator[UnitOfWork]:
        with UnitOfWork(self._engine()) as uow:
            if self.guard is not None:
                self.guard.claim(uow)
            yield uow

    def commit(self, uow: UnitOfWork, view: View) -> View:
        """Commit the use case's transaction (with the guard's record of its answer) and return its view."""
        if self.guard is not None:
            self.guard.keep(uow, view)
        uow.commit()
        return view

    def run(
        self,
        step: Callable[Concatenate[UnitOfWork, Context, Args], View],
        *args: Args.args,
        **kwargs: Args.kwargs,
    ) -> View:
        """`step(uow, ctx, *args, **kwargs)` in a unit of work of its own, committed with its view."""
        with self.writing() as uow:
            return self.commit(uow, step(uow, self, *args, **kwargs))

    def _engine(self) -> Engine:
        if self.engine is None:  # a context built for pure computations only
            raise RuntimeError("this context has no database")
        return self.engine
