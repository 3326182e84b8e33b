"""Shared fixtures. Every test that takes `engine` (or anything built on it) runs once on SQLite and, when
ESCROW_TEST_POSTGRES_URL is set, once more on PostgreSQL. Each test gets a fresh database cloned from a
migrated template, so tests never share state and nothing is mocked."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from escrow.config import Settings
from escrow.domain import credit_code
from escrow.domain.principal import SYSTEM
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.migrate import upgrade

PG_URL = os.environ.get("ESCROW_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.only_backend("postgresql")`: run a test on that engine only (deselected, not skipped,
    elsewhere: it tests something the other engine does not have)."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("only_backend")
        params = getattr(getattr(item, "callspec", None), "params", {})
        if marker and params.get("db_url") not in marker.args:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # The longest tests (`slow`: the demo city's seed) first, so that with xdist they run beside the rest
    # instead of after it.
    items[:] = sorted(keep, key=lambda item: 0 if item.get_closest_marker("slow") else 1)


def _pg_admin() -> Engine:
    return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so that copying the file copies it all
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not PG_URL:
        yield ""
        return
    name = f"escrow_tpl_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request, request.param, tmp_path / "escrow.db") as url:
        yield url


@contextmanager
def fresh_database(request: pytest.FixtureRequest, backend: str, sqlite_path: Path) -> Iterator[str]:
    """A migrated, empty database of `backend` ("sqlite": a copy of the template at `sqlite_path`;
    "postgresql": a new database from the template, dropped afterwards); its URL."""
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), sqlite_path)
        yield f"sqlite:///{sqlite_path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"escrow_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings.from_env({"ESCROW_DATABASE_URL": db_url, "ESCROW_RULES_DIR": str(REPO / "rules")})


@pytest.fixture
def today() -> date:
    """The date the application believes it is; tests may override this fixture."""
    return date(2026, 11, 22)


@pytest.fixture
def app(settings: Settings, engine: Engine, today: date):
    from escrow.app import create_app

    return create_app(settings, engine=engine, today=lambda: today)


@pytest.fixture
def client(app):
    from litestar.testing import TestClient

    with TestClient(app) as client:
        yield client


@dataclass
class World:
    """A small city: one bank, one developer, bureau users of every role, and an API key for each."""

    bank_code: str
    developer_code: str
    keys: dict[str, str]  # "bank", "developer", and each bureau role

    def headers(self, who: str, idempotency_key: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.keys[who]}"}
        if idempotency_key is not None:
            h["Idempotency-Key"] = idempotency_key
        return h


DEVELOPER_CODE = credit_code.complete("91131100MA0CXK7T4")
OTHER_DEVELOPER_CODE = credit_code.complete("91131100MA0DPE2R8")


@pytest.fixture
def world(engine: Engine) -> World:
    from escrow.services import parties

    keys: dict[str, str] = {}
    with UnitOfWork(engine) as uow:
        parties.create_bank(uow, code="HSB", name="衡水银行", actor=SYSTEM)
        parties.create_bank(uow, code="OTB", name="Other Bank", actor=SYSTEM)
        parties.create_developer(
            uow, credit_code_value=DEVELOPER_CODE, name="衡水安居置业有限公司", actor=SYSTEM
        )
        parties.create_developer(
            uow, credit_code_value=OTHER_DEVELOPER_CODE, name="Other Developer", actor=SYSTEM
        )
        for role in ("admin", "inspector", "reviewer", "approver", "director", "auditor"):
            parties.create_user(uow, username=role, role=role, password=None, actor=SYSTEM)
            keys[role] = parties.create_api_key(uow, username=role, actor=SYSTEM).plaintext
        keys["bank"] = parties.create_api_key(uow, bank_code="HSB", actor=SYSTEM).plaintext
        keys["other_bank"] = parties.create_api_key(uow, bank_code="OTB", actor=SYSTEM).plaintext
        keys["developer"] = parties.create_api_key(uow, developer_code=DEVELOPER_CODE, actor=SYSTEM).plaintext
        keys["other_developer"] = parties.create_api_key(
            uow, developer_code=OTHER_DEVELOPER_CODE, actor=SYSTEM
        ).plaintext
        uow.commit()
    return World(bank_code="HSB", developer_code=DEVELOPER_CODE, keys=keys)


def project_body(**overrides) -> dict:
    body = {
        "developer_credit_code": DEVELOPER_CODE,
        "name": "桃城·安居花园一期",
        "permit_no": "衡预售2025-001",
        "permit_date": "2025-03-01",
        "presale_area_m2": "12000.50",
        "finish": "shell",
        "supervised_amount": "30000000.00",
        "bank_code": "HSB",
        "account_no": "6222000011112222",
        "account_name": "衡水安居置业有限公司预售资金监管账户",
        "opened_on": "2025-03-05",
    }
    body.update(overrides)
    return body


BUYER_ID = "110101199003070011"  # a resident ID with a valid check character (GB 11643)


@pytest.fixture
def project(client, world) -> dict:
    """An opened shell-housing project of the world's developer, supervised by bank HSB."""
    r = client.post("/api/v1/projects", json=project_body(), headers=world.headers("admin", "open-project"))
    assert r.status_code == 201, r.text
    return r.json()


