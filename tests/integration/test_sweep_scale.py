"""The alert sweep reads and writes in bulk: one sweep of a city of 9 accounts issues exactly as many SQL
statements as one of 3, with alerts of several rules opened, left open and resolved by it (each account of
each city goes through the same story, in a database of its own)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from escrow.app import build_context, create_app
from escrow.config import Settings
from escrow.domain.principal import SYSTEM
from escrow.jobs import tasks
from escrow.services import parties
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import Alert, AuditEvent
from tests.conftest import DEVELOPER_CODE, _pg_admin, contract_body, project_body, settings_for

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)


@pytest.fixture
def fresh_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """`fresh_url()` → the URL of another empty migrated database on the same engine as `db_url`."""
    made: list[str] = []

    def make() -> str:
        if db_url.startswith("sqlite"):
            path = tmp_path / f"city-{len(made)}.db"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            made.append(str(path))
            return f"sqlite:///{path}"
        name = f"escrow_t_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(
                text(f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("pg_template")}"')
            )
        admin.dispose()
        made.append(name)
        return make_url(db_url).set(database=name).render_as_string(hide_password=False)

    yield make
    if not db_url.startswith("sqlite"):
        admin = _pg_admin()
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _keys(engine) -> dict[str, str]:
    with UnitOfWork(engine) as uow:
        parties.create_bank(uow, code="HSB", name="衡水银行", actor=SYSTEM)
        parties.create_developer(
            uow, credit_code_value=DEVELOPER_CODE, name="衡水安居置业有限公司", actor=SYSTEM
        )
        parties.create_user(uow, username="admin", role="admin", password=None, actor=SYSTEM)
        keys = {
            "admin": parties.create_api_key(uow, username="admin", actor=SYSTEM).plaintext,
            "bank": parties.create_api_key(uow, bank_code="HSB", actor=SYSTEM).plaintext,
            "developer": parties.create_api_key(uow, developer_code=DEVELOPER_CODE, actor=SYSTEM).plaintext,
        }
        uow.commit()
    return keys


class City:
    def __init__(self, client: TestClient, keys: dict[str, str]):
        self.client, self.keys, self.n = client, keys, 0

    def post(self, url: str, who: str, body: dict, expect: int = 201) -> dict:
        self.n += 1
        headers = {"Authorization": f"Bearer {self.keys[who]}", "Idempotency-Key": f"k-{self.n}"}
        r = self.client.post(url, json=body, headers=headers)
        assert r.status_code == expect, r.text
        return r.json()

    def account(self, i: int) -> dict:
        """An account whose bank has not confirmed its agreement, with an overdue notice and a deposit in
        suspense for an unknown notice, long overdue: four alerts at the first sweep."""
        permit = f"衡预售2025-{i:03d}"
        site = self.post(
            "/api/v1/projects",
            "admin",
            project_body(name=f"项目{i}", permit_no=permit, account_no=f"62220000111{i:05d}"),
        )
        contract = self.post(
            "/api/v1/contracts",
            "developer",
            contract_body(permit_no=permit, contract_no=f"HT-{i}", unit=f"1-1-{i}"),
        )
        notice = self.post(
            f"/api/v1/contracts/{contract['contract_no']}/notices",
            "developer",
            {"kind": "down_payment", "amount": "20000.00", "due_on": "2026-10-01"},
        )
        self.deposit(site, f"S-{i}", "2026-11-01", "TZ000000000000999")
        return {**site, "notice_no": notice["notice_no"], "i": i}

    def deposit(
        self,
        site: dict,
        reference: str,
        value_date: str,
        notice_no: str,
        amount: str = "500.00",
        payer="李娜",
    ):
        body = {
            "account_no": site["account_no"],
            "bank_reference": reference,
            "amount": amount,
            "payer_name": payer,
            "channel": "transfer",
            "value_date": value_date,
            "notice_no": notice_no,
        }
        return self.post("/api/v1/deposits", "bank", body)

    def change(self, site: dict) -> None:
        """The bank confirms the agreement and the notice is paid (two alerts cleared), and a second deposit
        arrives for an unknown notice (one new alert); the first deposit stays in suspense (two left open)."""
        self.post(
            f"/api/v1/accounts/{site['account_no']}/confirmation",
            "bank",
            {"agreement_no": f"衡监协(2025)第{site['i']:03d}号", "opened_on": "2025-03-05"},
            expect=200,
        )
        paid = self.deposit(site, f"PAY-{site['i']}", "2026-11-22", site["notice_no"], "20000.00", "张伟")
        assert paid["status"] == "accepted"
        self.deposit(site, f"S2-{site['i']}", "2026-11-22", "TZ000000000000998")


def _sweep(engine, settings: Settings, now: datetime) -> None:
    ctx = build_context(settings, engine, lambda: now.date())
    assert tasks.run(tasks.BY_ID["alert-sweep"], engine, ctx, now=now) == "done"


def _statements_of_a_sweep(url: str, accounts: int) -> tuple[int, dict[str, list[str]]]:
    """Seed a city of `accounts` accounts, sweep, change every account, and count the statements of the
    second sweep; also the alerts' states by rule and the audit actions the second sweep wrote."""
    settings = settings_for(url)
    engine = make_engine(url)
    try:
        app = create_app(settings, engine=engine, today=lambda: TODAY)
        with TestClient(app) as client:
            city = City(client, _keys(engine))
            sites = [city.account(i) for i in range(1, accounts + 1)]
            _sweep(engine, settings, NOW)
            for site in sites:
                city.change(site)
        with UnitOfWork(engine, readonly=True) as uow:
            last_event = uow.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            _sweep(engine, settings, NOW + timedelta(minutes=15))
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        with UnitOfWork(engine, readonly=True) as uow:
            states: dict[str, list[str]] = {}
            for alert in uow.session.scalars(select(Alert).order_by(Alert.id)):
                states.setdefault(alert.rule, []).append(alert.state)
            actions = list(
                uow.session.scalars(
                    select(AuditEvent.action).where(AuditEvent.id > last_event).order_by(AuditEvent.id)
                )
            )
        states["audit (second sweep)"] = sorted(actions)
        return len(statements), states
    finally:
        engine.dispose()


def test_a_sweep_issues_as_many_statements_for_9_accounts_as_for_3(fresh_url):
    small, small_states = _statements_of_a_sweep(fresh_url(), 3)
    large, large_states = _statements_of_a_sweep(fresh_url(), 9)
    # the same story in both cities: per account, two alerts cleared, one opened, two left open
    expected = {
        "agreement_unconfirmed": ["resolved"],
        "deposit_unknown_notice": ["open", "open"],
        "notice_overdue": ["resolved"],
        "suspense_overdue": ["open"],
    }
    for n, states in ((3, small_states), (9, large_states)):
        assert {rule: sorted(set(s)) for rule, s in states.items() if rule != "audit (second sweep)"} == {
            rule: sorted(set(s)) for rule, s in expected.items()
        }
        assert {rule: len(s) for rule, s in states.items()} == {
            **{rule: n * len(s) for rule, s in expected.items()},
            "audit (second sweep)": 3 * n,
        }
        assert states["audit (second sweep)"].count("alert.opened") == n
        assert states["audit (second sweep)"].count("alert.resolved") == 2 * n
    assert small == large
