"""The store on both engines: migrations match the models, the journal is append-only, constraints hold."""

from __future__ import annotations

import decimal
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel

from escrow.domain import ledger
from escrow.domain.principal import SYSTEM
from escrow.services import projects
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.migrate import is_current
from escrow.store.models import AuditEvent, JournalEntry, Project, SupervisedAccount


def _plan(engine, stmt, *, in_order: bool = False) -> str:
    """The engine's plan for `stmt` (its values inlined). On PostgreSQL the tables of a test are tiny, so
    sequential scans are ruled out to ask whether an index CAN serve the query; `in_order` rules out bitmap
    scans too, which return no order."""
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            return " ".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        conn.execute(text("SET enable_seqscan = off"))
        if in_order:
            conn.execute(text("SET enable_bitmapscan = off"))
        return "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))


def test_migrations_reach_head_and_match_the_models(engine):
    assert is_current(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diffs == []


@pytest.fixture
def account_id(engine, world, settings, today):
    from escrow.rulebooks import load_dir

    ctx = Context(settings, load_dir(settings.rules_dir), lambda: today)
    cmd = projects.OpenProject(
        developer_credit_code=world.developer_code,
        name="P",
        permit_no="P-1",
        permit_date=date(2025, 3, 1),
        presale_area_m2=decimal.Decimal("1000"),
        finish="shell",
        bank_code="HSB",
        account_no="62220001",
        account_name="P escrow",
    )
    with UnitOfWork(engine) as uow:
        projects.open_project(uow, ctx, cmd, SYSTEM)
        uow.commit()
    with UnitOfWork(engine) as uow:
        return uow.projects.account_by_no("62220001").id


def _post(engine, account_id, entry):
    with UnitOfWork(engine) as uow:
        row = uow.journal.post(account_id, entry)
        audit.record(
            uow.session, actor="test", action="journal.posted", subject_type="journal", subject_id=row.id
        )
        uow.commit()
        return row.id


@pytest.mark.parametrize("statement", ["UPDATE {t} SET account_id = account_id", "DELETE FROM {t}"])
@pytest.mark.parametrize("table", ["journal_entries", "journal_legs"])
def test_journal_rows_can_never_be_updated_or_deleted(engine, account_id, table, statement):
    _post(
        engine, account_id, ledger.deposit(10_000, suspense=False, booked_on=date(2025, 4, 1), reference="d1")
    )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement.format(t=table)))
    with UnitOfWork(engine) as uow:
        assert uow.journal.balances(account_id).cash == 10_000


@pytest.mark.only_backend("postgresql")  # SQLite has no TRUNCATE statement
def test_journal_cannot_be_truncated_on_postgresql(engine, account_id):
    _post(
        engine, account_id, ledger.deposit(10_000, suspense=False, booked_on=date(2025, 4, 1), reference="d1")
    )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE journal_legs, journal_entries"))


def test_balances_are_derived_from_the_journal(engine, account_id):
    day = date(2025, 4, 1)
    for entry in (
        ledger.deposit(500_000, suspense=False, booked_on=day, reference="a"),
        ledger.deposit(20_000, suspense=True, booked_on=day, reference="b"),
        ledger.release(100_000, booked_on=day, reference="c"),
        ledger.suspense_assigned(5_000, booked_on=day, reference="d"),
    ):
        _post(engine, account_id, entry)
    with UnitOfWork(engine) as uow:
        balances = uow.journal.balances(account_id)
        entries = uow.journal.entries(account_id)
        received = uow.journal.received_fen(account_id)
    assert balances.cash == 420_000
    assert balances.suspense == 15_000
    assert balances.released == 100_000
    assert received == 520_000
    _post(engine, account_id, ledger.suspense_returned(15_000, booked_on=day, reference="e"))
    with UnitOfWork(engine) as uow:
        assert uow.journal.received_fen(account_id) == 505_000  # returned money was never the project's
    assert ledger.balance_equals_flows(entries)
    assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)


