"""Advisory locks. PostgreSQL has them; SQLite needs none, its write transaction being exclusive already.

- `advisory_lock`: held until the transaction ends (nothing on the money path takes one: the audit chains
  are locked by their rows in `audit_heads`, escrow.store.audit);
- `SessionLock`: held by a connection of its own for as long as it lives, across transactions (the acting
  scheduler holds one; another scheduler that cannot take it stands by).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session


def advisory_lock(session: Session, key: int) -> None:
    """A transaction-scoped lock on PostgreSQL; SQLite's write transaction is already exclusive."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


class SessionLock:
    """A PostgreSQL session-level advisory lock on a connection kept out of the pool while it is held."""

    def __init__(self, engine: Engine, key: int):
        self.engine, self.key = engine, key
        self._conn: Connection | None = None

    def still_held(self) -> bool:
        """Whether the connection holding the lock is alive (and so the lock); a dead one is dropped."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:  # the connection died and the lock with it
            self.drop()
            return False

    def try_take(self) -> bool:
        conn = self.engine.connect()
        try:
            held = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            conn.commit()  # the lock is the session's; no transaction stays open
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if held:
            self._conn = conn
            return True
        conn.close()
        return False

    def drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never return a connection that may hold the lock to the pool
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
            except Exception:
                pass
            self.drop()
