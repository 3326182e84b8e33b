"""`escrow demo`: the seeded books hold their invariants, the printed keys and logins work, a second seed is
refused, the city scale reproduces the Hengshui figures in the 365 days ending the day it is seeded, every
account reconciles with its bank's daily statements, and the epilogue shows an account's whole life: an
earlier project closed, another moved to another bank, new projects opened today with their buildings at
different nodes. The tests seed as of REFERENCE_DAY, so that their figures are fixed."""

from __future__ import annotations

import io
import itertools
import re
import shlex
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from escrow import demo
from escrow.cli import main
from escrow.demo.city import BANKS
from escrow.demo.plan import REFERENCE_DAY, SCALES, plan_city
from escrow.demo.seeding import DAILY_STATEMENTS, working_days
from escrow.domain import credit_code, ledger
from escrow.domain.money import from_fen
from escrow.errors import CliError
from escrow.rulebooks import load_dir
from escrow.services import alerts, parties, projects, stats
from escrow.services.context import Context
from escrow.store.audit import GENESIS, event_hash, record
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import (
    Alert,
    ApprovalStep,
    AuditEvent,
    Bank,
    Building,
    Contract,
    Deposit,
    Developer,
    Freeze,
    FundPlan,
    FundPlanItem,
    JournalEntry,
    NodeConfirmation,
    PaymentInstruction,
    PaymentNotice,
    Project,
    Refund,
    Release,
    ReleaseDocument,
    ReleasePayee,
    Statement,
    SupervisedAccount,
    User,
    Voucher,
)
from tests.conftest import BACKENDS, REPO, fresh_database, settings_for

PERIOD = (REFERENCE_DAY - timedelta(days=364), REFERENCE_DAY)
TODAY = REFERENCE_DAY
# One worker takes this module's tests of each engine (`make test` runs pytest with `--dist loadgroup`; the
# group is split by engine in tests/conftest.py), so that the small city is seeded once per engine in the
# whole run, not once per worker, and the two engines' seeds run side by side.
pytestmark = pytest.mark.xdist_group("demo_small")


def _seed_small(url: str) -> tuple[demo.DemoResult, str, str]:
    """The small city seeded into the database at `url`: what the seed returned, what it printed, the URL."""
    engine = make_engine(url)
    try:
        settings = settings_for(url)
        out = io.StringIO()
        result = demo.seed(engine, settings, scale="small", out=out, today=TODAY)
    finally:
        engine.dispose()
    return result, out.getvalue(), url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, seeded_templates) -> Iterator[str]:
    """A test that takes `seeded` gets its own copy of the small city, seeded once per engine for this module
    (seeding it costs far more than copying it); the others an empty database, as everywhere."""
    template = seeded_templates(request.param, _seed_small)[0] if "seeded" in request.fixturenames else None
    with fresh_database(request, request.param, tmp_path / "escrow.db", template) as url:
        yield url


@pytest.fixture
def seeded(request: pytest.FixtureRequest, db_url: str, seeded_templates) -> tuple[demo.DemoResult, str]:
    """What the seed of this test's database returned and printed."""
    result, out, _ = seeded_templates(request.node.callspec.params["db_url"], _seed_small)[1]
    return result, out


@pytest.fixture
def seeded_at(request: pytest.FixtureRequest, seeded, seeded_templates) -> str:
    """The URL of the database the seed ran on (the module's template, which this test's database copies)."""
    return seeded_templates(request.node.callspec.params["db_url"], _seed_small)[1][2]


def _ctx(settings) -> Context:
    return Context(settings=settings, rulebooks=load_dir(settings.rules_dir), today=lambda: PERIOD[1])


