"""The rule-book what-if page (/rules/what-if): numbers equal the domain's, nothing is written, only the
roles allowed see it, and a bad choice is a field error. The app loads the two Hengshui test versions
(tests/fixtures/rules: 2024.1 and the invented 2025.1 with lower retention shares)."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from escrow.config import Settings
from escrow.domain import caps
from escrow.domain.money import from_fen
from escrow.rulebooks import load_dir
from escrow.services import projects as project_service
from escrow.services.context import Context
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    AuditEvent,
    JournalEntry,
    JournalLeg,
    NodeConfirmation,
    Project,
    RulebookRecord,
    SupervisedAccount,
)
from escrow.web.bureau import whatif
from tests.conftest import contract_body, project_body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
# The shipped 2024.1 alone (rules/ holds 2026.1 too): a city with one version loaded.
ONE_VERSION = Path(__file__).resolve().parents[1] / "fixtures" / "rules_one"
HALF = [{"kind": "construction_progress_report"}, {"kind": "supervision_engineer_confirmation"}]
TOP = [{"kind": "topping_out_acceptance"}, {"kind": "supervision_engineer_confirmation"}]


@pytest.fixture
def rules_dir() -> Path:
    return FIXTURES


@pytest.fixture
def settings(db_url: str, rules_dir: Path) -> Settings:
    return Settings.from_env({"ESCROW_DATABASE_URL": db_url, "ESCROW_RULES_DIR": str(rules_dir)})


class City:
    """Projects of the world's developer opened, paid into and advanced through the real API."""

    def __init__(self, client, world):
        self.client, self.world, self.n = client, world, 0

    def _key(self, what: str) -> dict[str, str]:
        self.n += 1
        return self.world.headers(what, f"city-{self.n}")

    def open(self, no: int, permit_date: str, finish: str = "shell", amount: str = "1000000.00") -> dict:
        body = project_body(
            name=f"项目{no}",
            permit_no=f"衡预售2025-{no:03d}",
            permit_date=permit_date,
            finish=finish,
            supervised_amount=amount,
            account_no=f"62220000111100{no:02d}",
            opened_on=permit_date,
        )
        r = self.client.post("/api/v1/projects", json=body, headers=self._key("admin"))
        assert r.status_code == 201, r.text
        return r.json()

    def pay(self, project: dict, no: int, price: str = "886500.00") -> None:
        contract = contract_body(
            permit_no=project["permit_no"],
            contract_no=f"HT-{no:04d}",
            total_price=price,
            signed_on="2025-09-01",
        )
        r = self.client.post("/api/v1/contracts", json=contract, headers=self._key("developer"))
        assert r.status_code == 201, r.text
        r = self.client.post(
            f"/api/v1/contracts/HT-{no:04d}/notices",
            json={"kind": "down_payment", "amount": price, "due_on": "2025-10-01"},
            headers=self._key("developer"),
        )
        assert r.status_code == 201, r.text
        notice = r.json()
        deposit = {
            "account_no": project["account_no"],
            "bank_reference": f"HSB2025090100{no:04d}",
            "amount": price,
            "payer_name": "张伟",
            "payer_account": "6217000012345678",
            "notice_no": notice["notice_no"],
            "kind": "down_payment",
            "channel": "transfer",
            "value_date": "2025-09-02",
        }
        r = self.client.post("/api/v1/deposits", json=deposit, headers=self._key("bank"))
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "accepted"

    def confirm(self, project: dict, node: str, evidence: list[dict]) -> None:
        r = self.client.post(
            f"/api/v1/projects/{project['project_id']}/nodes/{node}/confirmation",
            json={"reached_on": "2025-10-01", "evidence": evidence},
            headers=self._key("inspector"),
        )
        assert r.status_code == 201, r.text

    def freeze(self, project: dict, amount: str) -> None:
        body = {
            "account_no": project["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": f"(2025)冀1102执{self.n}号",
            "amount": amount,
            "ordered_on": "2025-10-02",
        }
        r = self.client.post("/api/v1/freezes", json=body, headers=self._key("bank"))
        assert r.status_code == 201, r.text


@pytest.fixture
def city(client, world, engine) -> dict[str, dict]:
    """Five projects: three under 2024.1 at different nodes (one frozen in part, one finished-interior), one
    pinned to 2025.1 by its later permit date, one under 2024.1 whose account is closed."""
    c = City(client, world)
    shell = c.open(1, "2025-03-01")
    c.pay(shell, 1)
    c.confirm(shell, "half_structure", HALF)
    c.confirm(shell, "topped_out", TOP)
    c.freeze(shell, "100000.00")
    finished = c.open(2, "2025-03-02", finish="finished")
    c.pay(finished, 2)
    c.confirm(finished, "half_structure", HALF)
    bare = c.open(3, "2025-04-01")
    later = c.open(4, "2025-08-01")
    c.pay(later, 4)
    closed = c.open(5, "2025-03-03")
    with UnitOfWork(engine) as uow:  # no service closes accounts yet: the test sets the state it needs
        uow.projects.account_by_no(closed["account_no"]).status = "closed"
        uow.commit()
    assert {shell["rulebook"], later["rulebook"]} == {"hengshui@2024.1", "hengshui@2025.1"}
    return {"shell": shell, "finished": finished, "bare": bare, "later": later, "closed": closed}


def _rows(text: str) -> dict[int, list[str]]:
    """project id → the numbers of its row (retention now/then/Δ, releasable now/then/Δ), as shown."""
    found = {}
    for pid, body in re.findall(r'<tr data-project="(\d+)">(.*?)</tr>', text, re.S):
        cells = re.findall(r'<td class="num">(.*?)</td>', body, re.S)
        found[int(pid)] = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]
    return found


