"""The demo's bulk path (escrow.services.bulk over escrow.store.bulk) writes what the use cases write.

The small city is seeded twice into two fresh databases of one engine, once through the use cases and once
with its sales in bulk; every table must then hold the same rows, ids, timestamps, hashes and the random
codes aside (a voucher's or a notice's number keeps its date, not its id), each account's audit chain and
journal must tell the same story in the same order, and the city's figures must agree. After a bulk seed
the audit trail verifies (chains, journal claims, maintained sums against the journal) and the books of
every account balance. The command line refuses a scale it does not know in one line.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel

from escrow import demo
from escrow.cli import main
from escrow.demo.plan import REFERENCE_DAY, SCALES
from escrow.domain import ledger
from escrow.services import auditing, stats
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import JournalEntry, SupervisedAccount
from tests.conftest import REPO, fresh_database

PERIOD = (REFERENCE_DAY - timedelta(days=364), REFERENCE_DAY)
# columns whose values are made afresh by each seed: ids, timestamps, hashes, random codes and secrets
UNCOMPARED = {
    "id",
    "chain",
    "head_id",
    "event_id",
    "hash",
    "prev_hash",
    "head_hash",
    "before_digest",
    "after_digest",
    "root",
    "verification_code",
    "password_hash",
    "key_hash",
    "prefix",
}
NUMBERED = re.compile(r"^(PZ|TZ)(\d{8})\d+$")  # a voucher's or a notice's number: its date, then its id
REFERENCE = re.compile(r"^([a-z_]+):\d+$")  # a journal entry's reference: deposit:<deposit id> and the like


@pytest.fixture
def other_engine(db_url: str, tmp_path, request) -> Iterator[Engine]:
    """A second fresh database on the same engine as `engine`."""
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with fresh_database(request, backend, tmp_path / "other.db") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _plain(value: Any, key: str = "") -> Any:
    """A value as it is compared: ids and timestamps out, numbers that carry an id without it."""
    if isinstance(value, dict):
        return {k: _plain(v, k) for k, v in sorted(value.items()) if k not in UNCOMPARED | {"journal"}}
    if isinstance(value, list):
        return [_plain(v, key) for v in value]
    if isinstance(value, datetime):
        return "<moment>"
    if isinstance(value, int) and not isinstance(value, bool) and (key == "id" or key.endswith("_id")):
        return "<id>"
    if isinstance(value, str):
        value = NUMBERED.sub(r"\1\2#", value)
        return REFERENCE.sub(r"\1:#", value)
    return value


def _unkeyed(row: dict[str, Any]) -> dict[str, Any]:
    """An API key's event names the key by its random prefix."""
    if row.get("subject_type") == "api_key":
        row["subject_id"] = "<prefix>"
    return row


def _contents(engine: Engine) -> dict[str, Counter]:
    """Every table's rows as a multiset of comparable values."""
    found: dict[str, Counter] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            columns = [
                c
                for c in table.columns
                if c.name not in UNCOMPARED and not c.foreign_keys and not c.name.endswith("_at")
            ]
            rows = conn.execute(select(*columns)) if columns else []
            found[table.name] = Counter(
                json.dumps(_plain(_unkeyed(dict(r._mapping))), sort_keys=True, default=str) for r in rows
            )
    return found