def _count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_small_seed_books_hold_per_account(engine, settings, seeded):
    ctx = _ctx(settings)
    with UnitOfWork(engine, readonly=True) as uow:
        accounts = list(uow.session.scalars(select(SupervisedAccount)))
        # the year's four, the two earlier, the two opened today and the account a change of bank opened
        assert len(accounts) == 4 + 2 + 2 + 1
        assert uow.journal.maintained_figures() == uow.journal.summed_figures()  # kept by every booking
        for account in accounts:
            entries = uow.journal.entries(account.id)
            assert entries, account.account_no
            assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
            assert ledger.balance_equals_flows(entries)
            assert ledger.balance_never_negative(entries)
            assert ledger.suspense_never_negative(entries)
            project = uow.projects.get(account.project_id)
            cash = from_fen(uow.journal.balances(account.id).cash)
            if project.permit_date == TODAY:  # opened today, supervised by building
                assert account.opened_on == TODAY
            elif project.permit_date >= PERIOD[0]:
                assert PERIOD[0] <= account.opened_on <= project.permit_date
            elif account.id in {a.replaced_by_id for a in accounts}:  # opened by the change of bank
                assert PERIOD[0] <= account.opened_on < TODAY
            else:  # an earlier project: opened in the year before, its supervision ended in the period
                assert account.opened_on < PERIOD[0]
            assert account.confirmed_on is not None  # every tri-party agreement confirmed by its bank
            if account.status == "closed":
                assert cash == 0 and PERIOD[0] < account.closed_on < TODAY
                continue
            cap = projects.release_cap(uow, ctx, project, account)
            released = uow.session.scalar(
                select(func.count()).select_from(Release).where(Release.project_id == project.id)
            )
            if released:  # what was released came from above the retention (a new project has not begun)
                assert cash >= cap.required_retention, (account.account_no, cash, cap.text)


def test_small_seed_releases_are_complete_and_within_the_cap(engine, settings, seeded):
    ctx = _ctx(settings)
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        executed = list(s.scalars(select(Release).where(Release.status == "executed")))
        assert executed, "the small demo should show at least one executed release"
        for release in executed:
            book = ctx.rulebook(release.rulebook_id)
            assert from_fen(release.amount_fen) <= Decimal(release.cap["releasable"])
            payees = list(s.scalars(select(ReleasePayee).where(ReleasePayee.release_id == release.id)))
            assert sum(p.amount_fen for p in payees) == release.amount_fen
            assert {p.role for p in payees} <= set(book.release.payee_roles)
            kinds = {
                d.kind
                for d in s.scalars(select(ReleaseDocument).where(ReleaseDocument.release_id == release.id))
            }
            assert set(book.release.required_documents) <= kinds
            assert "wage_arrears_statement" in kinds
            steps = list(
                s.scalars(
                    select(ApprovalStep)
                    .where(ApprovalStep.release_id == release.id)
                    .order_by(ApprovalStep.step_no)
                )
            )
            expected = [step.role for step in book.approval_steps_for(from_fen(release.amount_fen))]
            assert [step.role for step in steps] == expected
            assert len({step.decided_by for step in steps}) == len(steps), "four eyes: distinct people"
            for step in steps:
                user = s.get(User, step.decided_by)
                assert user.role == step.role and user.developer_id is None
                assert step.decision == "approve"
                assert from_fen(release.amount_fen) <= Decimal(step.cap["releasable"])
            instruction = s.scalar(
                select(PaymentInstruction).where(PaymentInstruction.release_id == release.id)
            )
            assert instruction.status == "executed" and instruction.amount_fen == release.amount_fen
            entry = s.scalar(
                select(JournalEntry).where(
                    JournalEntry.kind == "release", JournalEntry.reference == f"release:{release.id}"
                )
            )
            assert entry.amount_fen == release.amount_fen and entry.booked_on == instruction.executed_on
            assert entry.account_id == release.account_id
            confirmed = {c.node_code for c in uow.projects.confirmed_nodes(release.project_id)}
            assert release.node_code in confirmed


