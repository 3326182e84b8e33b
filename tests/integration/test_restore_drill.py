"""The restore drill of docs/OPERATIONS.md ("Backups", "The restore drill"), run for real: the small demo
city is seeded, an anchor's root noted, the database backed up with the real tools (PostgreSQL: `pg_dump
--format=custom`, restored by `pg_restore` into a new database; SQLite: the online backup API), and the copy
must pass `escrow audit verify --anchor ROOT` (the command line, exit 0) and hold exactly the same books
(every account's ledger balances and entry-kind totals, maintained and summed, every table's row count) and
the same city figures as the original."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from escrow import demo
from escrow.demo.plan import REFERENCE_DAY
from escrow.services import stats
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import SQLModel, SupervisedAccount
from tests.conftest import REPO

ESCROW = Path(sys.executable).parent / "escrow"
BACKUP = REPO / "deploy" / "backup" / "escrow-backup.sh"
YEAR = (REFERENCE_DAY.replace(year=REFERENCE_DAY.year - 1), REFERENCE_DAY)

pytestmark = pytest.mark.slow


def _escrow(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ESCROW_DATABASE_URL=database_url, ESCROW_RULES_DIR=str(REPO / "rules"))
    return subprocess.run([str(ESCROW), *args], env=env, capture_output=True, text=True, check=False)


def _seed_and_anchor(engine: Engine, settings, db_url: str) -> tuple[str, list[str]]:
    """The small demo city with an anchor over it; the anchor's root and the original's verify summary."""
    demo.seed(engine, settings, scale="small", out=io.StringIO(), today=REFERENCE_DAY)
    anchored = _escrow(db_url, "audit", "anchor")
    assert anchored.returncode == 0, anchored.stderr
    root = anchored.stdout.split()[-1]
    verified = _escrow(db_url, "audit", "verify", "--anchor", root)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return root, verified.stdout.splitlines()


def _books(engine: Engine) -> dict[str, object]:
    """Everything the comparison looks at, read through the store's own queries."""
    with UnitOfWork(engine, readonly=True) as uow:
        accounts = list(uow.session.scalars(select(SupervisedAccount.id).order_by(SupervisedAccount.id)))
        rows = {
            table.name: uow.session.scalar(select(func.count()).select_from(table))
            for table in SQLModel.metadata.sorted_tables
        }
        return {
            "maintained": uow.journal.maintained_figures(),
            "summed": uow.journal.summed_figures(),
            "balances": uow.journal.balances_of(accounts),
            "received": uow.journal.received_of(accounts),
            "city": stats.city_stats(uow, *YEAR),
            "rows": rows,
        }


def _assert_same_books(original: Engine, restored: Engine) -> None:
    before, after = _books(original), _books(restored)
    assert before["maintained"] == before["summed"]  # the original is sound to begin with
    assert before["balances"] and any(b.cash for b in before["balances"].values())
    assert int(before["city"]["accounts_opened"]) > 0
    for part in before:
        assert after[part] == before[part], part


def _verified_copy(copy_url: str, root: str, summary: list[str]) -> None:
    verified = _escrow(copy_url, "audit", "verify", "--anchor", root)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.splitlines() == summary  # the same counts, head event and latest root


def _libpq(url: str) -> str:
    """An SQLAlchemy URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _new_database(db_url: str) -> Iterator[str]:
    """An empty database on the same server (the drill restores into a new one, never over the original),
    dropped afterwards; its URL."""
    name = f"escrow_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(db_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.only_backend("postgresql")
@pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="pg_dump and pg_restore are not installed (Debian: postgresql-client)",
)
def test_postgresql_backup_restores_into_a_new_database_with_the_same_books(
    engine, settings, db_url, tmp_path
):
    demo.seed(engine, settings, scale="small", out=io.StringIO(), today=REFERENCE_DAY)
    # the nightly backup as shipped: an anchor, then pg_dump --format=custom, checked, with its SHA-256
    backups = tmp_path / "backups"
    env = dict(os.environ, ESCROW_DATABASE_URL=db_url, ESCROW_BIN=str(ESCROW), ESCROW_BACKUP_DIR=str(backups))
    env["ESCROW_RULES_DIR"] = str(REPO / "rules")
    backup = subprocess.run([str(BACKUP)], env=env, capture_output=True, text=True, check=False)
    assert backup.returncode == 0, backup.stderr
    (dump,) = backups.glob("escrow-*.dump")
    root = dump.with_suffix(".anchor").read_text(encoding="utf-8").strip()
    assert root in backup.stdout
    subprocess.run(["sha256sum", "--check", "--quiet", f"{dump.name}.sha256"], cwd=backups, check=True)
    listing = subprocess.run(["pg_restore", "--list", str(dump)], check=True, capture_output=True, text=True)
    assert "TABLE DATA public journal_entries" in listing.stdout  # the archive holds the books
    verified = _escrow(db_url, "audit", "verify", "--anchor", root)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    summary = verified.stdout.splitlines()

    with _new_database(db_url) as copy_url:
        subprocess.run(
            ["pg_restore", "--exit-on-error", "--no-owner", "--dbname", _libpq(copy_url), str(dump)],
            check=True,
            capture_output=True,
        )
        _verified_copy(copy_url, root, summary)
        restored = make_engine(copy_url)
        try:
            _assert_same_books(engine, restored)
            # the restored copy is a working database: the schema is current (no migration pending)
            upgraded = _escrow(copy_url, "db", "upgrade")
            assert upgraded.returncode == 0, upgraded.stderr
            _assert_same_books(engine, restored)
        finally:
            restored.dispose()


def test_backup_script_refuses_anything_but_postgresql_in_one_line(tmp_path):
    env = dict(
        os.environ, ESCROW_DATABASE_URL=f"sqlite:///{tmp_path}/escrow.db", ESCROW_BACKUP_DIR=str(tmp_path)
    )
    result = subprocess.run([str(BACKUP)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "not a PostgreSQL URL" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.only_backend("sqlite")
def test_sqlite_online_backup_has_the_same_books(engine, settings, db_url, tmp_path):
    root, summary = _seed_and_anchor(engine, settings, db_url)
    source_path = make_url(db_url).database
    copy_path = tmp_path / "backup" / "escrow.db"
    copy_path.parent.mkdir()
    # what `sqlite3 escrow.db ".backup backup/escrow.db"` does: a consistent copy while the service runs
    with sqlite3.connect(source_path) as source, sqlite3.connect(copy_path) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    copy_url = f"sqlite:///{copy_path}"
    _verified_copy(copy_url, root, summary)
    restored = make_engine(copy_url)
    try:
        _assert_same_books(engine, restored)
    finally:
        restored.dispose()