def test_a_third_decimal_of_an_area_is_refused_not_cut_off(engine, world, settings, today):
    from escrow.domain.errors import InvalidInput
    from escrow.rulebooks import load_dir

    ctx = Context(settings, load_dir(settings.rules_dir), lambda: today)
    cmd = projects.OpenProject(
        developer_credit_code=world.developer_code,
        name="P",
        permit_no="P-9",
        permit_date=date(2025, 3, 1),
        presale_area_m2=decimal.Decimal("1000.005"),
        finish="shell",
        bank_code="HSB",
        account_no="62229999",
        account_name="P escrow",
    )
    with UnitOfWork(engine) as uow, pytest.raises(InvalidInput, match="more than two decimals"):
        projects.open_project(uow, ctx, cmd, SYSTEM)


def test_one_open_supervised_account_per_project(engine, account_id):
    """A project has at most one open account; a change of bank closes the old one before opening another."""

    def second(uow, account_no: str) -> SupervisedAccount:
        project_id = uow.session.scalar(select(Project.id))
        row = SupervisedAccount(
            project_id=project_id,
            bank_id=1,
            account_no=account_no,
            account_name="second",
            opened_on=date(2025, 3, 2),
        )
        uow.session.add(row)
        return row

    with UnitOfWork(engine) as uow:
        second(uow, "99999999")
        with pytest.raises(IntegrityError):
            uow.session.flush()
    with UnitOfWork(engine) as uow:
        uow.session.get(SupervisedAccount, account_id).closed_on = date(2025, 3, 2)
        uow.session.flush()
        second(uow, "99999998")
        uow.session.flush()


def test_account_numbers_are_unique(engine, account_id):
    with UnitOfWork(engine) as uow:
        uow.session.add(
            Project(
                developer_id=1,
                name="Q",
                permit_no="Q-1",
                permit_date=date(2025, 3, 1),
                presale_area_x100=100,
                finish="shell",
                jurisdiction="hengshui",
                rulebook_id="hengshui@2024.1",
                supervised_amount_fen=100,
            )
        )
        uow.session.flush()
        project_id = uow.session.scalar(select(Project.id).where(Project.permit_no == "Q-1"))
        uow.session.add(
            SupervisedAccount(
                project_id=project_id,
                bank_id=1,
                account_no="62220001",
                account_name="dup",
                opened_on=date(2025, 3, 2),
            )
        )
        with pytest.raises(IntegrityError):
            uow.session.flush()


def test_uncommitted_unit_of_work_rolls_back(engine, account_id):
    with UnitOfWork(engine) as uow:
        uow.journal.post(
            account_id, ledger.deposit(1_000, suspense=False, booked_on=date(2025, 4, 1), reference="x")
        )
        # no commit
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(JournalEntry.id)) is None


def test_audit_events_form_a_hash_chain(engine, account_id):
    with UnitOfWork(engine) as uow:
        audit.record(
            uow.session, actor="test", action="x.done", subject_type="x", subject_id=1, after={"a": 1}
        )
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        events = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert len(events) >= 5  # the world's parties, the project and this event
    assert {e.chain for e in events} == {
        audit.CITY_CHAIN,
        account_id,
    }  # one chain per account, and the city's
    heads: dict[int, str] = {}
    for event in events:
        prev = heads.get(event.chain, audit.GENESIS)
        assert event.chain == audit.chain_of(event.account_id)
        assert event.prev_hash == prev
        assert event.hash == audit.event_hash(prev, event)
        heads[event.chain] = event.hash
    tampered = events[-1]
    tampered.actor = "someone else"
    assert audit.event_hash(tampered.prev_hash, tampered) != tampered.hash


