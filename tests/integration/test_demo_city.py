"""The demo city at full scale (191 accounts in the 365 days ending the day it is seeded), seeded ONCE for
this module's tests, which share a copy of one seeded SQLite file. `xdist_group` keeps them on one worker
(`make test` runs pytest with `--dist loadgroup`), so the seed runs once per run.

The seed writes the sales through the bulk path (`demo.seed(..., bulk=True)`, as the 10x and province scales
do): through the use cases, one sale after another, the city took ten minutes of a two-core machine, the
suite's longest single piece of work, and tests/integration/test_demo_bulk.py proves, row by row on both
engines, that the two paths write the same books. What is checked here is the city: its figures, its
dashboard and the cost of its pages."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event

from escrow import demo
from escrow.services import stats
from escrow.store.db import UnitOfWork, make_engine
from tests.conftest import settings_for
from tests.http.test_web_pages import figure, listed, main_of
from tests.integration.test_demo import PERIOD, TODAY
from tests.web import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_city")]


@pytest.fixture(scope="module")
def seeded_city(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, demo.DemoResult]:
    """One seed of the city into a migrated SQLite file, and what the seed printed (logins, figures)."""
    path = tmp_path_factory.mktemp("city") / "city.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        settings = settings_for(f"sqlite:///{path}")
        result = demo.seed(engine, settings, scale="city", out=io.StringIO(), today=TODAY, bulk=True)
    finally:
        engine.dispose()
    return path, result


@pytest.fixture
def db_url(seeded_city: tuple[Path, demo.DemoResult], tmp_path: Path) -> Iterator[str]:
    """Each test gets its own copy of the seeded city (this module's tests run on SQLite only)."""
    path = tmp_path / "city.db"
    shutil.copy(seeded_city[0], path)
    yield f"sqlite:///{path}"


def test_city_scale_reproduces_the_hengshui_figures(engine, seeded_city):
    result = seeded_city[1]
    with UnitOfWork(engine, readonly=True) as uow:
        figures = stats.city_stats(uow, *PERIOD)
    assert figures == result.figures
    assert figures["accounts_opened"] == 191
    assert abs(Decimal(figures["presale_area_m2"]) / Decimal("1400000") - 1) <= Decimal("0.01")
    assert abs(Decimal(figures["deposits_total"]) / Decimal("7285000000") - 1) <= Decimal("0.01")


def test_the_dashboard_of_the_demo_city_shows_the_press_conference_figures(engine, client, seeded_city):
    result = seeded_city[1]
    login = next(x for x in result.logins if x.role == "director")
    sign_in(client, login.username, login.password)
    page = client.get(f"/?from={PERIOD[0]}&to={PERIOD[1]}")
    assert page.status_code == 200
    assert figure(page.text, "accounts_opened") == "191"
    assert figure(page.text, "presale_area_m2") == "1,400,000.00"
    assert figure(page.text, "deposits_total") == "¥7,280,562,509.00"
    assert result.figures["deposits_total"] == "7280562509.00"
    assert "柒拾贰亿捌仟零伍拾陆万贰仟伍佰零玖元整" in page.text
    # the city's project list and a project page stay quick to build: a fixed number of queries
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        listing = client.get("/projects?sort=-balance")
        first = int(re.search(r'href="/projects/(\d+)"', main_of(listing.text)).group(1))
        project_page = client.get(f"/projects/{first}")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert listing.status_code == project_page.status_code == 200
    # the period's 191 (three of them opened today under hengshui@2026.2) and the two earlier projects
    assert "193" in listing.text and len(listed(listing.text)) == 25
    # a fixed number, whatever the city's size (41 measured once the project page also read the non-key cap,
    # the guarantees, the adoption history and the interest and fees; 50 with its end-of-supervision section:
    # what is open on the account, a closure or transfer waiting, the project's earlier accounts; 58 with the
    # buildings and each building's nodes, the key amount changes and the fund plan against actual)
    assert len(statements) <= 58
