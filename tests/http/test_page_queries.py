"""Every bureau page that shows the city or many accounts reads them with a fixed number of SQL statements:
the statements a page issues are counted for a city of 3 accounts and again after it grew to 9 (each with
its deposits, a suspense item, a statement and its alerts), and the count must not grow. Speed itself is
measured in bench/city_pages.py, never asserted here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from escrow.app import build_context
from escrow.jobs import tasks
from escrow.reports import data as report_data
from escrow.store.db import UnitOfWork
from tests.http.test_web_pages import NOW, open_project, suspense_deposit

SMALL, LARGE = 3, 9
ACCOUNT_NO = "62220000777{:05d}"


@contextmanager
def counted(engine) -> Iterator[list[str]]:
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


class Growing:
    """A city grown through the real API: each account opened, paid into (one accepted deposit, one in
    suspense), given a statement that does not reconcile; then the alert sweep raises its alerts."""

    def __init__(self, client, world, flow, engine, settings):
        self.client, self.world, self.flow = client, world, flow
        self.engine, self.settings = engine, settings
        self.projects: list[dict] = []
        self.sweeps = 0

    def grow_to(self, n: int) -> None:
        while len(self.projects) < n:
            self._add(len(self.projects) + 1)
        # each sweep in its own quarter of an hour: the job runs once per slot
        self.sweeps += 1
        now = NOW + timedelta(minutes=15 * self.sweeps)
        ctx = build_context(self.settings, self.engine, lambda: now.date())
        assert tasks.run(tasks.BY_ID["alert-sweep"], self.engine, ctx, now=now) == "done"

    def _add(self, i: int) -> None:
        account_no = ACCOUNT_NO.format(i)
        project = open_project(
            self.client,
            self.world,
            f"open-grow-{i}",
            name=f"项目{i:03d}",
            permit_no=f"衡预售2025-9{i:02d}",
            account_no=account_no,
        )
        for n, amount in enumerate(("200000.00", "300000.00")):
            contract = self.flow.contract(
                permit_no=project["permit_no"],
                contract_no=f"HT-G-{i}-{n}",
                unit=f"G-{i}-{n}",
                total_price=amount,
            )
            notice = self.flow.notice(contract["contract_no"], amount, kind="full")
            deposit = self.flow.deposit(
                account_no=account_no,
                bank_reference=f"G-{i}-{n}",
                amount=amount,
                payer_name="张伟",
                notice_no=notice["notice_no"],
                kind="full",
                channel="transfer",
                value_date="2026-11-20",
            )
            assert deposit["status"] == "accepted", deposit
        suspense_deposit(self.flow, account_no, f"S-{i}", "1000.00")
        statement = {
            "account_no": account_no,
            "statement_date": "2026-11-21",
            "opening_balance": "0.00",
            "closing_balance": "1.00",
            "lines": [],
        }
        r = self.client.post(
            "/api/v1/statements", json=statement, headers=self.world.headers("bank", f"st-{i}")
        )
        assert r.status_code == 201, r.text
        self.projects.append(project)


@pytest.fixture
def growing(client, world, flow, engine, settings) -> Growing:
    return Growing(client, world, flow, engine, settings)


def _pages(web, world, client, growing: Growing) -> dict[str, Callable[[], object]]:
    director = web("director")
    first = growing.projects[0]["project_id"]
    admin = world.headers("admin")

    def get(c, url: str, **kwargs):
        def fetch():
            r = c.get(url, **kwargs)
            assert r.status_code == 200, (url, r.text[:500])
            return r

        return fetch

    return {
        "dashboard": get(director, "/?from=2026-01-01&to=2026-12-31"),
        "dashboard, a past period": get(director, "/?from=2025-01-01&to=2025-12-31"),
        "projects": get(director, "/projects"),
        "projects by balance": get(director, "/projects?sort=-balance"),
        "projects filtered": get(director, "/projects?reconciliation=discrepancy&status=active"),
        "project page": get(director, f"/projects/{first}"),
        "alerts": get(director, "/alerts"),
        "all alerts": get(director, "/alerts?state=all"),
        "what-if": get(director, "/rules/what-if?jurisdiction=hengshui&version=2026.1"),
        "api stats": get(client, "/api/v1/stats?from=2026-01-01&to=2026-12-31", headers=admin),
        "api alerts": get(client, "/api/v1/alerts", headers=admin),
        "api bank accounts": get(client, "/api/v1/accounts", headers=world.headers("bank")),
    }


def _count_each(engine, pages: dict[str, Callable[[], object]]) -> dict[str, int]:
    found = {}
    for name, fetch in pages.items():
        fetch()  # warm: the session look-up's and the rule books' one-off reads are not the page's
        with counted(engine) as statements:
            fetch()
        found[name] = len(statements)
    return found


def test_each_city_page_reads_with_a_number_of_statements_that_does_not_grow_with_the_city(
    web, world, client, growing, engine
):
    growing.grow_to(SMALL)
    small = _count_each(engine, _pages(web, world, client, growing))
    growing.grow_to(LARGE)
    large = _count_each(engine, _pages(web, world, client, growing))
    grew = {name: (small[name], large[name]) for name in small if large[name] > small[name]}
    assert not grew, f"statements per page (at {SMALL} accounts, at {LARGE}) grew: {grew}"
    # the project page keeps the budget measured on the demo city (tests/integration/test_demo_city.py)
    assert large["project page"] <= 58


def test_the_city_report_reads_with_a_number_of_statements_that_does_not_grow(
    users, growing, engine, settings, today
):
    ctx = build_context(settings, engine, lambda: today)

    def report() -> dict:
        with UnitOfWork(engine, readonly=True) as uow:
            return report_data.city(uow, ctx, today.replace(month=1, day=1), today)

    def count() -> int:
        with counted(engine) as statements:
            report()
        return len(statements)

    growing.grow_to(SMALL)
    small = count()
    growing.grow_to(LARGE)
    large = count()
    assert report()["accounts_total"] == LARGE
    assert large <= small, (small, large)


def test_the_cash_at_a_periods_end_equals_the_sum_of_the_cash_booked_by_then(growing, engine):
    """The dashboard's and the city report's cash at a period's end (today's balance less what was booked
    later) equals the plain sum of every cash leg booked by that day."""
    from datetime import date

    from sqlalchemy import func, select

    from escrow.domain.ledger import Ledger
    from escrow.store.models import JournalEntry, JournalLeg, SupervisedAccount
    from escrow.store.repos.journal import Journal

    growing.grow_to(SMALL)
    with UnitOfWork(engine, readonly=True) as uow:
        journal = Journal(uow.session)
        ids = list(uow.session.scalars(select(SupervisedAccount.id)))  # closed ones too
        for end in (
            date(2025, 1, 1),
            date(2026, 11, 20),
            date(2026, 11, 21),
            date(2026, 11, 22),
            date(2027, 1, 1),
        ):
            rows = uow.session.execute(
                select(JournalLeg.account_id, func.sum(JournalLeg.amount_fen))
                .join(JournalEntry, JournalEntry.id == JournalLeg.entry_id)
                .where(JournalLeg.ledger == Ledger.CASH.value, JournalEntry.booked_on <= end)
                .group_by(JournalLeg.account_id)
            )
            expected = {a: 0 for a in ids} | {a: int(total) for a, total in rows}
            assert journal.cash_of_until(ids, end) == expected, end
            assert journal.cash_total_until(end) == sum(expected.values()), end
    assert sum(expected.values()) > 0


def test_the_project_page_reads_in_one_unit_of_work(web, world, client, growing, engine):
    """Its account, cap, guarantees, life, adoptions, amount changes and fund plan are read together: one
    connection taken from the pool for the page (the other is the signed-in session's look-up), not one
    for each part."""
    growing.grow_to(1)
    fetch = _pages(web, world, client, growing)["project page"]
    fetch()
    taken: list[object] = []
    listener = lambda *args: taken.append(args[0])  # noqa: E731 - (dbapi connection, record, proxy)
    event.listen(engine, "checkout", listener)
    try:
        fetch()
    finally:
        event.remove(engine, "checkout", listener)
    assert len(taken) == 2