def _shown(value: Decimal, signed: bool = False) -> str:
    return ("+" if signed and value > 0 else "") + f"{value:,.2f}"


def _expected(engine, settings: Settings, today, project_id: int, version: str) -> caps.Cap:
    """The cap computed independently: the project's figures read one by one, the retention rule built by
    hand from the rule book, then the pure domain function."""
    books = load_dir(settings.rules_dir)
    book = books.get(f"hengshui@{version}")
    with UnitOfWork(engine, readonly=True) as uow:
        project = uow.projects.get(project_id)
        account = uow.projects.account_for(project_id)
        confirmed = {c.node_code for c in uow.projects.confirmed_nodes(project_id)}
        reached = [n for n in book.nodes if n.code in confirmed]
        surcharge = Decimal("0.05") if project.finish == "finished" and reached else Decimal("0")
        rule = caps.RetentionRule(
            rulebook_id=book.id,
            node_code=reached[-1].code if reached else None,
            node_share=reached[-1].retention if reached else Decimal("1"),
            surcharge=surcharge,
            guarantee_max_share=book.guarantee_max_share,
            guarantee_requires_full_amount=book.guarantee_requires_full_amount,
        )
        balances = uow.journal.balances(account.id)
        inputs = caps.CapInputs(
            balance=from_fen(balances.cash),
            suspense=from_fen(balances.suspense),
            supervised_amount=from_fen(project.supervised_amount_fen),
            frozen=from_fen(uow.holds.frozen_fen(account.id)),
            pending_out=from_fen(uow.holds.pending_out_fen(account.id)),
            guarantee=from_fen(uow.holds.guarantee_fen(account.id, today)),
            deposits_total=from_fen(uow.journal.received_fen(account.id)),
        )
        expected = caps.release_cap(inputs, rule)
        # the service's single-project cap, given the other book, agrees with the hand-built one
        ctx = Context(settings=settings, rulebooks=books, today=lambda: today)
        service = project_service.release_cap(uow, ctx, project, account, book=book)
        assert (service.releasable, service.required_retention) == (
            expected.releasable,
            expected.required_retention,
        )
    return expected


def _counts(engine) -> dict[str, int]:
    tables = (
        AuditEvent,
        JournalEntry,
        JournalLeg,
        NodeConfirmation,
        Project,
        SupervisedAccount,
        RulebookRecord,
    )
    with UnitOfWork(engine, readonly=True) as uow:
        return {t.__name__: uow.session.scalar(select(func.count()).select_from(t)) for t in tables}


