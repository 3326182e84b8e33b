"""The database as the operator meets it on the command line: open it for a command, bring its schema up to
date, and say in one sentence why it cannot be used.

The embedded SQLite database migrates itself when a command opens it; a server database is migrated only by
`escrow db upgrade` (or `escrow serve`), so that several workers never race to migrate it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from escrow.services.context import Context
from escrow.store.db import Engine, OperationalError, is_sqlite, make_engine, ping
from escrow.store.migrate import is_current, upgrade

# The driver's error when the database cannot be reached or is busy: the edges answer "try again" (503).
DatabaseUnavailable = OperationalError


class DatabaseNotReady(Exception):
    """The database cannot be reached, or its schema is not current: one sentence for the operator."""


def is_embedded(url: str) -> bool:
    """The embedded deployment: one process on an SQLite file (DESIGN.md §6)."""
    return is_sqlite(url)


def migrated(url: str) -> Engine:
    """An engine on the database after applying every migration it lacks (an empty database gets them all)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        raise DatabaseNotReady(f"cannot reach the database: {exc.orig}") from None
    return engine


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """An engine on a database whose schema is current; with `migrate`, the embedded database is brought up
    to date first."""
    engine = make_engine(url)
    try:
        if not is_current(engine):
            if not (migrate and is_sqlite(url)):
                raise DatabaseNotReady("the database schema is not current; run: escrow db upgrade")
            upgrade(engine)
    except OperationalError as exc:
        raise DatabaseNotReady(f"cannot reach the database: {exc.orig}") from None
    return engine


def current_schema(url: str) -> Engine | None:
    """An engine on the database if it can be reached and its schema is current, else None."""
    engine = make_engine(url)
    try:
        return engine if is_current(engine) else None
    except OperationalError:
        return None


@dataclass(frozen=True)
class Health:
    """The service answers and so does its database."""

    status: Literal["ok"]
    database: str  # the database dialect: sqlite or postgresql
    rulebooks: tuple[str, ...]  # the rule book versions loaded, id@version


def health(ctx: Context) -> Health:
    """A round trip to the database; raises the driver's error if it does not answer."""
    engine = ctx.engine
    if engine is None:
        raise RuntimeError("this context has no database")
    ping(engine)
    return Health("ok", engine.dialect.name, tuple(b.id for b in ctx.rulebooks))