def contract_body(**overrides) -> dict:
    body = {
        "permit_no": "衡预售2025-001",
        "contract_no": "HT-2025-0001",
        "buyer_name": "张伟",
        "buyer_id_no": BUYER_ID,
        "unit": "3-2-1801",
        "area_m2": "98.50",
        "total_price": "886500.00",
        "signed_on": "2025-04-01",
    }
    body.update(overrides)
    return body


class Flow:
    """Shortcuts through the real API for tests that need contracts, notices and deposits."""

    def __init__(self, client, world):
        self.client, self.world, self.n = client, world, 0

    def _key(self) -> str:
        self.n += 1
        return f"flow-{self.n}"

    def contract(self, **overrides) -> dict:
        r = self.client.post(
            "/api/v1/contracts",
            json=contract_body(**overrides),
            headers=self.world.headers("developer", self._key()),
        )
        assert r.status_code == 201, r.text
        return r.json()

    def notice(
        self, contract_no: str, amount: str, kind: str = "down_payment", due_on: str = "2025-05-01"
    ) -> dict:
        r = self.client.post(
            f"/api/v1/contracts/{contract_no}/notices",
            json={"kind": kind, "amount": amount, "due_on": due_on},
            headers=self.world.headers("developer", self._key()),
        )
        assert r.status_code == 201, r.text
        return r.json()

    def deposit(self, *, expect: int = 201, who: str = "bank", **fields):
        r = self.client.post("/api/v1/deposits", json=fields, headers=self.world.headers(who, self._key()))
        assert r.status_code == expect, r.text
        return r.json()


@pytest.fixture
def flow(client, world) -> Flow:
    return Flow(client, world)


@pytest.fixture
def users(world: World, engine: Engine) -> World:
    """The world's bureau users get a password (tests.web.PASSWORD); developer staff "dev-staff" (of the
    world's developer) and "other-dev-staff" (of the other developer) are added."""
    from tests.web import give_passwords

    give_passwords(engine, DEVELOPER_CODE, OTHER_DEVELOPER_CODE)
    return world


@pytest.fixture
def web(app, users, client):
    """`web("reviewer")` → a TestClient signed in through the real form as that user (one per user,
    each with its own cookies); closed at the end of the test. It depends on `client` so that the app's
    shared test client opens first and closes last (closing it while another client of the same app is
    open hangs at teardown)."""
    from litestar.testing import TestClient

    from tests.web import sign_in

    opened: dict[str, TestClient] = {}

    def signed_in(username: str) -> TestClient:
        if username not in opened:
            client = TestClient(app)
            client.__enter__()
            sign_in(client, username)
            opened[username] = client
        return opened[username]

    yield signed_in
    for signed in reversed(opened.values()):  # lifespans end in the reverse order they began
        signed.__exit__(None, None, None)