def test_small_seed_nodes_deposits_and_vouchers(engine, settings, seeded):
    ctx = _ctx(settings)
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        for project in s.scalars(select(Project)):
            book = ctx.rulebook(project.rulebook_id)
            rows = s.scalars(
                select(NodeConfirmation)
                .where(NodeConfirmation.project_id == project.id)
                .order_by(NodeConfirmation.id)
            )
            by_building: dict[int | None, list[NodeConfirmation]] = {}
            for c in rows:
                by_building.setdefault(c.building_id, []).append(c)
            for confirmations in by_building.values():  # in order, within each building
                codes = [c.node_code for c in confirmations]
                assert codes == [n.code for n in book.nodes[: len(confirmations)]], project.name
                for c in confirmations:
                    assert set(book.node(c.node_code).evidence) <= {e["kind"] for e in c.evidence}
                    assert project.permit_date <= c.reached_on <= TODAY
        for developer in s.scalars(select(Developer)):
            assert credit_code.is_valid(developer.credit_code), developer.credit_code
        for contract in s.scalars(select(Contract)):
            per_m2 = Decimal(contract.total_price_fen) / contract.area_x100  # fen per hundredth = ¥/m²
            assert Decimal(6000) <= per_m2 <= Decimal(12000), contract.contract_no
            assert len(contract.buyer_id_no) == 18
        entries = {(e.account_id, e.reference): e for e in s.scalars(select(JournalEntry))}
        kinds = set()
        for deposit in s.scalars(select(Deposit)):
            voucher = s.scalar(select(Voucher).where(Voucher.deposit_id == deposit.id))
            entry = entries[(deposit.account_id, f"deposit:{deposit.id}")]
            assert entry.amount_fen == deposit.amount_fen and entry.booked_on == deposit.value_date
            if deposit.status == "suspense":
                assert voucher is None and entry.kind == "deposit_suspense"
                assert any(c["result"] == "fail" for c in deposit.checks)
                continue
            contract = s.get(Contract, deposit.contract_id)
            if contract.status == "cancelled":  # the buyer withdrew: paid back, the voucher with it
                assert voucher.status == "refunded"
                continue
            assert voucher is not None and voucher.status in ("issued", "confirmed")
            assert len(voucher.verification_code) >= 10  # ≥ 40 bits in hex
            notice = s.get(PaymentNotice, deposit.notice_id)
            assert notice.amount_fen == deposit.amount_fen and notice.status == "paid"
            kinds.add(deposit.kind)
            if deposit.kind == "mortgage":
                assert deposit.channel == "mortgage" and "银行" in deposit.payer_name
            else:
                assert deposit.payer_name == contract.buyer_name
            if deposit.status == "accepted":
                assert entry.kind == "deposit"
                assert all(c["result"] != "fail" for c in deposit.checks)
        assert {"earnest", "down_payment", "mortgage", "full"} <= kinds
        statuses = set(s.scalars(select(Deposit.status)))
        assert "suspense" in statuses or "assigned" in statuses


def test_small_seed_figures_are_the_city_stats(engine, seeded):
    result, out = seeded
    with UnitOfWork(engine, readonly=True) as uow:
        figures = stats.city_stats(uow, *PERIOD)
    assert figures == result.figures
    assert figures["accounts_opened"] == result.counts["projects"]
    assert Decimal(figures["deposits_total"]) > 0 and Decimal(figures["releases_total"]) > 0
    assert f"{PERIOD[0]} – {PERIOD[1]}" in out
    assert "http://127.0.0.1:8000" in out
    assert f"{Decimal(figures['presale_area_m2']):,.2f}" in out