def test_the_numbers_equal_the_domain_and_nothing_is_written(web, city, engine, settings, today):
    reviewer = web("reviewer")
    before = _counts(engine)
    r = reviewer.get("/rules/what-if?jurisdiction=hengshui&version=2025.1")
    assert r.status_code == 200, r.text
    assert _counts(engine) == before

    rows = _rows(r.text)
    listed = {city[k]["project_id"] for k in ("shell", "finished", "bare")}
    assert set(rows) == listed  # not the project already under 2025.1, nor the closed account
    totals = {name: Decimal(0) for name in ("rn", "rt", "ln", "lt")}
    for project_id in listed:
        now = _expected(engine, settings, today, project_id, "2024.1")
        then = _expected(engine, settings, today, project_id, "2025.1")
        assert rows[project_id] == [
            _shown(now.required_retention),
            _shown(then.required_retention),
            _shown(then.required_retention - now.required_retention, signed=True),
            _shown(now.releasable),
            _shown(then.releasable),
            _shown(then.releasable - now.releasable, signed=True),
        ]
        totals["rn"] += now.required_retention
        totals["rt"] += then.required_retention
        totals["ln"] += now.releasable
        totals["lt"] += then.releasable

    # the figures by hand, so that a shared mistake in the domain would still show: finished housing at the
    # first node retains 75% → 65%; shell topped out 45% → 40% and ¥100,000 frozen (inside the retention, so
    # not held twice); no node: all of it
    finished, shell, bare = (rows[city[k]["project_id"]] for k in ("finished", "shell", "bare"))
    assert finished == ["750,000.00", "650,000.00", "-100,000.00", "136,500.00", "236,500.00", "+100,000.00"]
    assert shell == ["450,000.00", "400,000.00", "-50,000.00", "436,500.00", "486,500.00", "+50,000.00"]
    assert bare == ["1,000,000.00", "1,000,000.00", "0.00", "0.00", "0.00", "0.00"]
    order = [int(pid) for pid in re.findall(r'<tr data-project="(\d+)">', r.text)]
    assert order == [city["finished"]["project_id"], city["shell"]["project_id"], city["bare"]["project_id"]]

    foot = re.search(r'<tr class="totals">(.*?)</tr>', r.text, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<td class="num">(.*?)</td>', foot, re.S)]
    assert cells == [
        _shown(totals["rn"]),
        _shown(totals["rt"]),
        _shown(totals["rt"] - totals["rn"], signed=True),
        _shown(totals["ln"]),
        _shown(totals["lt"]),
        _shown(totals["lt"] - totals["ln"], signed=True),
    ]
    assert "另有 1 个在监项目已适用该版本，未列出。" in r.text  # the project already under 2025.1


def test_the_differences_between_versions_are_said_in_words(web, city):
    reviewer = web("approver")
    zh = reviewer.get("/rules/what-if?version=2025.1").text
    assert "主体结构完成二分之一：留存比例 70% → 60%" in zh
    assert "完成建设工程竣工验收备案：留存比例 10% → 5%" in zh
    assert "完成不动产首次登记" not in zh.split("与 hengshui@2024.1 相比")[1].split("</section>")[0]
    en = reviewer.get("/rules/what-if?version=2025.1&lang=en").text
    assert "Half of the main structure completed: retention 70% → 60% of the key supervised amount." in en
    assert "Main structure topped out: retention 45% → 40%" in en


def test_the_version_defaults_to_the_newest_and_comparing_with_the_pinned_one_changes_nothing(web, city):
    auditor = web("auditor")
    newest = auditor.get("/rules/what-if")
    assert newest.status_code == 200
    assert '<option value="2025.1" selected>' in newest.text
    same = auditor.get("/rules/what-if?version=2024.1&lang=en")
    assert same.status_code == 200
    rows = _rows(same.text)
    assert set(rows) == {city["later"]["project_id"]}  # only the project under 2025.1 is compared back
    assert (
        rows[city["later"]["project_id"]][2] == "0.00"
    )  # paid less than the key amount: no node → all retained


def test_a_bad_choice_is_a_field_error_not_a_failure(web, city, engine):
    director = web("director")
    before = _counts(engine)
    bad = director.get("/rules/what-if?jurisdiction=hengshui&version=9999.9")
    assert bad.status_code == 422
    assert 'id="e-version"' in bad.text and "该规则版本不存在" in bad.text
    assert "<tr data-project=" not in bad.text
    unknown = director.get("/rules/what-if?jurisdiction=nowhere&version=2025.1&lang=en")
    assert unknown.status_code == 422
    assert 'id="e-jurisdiction">No rule book is loaded for this jurisdiction.' in unknown.text
    hostile = director.get("/rules/what-if?version=%3Cscript%3Ex%3C/script%3E")
    assert hostile.status_code == 422 and "<script>x" not in hostile.text
    assert director.get("/rules/what-if?version=2025.1&page=abc").status_code == 200
    assert _counts(engine) == before


@pytest.mark.parametrize("who", ["inspector", "dev-staff"])
def test_inspectors_and_developer_staff_may_not_see_it(web, city, who):
    r = web(who).get("/rules/what-if?version=2025.1")
    assert r.status_code == 403
    assert "<tr data-project=" not in r.text


def test_signed_out_visitors_are_sent_to_sign_in(client):
    r = client.get("/rules/what-if", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/rules/what-if")


def test_long_lists_are_paged_and_the_totals_cover_every_project(web, city, monkeypatch):
    monkeypatch.setattr(whatif, "PAGE_SIZE", 2)
    admin = web("admin")
    first = admin.get("/rules/what-if?version=2025.1&lang=en")
    second = admin.get("/rules/what-if?version=2025.1&lang=en&page=2")
    assert list(_rows(first.text)) == [city["finished"]["project_id"], city["shell"]["project_id"]]
    assert list(_rows(second.text)) == [city["bare"]["project_id"]]
    assert "1 / 2" in first.text and 'rel="next"' in first.text and "2 / 2" in second.text
    assert "Total of 3 projects" in first.text and "Total of 3 projects" in second.text
    beyond = admin.get("/rules/what-if?version=2025.1&page=99")
    assert list(_rows(beyond.text)) == [city["bare"]["project_id"]]  # past the end: the last page


@pytest.mark.parametrize("rules_dir", [ONE_VERSION])
def test_with_a_single_version_the_page_says_there_is_nothing_to_compare(web, rules_dir):
    r = web("reviewer").get("/rules/what-if?lang=en")
    assert r.status_code == 200
    assert "Only one version of this rule book is loaded (hengshui@2024.1)" in r.text
    assert "<tr data-project=" not in r.text