def test_the_audit_trail_finds_a_projects_own_events_by_index(engine, account_id):
    """The project page's trail (store/reads/listings.py: audit_trail_query) reads the account's latest
    events and the project's own, each by its index (0014, 0022): not a walk of the whole audit table."""
    from escrow.store.reads.listings import audit_trail_query

    plan = _plan(engine, audit_trail_query(account_id, 1, 50))
    assert "ix_audit_events_subject" in plan and "ix_audit_events_account_latest" in plan, plan
    with UnitOfWork(engine, readonly=True) as uow:  # and it finds them: the account's, newest first
        found = uow.listings.audit_trail(account_id, 1, 50)
        expected = uow.session.scalars(
            select(AuditEvent.id)
            .where(
                (AuditEvent.account_id == account_id)
                | ((AuditEvent.subject_type == "project") & (AuditEvent.subject_id == "1"))
            )
            .order_by(AuditEvent.id.desc())
            .limit(50)
        ).all()
    assert [e.id for e in found] == list(expected) and expected


def test_the_citys_period_sums_find_their_entries_by_index(engine, account_id):
    """The city's figures for a period (`Journal.totals_by_kind`) and the cash booked after a period's end
    (`Journal.cash_of_until`) are date-bounded: an index on the booking day serves them (0017), not a scan of
    the whole journal."""
    period = (
        select(JournalEntry.kind, func.sum(JournalEntry.amount_fen))
        .where(JournalEntry.booked_on >= date(2026, 11, 1), JournalEntry.booked_on <= date(2026, 11, 30))
        .group_by(JournalEntry.account_id, JournalEntry.kind)
    )
    plan = _plan(engine, period)
    assert "ix_journal_entries_booked" in plan, plan


@pytest.mark.only_backend("sqlite")
def test_a_statements_deposit_look_up_goes_through_the_unique_reference_index(engine):
    """A reconciliation looks up a batch of 10,000 references at a time. Were the account's (account, date)
    index taken instead, as SQLite's planner did for a long IN list, each batch would read the account's
    every deposit, and a million-line statement would take minutes instead of seconds."""
    from escrow.store.repos.deposits import by_references_sql

    sql, params = by_references_sql("sqlite", 1, 1, [f"B{i:09d}" for i in range(10_000)])
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    details = " ".join(row[-1] for row in plan)
    assert "(bank_id=? AND bank_reference=?)" in details, details
    assert "ix_deposits_account_date" not in details


@pytest.mark.parametrize("ids", [[], [1], list(range(1, 3001))])
def test_a_list_of_values_is_one_statement_whatever_its_length(engine, account_id, ids):
    """`among` binds the whole list as one parameter: 3,000 account ids (six of the 500-value IN lists the
    engines' parameter limits once forced) are one statement whose text does not depend on the number of
    ids, and it finds exactly the rows named; the same for strings."""
    from escrow.store.repos.base import among

    statements: list[str] = []

    def listen(conn, cursor, statement, *args):
        if statement.startswith("SELECT"):  # not the engine's own BEGIN
            statements.append(statement)

    with UnitOfWork(engine, readonly=True) as uow:
        sa_event.listen(engine, "before_cursor_execute", listen)
        try:
            found = uow.journal.balances_of(ids)
            numbers = set(
                uow.session.scalars(
                    select(SupervisedAccount.account_no).where(
                        among(uow.session, SupervisedAccount.account_no, ["62220001", "nope", *map(str, ids)])
                    )
                )
            )
        finally:
            sa_event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == 2
    assert set(found) == set(ids)
    assert all(b.cash == 0 for a, b in found.items() if a != account_id)
    assert numbers == {"62220001"}
    if ids:  # an empty list is a constant false, no parameter at all
        assert statements[0].count("?") + statements[0].count("%(") <= 1
        assert "json_each" in statements[0] or "ANY" in statements[0]


