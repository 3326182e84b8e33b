"""The audit trail chained per account (issue 13, bullet 2) under concurrency: deposits on different accounts
take no city-wide lock and do not wait for each other; a transaction that records on two accounts (a change
of bank) locks their chains in ascending order; every chain verifies afterwards."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from escrow.services import auditing
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, AuditHead
from tests import live
from tests.conftest import project_body
from tests.http.test_concurrency import _deposit_body
from tests.http.test_lifecycle import NEW_ACCOUNT, change_bank, execute, site, today  # noqa: F401 (fixtures)

WORKERS = 32


def _open_accounts(client, world, n: int) -> list[str]:
    """n projects, each with its account: their account numbers."""
    opened = []
    for i in range(n):
        body = project_body(permit_no=f"衡预售2026-{100 + i:03d}", account_no=f"62220000{i:08d}")
        r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{i}"))
        assert r.status_code == 201, r.text
        opened.append(r.json()["account_no"])
    return opened


def _ids(engine, account_nos: list[str]) -> list[int]:
    with UnitOfWork(engine, readonly=True) as uow:
        return [uow.projects.account_by_no(no).id for no in account_nos]


def _chain_lengths(engine) -> tuple[dict[int, int], dict[int, int]]:
    """(events per chain, the length `audit_heads` keeps per chain)."""
    with UnitOfWork(engine, readonly=True) as uow:
        counted = dict(
            uow.session.execute(select(AuditEvent.chain, func.count()).group_by(AuditEvent.chain)).all()
        )
        kept = dict(uow.session.execute(select(AuditHead.chain, AuditHead.length)).all())
    return counted, kept


def _advisory_locks(conn) -> int:
    """Advisory locks held in this test's database (other databases on the server are not ours)."""
    return conn.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    ).scalar()


def test_32_workers_on_32_accounts_take_no_global_lock_and_every_chain_verifies(app, client, world, engine):
    account_nos = _open_accounts(client, world, WORKERS)
    samples: list[int] = []
    burst_over = threading.Event()

    def watch() -> None:  # pg_locks sampled while the burst runs: no advisory (city-wide) lock is ever held
        if engine.dialect.name != "postgresql":
            return
        with engine.connect() as conn:
            while not burst_over.is_set():
                samples.append(_advisory_locks(conn))
                conn.commit()

    with live.serve(app) as base, ThreadPoolExecutor(WORKERS + 1) as pool:
        watcher = pool.submit(watch)

        def send(i: int) -> tuple[int, dict]:
            with live.client(base) as c:
                body = _deposit_body(account_nos[i], f"PAR-{i:03d}", f"{1000 + i}.00")
                r = c.post("/api/v1/deposits", json=body, headers=world.headers("bank", f"par-{i}"))
                return r.status_code, r.json()

        try:
            results = list(pool.map(send, range(WORKERS)))
        finally:
            burst_over.set()
            watcher.result()

    assert [status for status, _ in results] == [201] * WORKERS, results
    assert len({body["deposit_id"] for _, body in results}) == WORKERS
    if engine.dialect.name == "postgresql":
        assert samples and max(samples) == 0, samples
    ids = _ids(engine, account_nos)
    counted, kept = _chain_lengths(engine)
    assert counted == kept  # each chain's head row counts its events
    assert set(ids) | {audit.CITY_CHAIN} == set(counted)  # the city's chain and one per account
    with UnitOfWork(engine, readonly=True) as uow:
        for account_id in ids:  # each deposit is on its own account's chain, after the account's opening
            actions = uow.session.scalars(
                select(AuditEvent.action).where(AuditEvent.chain == account_id).order_by(AuditEvent.id)
            ).all()
            assert actions[-1] == "deposit.suspense", actions
    report = auditing.verify(engine)
    assert report.ok, report.lines()
    assert report.chains == WORKERS + 1 and report.entries == WORKERS


def _record(session, account_id: int | None, action: str = "test.recorded") -> AuditEvent:
    return audit.record(
        session, actor="test", action=action, subject_type="test", subject_id=1, account_id=account_id
    )