def _stories(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Per account (by number): its audit events and its journal entries, in id (= chain, booking) order."""
    with engine.connect() as conn:
        numbers = dict(conn.execute(select(SupervisedAccount.id, SupervisedAccount.account_no)).all())
        stories: dict[str, list[tuple[Any, ...]]] = {}
        events = conn.execute(
            text(
                "SELECT account_id, action, subject_type, subject_id FROM audit_events "
                "WHERE account_id IS NOT NULL ORDER BY id"
            )
        )
        for account_id, action, subject_type, subject_id in events:
            subject = "#" if subject_id.isdigit() else _plain(subject_id)
            stories.setdefault(f"events {numbers[account_id]}", []).append((action, subject_type, subject))
        e = JournalEntry
        entries = conn.execute(select(e.account_id, e.kind, e.booked_on, e.amount_fen).order_by(e.id))
        for account_id, kind, booked_on, amount in entries:
            stories.setdefault(f"journal {numbers[account_id]}", []).append((kind, str(booked_on), amount))
    return stories


def _figures(engine: Engine) -> dict[str, Any]:
    with UnitOfWork(engine, readonly=True) as uow:
        return stats.city_stats(uow, *PERIOD)


@pytest.mark.slow
def test_bulk_seed_writes_what_the_use_cases_write(engine, other_engine, settings):
    day = REFERENCE_DAY
    through_services = demo.seed(engine, settings, scale="small", out=io.StringIO(), bulk=False, today=day)
    in_bulk = demo.seed(other_engine, settings, scale="small", out=io.StringIO(), bulk=True, today=day)
    assert in_bulk.counts == through_services.counts
    assert in_bulk.figures == through_services.figures == _figures(engine) == _figures(other_engine)
    assert in_bulk.figures["accounts_opened"] == 6 and in_bulk.figures["presale_area_m2"] == "98000.00"
    expected, got = _contents(engine), _contents(other_engine)
    assert sum(len(rows) for rows in got.values()) > 2000  # the comparison is not vacuous
    for table in expected:
        missing, extra = expected[table] - got[table], got[table] - expected[table]
        assert not missing and not extra, (table, list(missing)[:3], list(extra)[:3])
    assert _stories(other_engine) == _stories(engine)


@pytest.mark.slow
def test_bulk_seed_verifies_and_balances(engine, settings):
    demo.seed(engine, settings, scale="small", out=io.StringIO(), bulk=True, today=REFERENCE_DAY)
    report = auditing.verify(engine)
    assert report.ok, report.lines()
    assert report.maintained and report.entries > 300 and report.chains > 4
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.journal.maintained_figures() == uow.journal.summed_figures()
        accounts = list(uow.session.scalars(select(SupervisedAccount.id)))
        for account_id in accounts:
            entries = uow.journal.entries(account_id)
            assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
            assert ledger.balance_equals_flows(entries)
            assert ledger.balance_never_negative(entries)
            balances = uow.journal.balances(account_id)
            assert balances == ledger.balances(entries)
    # rows the use cases add after a bulk seed get fresh ids and numbers (the sequences were moved on)
    out = io.StringIO()
    with pytest.raises(Exception, match="already has"):
        demo.seed(engine, settings, scale="small", out=out, bulk=True, today=REFERENCE_DAY)


def test_the_big_scales_are_known_and_the_city_is_unchanged():
    city, ten = SCALES["city"], SCALES["10x"]
    assert (city.projects, city.area_m2, city.deposits_yuan) == (191, 1_400_000, 7_285_000_000)
    assert (ten.projects, ten.area_m2, ten.deposits_yuan) == (1910, 14_000_000, 72_850_000_000)
    assert ten.bulk and not city.bulk
    assert ten.developers == 10 * city.developers and ten.seed != city.seed
    province = SCALES["province"]
    assert province.projects == 20_000 and province.bulk
    assert province.area_m2 == round(city.area_m2 * 20_000 / 191)
    assert province.deposits_yuan == round(city.deposits_yuan * 20_000 / 191)


def test_the_command_line_refuses_an_unknown_scale(monkeypatch, capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'never.db'}"
    monkeypatch.setenv("ESCROW_DATABASE_URL", url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))
    capsys.readouterr()
    assert main(["demo", "--scale", "county"]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert err == ["escrow: error: unknown demo scale 'county' (known: city, small, 10x, province)"]
    assert captured.out == ""
    assert not (tmp_path / "never.db").exists()  # refused before the database was opened
