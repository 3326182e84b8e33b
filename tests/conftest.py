"""Shared fixtures. Every test that takes `engine` (or anything built on it) runs once on SQLite and, when
ESCROW_TEST_POSTGRES_URL is set, once more on PostgreSQL. Each test gets a fresh database cloned from a
migrated template, so tests never share state and nothing is mocked."""

from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from escrow.config import Settings
from escrow.domain import credit_code
from escrow.domain.principal import SYSTEM
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.migrate import upgrade

PG_URL = os.environ.get("ESCROW_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
REPO = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)  # before xdist reads the `xdist_group` marks
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
    # A module's `xdist_group` (tests sharing one seed of a module-scoped template, seeded once per engine)
    # becomes one group per engine, so that with xdist two workers seed and test the two engines side by side.
    for item in keep:
        group = item.get_closest_marker("xdist_group")
        params = getattr(getattr(item, "callspec", None), "params", {})
        if group and group.args and "db_url" in params:
            item.add_marker(pytest.mark.xdist_group(f"{group.args[0]}-{params['db_url']}"))
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
    _checkpoint(path)
    return path


class _Dropper:
    """Drops the tests' PostgreSQL databases off the tests' time, BATCH at once. Each DROP DATABASE waits for
    a checkpoint of the whole server (PostgreSQL 15), which flushes every test's dirty pages: one at a time,
    the checkpoints took seconds each on a busy machine and kept the disk busy under every other test. Drops
    sent together share a checkpoint (the server serves the requests waiting for it together: 16 drops took
    0.13 s at once against 1.7 s one by one, idle), so the names wait until a batch is full and are then
    dropped on a thread and connection each. `close()` drops the rest, waits for every drop and raises if
    one failed, so that a database left behind is reported, not forgotten."""

    BATCH = 8  # a connection each: with the tests' own, within the server's 100 on a few workers

    def __init__(self) -> None:
        self._waiting: list[str] = []
        self._threads: list[threading.Thread] = []
        self._failed: list[str] = []

    def drop(self, name: str) -> None:
        self._waiting.append(name)
        if len(self._waiting) >= self.BATCH:
            self._drop_waiting()

    def _drop_waiting(self) -> None:
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        for name in self._waiting:
            thread = threading.Thread(target=self._drop, args=(name,), name=f"drop-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._waiting = []

    def _drop(self, name: str) -> None:
        admin = _pg_admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as exc:  # reported by close()
            self._failed.append(f"{name}: {exc}")
        finally:
            admin.dispose()

    def close(self) -> None:
        self._drop_waiting()
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._failed:
            raise RuntimeError("test databases not dropped: " + "; ".join(self._failed))


@pytest.fixture(scope="session")
def pg_dropper() -> Iterator[_Dropper]:
    dropper = _Dropper()
    yield dropper
    dropper.close()


@pytest.fixture(scope="session")
def pg_template(pg_dropper: _Dropper) -> Iterator[str]:
    if not PG_URL:
        yield ""
        return
    name = f"escrow_tpl_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    pg_dropper.drop(name)  # the databases made from it need it no more: a copy stands alone


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: with the `world` (and, for `users`, its passwords and staff) already in it when the
    test asks for them, copied from a template seeded once per process (`world_templates`), since writing
    them is most of a small test's setup; an empty migrated one otherwise."""
    template = None
    with_users = "users" in request.fixturenames
    if with_users or "world" in request.fixturenames:
        template, world = request.getfixturevalue("world_templates")(request.param, with_users)
        request.node.stash[SEEDED_WORLD] = (world, with_users)
    with fresh_database(request, request.param, tmp_path / "escrow.db", template) as url:
        yield url


SEEDED_WORLD = pytest.StashKey[tuple["World", bool]]()  # the test's database came with this world (, users)


@pytest.fixture(scope="session")
def world_templates(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, pg_template: str, pg_dropper: _Dropper
) -> Iterator[Callable[[str, bool], tuple[Path | str, World]]]:
    """`world_templates(backend, with_users)` → (template, world): a migrated database of `backend` holding
    `make_world` (and `give_passwords`, with_users), made the first time a test of this process asks for it —
    a file on SQLite, a template database on PostgreSQL, dropped at the session's end."""
    made: dict[tuple[str, bool], tuple[Path | str, World]] = {}

    def seed(url: str, with_users: bool) -> World:
        engine = make_engine(url)
        try:
            world = make_world(engine)
            if with_users:
                from tests.web import give_passwords

                give_passwords(engine, DEVELOPER_CODE, OTHER_DEVELOPER_CODE)
            return world
        finally:
            engine.dispose()

    def template(backend: str, with_users: bool) -> tuple[Path | str, World]:
        if (backend, with_users) not in made:
            made[(backend, with_users)] = _seeded_copy(
                backend, lambda url: seed(url, with_users), tmp_path_factory, sqlite_template, pg_template
            )
        return made[(backend, with_users)]

    yield template
    for name, _ in made.values():
        if isinstance(name, str):
            pg_dropper.drop(name)


def _pg_copy(template: str, prefix: str = "escrow_tpl_") -> str:
    """A new PostgreSQL database made from `template`: its name. Its commits do not wait for the WAL to reach
    the disk (synchronous_commit off: ~1 ms a commit here): a test's database need not outlive a crash of the
    server, and a crash of the application's own process still loses nothing committed."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        _create_from(conn, name, template)
    admin.dispose()
    return name


def _create_from(admin: Connection, name: str, template: str) -> None:
    admin.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _seeded_copy(
    backend: str,
    seed: Callable[[str], Any],
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_template: str,
) -> tuple[Path | str, Any]:
    """A copy of the migrated template of `backend` into which `seed(url)` wrote: (its file on SQLite, its
    name on PostgreSQL — the caller drops it), and what `seed` returned."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("seeded") / "seeded.db"
        shutil.copy(sqlite_template, path)
        result = seed(f"sqlite:///{path}")
        _checkpoint(path)
        return path, result
    name = _pg_copy(pg_template)
    return name, seed(_pg_url(name))


@contextmanager
def fresh_database(
    request: pytest.FixtureRequest, backend: str, sqlite_path: Path, template: Path | str | None = None
) -> Iterator[str]:
    """A migrated, empty database of `backend` ("sqlite": a copy of the template at `sqlite_path`;
    "postgresql": a new database from the template, dropped afterwards); its URL. `template`: copy that one
    instead (a seeded template of `seeded_templates`: its file on SQLite, its name on PostgreSQL)."""
    if backend == "sqlite":
        shutil.copy(template or request.getfixturevalue("sqlite_template"), sqlite_path)
        yield f"sqlite:///{sqlite_path}"
        return
    template, dropper = (
        template or request.getfixturevalue("pg_template"),
        request.getfixturevalue("pg_dropper"),
    )
    name = _pg_copy(template, "escrow_t_")
    try:
        yield _pg_url(name)
    finally:
        dropper.drop(name)


def restore_database(engine: Engine, url: str, template: Path | str, dropper: _Dropper) -> None:
    """Put the database at `url` back to a copy of `template` (a seeded template of `seeded_templates`, or
    the migrated empty one), under the same URL, so that `engine` and an app made on it go on with a fresh
    database — for one hypothesis example after another, say. SQLite: a file copy. PostgreSQL: the used
    database is renamed out of the way (and dropped by `dropper`, off the test's time) and a new one made
    from the template under its name. `engine` must hold no connection checked out."""
    engine.dispose()
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        for suffix in ("-wal", "-shm"):
            Path(target.database + suffix).unlink(missing_ok=True)
        shutil.copy(template, target.database)
        return
    used = f"{target.database[:40]}_used_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{target.database}" RENAME TO "{used}"'))
        _create_from(conn, target.database, str(template))
    admin.dispose()
    dropper.drop(used)


def _checkpoint(path: Path) -> None:
    """Fold an SQLite file's write-ahead log into it, so that copying the file copies it all."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="module")
def seeded_templates(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, pg_template: str, pg_dropper: _Dropper
) -> Iterator[Callable[[str, Callable[[str], Any]], tuple[Path | str, Any]]]:
    """`seeded_templates(backend, seed)` → (template, what `seed` returned): a migrated database of `backend`
    into which `seed(url)` wrote once for this module (the first time it is asked for), to be given to
    `fresh_database` so that each test gets its own copy — a file copy on SQLite, CREATE DATABASE … TEMPLATE
    on PostgreSQL, far cheaper than seeding again. `seed` must close every connection it opens (PostgreSQL
    copies only a database nobody is connected to). The PostgreSQL templates are dropped with the module."""
    made: dict[tuple[str, Callable[[str], Any]], tuple[Path | str, Any]] = {}
    failed: dict[tuple[str, Callable[[str], Any]], BaseException] = {}
    pg_names: list[str] = []

    def template(backend: str, seed: Callable[[str], Any]) -> tuple[Path | str, Any]:
        if (backend, seed) in failed:  # one failed seed fails each test that needs it, without a retry
            raise failed[(backend, seed)]
        if (backend, seed) not in made:
            try:
                made[(backend, seed)] = seeded(backend, seed)
            except Exception as exc:
                failed[(backend, seed)] = exc
                raise
        return made[(backend, seed)]

    def seeded(backend: str, seed: Callable[[str], Any]) -> tuple[Path | str, Any]:
        made = _seeded_copy(backend, seed, tmp_path_factory, sqlite_template, pg_template)
        if backend != "sqlite":
            pg_names.append(made[0])
        return made

    yield template
    for name in pg_names:
        pg_dropper.drop(name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def settings_for(url: str, rules_dir: Path = REPO / "rules") -> Settings:
    """The settings of an app on the database at `url`, loading the rule books of `rules_dir`."""
    return Settings.from_env({"ESCROW_DATABASE_URL": url, "ESCROW_RULES_DIR": str(rules_dir)})


@pytest.fixture
def settings(db_url: str) -> Settings:
    return settings_for(db_url)


TODAY = date(2026, 11, 22)


@pytest.fixture
def today() -> date:
    """The date the application believes it is; tests may override this fixture."""
    return TODAY


_built_apps: dict[tuple[str | None, str], Any] = {}


@pytest.fixture
def app(settings: Settings, engine: Engine, today: date):
    """The app as `create_app` makes it, connected to this test's database. Its routes are built once per
    process for each CSRF secret and proxy setting (escrow.app.build_app: most of a small test's time) and
    connected afresh here (escrow.app.connect: a new state, nothing of the last test's left), with argon2 at
    its cheapest (tests.web.TEST_HASHER)."""
    from escrow.app import build_app, connect
    from tests.web import TEST_HASHER

    key = (settings.secret_key, settings.forwarded_allow_ips)
    if key not in _built_apps:
        _built_apps[key] = build_app(settings)
    app = _built_apps[key]
    connect(app, settings, engine=engine, today=lambda: today, hasher=TEST_HASHER)
    return app


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
def world(request: pytest.FixtureRequest, engine: Engine) -> World:
    """The world's parties and keys: in the database already when it was copied from the world's template
    (tests.conftest.db_url), written now otherwise (a module with a `db_url` of its own)."""
    seeded = request.node.stash.get(SEEDED_WORLD, None)
    if seeded is None:
        return make_world(engine)
    return replace(seeded[0], keys=dict(seeded[0].keys))  # the template's own stays as it was made


def make_world(engine: Engine) -> World:
    """The `world` fixture's parties and keys, written into the database of `engine`."""
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

    def __init__(self, client, world, key_prefix: str = "flow"):
        self.client, self.world, self.n, self.key_prefix = client, world, 0, key_prefix

    def _key(self) -> str:
        self.n += 1
        return f"{self.key_prefix}-{self.n}"

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
def users(request: pytest.FixtureRequest, world: World, engine: Engine) -> World:
    """The world's bureau users get a password (tests.web.PASSWORD); developer staff "dev-staff" (of the
    world's developer) and "other-dev-staff" (of the other developer) are added."""
    from tests.web import give_passwords

    seeded = request.node.stash.get(SEEDED_WORLD, None)
    if seeded is None or not seeded[1]:
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


SEEDED = pytest.StashKey[Any]()  # what a module's seed (`seeded_module`) built, for the test's copy


def seeded_module(build: Callable[[Any, World, Flow], Any], today: date = TODAY):
    """A `db_url` fixture for a module whose tests all start from the same data made through the real API:
    `build(client, world, flow)` runs once per engine for the module, on the world's database, and each test
    gets a copy of what it wrote (`seeded_templates`), the `world` fixture its parties and `seeded(request)`
    what `build` returned. Writing a site through the API costs seconds; copying it, milliseconds. In a
    module: `db_url = seeded_module(build_site)`."""

    def seed(url: str) -> tuple[World, Any]:
        from litestar.testing import TestClient

        from escrow.app import create_app

        engine = make_engine(url)
        try:
            world = make_world(engine)
            with TestClient(create_app(settings_for(url), engine=engine, today=lambda: today)) as client:
                # its own Idempotency-Keys, so that a test's `flow` ("flow-1", …) does not replay the seed's
                return world, build(client, world, Flow(client, world, key_prefix="seed"))
        finally:
            engine.dispose()

    @pytest.fixture(params=BACKENDS)
    def db_url(request: pytest.FixtureRequest, tmp_path: Path, seeded_templates) -> Iterator[str]:
        template, (world, built) = seeded_templates(request.param, seed)
        request.node.stash[SEEDED_WORLD] = (world, False)
        request.node.stash[SEEDED] = built
        with fresh_database(request, request.param, tmp_path / "escrow.db", template) as url:
            yield url

    return db_url


def seeded(request: pytest.FixtureRequest) -> Any:
    """What the module's `seeded_module` build returned (a copy: a test may change it)."""
    return copy.deepcopy(request.node.stash[SEEDED])
