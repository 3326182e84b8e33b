"""Suspense items resolved through the service, on both engines: assigned to a contract (the checks run
again, a balanced entry, a voucher) or returned to the payer through the bank (an instruction of kind
"return", booked when the bank executes it); the books keep their four invariants whatever the order."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from escrow.domain.ledger import EntryKind
from escrow.domain.money import WIRE_PATTERN
from escrow.domain.principal import Principal
from escrow.services import approvals, auditing, deposits, instructions, refunds, suspense
from escrow.services.projects import release_cap
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import Deposit, JournalEntry, PaymentInstruction, Voucher
from escrow.web.shell import permissions
from tests.conftest import Flow, World, make_world, project_body, restore_database, settings_for

TODAY = "2026-11-22"  # the `today` fixture
AMOUNT = "265950.00"
AMOUNT_FEN = 26595000
REFS = itertools.count(1)


@pytest.fixture
def ctx(app):
    return app.state.runtime.ctx


@pytest.fixture
def actor(engine, world):
    def make(username: str) -> Principal:
        with UnitOfWork(engine, readonly=True) as uow:
            user = uow.parties.user_by_name(username)
            return Principal("user", user.id, user.username, role=user.role, user_id=user.id)

    return make


@pytest.fixture
def site(project, flow) -> dict:
    """A contract of 张伟 with an open down-payment notice, and his payment booked to suspense because the
    bank gave no notice number."""
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], AMOUNT)
    deposit = pay_into_suspense(flow, project["account_no"])
    return {"project": project, "contract": contract, "notice": notice, "deposit": deposit}


def pay_into_suspense(flow, account_no: str, amount: str = AMOUNT, payer: str = "张伟", **extra) -> dict:
    fields = {
        "account_no": account_no,
        "bank_reference": f"HSB-S-{next(REFS)}",
        "amount": amount,
        "payer_name": payer,
        "payer_account": "6217000012345678",
        "notice_no": None,
        "kind": "down_payment",
        "channel": "transfer",
        "value_date": TODAY,
        **extra,
    }
    deposit = flow.deposit(**fields)
    assert deposit["status"] == "suspense", deposit
    return deposit


def run(engine, fn, *args):
    """One service call in its own unit of work, committed when it succeeds."""
    with UnitOfWork(engine) as uow:
        result = fn(uow, *args)
        uow.commit()
        return result


def books(engine, account_no: str) -> tuple[ledger.Balances, list[ledger.Entry]]:
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(account_no)
        return uow.journal.balances(account.id), uow.journal.entries(account.id)


def count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def cap_terms(engine, ctx, account_no: str) -> tuple[dict, str]:
    """The release cap's terms and the money a refund could take, as the services compute them."""
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(account_no)
        cap = release_cap(uow, ctx, uow.projects.get(account.project_id), account)
        available, _ = refunds.available(cap)
        return {t.term: t.value for t in cap.terms} | {"releasable": cap.releasable}, str(available)


def invariants_hold(entries: list[ledger.Entry]) -> bool:
    return (
        all(ledger.legs_sum_to_zero(e.legs) for e in entries)
        and ledger.balance_equals_flows(entries)
        and ledger.balance_never_negative(entries)
        and ledger.suspense_never_negative(entries)
    )


# --- assigning --------------------------------------------------------------------------------------------


