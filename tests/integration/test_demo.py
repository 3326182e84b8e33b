"""`escrow demo`: the seeded books hold their invariants, the printed keys and logins work, a second seed is
refused, and the city scale reproduces the Hengshui figures."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from escrow import demo
from escrow.cli import main
from escrow.domain import credit_code, ledger
from escrow.domain.money import from_fen
from escrow.errors import CliError
from escrow.rulebooks import load_dir
from escrow.services import parties, projects, stats
from escrow.services.context import Context
from escrow.store.audit import GENESIS, event_hash, record
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    ApprovalStep,
    AuditEvent,
    Contract,
    Deposit,
    Developer,
    JournalEntry,
    NodeConfirmation,
    PaymentInstruction,
    PaymentNotice,
    Project,
    Release,
    ReleaseDocument,
    ReleasePayee,
    SupervisedAccount,
    User,
    Voucher,
)
from tests.conftest import REPO

PERIOD = (date(2025, 1, 1), date(2025, 12, 31))


@pytest.fixture
def seeded(engine, settings) -> tuple[demo.DemoResult, str]:
    out = io.StringIO()
    result = demo.seed(engine, settings, scale="small", out=out)
    return result, out.getvalue()


def _ctx(settings) -> Context:
    return Context(settings=settings, rulebooks=load_dir(settings.rules_dir), today=lambda: PERIOD[1])


def _count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_small_seed_books_hold_per_account(engine, settings, seeded):
    ctx = _ctx(settings)
    with UnitOfWork(engine, readonly=True) as uow:
        accounts = list(uow.session.scalars(select(SupervisedAccount)))
        assert 3 <= len(accounts) <= 5
        for account in accounts:
            entries = uow.journal.entries(account.id)
            assert entries, account.account_no
            assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
            assert ledger.balance_equals_flows(entries)
            assert ledger.balance_never_negative(entries)
            assert ledger.suspense_never_negative(entries)
            project = uow.projects.get(account.project_id)
            cap = projects.release_cap(uow, ctx, project, account)
            cash = from_fen(uow.journal.balances(account.id).cash)
            assert cash >= cap.required_retention, (account.account_no, cash, cap.text)
            assert PERIOD[0] <= account.opened_on <= PERIOD[1]
            assert PERIOD[0] <= project.permit_date <= PERIOD[1]


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
            confirmations = uow.projects.confirmed_nodes(project.id)
            assert [c.node_code for c in confirmations] == [n.code for n in book.nodes[: len(confirmations)]]
            for c in confirmations:
                assert set(book.node(c.node_code).evidence) <= {e["kind"] for e in c.evidence}
                assert c.reached_on >= project.permit_date
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
            assert voucher is not None and voucher.status in ("issued", "confirmed")
            assert len(voucher.verification_code) >= 10  # ≥ 40 bits in hex
            notice = s.get(PaymentNotice, deposit.notice_id)
            assert notice.amount_fen == deposit.amount_fen and notice.status == "paid"
            contract = s.get(Contract, deposit.contract_id)
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
    assert "2025-01-01" in out and "2025-12-31" in out
    assert "http://127.0.0.1:8000" in out
    assert f"{Decimal(figures['presale_area_m2']):,.2f}" in out


def test_printed_api_keys_and_logins_work(engine, settings, client):
    out = io.StringIO()
    result = demo.seed(engine, settings, scale="small", out=out)
    text = out.getvalue()
    bank_key, developer_key, admin_key = re.findall(r"^\s+(esk_\S+)$", text, re.MULTILINE)
    assert (bank_key, developer_key, admin_key) == (
        result.api_keys["bank"],
        result.api_keys["developer"],
        result.api_keys["admin"],
    )

    period = {"from": "2025-01-01", "to": "2025-12-31"}
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
    }
    with UnitOfWork(engine, readonly=True) as uow:
        for username, password, role in logins:
            user = uow.parties.user_by_name(username)
            assert user.role == role
            assert len(password) >= 10 and parties.password_matches(user.password_hash, password)
            if role == "developer":
                assert user.developer_id == uow.parties.developer_by_code(result.developer_code).id


def test_refuses_to_seed_twice(engine, settings, seeded, db_url, monkeypatch, capsys):
    before = {
        m: _count(engine, m) for m in (Project, Contract, Deposit, JournalEntry, User, NodeConfirmation)
    }
    with pytest.raises(CliError, match="already has"):
        demo.seed(engine, settings, scale="small", out=io.StringIO())
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))
    capsys.readouterr()
    assert main(["demo", "--scale", "small"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("escrow: error: ") and "already has" in err[0]
    assert {m: _count(engine, m) for m in before} == before


def test_unknown_scale_is_refused(engine, settings):
    with pytest.raises(CliError, match="unknown demo scale"):
        demo.seed(engine, settings, scale="province", out=io.StringIO())


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


@pytest.mark.slow
@pytest.mark.only_backend("sqlite")
def test_city_scale_reproduces_the_hengshui_figures(engine, settings):
    result = demo.seed(engine, settings, scale="city", out=io.StringIO())
    with UnitOfWork(engine, readonly=True) as uow:
        figures = stats.city_stats(uow, *PERIOD)
    assert figures == result.figures
    assert figures["accounts_opened"] == 191
    assert abs(Decimal(figures["presale_area_m2"]) / Decimal("1400000") - 1) <= Decimal("0.01")
    assert abs(Decimal(figures["deposits_total"]) / Decimal("7285000000") - 1) <= Decimal("0.01")


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
    prev = GENESIS
    for event in events:
        assert event.prev_hash == prev and event.hash == event_hash(prev, event), event.id
        prev = event.hash
