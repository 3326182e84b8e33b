"""The maintained per-account sums (migration 0015, escrow.store.repos.journal): whatever is booked, in any
order and across accounts, each account's maintained balances and kind totals equal the journal's sums, and
the balances and money received read from them are what the domain computes from the entries; a bulk load's
`rebuild_balances` and the migration's backfill give the same sums from the journal alone."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text

from escrow.domain import ledger
from escrow.domain.ledger import Entry, EntryKind, Ledger, Leg
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.migrate import downgrade, upgrade
from escrow.store.models import JournalEntry, JournalLeg
from tests.conftest import project_body

DAY = date(2026, 11, 22)
REFERENCES = itertools.count(1)


@pytest.fixture
def account_ids(client, world, engine) -> list[int]:
    """Three supervised accounts of three projects, opened through the API."""
    ids = []
    for n in range(3):
        body = project_body(permit_no=f"衡预售2025-10{n}", account_no=f"62220000999900{n}", name=f"P{n}")
        r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{n}"))
        assert r.status_code == 201, r.text
        with UnitOfWork(engine, readonly=True) as uow:
            ids.append(uow.projects.account_by_no(body["account_no"]).id)
    return ids


FEN = st.integers(min_value=1, max_value=10**12)  # one amount: at most escrow.domain.money's largest
PAIRS = {  # every kind the domain books as a pair of legs
    "deposit": lambda fen, **kw: ledger.deposit(fen, suspense=False, **kw),
    "deposit_suspense": lambda fen, **kw: ledger.deposit(fen, suspense=True, **kw),
    "suspense_assigned": ledger.suspense_assigned,
    "suspense_returned": ledger.suspense_returned,
    "release": ledger.release,
    "refund": ledger.refund,
    "interest": ledger.interest,
    "fee": ledger.fee,
    "court_deduction": ledger.court_deduction,
    "closure": ledger.closure,
    "transfer_out": ledger.transfer_out,
    "transfer_in": ledger.transfer_in,
}


@st.composite
def entries(draw) -> Entry:
    """A domain entry: a pair of any kind, a reversal of a deposit, or any balanced set of legs (two legs
    on one ledger included)."""
    reference = f"r{next(REFERENCES)}"
    shape = draw(st.sampled_from([*PAIRS, "reversal", "legs"]))
    if shape in PAIRS:
        return PAIRS[shape](draw(FEN), booked_on=DAY, reference=reference)
    if shape == "reversal":
        original = ledger.deposit(draw(FEN), suspense=draw(st.booleans()), booked_on=DAY, reference="o")
        return ledger.reversal(original, booked_on=DAY, reference=reference)
    amounts = draw(st.lists(st.integers(min_value=-(10**12), max_value=10**12).filter(bool), min_size=1))
    if sum(amounts) == 0:
        amounts.append(draw(FEN))
    amounts.append(-sum(amounts))
    names = draw(st.lists(st.sampled_from(list(Ledger)), min_size=len(amounts), max_size=len(amounts)))
    return Entry(draw(st.sampled_from(list(EntryKind))), tuple(map(Leg, names, amounts)), DAY, reference)


BOOKINGS = st.lists(  # transactions, each booking entries on accounts (by index)
    st.lists(st.tuples(st.integers(min_value=0, max_value=2), entries()), min_size=1, max_size=4),
    min_size=1,
    max_size=4,
)


def book(engine, bookings: list[tuple[int, Entry]], account_ids: list[int]) -> None:
    """Post the entries in one transaction, claimed by one audit event (as a service would)."""
    with UnitOfWork(engine) as uow:
        for index, entry in bookings:
            uow.journal.post(account_ids[index], entry)
        audit.record(uow.session, actor="test", action="test.booked", subject_type="test", subject_id=1)
        uow.commit()


def assert_sums_exact(engine, account_ids: list[int]) -> None:
    """The maintained sums are the journal's, and what is read from them is what the domain computes."""
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.journal.maintained_figures() == uow.journal.summed_figures()
        balances, received = uow.journal.balances_of(account_ids), uow.journal.received_of(account_ids)
        for account_id in account_ids:
            booked = uow.journal.entries(account_id)
            assert balances[account_id] == ledger.balances(booked)
            by_kind: dict[str, int] = {}
            for e in booked:
                by_kind[e.kind.value] = by_kind.get(e.kind.value, 0) + sum(
                    leg.amount_fen for leg in e.legs if leg.amount_fen > 0
                )
            assert received[account_id] == ledger.received_fen(by_kind)
            assert uow.journal.balances(account_id) == balances[account_id]
            assert uow.journal.received_fen(account_id) == received[account_id]


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(transactions=BOOKINGS)
def test_the_maintained_sums_equal_the_journals_after_any_bookings(engine, account_ids, transactions):
    """Any entries, of every kind and of any balanced shape, booked on several accounts over several
    transactions (the accounts keep what earlier examples booked): the sums stay exact."""
    for bookings in transactions:
        book(engine, bookings, account_ids)
    assert_sums_exact(engine, account_ids)