@pytest.mark.parametrize(
    ("read", "index"),
    [("suspense_deposits", "ix_deposits_in_suspense"), ("open_notices", "ix_payment_notices_open_due")],
)
def test_the_sweeps_open_work_is_found_by_partial_indexes(engine, account_id, read, index):
    """The deposits in suspense and the open notices past due, read by every alert sweep, are a few rows
    among millions: partial indexes serve them (0020), not a scan of the whole table."""
    from escrow.store.models import Deposit, PaymentNotice

    stmt = (
        select(Deposit.id).where(Deposit.status == "suspense").order_by(Deposit.id)
        if read == "suspense_deposits"
        else select(PaymentNotice.id).where(
            PaymentNotice.status == "open", PaymentNotice.due_on < date(2026, 12, 1)
        )
    )
    plan = _plan(engine, stmt)
    assert index in plan, plan


def test_the_alert_list_reads_the_most_urgent_open_alerts_from_an_index(engine, account_id):
    """The dashboard's and the alert list's first page of open alerts (most urgent, then newest) is read in
    index order (0021): no sort of every open alert, however many there are."""
    from escrow.store.models import Alert
    from escrow.store.reads.alerts import most_urgent_first, state_is

    page = select(Alert.id).where(state_is(("open", "acknowledged"))).order_by(*most_urgent_first()).limit(25)
    plan = _plan(engine, page, in_order=True)
    assert "ix_alerts_unresolved_order" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("grouping", ["rule", "project"])
def test_the_alert_summaries_read_the_unresolved_alerts_from_their_partial_index(engine, grouping):
    """The alert page's summaries group in SQL (one GROUP BY) the rows of ix_alerts_unresolved_order — the
    alerts not resolved — not every alert ever raised."""
    from escrow.store.reads.alerts import AlertFilter, project_groups, rule_groups

    groups = rule_groups if grouping == "rule" else project_groups
    plan = _plan(engine, groups(AlertFilter(("open", "acknowledged"))))
    assert "ix_alerts_unresolved_order" in plan, plan


def test_the_cash_booked_after_a_period_starts_from_the_booking_day_index(engine, account_id):
    """The city's cash at a period's end subtracts what was booked after it: the legs are looked up from the
    entries the booking-day index finds (0017), not by scanning every leg of the journal."""
    from escrow.store.models import JournalLeg
    from escrow.store.repos.journal import _booked_after

    later = (
        select(func.sum(JournalLeg.amount_fen))
        .where(JournalLeg.entry_id.in_(_booked_after(date(2026, 11, 30))), JournalLeg.ledger == "cash")
        .group_by(JournalLeg.account_id)
    )
    plan = _plan(engine, later)
    assert "ix_journal_entries_booked" in plan, plan
    if engine.dialect.name == "sqlite":  # PostgreSQL may hash the few legs of a tiny table instead
        assert "ix_journal_legs_entry_id" in plan and "SCAN journal_legs" not in plan, plan


def test_alerts_are_listed_most_severe_first_then_newest(engine, account_id):
    """Each alert opened carries its severity's urgency, and both lists (the pages' and the API's) put the
    critical ones first, then the warnings, then the notices, the newest first within each."""
    from escrow.services.alerts import Finding, raise_alerts

    rules = ["notice_overdue", "retention_breach", "suspense_overdue", "notice_overdue", "retention_breach"]
    with UnitOfWork(engine) as uow:
        raise_alerts(
            uow, [Finding(rule, "account", str(i), f"alert {i}", account_id) for i, rule in enumerate(rules)]
        )
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        pages, _ = uow.listings.alerts(states=("open", "acknowledged"), limit=10)
        api = uow.alert_reads.listing(state="open")
    expected = [("critical", "4"), ("critical", "1"), ("warning", "2"), ("info", "3"), ("info", "0")]
    assert [(a.severity, a.subject_id) for a, *_ in pages] == expected
    assert [(a.severity, a.subject_id) for a, *_ in api] == expected
    assert {(a.severity, a.urgency) for a, *_ in pages} == {("critical", 3), ("warning", 2), ("info", 1)}