def test_printed_api_keys_and_logins_work(engine, client, seeded, seeded_at):
    result, text = seeded
    printed = dict(re.findall(r"^\s+export (\w+)=(esk_\S+)  # ", text, re.MULTILINE))
    assert printed == result.api_keys  # every key, as a shell variable
    roles = ("admin", "reviewer", "approver", "director", "inspector", "auditor")
    banks = [code for code, *_ in BANKS]
    assert set(printed) == {
        *(f"{role.upper()}_KEY" for role in roles),
        *(f"BANK_{code}_KEY" for code in banks),
        "DEVELOPER_KEY",
    }
    bank_key, developer_key, admin_key = result.bank_key, printed["DEVELOPER_KEY"], printed["ADMIN_KEY"]
    with UnitOfWork(engine, readonly=True) as uow:  # a role's key acts as its user, a bank's as the bank
        for role in roles:
            assert parties.principal_for_key(uow, printed[f"{role.upper()}_KEY"]).role == role
        for code in banks:
            bank_id = parties.principal_for_key(uow, printed[f"BANK_{code}_KEY"]).bank_id
            assert bank_id == uow.parties.bank_by_code(code).id

    # the exact command that serves the seeded database again, with the escrow installed beside this Python
    command = re.search(r"^  (ESCROW_DATABASE_URL=\S+ \S+ serve .*)$", text, re.MULTILINE)
    assert command, text
    words = shlex.split(command.group(1))
    shown = make_url(seeded_at).render_as_string(hide_password=True)  # a password masked
    assert words[0] == f"ESCROW_DATABASE_URL={shown}"
    assert Path(words[1]).name == "escrow" and Path(words[1]).is_file()

    period = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}
    r = client.get("/api/v1/stats", params=period, headers={"Authorization": f"Bearer {admin_key}"})
    assert r.status_code == 200, r.text
    assert r.json()["accounts_opened"] == result.figures["accounts_opened"]
    assert r.json()["deposits_total"] == result.figures["deposits_total"]

    # The bank's key authenticates (403 on a bureau endpoint, not 401) and acts as that bank.
    r = client.get("/api/v1/stats", params=period, headers={"Authorization": f"Bearer {bank_key}"})
    assert r.status_code == 403, r.text
    r = client.get("/api/v1/stats", params=period, headers={"Authorization": "Bearer esk_nope_nope"})
    assert r.status_code == 401
    with UnitOfWork(engine, readonly=True) as uow:
        bank = parties.principal_for_key(uow, bank_key)
        assert bank.kind == "bank" and uow.parties.bank_by_code(result.bank_code).id == bank.bank_id
        developer = uow.parties.developer_by_code(result.developer_code)
        own = uow.session.scalar(select(Project.id).where(Project.developer_id == developer.id).limit(1))
        other = uow.session.scalar(select(Project.id).where(Project.developer_id != developer.id).limit(1))

    headers = {"Authorization": f"Bearer {developer_key}"}
    r = client.get(f"/api/v1/projects/{own}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["developer_credit_code"] == result.developer_code
    if other is not None:
        assert client.get(f"/api/v1/projects/{other}", headers=headers).status_code == 404

    logins = re.findall(r"^\s+(\S+)\s+(demo-\S+)\s+(\w+)", text, re.MULTILINE)
    assert {role for _, _, role in logins} == {
        "admin",
        "reviewer",
        "approver",
        "director",
        "inspector",
        "auditor",
        "developer",
        "bank",
    }
    with UnitOfWork(engine, readonly=True) as uow:
        for username, password, role in logins:
            user = uow.parties.user_by_name(username)
            assert user.role == role
            assert len(password) >= 10 and parties.password_matches(user.password_hash, password)
            if role == "developer":
                assert user.developer_id == uow.parties.developer_by_code(result.developer_code).id
            if role == "bank":  # the read-only bank portal of the first bank
                assert user.bank_id == uow.parties.bank_by_code(result.bank_code).id


def test_refuses_to_seed_twice(engine, settings, seeded, db_url, monkeypatch, capsys):
    before = {
        m: _count(engine, m) for m in (Project, Contract, Deposit, JournalEntry, User, NodeConfirmation)
    }
    with pytest.raises(CliError, match="already has"):
        demo.seed(engine, settings, scale="small", out=io.StringIO(), today=TODAY)
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))
    capsys.readouterr()
    assert main(["demo", "--scale", "small", "--as-of", TODAY.isoformat()]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("escrow: error: ") and "already has" in err[0]
    assert {m: _count(engine, m) for m in before} == before


def test_unknown_scale_is_refused(engine, settings):
    with pytest.raises(CliError, match="unknown demo scale"):
        demo.seed(engine, settings, scale="county", out=io.StringIO(), today=TODAY)


def test_rows_added_after_the_seed_get_fresh_ids(engine, seeded):
    """The seed assigns ids itself; the database's own id generation must carry on past them."""
    with UnitOfWork(engine) as uow:
        account = uow.session.scalar(select(SupervisedAccount).limit(1))
        project = uow.projects.get(account.project_id)
        uow.journal.post(
            account.id, ledger.deposit(100, suspense=True, booked_on=date(2026, 1, 5), reference="x")
        )
        contract = uow.contracts.add(
            Contract(
                project_id=project.id,
                account_id=account.id,
                contract_no="AFTER-SEED-1",
                buyer_name="测试",
                buyer_id_no="131102199001011234",
                unit="9号楼1单元101",
                area_x100=10000,
                total_price_fen=80_000_000,
                signed_on=date(2026, 1, 5),
            )
        )
        notice = uow.contracts.add(
            PaymentNotice(
                notice_no="AFTER-SEED-N1",
                contract_id=contract.id,
                account_id=account.id,
                kind="earnest",
                amount_fen=100,
                due_on=date(2026, 1, 5),
            )
        )
        deposit = uow.contracts.add(
            Deposit(
                account_id=account.id,
                bank_id=account.bank_id,
                bank_reference="AFTER-SEED-D1",
                amount_fen=100,
                payer_name="测试",
                notice_id=notice.id,
                contract_id=contract.id,
                value_date=date(2026, 1, 5),
                status="accepted",
                rulebook_id=project.rulebook_id,
            )
        )
        uow.contracts.add(
            Voucher(
                voucher_no="AFTER-SEED-V1",
                deposit_id=deposit.id,
                account_id=account.id,
                verification_code="X",
            )
        )
        record(
            uow.session,
            actor="test",
            action="deposit.accepted",
            subject_type="deposit",
            subject_id=deposit.id,
        )
        uow.commit()


def test_seed_extends_the_audit_chain(engine, seeded):
    with UnitOfWork(engine, readonly=True) as uow:
        events = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    actions = {e.action for e in events}
    assert {
        "project.opened",
        "node.confirmed",
        "release.submitted",
        "release.step_approved",
        "release.executed",
    } <= actions
    heads: dict[int, str] = {}  # each chain (an account's, the city's) links its own events
    for event in events:
        prev = heads.get(event.chain, GENESIS)
        assert event.prev_hash == prev and event.hash == event_hash(prev, event), event.id
        heads[event.chain] = event.hash


# --- the epilogue: the earlier projects' end, and the projects opened today -----------------------------


def _admin(client, result) -> dict[str, str]:
    return {"Authorization": f"Bearer {result.api_keys['ADMIN_KEY']}"}


def test_epilogue_projects_have_buildings_at_different_nodes(engine, settings, seeded, client):
    result, out = seeded
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        new = list(s.scalars(select(Project).where(Project.permit_date == TODAY).order_by(Project.id)))
        assert len(new) == SCALES["small"].epilogue_projects == 2
        for project in new:
            assert project.rulebook_id == "hengshui@2026.2" and project.name in out
            buildings = list(s.scalars(select(Building).where(Building.project_id == project.id)))
            assert 2 <= len(buildings) <= 4
            assert sum(b.presale_area_x100 for b in buildings) == project.presale_area_x100
            account = uow.projects.account_for(project.id)
            assert account.agreement_no and account.confirmed_on == TODAY
            contracts = list(s.scalars(select(Contract).where(Contract.project_id == project.id)))
            assert contracts and all(c.building_id in {b.id for b in buildings} for c in contracts)
            assert uow.journal.balances(account.id).cash > 0
    for project in new:  # as the bureau sees it: each building's own nodes, not all at one
        r = client.get(f"/api/v1/projects/{project.id}", headers=_admin(client, result))
        assert r.status_code == 200, r.text
        body = r.json()
        reached = {
            b["code"]: tuple(n["code"] for n in b["nodes"] if n["confirmed"]) for b in body["building_nodes"]
        }
        assert len(reached) >= 2 and len(set(reached.values())) >= 2, reached
        assert any(reached.values())
        assert body["account"]["confirmed_by_bank"] is True
        assert {b["code"] for b in body["account"]["buildings"]} == set(reached)


def test_epilogue_closes_one_account_at_zero(engine, settings, seeded, client):
    result, out = seeded
    plan = plan_city(SCALES["small"], TODAY)
    planned = plan.epilogue.earlier[plan.epilogue.closure.project]
    ctx = _ctx(settings)
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        project = uow.projects.by_permit(planned.permit_no)
        accounts = uow.projects.accounts_of_project(project.id)
        assert len(accounts) == 1
        (account,) = accounts
        assert account.status == "closed" and account.account_no == planned.account_no
        assert uow.journal.balances(account.id).cash == 0
        book = ctx.rulebook(project.rulebook_id)
        confirmed = {c.node_code for c in uow.projects.confirmed_nodes(project.id)}
        assert confirmed == {n.code for n in book.nodes}
        closure = s.scalar(select(PaymentInstruction).where(PaymentInstruction.kind == "closure"))
        assert closure.account_id == account.id and closure.status == "executed"
        assert closure.executed_on == account.closed_on and closure.amount_fen > 0
        assert closure.payee_name == plan.developers[planned.developer].name
        entry = s.scalar(select(JournalEntry).where(JournalEntry.reference == f"closure:{closure.id}"))
        assert entry.amount_fen == closure.amount_fen and entry.booked_on == account.closed_on
        assert s.scalar(select(func.count()).select_from(Release).where(Release.account_id == account.id)) > 0
        assert not s.scalar(
            select(func.count())
            .select_from(Release)
            .where(Release.account_id == account.id, Release.status != "executed")
        )
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.account_id == account.id)))
    assert {"instruction.created.closure", "instruction.executed.closure", "account.closed"} <= actions
    assert planned.name in out and planned.account_no in out
    r = client.get(f"/api/v1/projects/{project.id}", headers=_admin(client, result))
    assert r.status_code == 200, r.text
    assert r.json()["account"]["status"] == "closed"
    assert r.json()["account"]["balance"] == "0.00"