def test_an_account_without_entries_reads_zero(engine, account_ids):
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.journal.balances(account_ids[0]) == ledger.Balances()
        assert uow.journal.received_of(account_ids) == dict.fromkeys(account_ids, 0)
        assert uow.journal.maintained_figures() == {}


def test_a_rolled_back_booking_leaves_no_sum(engine, account_ids):
    with UnitOfWork(engine) as uow:
        uow.journal.post(account_ids[0], ledger.deposit(500, suspense=False, booked_on=DAY, reference="x"))
        uow.rollback()
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.journal.maintained_figures() == {}


def _bulk_load(engine, account_id: int, n: int, fen: int) -> None:
    """Deposits written the way a bulk loader writes them: Core inserts of journal rows, then the sums
    rebuilt for that account."""
    with UnitOfWork(engine) as uow:
        rows = [
            {
                "account_id": account_id,
                "kind": "deposit",
                "booked_on": DAY,
                "reference": f"b{i}",
                "amount_fen": fen,
            }
            for i in range(n)
        ]
        ids = list(
            uow.session.scalars(
                insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True), rows
            )
        )
        uow.session.execute(
            insert(JournalLeg),
            [
                {"entry_id": i, "account_id": account_id, "ledger": name, "amount_fen": sign * fen}
                for i in ids
                for name, sign in (("cash", 1), ("buyer_funds", -1))
            ],
        )
        uow.journal.rebuild_balances([account_id])
        uow.commit()


def test_rebuild_after_a_bulk_load_gives_the_journals_sums(engine, account_ids):
    book(
        engine,
        [
            (0, ledger.interest(7, booked_on=DAY, reference="i")),
            (1, ledger.fee(3, booked_on=DAY, reference="f")),
        ],
        account_ids,
    )
    _bulk_load(engine, account_ids[0], 250, 1234)
    assert_sums_exact(engine, account_ids)
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.journal.balances(account_ids[0]).cash == 250 * 1234 + 7
        assert uow.journal.received_fen(account_ids[0]) == 250 * 1234
        assert uow.journal.balances(account_ids[1]).fees == 3  # another account's sums are left as they were


def test_rebuild_of_every_account_repairs_the_sums(engine, account_ids):
    book(
        engine,
        [(i, ledger.deposit(100 + i, suspense=i == 1, booked_on=DAY, reference=f"d{i}")) for i in range(3)],
        account_ids,
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE account_balances SET balance_fen = 0"))
        conn.execute(text("DELETE FROM account_kind_totals"))
    with UnitOfWork(engine) as uow:
        uow.journal.rebuild_balances()
        uow.commit()
    assert_sums_exact(engine, account_ids)


def test_the_migration_backfills_the_sums_from_the_journal(engine, account_ids):
    """Books kept before 0015: the tables dropped (down to 0014), then 0015 fills them from the journal."""
    book(
        engine,
        [
            (0, ledger.deposit(90_000, suspense=False, booked_on=DAY, reference="a")),
            (0, ledger.release(30_000, booked_on=DAY, reference="b")),
            (1, ledger.deposit(5_000, suspense=True, booked_on=DAY, reference="c")),
            (1, ledger.suspense_returned(2_000, booked_on=DAY, reference="d")),
        ],
        account_ids,
    )
    _bulk_load(engine, account_ids[2], 40, 999)
    with UnitOfWork(engine, readonly=True) as uow:
        before = uow.journal.maintained_figures()
    downgrade(engine, "0014")
    upgrade(engine, "0015")
    assert_sums_exact(engine, account_ids)
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.journal.maintained_figures() == before
        assert uow.journal.received_of(account_ids) == {
            account_ids[0]: 90_000,
            account_ids[1]: 3_000,
            account_ids[2]: 40 * 999,
        }
