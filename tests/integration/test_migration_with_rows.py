"""Migrations that rebuild a table other rows refer to (SQLite's batch mode: copy, drop, rename) upgrade a
database that has such rows: 0023 and 0024 rebuild `users`, which node confirmations, approval steps and API
keys refer to. With foreign keys enforced during the migration, SQLite refused to drop the old table and the
whole upgrade rolled back (`escrow serve` on a demo database seeded before them would not start)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from escrow.store.db import make_engine
from escrow.store.migrate import is_current, upgrade

BEFORE = "0022"  # the revision before the first migration that rebuilds `users`


def test_sqlite_upgrades_a_table_other_rows_refer_to(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'with-rows.db'}")
    upgrade(engine, BEFORE)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, active, failed_logins, created_at) "
                "VALUES (7, 'reviewer', '李静', 'reviewer', 1, 0, '2026-12-01 08:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO api_keys (id, prefix, key_hash, principal_kind, user_id, created_at) "
                "VALUES (1, 'abc', 'h', 'user', 7, '2026-12-01 08:00:00')"
            )
        )
    upgrade(engine)
    assert is_current(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_id FROM api_keys")).scalar_one() == 7
        assert conn.execute(text("SELECT username FROM users WHERE id = 7")).scalar_one() == "reviewer"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1  # enforced again afterwards
        assert not conn.execute(text("PRAGMA foreign_key_check")).fetchall()
    engine.dispose()