def test_epilogue_moves_one_project_to_another_bank(engine, settings, seeded, client):
    result, out = seeded
    plan = plan_city(SCALES["small"], TODAY)
    change = plan.epilogue.bank_change
    planned = plan.epilogue.earlier[change.project]
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        project = uow.projects.by_permit(planned.permit_no)
        old, new = sorted(uow.projects.accounts_of_project(project.id), key=lambda a: a.id)
        assert old.account_no == planned.account_no and new.account_no == change.account_no
        assert old.status == "closed" and old.replaced_by_id == new.id
        assert new.status == "active" and new.opened_on == old.closed_on
        assert uow.projects.account_for(project.id).id == new.id
        assert uow.journal.balances(old.id).cash == 0
        transfer = s.scalar(select(PaymentInstruction).where(PaymentInstruction.kind == "transfer"))
        assert transfer.account_id == old.id and transfer.status == "executed"
        assert transfer.new_account_id == new.id and transfer.amount_fen > 0
        assert uow.journal.balances(new.id).cash == transfer.amount_fen
        old_bank, new_bank = s.get(Bank, old.bank_id), s.get(Bank, new.bank_id)
        assert old_bank.id != new_bank.id
        live = s.scalar(
            select(func.count())
            .select_from(Contract)
            .where(Contract.project_id == project.id, Contract.account_id == old.id)
        )
        assert live == 0  # the contracts moved with the account
    assert change.account_no in out
    r = client.get(f"/api/v1/projects/{project.id}", headers=_admin(client, result))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["account_no"] == change.account_no and body["bank_code"] == new_bank.code
    assert body["account"]["status"] == "active"
    assert body["account"]["balance"] == str(from_fen(transfer.amount_fen))


