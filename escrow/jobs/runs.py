"""Claiming a run, and leadership among schedulers.

A run is claimed by inserting its `job_runs` row (unique per job id and period; `claim` and `finish` are
escrow.services.jobruns'): whoever commits it first runs the job; everyone else finds the row and skips.

On PostgreSQL the acting scheduler also holds a session-level advisory lock on a connection of its own; a
second scheduler that cannot take it stands by and takes over when the first one's connection goes away.
SQLite has one writer at a time anyway, and an embedded deployment runs one process.
"""

from __future__ import annotations

import threading
from datetime import datetime

from escrow.services.jobruns import STALE, Engine, SessionLock, claim, finish

__all__ = ["STALE", "Leadership", "claim", "finish", "local_now"]

SCHEDULER_LOCK = 0x45534353  # "ESCS"


class Leadership:
    """Whether this scheduler may act: always on SQLite; on PostgreSQL while it holds the advisory lock."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = SessionLock(engine, SCHEDULER_LOCK)
        self._mutex = threading.Lock()

    @property
    def applies(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        if not self.applies:
            return True
        with self._mutex:  # still ours, or (the connection died and the lock with it) taken again
            return self._lock.still_held() or self._lock.try_take()

    def release(self) -> None:
        with self._mutex:
            self._lock.release()


def local_now() -> datetime:
    return datetime.now().astimezone()