@pytest.mark.only_backend("postgresql")
def test_transactions_on_different_accounts_do_not_wait_for_each_other(app, client, world, engine):
    """Transaction A records an event on account 1 and stays open; meanwhile a transaction on account 2
    commits, and so does a deposit on account 2 through the app. Only a second writer on account 1 waits."""
    first_no, second_no = _open_accounts(client, world, 2)
    first, second = _ids(engine, [first_no, second_no])
    with UnitOfWork(engine) as held:
        _record(held.session, first, "test.held_open")
        with UnitOfWork(engine) as other:
            other.session.execute(text("SET LOCAL lock_timeout = '10s'"))  # a wait would fail, not hang
            _record(other.session, second)
            other.commit()
        with live.serve(app) as base, live.client(base) as c:
            body = _deposit_body(second_no, "WHILE-A-OPEN")
            r = c.post("/api/v1/deposits", json=body, headers=world.headers("bank", "while-a-open"))
            assert r.status_code == 201, r.text
        with UnitOfWork(engine) as same:  # the same account's chain is locked by A
            same.session.execute(text("SET LOCAL lock_timeout = '100ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                _record(same.session, first)
        held.commit()
    counted, kept = _chain_lengths(engine)
    assert counted == kept
    report = auditing.verify(engine)
    assert report.ok, report.lines()


def test_two_events_of_one_account_in_one_transaction_chain_to_each_other(engine, world):
    with UnitOfWork(engine) as uow:
        a = _record(uow.session, 901)
        city = _record(uow.session, None)
        b = _record(uow.session, 901)
        uow.commit()
    assert (a.prev_hash, b.prev_hash) == (audit.GENESIS, a.hash)
    assert city.chain == audit.CITY_CHAIN and city.prev_hash != a.hash
    assert auditing.verify(engine).ok


def test_chains_are_locked_together_in_ascending_order_or_refused(engine, world):
    with UnitOfWork(engine) as uow:
        _record(uow.session, 902)
        with pytest.raises(RuntimeError, match=r"audit chains \[901, 903\] locked after chain 902"):
            audit.lock_chains(uow.session, [901, 903])
        audit.lock_chains(uow.session, [902, 903, 904])  # above the one held: in order
        uow.commit()


@pytest.mark.only_backend("postgresql")
def test_transactions_on_two_accounts_each_never_deadlock(engine, world):
    """Sixteen workers, each recording on two of three accounts in a random order, the pair locked together
    first: no deadlock is detected, and every chain verifies."""
    accounts = [911, 912, 913]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(10):
            pair = rng.sample(accounts, 2)
            try:
                with UnitOfWork(engine) as uow:
                    audit.lock_chains(uow.session, pair)
                    for account_id in pair:  # recorded in the random order: the locks were taken in order
                        _record(uow.session, account_id)
                    uow.commit()
            except BaseException as exc:
                errors.append(exc)
                return

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))
    assert not errors, errors[:3]
    counted, kept = _chain_lengths(engine)
    assert sum(counted[a] for a in accounts) == 16 * 10 * 2
    assert counted == kept
    assert auditing.verify(engine).ok


def test_a_bank_change_records_on_both_accounts_chains(client, world, engine, site):  # noqa: F811
    r = change_bank(client, world, site["project_id"])
    assert r.status_code == 201, r.text
    executed = execute(client, world, r.json()["instruction_id"], "HSB-TRANSFER-1")
    assert executed.status_code == 201, executed.text
    old, new = _ids(engine, [site["account_no"], NEW_ACCOUNT])
    assert old < new  # so the transfer locked the old account's chain first
    with UnitOfWork(engine, readonly=True) as uow:
        by_chain = {
            chain: uow.session.scalars(
                select(AuditEvent.action).where(AuditEvent.chain == chain).order_by(AuditEvent.id)
            ).all()
            for chain in (old, new)
        }
    assert by_chain[new] == ["account.opened.transfer"]
    assert by_chain[old][-2:] == ["instruction.executed.transfer", "account.closed"]
    report = auditing.verify(engine)
    assert report.ok, report.lines()