def test_assigning_books_a_balanced_entry_issues_a_voucher_and_moves_the_money_to_the_contract(
    engine, ctx, actor, site, today
):
    account_no, deposit_id = site["project"]["account_no"], site["deposit"]["deposit_id"]
    before, entries_before = books(engine, account_no)
    assert before.cash == before.suspense == AMOUNT_FEN and before.buyer_funds == 0
    terms_before, available_before = cap_terms(engine, ctx, account_no)
    assert terms_before["suspense"] == terms_before["balance"] and available_before == "0.00"

    cmd = suspense.AssignToContract(site["contract"]["contract_no"], site["notice"]["notice_no"])
    view = run(engine, suspense.assign, ctx, deposit_id, cmd, actor("reviewer"))

    assert view["status"] == "assigned" and view["contract_no"] == "HT-2025-0001"
    assert all(c["result"] != "fail" for c in view["checks"])
    after, entries = books(engine, account_no)
    assert (after.cash, after.suspense, after.buyer_funds) == (AMOUNT_FEN, 0, AMOUNT_FEN)
    (entry,) = entries[len(entries_before) :]
    assert entry.kind is EntryKind.SUSPENSE_ASSIGNED and entry.reference == f"suspense_assigned:{deposit_id}"
    assert ledger.legs_sum_to_zero(entry.legs) and entry.cash_effect_fen == 0
    assert {(leg.ledger, leg.amount_fen) for leg in entry.legs} == {
        (ledger.Ledger.SUSPENSE, AMOUNT_FEN),
        (ledger.Ledger.BUYER_FUNDS, -AMOUNT_FEN),
    }
    assert invariants_hold(entries)

    # the voucher an accepted deposit gets, dated the day of assignment
    voucher = view["voucher"]
    assert voucher["status"] == "issued"
    assert re.fullmatch(rf"PZ{today:%Y%m%d}\d{{7}}", voucher["voucher_no"])
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", voucher["verification_code"])
    with UnitOfWork(engine, readonly=True) as uow:
        deposit = uow.deposits.get(deposit_id)
        contract = uow.contracts.by_no("HT-2025-0001")
        assert deposit.contract_id == contract.id and deposit.notice_id is not None
        assert uow.contracts.paid_fen(contract.id) == AMOUNT_FEN
        assert uow.contracts.notice_by_no(site["notice"]["notice_no"]).status == "paid"
    TypeAdapter(deposits.DepositView).validate_python(
        {k: v for k, v in view.items() if k in deposits.DepositView.__dataclass_fields__}
    )
    assert re.fullmatch(WIRE_PATTERN, view["amount"])

    # the cap moves as the books say: suspense no longer held back, the buyer's money free for a refund
    terms, available = cap_terms(engine, ctx, account_no)
    assert terms["balance"] == terms_before["balance"]
    assert terms["suspense"] == 0 and available == AMOUNT
    assert auditing.verify(engine).ok


