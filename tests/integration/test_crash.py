"""A server process killed with SIGKILL in the middle of a burst of deposits. The client retries every request
that got no answer, with the same Idempotency-Key, against the restarted server. Afterwards every deposit is
booked exactly once, the books balance, the maintained balances equal the journal's sums and every
audit chain verifies. On PostgreSQL (the production deployment) and on SQLite (embedded: the server runs
the scheduler in-process, and it dies too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.services import auditing
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, AuditHead, Deposit, IdempotencyRecord, JournalEntry
from tests import live
from tests.conftest import REPO, project_body

DEPOSITS = 48
WORKERS = 8
KILL_AFTER = 12  # answered deposits before the kill
DEADLINE = 90  # seconds for each deposit to be answered, restarts included (a loaded machine starts slowly)


class Server:
    """`escrow serve` in a process of its own, on a loopback port."""

    def __init__(self, db_url: str, log: Path):
        self.port = live.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ESCROW_DATABASE_URL": db_url,
            "ESCROW_RULES_DIR": str(REPO / "rules"),
            "ESCROW_SECRET_KEY": "crash-test-" + "k" * 32,  # serve on PostgreSQL needs one (CONTRACT §10)
        }
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "escrow", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.base, timeout=1) as c:
            while time.monotonic() < deadline:
                try:
                    if c.get("/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def opened(client, world) -> dict:
    r = client.post("/api/v1/projects", json=project_body(), headers=world.headers("admin", "c-open"))
    assert r.status_code == 201, r.text
    return r.json()


def test_deposits_survive_a_killed_server(db_url, engine, world, opened, tmp_path):
    server = Server(db_url, tmp_path / "server.log")
    today = date.today().isoformat()  # the server's own idea of today
    answered, retried = [0], [0]
    lock = threading.Lock()
    killed = threading.Event()
    results: dict[int, tuple[int, dict, bool]] = {}
    clients: dict[int, httpx.Client] = {}

    def body(i: int) -> dict:
        return {
            "account_no": opened["account_no"],
            "bank_reference": f"CRASH-{i:03d}",
            "amount": f"{1000 + i}.{i % 100:02d}",
            "payer_name": "王芳",
            "channel": "transfer",
            "value_date": today,
        }

    def send(i: int) -> None:
        headers = world.headers("bank", f"crash-key-{i:03d}")
        stop = time.monotonic() + DEADLINE
        c = clients.get(threading.get_ident())
        if c is None:  # one client per worker: creating one costs CPU the restarting server needs
            c = clients[threading.get_ident()] = httpx.Client(base_url=server.base, timeout=10)
        while time.monotonic() < stop:
            try:
                r = c.post("/api/v1/deposits", json=body(i), headers=headers)
            except httpx.HTTPError:  # no answer: the server died under us, or is not back yet
                with lock:
                    retried[0] += 1
                time.sleep(0.2)
                continue
            if r.status_code in (503, 409):  # busy, or a concurrent request with this key: retry
                time.sleep(0.05)
                continue
            with lock:
                answered[0] += 1
                results[i] = (r.status_code, r.json(), r.headers.get("idempotent-replayed") == "true")
            return
        raise AssertionError(f"deposit {i} got no answer within {DEADLINE} s")

    def killer() -> None:
        while answered[0] < KILL_AFTER:
            time.sleep(0.005)
        server.kill()  # mid-burst: requests in flight, some committed but not answered
        killed.set()
        server.start()

    server.start()
    try:
        with ThreadPoolExecutor(WORKERS + 1) as pool:
            crash = pool.submit(killer)
            list(pool.map(send, range(DEPOSITS)))
            crash.result()
    finally:
        server.stop()
        for c in clients.values():
            c.close()

    assert killed.is_set() and server.starts == 2
    assert retried[0] > 0, "the kill interrupted no request"
    assert sorted(results) == list(range(DEPOSITS))
    assert {status for status, _, _ in results.values()} <= {200, 201}
    ids = {payload["deposit_id"] for _, payload, _ in results.values()}
    assert len(ids) == DEPOSITS  # each answer names its own deposit
    expected_fen = sum(round(float(body(i)["amount"]) * 100) for i in range(DEPOSITS))
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(opened["account_no"])
        deposits = list(uow.session.scalars(select(Deposit).where(Deposit.account_id == account.id)))
        entries = uow.journal.entries(account.id)
        balances = uow.journal.balances(account.id)  # read from the maintained sums
        received = uow.journal.received_fen(account.id)
        maintained, summed = uow.journal.maintained_figures(), uow.journal.summed_figures()
        keys = uow.session.scalar(
            select(func.count(IdempotencyRecord.id)).where(IdempotencyRecord.key.startswith("crash-key-"))
        )
        journal_rows = uow.session.scalar(select(func.count(JournalEntry.id)))
    assert sorted(d.bank_reference for d in deposits) == [f"CRASH-{i:03d}" for i in range(DEPOSITS)]
    assert {d.id for d in deposits} == ids
    assert len(entries) == journal_rows == DEPOSITS  # booked exactly once each
    assert keys == DEPOSITS
    assert balances.cash == balances.suspense == received == expected_fen  # no notices: all in suspense
    assert maintained == summed  # the kill left no booking without its sums, nor sums without a booking
    assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
    assert ledger.balance_equals_flows(entries) and ledger.balance_never_negative(entries)
    report = auditing.verify(engine)
    assert report.ok, report.lines()  # every chain: the account's, the city's
    assert report.entries == DEPOSITS
    assert report.maintained == 3  # the cash and suspense balances, the deposit_suspense total
    with UnitOfWork(engine, readonly=True) as uow:  # each chain's head row counts what survived, no more
        counted = dict(
            uow.session.execute(select(AuditEvent.chain, func.count()).group_by(AuditEvent.chain)).all()
        )
        kept = dict(uow.session.execute(select(AuditHead.chain, AuditHead.length)).all())
        deposited = uow.session.scalar(
            select(func.count()).where(
                AuditEvent.chain == account.id, AuditEvent.action.startswith("deposit.")
            )
        )
    assert counted == kept and set(counted) == {audit.CITY_CHAIN, account.id}
    assert deposited == DEPOSITS  # one event per deposit on the account's chain
