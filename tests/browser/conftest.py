"""Browser tests: Playwright drives Debian's chromium (/usr/bin/chromium, installed by scripts/system-deps.sh;
never a browser Playwright downloads) against the real app served by uvicorn on a loopback port, on a real
database seeded with the `world` and `users` fixtures.

They run on both engines, like every database test: one browser for the whole session, and per test a fresh
database and server (about a second), so a browser test costs little more than an HTTP test.

Fixtures:
- `live`: the running server — `live.url`, `live.api` (an httpx client on it), `live.world` (API keys),
  `live.flow` (tests.conftest.Flow over HTTP: contracts, notices, deposits with the world's keys),
  `live.open_project(…)`, `live.pay(project, amount)`, `live.confirm(project, node)`.
- `page_as("reviewer")`: a page signed in through the login form, in its own browser context (own cookies),
  so several users can be signed in at once; `new_page()` gives a signed-out one.
- `shot(page, "name")`: a full-page PNG in test-artefacts/screenshots/<today>/name-<engine>.png (one folder a
  day, so that a run's screenshots are kept beside the earlier days' to compare).
A page that raises a JavaScript error or gets a 5xx answer fails its test at the end.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest

from tests.conftest import BUYER_ID, REPO, Flow, World, contract_body, project_body
from tests.live import serve
from tests.web import PASSWORD

CHROMIUM = Path(os.environ.get("ESCROW_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-gpu",
]
SCREENSHOTS = REPO / "test-artefacts" / "screenshots" / date.today().isoformat()
TIMEOUT_MS = 15_000  # one action or navigation; the machine is shared, so generous

HALF_STRUCTURE_EVIDENCE = [
    {"kind": "construction_progress_report"},
    {"kind": "supervision_engineer_confirmation"},
]
NODE_EVIDENCE = {
    "half_structure": HALF_STRUCTURE_EVIDENCE,
    "topped_out": [{"kind": "topping_out_acceptance"}, {"kind": "supervision_engineer_confirmation"}],
    "completion_report": [{"kind": "completion_acceptance_report"}],
    "completion_filed": [{"kind": "completion_filing_certificate"}],
    "first_registration": [{"kind": "first_registration_certificate"}],
}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; make system-deps)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def rules_dir() -> Path:
    """The rule books the app loads; a test module may override this (e.g. tests/fixtures/rules)."""
    return REPO / "rules"


@pytest.fixture
def settings(db_url: str, rules_dir: Path):
    from escrow.config import Settings

    return Settings.from_env({"ESCROW_DATABASE_URL": db_url, "ESCROW_RULES_DIR": str(rules_dir)})


@dataclass
class Live:
    """The running app and shortcuts to give it data through its API, as a bank or developer would."""

    url: str
    api: httpx.Client
    world: World
    flow: Flow
    today: date
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def key(self, who: str) -> dict[str, str]:
        return self.world.headers(who, f"live-{next(self._numbers)}")

    def open_project(self, **overrides) -> dict:
        """A project of the world's developer at bank HSB (tests.conftest.project_body), opened by admin.
        Give `permit_no` and `account_no` to open more than one."""
        r = self.api.post("/api/v1/projects", json=project_body(**overrides), headers=self.key("admin"))
        assert r.status_code == 201, r.text
        return r.json()

    def pay(self, project: dict, amount: str, *, contract_no: str | None = None, buyer: str = "张伟") -> dict:
        """A signed contract of `amount`, its notice and the bank's deposit of it: the deposit's answer
        (status, voucher)."""
        n = next(self._numbers)
        contract_no = contract_no or f"HT-LIVE-{n:04d}"
        self.flow.contract(
            **contract_body(
                permit_no=project["permit_no"],
                contract_no=contract_no,
                buyer_name=buyer,
                buyer_id_no=BUYER_ID,
                unit=f"1-1-{n:04d}",
                total_price=amount,
            )
        )
        notice = self.flow.notice(contract_no, amount)
        return self.flow.deposit(
            account_no=project["account_no"],
            bank_reference=f"HSBLIVE{n:010d}",
            amount=amount,
            payer_name=buyer,
            payer_account="6217000012345678",
            notice_no=notice["notice_no"],
            kind=notice["kind"],
            channel="transfer",
            value_date=self.today.isoformat(),
        )

    def confirm(self, project: dict, node: str, reached_on: str | None = None) -> dict:
        """The inspector confirms a node through the API with the evidence the shipped rule book asks for."""
        r = self.api.post(
            f"/api/v1/projects/{project['project_id']}/nodes/{node}/confirmation",
            json={"reached_on": reached_on or self.today.isoformat(), "evidence": NODE_EVIDENCE[node]},
            headers=self.key("inspector"),
        )
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture
def live(app, users: World, today: date) -> Iterator[Live]:
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as api:
        yield Live(url=url, api=api, world=users, flow=Flow(api, users), today=today)


@pytest.fixture
def new_page(browser, live: Live) -> Iterator[Callable[..., object]]:
    """`new_page()` → a page in a fresh browser context (no cookies), with base URL the live server.
    Every context is closed at the end; JavaScript errors and 5xx answers seen by any page fail the test."""
    contexts = []
    problems: list[str] = []

    def make(locale: str = "zh-CN"):
        context = browser.new_context(
            base_url=live.url, locale=locale, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"JavaScript error on {page.url}: {exc}"))
        page.on(
            "response",
            lambda r: (
                problems.append(f"{r.status} from {r.request.method} {r.url}") if r.status >= 500 else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Through the login form as a person would: type, press the button, wait to leave /login."""
    if "/login" not in page.url:
        page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def page_as(new_page) -> Callable[..., object]:
    """`page_as("approver")` → a page signed in as that user (its own context, so several users at once)."""

    def signed_in(username: str, password: str = PASSWORD, locale: str = "zh-CN"):
        page = new_page(locale=locale)
        page.goto("/login")
        sign_in(page, username, password)
        return page

    return signed_in


@pytest.fixture
def shot(db_url: str) -> Callable[[object, str], Path]:
    """`shot(page, "what-if")` → test-artefacts/screenshots/<today>/what-if-sqlite.png (or -postgresql)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}-{backend}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    return save
