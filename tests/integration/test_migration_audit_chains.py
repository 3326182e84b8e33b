"""Migration 0016 on both engines: the events written before it (one city-wide chain) stay valid as the legacy
chain; the events after it are chained per account and the city; an anchor commits to the legacy chain's head
too. Each test starts from a database at 0014, writes events the way the code before 0016 did, upgrades."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, BigInteger, DateTime, String, column, create_engine, insert, select, table, text
from sqlalchemy.engine import make_url

from escrow.services import auditing
from escrow.store import audit
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.migrate import upgrade
from escrow.store.models import AuditEvent, AuditHead
from tests.conftest import BACKENDS, PG_URL

BEFORE = "0014"
OLD_EVENTS = table(  # audit_events as 0014 left it
    "audit_events",
    column("id", BigInteger),
    column("occurred_at", DateTime(timezone=True)),
    column("actor", String),
    column("action", String),
    column("subject_type", String),
    column("subject_id", String),
    column("account_id", BigInteger),
    column("before_digest", String),
    column("after_digest", String),
    column("details", JSON),
    column("prev_hash", String),
    column("hash", String),
)


@pytest.fixture(params=BACKENDS)
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database at 0014."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        engine = make_engine(url)
        upgrade(engine, BEFORE)
        engine.dispose()
        yield url
        return
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"escrow_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine, BEFORE)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _write_the_old_way(engine, accounts: list[int | None]) -> list[str]:
    """Events chained one after another whatever their account, as `audit.record` did before 0016."""
    prev, hashes = audit.GENESIS, []
    with engine.begin() as conn:
        for n, account_id in enumerate(accounts, 1):
            row = {
                "id": n,
                "occurred_at": datetime(2026, 11, 1, 9, n, tzinfo=UTC),
                "actor": "user:1",
                "action": "old.event",
                "subject_type": "test",
                "subject_id": str(n),
                "account_id": account_id,
                "before_digest": None,
                "after_digest": audit.digest({"n": n}),
                "details": {"n": n},
            }
            body = audit.hashed_body(AuditEvent(**row, prev_hash=prev, hash="", chain=audit.LEGACY_CHAIN))
            digest = audit.chain_hash(prev, body)
            conn.execute(insert(OLD_EVENTS).values(**row, prev_hash=prev, hash=digest))
            prev = digest
            hashes.append(digest)
    return hashes


def test_old_events_stay_valid_as_the_legacy_chain_and_new_ones_chain_per_account(old_url):
    engine = make_engine(old_url)
    old = _write_the_old_way(engine, [None, 5, 6, 5])  # two accounts and the city, in one chain
    if (
        engine.dialect.name == "postgresql"
    ):  # ids were given: the sequence moves past them, as the app's would
        with engine.begin() as conn:
            conn.execute(text("SELECT setval('audit_events_id_seq', 4)"))
    upgrade(engine, "head")
    with UnitOfWork(engine, readonly=True) as uow:
        chains = uow.session.scalars(select(AuditEvent.chain).order_by(AuditEvent.id)).all()
        head = uow.session.get(AuditHead, audit.LEGACY_CHAIN)
    assert chains == [audit.LEGACY_CHAIN] * 4
    assert (head.head_id, head.head_hash, head.length) == (4, old[-1], 4)

    with UnitOfWork(engine) as uow:
        new = [
            audit.record(
                uow.session, actor="t", action="new.event", subject_type="t", subject_id=1, account_id=a
            )
            for a in (5, None, 5)
        ]
        uow.commit()
    assert [e.chain for e in new] == [5, audit.CITY_CHAIN, 5]
    assert [e.prev_hash for e in new] == [audit.GENESIS, audit.GENESIS, new[0].hash]  # each chain's genesis

    made = auditing.anchor(engine, actor="t")
    assert made.chains == 3  # legacy, city, account 5
    report = auditing.verify(engine, anchor=made.root)
    assert report.ok, report.lines()
    assert (report.events, report.chains, report.anchors) == (8, 3, 1)
    assert auditing.verify(engine, anchor=old[1]).ok  # a head noted before 0016 is still in its chain

    with engine.begin() as conn:  # someone edits a legacy event: named on the legacy chain
        conn.execute(text("UPDATE audit_events SET actor = 'user:9' WHERE id = 2"))
    report = auditing.verify(engine)
    assert str(report.first) == (
        "audit event 2 on the legacy chain (before 0016): altered: its content no longer hashes to its "
        "stored hash"
    )
    engine.dispose()


def test_an_empty_database_has_no_legacy_chain(old_url):
    engine = make_engine(old_url)
    upgrade(engine, "head")
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalars(select(AuditHead)).all() == []
    made = auditing.anchor(engine, actor="t")
    assert made.chains == 0
    report = auditing.verify(engine, anchor=made.root)
    assert report.ok and report.chains == 1  # the anchor's own event, on the city chain
    engine.dispose()