def test_the_buyer_can_verify_the_voucher_of_assigned_money(client, engine, ctx, actor, site):
    cmd = suspense.AssignToContract(site["contract"]["contract_no"], site["notice"]["notice_no"])
    voucher = run(engine, suspense.assign, ctx, site["deposit"]["deposit_id"], cmd, actor("approver"))[
        "voucher"
    ]
    r = client.get(
        f"/api/v1/public/vouchers/{voucher['voucher_no']}", params={"code": voucher["verification_code"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["amount"] == AMOUNT


@pytest.mark.parametrize(
    ("payer", "amount", "use_notice", "failed", "field"),
    [
        ("李四", AMOUNT, True, "payer_matches_buyer", "contract_no"),
        ("张伟", "1000.00", True, "amount_equals_notice", "notice_no"),
        ("张伟", AMOUNT, False, "notice_exists_and_open", "notice_no"),
    ],
)
def test_assigning_is_refused_while_a_blocking_check_still_fails(
    engine, ctx, actor, project, flow, payer, amount, use_notice, failed, field
):
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], AMOUNT)
    deposit = pay_into_suspense(flow, project["account_no"], amount=amount, payer=payer)
    before = books(engine, project["account_no"])
    cmd = suspense.AssignToContract(contract["contract_no"], notice["notice_no"] if use_notice else None)
    with pytest.raises(approvals.Refused) as refused:
        run(engine, suspense.assign, ctx, deposit["deposit_id"], cmd, actor("reviewer"))
    assert refused.value.rule == "hengshui@2024.1 deposit_checks"
    assert failed in refused.value.facts["failed"] and failed in refused.value.detail
    assert field in {e.field for e in refused.value.errors}
    assert books(engine, project["account_no"]) == before  # nothing booked
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.deposits.get(deposit["deposit_id"]).status == "suspense"
        assert uow.contracts.notice_by_no(notice["notice_no"]).status == "open"
    assert count(engine, Voucher) == 0
    # the preview says the same without booking anything
    with UnitOfWork(engine, readonly=True) as uow:
        found = suspense.preview(uow, ctx, deposit["deposit_id"], cmd, actor("reviewer"))
    assert found["ok"] is False
    assert {c["rule"] for c in found["checks"] if c["result"] == "fail"} == set(refused.value.facts["failed"])


def test_a_contract_or_notice_that_cannot_be_chosen_is_refused_by_field(
    client, world, engine, ctx, actor, site, flow
):
    other = client.post(
        "/api/v1/projects",
        json=project_body(permit_no="衡预售2025-002", account_no="6222000099998888"),
        headers=world.headers("admin", "other-project"),
    )
    assert other.status_code == 201, other.text
    foreign = flow.contract(permit_no="衡预售2025-002", contract_no="HT-OTHER", unit="9-9-9")
    second = flow.contract(contract_no="HT-2025-0002", unit="3-2-1802")
    deposit_id = site["deposit"]["deposit_id"]
    cases = [
        (suspense.AssignToContract("HT-NOPE"), "contract_no", "contract_of_account"),
        (suspense.AssignToContract(foreign["contract_no"]), "contract_no", "contract_of_account"),
        (suspense.AssignToContract(" "), "contract_no", None),
        (
            suspense.AssignToContract(second["contract_no"], site["notice"]["notice_no"]),
            "notice_no",
            "notice_of_contract",
        ),
    ]
    for cmd, field, rule in cases:
        with pytest.raises(InvalidInput) as refused:
            run(engine, suspense.assign, ctx, deposit_id, cmd, actor("reviewer"))
        assert refused.value.rule == rule
        assert [e.field for e in refused.value.errors] == [field]
    assert count(engine, Voucher) == 0
    with pytest.raises(NotFound):
        run(
            engine, suspense.assign, ctx, 10**12, suspense.AssignToContract("HT-2025-0001"), actor("reviewer")
        )


def test_a_second_submission_is_a_conflict_and_books_nothing_more(engine, ctx, actor, site):
    deposit_id = site["deposit"]["deposit_id"]
    cmd = suspense.AssignToContract(site["contract"]["contract_no"], site["notice"]["notice_no"])
    run(engine, suspense.assign, ctx, deposit_id, cmd, actor("reviewer"))
    after = books(engine, site["project"]["account_no"])
    with pytest.raises(Conflict):
        run(engine, suspense.assign, ctx, deposit_id, cmd, actor("approver"))
    with pytest.raises(Conflict):
        run(
            engine,
            suspense.return_to_payer,
            ctx,
            deposit_id,
            suspense.ReturnToPayer("twice"),
            actor("approver"),
        )
    assert books(engine, site["project"]["account_no"]) == after
    assert count(engine, Voucher) == 1 and count(engine, PaymentInstruction) == 0


def test_an_accepted_deposit_is_not_a_suspense_item(engine, ctx, actor, site, flow):
    accepted = flow.deposit(
        account_no=site["project"]["account_no"],
        bank_reference="HSB-OK",
        amount=AMOUNT,
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=site["notice"]["notice_no"],
        kind="down_payment",
        channel="transfer",
        value_date=TODAY,
    )
    assert accepted["status"] == "accepted"
    with pytest.raises(Conflict):
        run(
            engine,
            suspense.assign,
            ctx,
            accepted["deposit_id"],
            suspense.AssignToContract("HT-2025-0001"),
            actor("reviewer"),
        )


@pytest.mark.parametrize("role", ["admin", "director", "inspector", "auditor"])
def test_only_reviewers_and_approvers_resolve_suspense(engine, ctx, actor, site, role):
    deposit_id = site["deposit"]["deposit_id"]
    with pytest.raises(Forbidden):
        run(engine, suspense.assign, ctx, deposit_id, suspense.AssignToContract("HT-2025-0001"), actor(role))
    with pytest.raises(Forbidden):
        run(engine, suspense.return_to_payer, ctx, deposit_id, suspense.ReturnToPayer("x"), actor(role))
    assert count(engine, PaymentInstruction) == 0
    assert frozenset(suspense.RESOLVERS) == permissions.MATRIX["suspense.resolve"]


# --- returning --------------------------------------------------------------------------------------------


def test_returning_goes_through_the_bank_and_books_when_executed(client, world, engine, ctx, actor, site):
    account_no, deposit_id = site["project"]["account_no"], site["deposit"]["deposit_id"]
    with pytest.raises(InvalidInput) as refused:
        run(
            engine, suspense.return_to_payer, ctx, deposit_id, suspense.ReturnToPayer("  "), actor("reviewer")
        )
    assert [e.field for e in refused.value.errors] == ["reason"]
    assert count(engine, PaymentInstruction) == 0

    before, entries_before = books(engine, account_no)
    view = run(
        engine,
        suspense.return_to_payer,
        ctx,
        deposit_id,
        suspense.ReturnToPayer("付款人不明"),
        actor("approver"),
    )
    assert view["status"] == "returning"
    assert books(engine, account_no) == (before, entries_before)  # nothing moves until the bank pays
    terms, _ = cap_terms(engine, ctx, account_no)
    assert terms["suspense"] == terms["balance"] and terms["pending_out"] == 0  # held back once, not twice

    pending = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank"))
    assert pending.status_code == 200, pending.text
    (ins,) = pending.json()
    TypeAdapter(instructions.Instruction).validate_python(ins)
    assert re.fullmatch(WIRE_PATTERN, ins["amount"])  # money on the wire is a decimal string
    assert ins["kind"] == "return" and ins["amount"] == AMOUNT and ins["reason"] == "付款人不明"
    assert ins["deposit_id"] == deposit_id and ins["deposit_reference"] == site["deposit"]["bank_reference"]
    assert ins["payees"] == [
        {"name": "张伟", "account_no": "6217000012345678", "bank_name": "", "role": "payer", "amount": AMOUNT}
    ]
    assert client.get("/api/v1/instructions", headers=world.headers("other_bank")).json() == []
    with pytest.raises(Conflict):  # being returned: it cannot be assigned meanwhile
        cmd = suspense.AssignToContract(site["contract"]["contract_no"], site["notice"]["notice_no"])
        run(engine, suspense.assign, ctx, deposit_id, cmd, actor("reviewer"))

    path = f"/api/v1/instructions/{ins['instruction_id']}/execution"
    body = {"bank_reference": "HSB-RET-1", "executed_on": TODAY}
    r = client.post(path, json=body, headers=world.headers("bank", "exec-1"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "executed"
    TypeAdapter(instructions.Instruction).validate_python(r.json())
    assert re.fullmatch(WIRE_PATTERN, r.json()["amount"])
    after, entries = books(engine, account_no)
    assert after.cash == before.cash - AMOUNT_FEN and after.suspense == 0
    (entry,) = entries[len(entries_before) :]
    assert entry.kind is EntryKind.SUSPENSE_RETURNED and entry.cash_effect_fen == -AMOUNT_FEN
    assert invariants_hold(entries)
    account = client.get(f"/api/v1/accounts/{account_no}", headers=world.headers("bank")).json()
    assert account["balance"] == "0.00"
    assert client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json() == []
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.deposits.get(deposit_id).status == "returned"
        assert uow.journal.received_fen(uow.projects.account_by_no(account_no).id) == 0
    again = client.post(path, json=body, headers=world.headers("bank", "exec-2"))
    assert again.status_code == 409, again.text
    assert books(engine, account_no)[1] == entries
    assert auditing.verify(engine).ok


def test_a_return_does_not_dip_into_frozen_money(client, world, engine, ctx, actor, site):
    deposit_id = site["deposit"]["deposit_id"]
    run(
        engine,
        suspense.return_to_payer,
        ctx,
        deposit_id,
        suspense.ReturnToPayer("不明款项"),
        actor("reviewer"),
    )
    freeze = client.post(
        "/api/v1/freezes",
        json={
            "account_no": site["project"]["account_no"],
            "authority": "衡水市中级人民法院",
            "order_no": "(2026)冀11执9号",
            "amount": "100.00",
            "ordered_on": TODAY,
        },
        headers=world.headers("bank", "freeze"),
    )
    assert freeze.status_code == 201, freeze.text
    (ins,) = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    r = client.post(
        f"/api/v1/instructions/{ins['instruction_id']}/execution",
        json={"bank_reference": "HSB-RET-2", "executed_on": TODAY},
        headers=world.headers("bank", "exec-frozen"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "return_cap"
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.deposits.get(deposit_id).status == "returning"
        assert uow.instructions.for_deposit(deposit_id).status == "pending"


# --- the books under any sequence ---------------------------------------------------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(["pay", "assign", "assign_unchecked", "return", "execute"]),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=1, max_value=9_999_999),  # fen
    ),
    min_size=1,
    max_size=8,
)
EXAMPLES = itertools.count(1)


def _seed_site(url: str) -> tuple[World, dict]:
    """The `world` and its opened `project` (tests.conftest), where each example of the property starts."""
    from litestar.testing import TestClient

    from escrow.app import create_app

    engine = make_engine(url)
    try:
        world = make_world(engine)
        settings = settings_for(url)
        app = create_app(settings, engine=engine, today=lambda: date.fromisoformat(TODAY))
        with TestClient(app) as client:
            r = client.post("/api/v1/projects", json=project_body(), headers=world.headers("admin", "open"))
            assert r.status_code == 201, r.text
            return world, r.json()
    finally:
        engine.dispose()


# Each example starts from a fresh copy of the seeded site (restore_database: a file copy on SQLite, a
# database made from a template on PostgreSQL), so that no example sees another's deposits: 50 examples of up
# to 8 steps, on each engine.
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_the_books_hold_after_any_sequence_of_assignments_and_returns(
    engine, db_url, ctx, actor, client, seeded_templates, pg_dropper, ops
):
    """Whatever is paid, assigned, refused, returned and executed, in any order: every entry balances, cash
    equals its flows, cash and suspense never go below zero, and the suspense ledger is exactly the money of
    the deposits still in suspense (waiting, or being returned)."""
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    template, (world, project) = seeded_templates(backend, _seed_site)
    restore_database(engine, db_url, template, pg_dropper)
    flow = Flow(client, world)
    with UnitOfWork(engine, readonly=True) as uow:  # the example's own database: the site and nothing else
        assert len(list(uow.session.scalars(select(Deposit.id)))) == 0
        assert uow.projects.account_by_no(project["account_no"]) is not None
    account_no = project["account_no"]
    n = next(EXAMPLES)
    contract = flow.contract(contract_no=f"HT-P-{n}", unit=f"P-{n}", total_price="90000000.00")
    items: list[int] = []
    reviewer, approver = actor("reviewer"), actor("approver")

    def apply(op: str, pick: int, fen: int) -> None:
        if op == "pay" or not items:
            amount = f"{fen // 100}.{fen % 100:02d}"
            items.append(pay_into_suspense(flow, account_no, amount=amount)["deposit_id"])
            return
        deposit_id = items[pick % len(items)]
        with UnitOfWork(engine, readonly=True) as uow:
            deposit = uow.deposits.get(deposit_id)
            status, amount_fen = deposit.status, deposit.amount_fen
            ins = uow.instructions.for_deposit(deposit_id)
        try:
            if op == "assign":
                amount = f"{amount_fen // 100}.{amount_fen % 100:02d}"
                notice = flow.notice(contract["contract_no"], amount, kind="other")
                cmd = suspense.AssignToContract(contract["contract_no"], notice["notice_no"])
                run(engine, suspense.assign, ctx, deposit_id, cmd, reviewer)
                assert status == "suspense"
            elif op == "assign_unchecked":  # no notice named: the rule book refuses
                cmd = suspense.AssignToContract(contract["contract_no"])
                run(engine, suspense.assign, ctx, deposit_id, cmd, approver)
                pytest.fail("assigned without a notice")
            elif op == "return":
                run(
                    engine,
                    suspense.return_to_payer,
                    ctx,
                    deposit_id,
                    suspense.ReturnToPayer("不明"),
                    approver,
                )
                assert status == "suspense"
            elif ins is not None and ins.status == "pending":
                r = client.post(
                    f"/api/v1/instructions/{ins.id}/execution",
                    json={"bank_reference": f"RET-{ins.id}", "executed_on": TODAY},
                    headers=world.headers("bank", f"exec-{ins.id}"),
                )
                assert r.status_code == 201, r.text
        except Conflict:
            assert status != "suspense"
            event(f"{op}: conflict")
        except approvals.Refused:
            assert op == "assign_unchecked" and status == "suspense"
            event(f"{op}: refused")
        else:
            event(f"{op}: done from {status}")

    def check_books() -> None:
        with UnitOfWork(engine, readonly=True) as uow:
            account = uow.projects.account_by_no(account_no)
            entries = uow.journal.entries(account.id)
            balances = uow.journal.balances(account.id)

            def total(*statuses: str) -> int:
                return uow.session.scalar(
                    select(func.coalesce(func.sum(Deposit.amount_fen), 0)).where(
                        Deposit.account_id == account.id, Deposit.status.in_(statuses)
                    )
                )

            unassigned, assigned = total("suspense", "returning"), total("assigned")
            assert uow.journal.maintained_figures() == uow.journal.summed_figures()
        assert invariants_hold(entries)
        assert balances.suspense == unassigned
        assert balances.buyer_funds == assigned
        assert count(engine, JournalEntry) == len(entries)

    for op, pick, fen in ops:
        apply(op, pick, fen)
        check_books()


def test_the_property_sees_every_status(engine, ctx, actor, site, flow, client, world):
    """The statuses the property walks through all occur: one item of each, and the books say so."""
    account_no = site["project"]["account_no"]
    cmd = suspense.AssignToContract(site["contract"]["contract_no"], site["notice"]["notice_no"])
    run(engine, suspense.assign, ctx, site["deposit"]["deposit_id"], cmd, actor("reviewer"))
    returning = pay_into_suspense(flow, account_no, amount="10.00")
    returned = pay_into_suspense(flow, account_no, amount="20.00")
    waiting = pay_into_suspense(flow, account_no, amount="40.00")
    for item in (returning, returned):
        run(
            engine,
            suspense.return_to_payer,
            ctx,
            item["deposit_id"],
            suspense.ReturnToPayer("不明"),
            actor("approver"),
        )
    with UnitOfWork(engine, readonly=True) as uow:
        ins = uow.instructions.for_deposit(returned["deposit_id"])
    r = client.post(
        f"/api/v1/instructions/{ins.id}/execution",
        json={"bank_reference": "RET-X", "executed_on": TODAY},
        headers=world.headers("bank", "exec-x"),
    )
    assert r.status_code == 201, r.text
    balances, entries = books(engine, account_no)
    assert balances.suspense == 1000 + 4000  # returning + waiting
    assert balances.buyer_funds == AMOUNT_FEN
    assert balances.cash == AMOUNT_FEN + 1000 + 4000
    assert invariants_hold(entries)
    with UnitOfWork(engine, readonly=True) as uow:
        project = uow.projects.get(site["project"]["project_id"])
        items = suspense.open_items(uow, project)
    assert [(i["deposit_id"], i["status"]) for i in items] == [
        (returning["deposit_id"], "returning"),
        (waiting["deposit_id"], "suspense"),
    ]
    assert date.fromisoformat(items[0]["value_date"]) == date(2026, 11, 22)