def test_epilogue_first_new_project_has_an_approved_fund_plan(engine, settings, seeded, client):
    result, _ = seeded
    plan = plan_city(SCALES["small"], TODAY)
    first = plan.epilogue.projects[0]
    assert plan.developers[first.developer].credit_code == result.developer_code
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        project = uow.projects.by_permit(first.permit_no)
        (fund_plan,) = s.scalars(select(FundPlan).where(FundPlan.project_id == project.id))
        assert fund_plan.status == "approved" and fund_plan.version == 1
        items = list(s.scalars(select(FundPlanItem).where(FundPlanItem.plan_id == fund_plan.id)))
        buildings = set(s.scalars(select(Building.code).where(Building.project_id == project.id)))
        assert {i.building_code for i in items} == buildings
        assert {i.node_code for i in items} == {
            n.code for n in _ctx(settings).rulebook("hengshui@2026.2").nodes
        }
        assert sum(i.amount_fen for i in items) == sum(i.amount_fen for i in first.fund_plan) > 0
        steps = list(s.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "fund_plan")))
        assert steps[0] == "fund_plan.submitted" and len(steps) >= 3
    headers = {"Authorization": f"Bearer {result.api_keys['DEVELOPER_KEY']}"}  # the developer sees its plan
    r = client.get(f"/api/v1/projects/{project.id}/fund-plan", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["version"] == 1


# --- as of today: statements, alerts, incidents --------------------------------------------------------


def test_every_account_reconciles_on_each_of_the_last_working_days(engine, seeded):
    """The bank's daily statements are seeded: every open account of the period matches its bank on each of
    the last working days, so the end-of-day check finds no statement missing."""
    days = working_days(TODAY - timedelta(days=1), DAILY_STATEMENTS)
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        for account in s.scalars(select(SupervisedAccount).where(SupervisedAccount.status != "closed")):
            statements = list(
                s.scalars(
                    select(Statement)
                    .where(Statement.account_id == account.id)
                    .order_by(Statement.statement_date)
                )
            )
            expected = [day for day in days if day >= account.opened_on]  # none for those opened today
            dates = [st.statement_date for st in statements]
            assert dates[len(dates) - len(expected) :] == expected, account.account_no
            assert all(st.status == "reconciled" for st in statements), account.account_no
            for before, after in itertools.pairwise(statements):
                assert after.opening_fen == before.closing_fen
            if statements:
                last = statements[-1]
                assert last.closing_fen == uow.journal.cash_until(account.id, last.statement_date)
        assert not uow.alert_reads.accounts_without_statement(days[-1])


def test_the_first_look_finds_a_handful_of_alerts_each_worth_a_look(engine, settings, seeded):
    """The scheduler's first runs on the seeding day raise tens of alerts at most — none for a missing
    statement or an unconfirmed agreement — each about something the demo made on purpose."""
    ctx = Context(
        settings=settings, rulebooks=load_dir(settings.rules_dir), today=lambda: TODAY, engine=engine
    )
    now = datetime.combine(TODAY, time(17, 0), tzinfo=UTC)
    alerts.run_sweep(ctx, now)
    alerts.check_statements(ctx, working_days(TODAY - timedelta(days=1), 1)[0])
    with UnitOfWork(engine, readonly=True) as uow:
        rules = list(uow.session.scalars(select(Alert.rule).where(Alert.state != "resolved")))
    assert 1 <= len(rules) <= 30, rules
    assert not {"statement_missing", "agreement_unconfirmed", "retention_breach"} & set(rules)
    assert "notice_overdue" in rules  # the late mortgage payments


def test_refunds_and_the_court_freeze_are_on_the_books(engine, seeded):
    result, out = seeded
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        refunds = list(s.scalars(select(Refund)))
        assert refunds and all(r.status == "executed" for r in refunds)
        for refund in refunds:
            assert s.get(Contract, refund.contract_id).status == "cancelled"
        (freeze,) = s.scalars(select(Freeze))
        assert freeze.status == "active" and freeze.amount_fen > 0
        account = s.get(SupervisedAccount, freeze.account_id)
        assert account.status == "frozen"
    assert result.counts["refunds_executed"] == len(refunds)
    assert "court freeze" in out and account.account_no
