"""The audit trail: every change is chained; `escrow audit verify` passes on untouched books and names the
first broken link when someone with database rights edits, deletes, reorders or inserts journal or audit rows
(switching the append-only triggers off first, as such a person would); the export verifies on its own."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from escrow.cli import main
from escrow.domain import ledger
from escrow.services import auditing
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, JournalEntry, JournalLeg
from tests.conftest import REPO, _pg_admin, project_body
from tests.http.test_api_releases import TODAY, confirm, fund, release_body


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        return main(list(argv)), out.getvalue(), err.getvalue()

    return run


def _ok(client, method: str, url: str, world, who: str, key: str | None = None, **kw) -> dict:
    headers = world.headers(who, key) if method == "POST" else world.headers(who)
    r = client.request(method, url, headers=headers, **kw)
    assert r.status_code in (200, 201), r.text
    return r.json()


@pytest.fixture(scope="module")
def snapshots() -> Iterator[dict[str, tuple[str, dict]]]:
    """The books, built once per engine and kept as a database to clone: engine → (where, the books' ids)."""
    kept: dict[str, tuple[str, dict]] = {}
    yield kept
    if "postgresql" in kept:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{kept["postgresql"][0]}" WITH (FORCE)'))


@pytest.fixture
def books(request, db_url, engine, snapshots, tmp_path_factory) -> dict:
    """Books with one of every kind of booking: deposits accepted, to suspense and reversed, a release paid, a
    court deduction, and a statement credit nobody posted. Every test gets its own copy (tests tamper)."""
    kind = engine.dialect.name
    if kind in snapshots:
        engine.dispose()
        _clone(db_url, snapshots[kind][0])
        return snapshots[kind][1]
    made = _make_books(*(request.getfixturevalue(f) for f in ("client", "world", "flow")), engine)
    engine.dispose()
    snapshots[kind] = (_keep(db_url, tmp_path_factory), made)
    return made


def _keep(db_url: str, tmp_path_factory) -> str:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        kept = tmp_path_factory.mktemp("books") / "books.db"
        shutil.copy(url.database, kept)
        return str(kept)
    name = f"escrow_books_{uuid.uuid4().hex[:8]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
    return name


def _clone(db_url: str, kept: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        for suffix in ("-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        shutil.copy(kept, url.database)
        return
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}" TEMPLATE "{kept}"'))


def _make_books(client, world, flow, engine) -> dict:
    project = _ok(
        client,
        "POST",
        "/api/v1/projects",
        world,
        "admin",
        "b-open",
        json=project_body(supervised_amount="10000000.00"),
    )
    account_no = project["account_no"]
    fund(flow, "12000000.00")
    confirm(client, world, project["project_id"])
    release = _ok(
        client,
        "POST",
        "/api/v1/releases",
        world,
        "developer",
        "b-rel",
        json=release_body(project["project_id"]),
    )
    for who in ("reviewer", "approver"):
        _ok(
            client,
            "POST",
            f"/api/v1/releases/{release['release_id']}/decisions",
            world,
            who,
            f"b-{who}",
            json={"decision": "approve", "comment": "ok"},
        )
    instruction = _ok(client, "GET", "/api/v1/instructions?status=pending", world, "bank")[0]
    _ok(
        client,
        "POST",
        f"/api/v1/instructions/{instruction['instruction_id']}/execution",
        world,
        "bank",
        "b-exec",
        json={"bank_reference": "PAY-B1", "executed_on": TODAY},
    )
    deposit = {"account_no": account_no, "payer_name": "李娜", "channel": "transfer", "value_date": TODAY}
    flow.deposit(bank_reference="B-SUSP", amount="5000.00", **deposit)  # no notice: suspense
    flow.deposit(bank_reference="B-REV", amount="700.00", **deposit)
    _ok(client, "POST", "/api/v1/deposits/B-REV/reversal", world, "bank", "b-rev", json={"reason": "wrong"})
    freeze = _ok(
        client,
        "POST",
        "/api/v1/freezes",
        world,
        "bank",
        "b-freeze",
        json={
            "account_no": account_no,
            "authority": "衡水市中级人民法院",
            "order_no": "(2026)冀11执9号",
            "amount": "100.00",
            "ordered_on": TODAY,
        },
    )
    _ok(
        client,
        "POST",
        f"/api/v1/freezes/{freeze['freeze_id']}/deduction",
        world,
        "bank",
        "b-deduct",
        json={
            "amount": "40.00",
            "creditor_role": "construction",
            "bank_reference": "DED-B1",
            "executed_on": TODAY,
        },
    )
    line = {
        "bank_reference": "STMT-ONLY-1",
        "booked_on": TODAY,
        "amount": "321.00",
        "direction": "credit",
        "counterparty_name": "王芳",
        "counterparty_account": "6217000099998888",
        "remittance": "房款",
    }
    _ok(
        client,
        "POST",
        "/api/v1/statements",
        world,
        "bank",
        "b-stmt",
        json={"account_no": account_no, "statement_date": TODAY, "lines": [line]},
    )
    with UnitOfWork(engine, readonly=True) as uow:
        entries = list(uow.session.scalars(select(JournalEntry).order_by(JournalEntry.id)))
        events = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.kind for e in entries] == [
        "deposit",
        "release",
        "deposit_suspense",
        "deposit_suspense",
        "reversal",
        "court_deduction",
        "deposit_suspense",
    ]
    return {"account_no": account_no, "entries": [e.id for e in entries], "events": [e.id for e in events]}


# --- untouched books ---------------------------------------------------------------------------------------


def test_every_change_is_an_event_and_every_booking_is_claimed(engine, books):
    with UnitOfWork(engine, readonly=True) as uow:
        events = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    actions = [e.action for e in events]
    for action in (
        "project.opened",
        "deposit.accepted",
        "node.confirmed",
        "release.submitted",
        "release.approved",
        "instruction.executed.release",
        "release.executed",
        "deposit.suspense",
        "deposit.reversed",
        "freeze.placed",
        "account.frozen",
        "freeze.deducted",
        "statement.discrepancy",
    ):
        assert action in actions, action
    claimed = {entry_id: e.action for e in events for entry_id, _ in e.details.get(audit.JOURNAL_KEY, [])}
    assert sorted(claimed) == books["entries"]  # each booking claimed by the event of the change that made it
    assert set(claimed.values()) == {
        "deposit.accepted",
        "instruction.executed.release",
        "deposit.suspense",
        "deposit.reversed",
        "freeze.deducted",
    }


def test_verify_passes_on_untouched_books(cli, books):
    code, out, _ = cli("audit", "verify")
    assert code == 0, out
    first = out.splitlines()[0]
    assert first.startswith("audit trail intact: ")
    assert f"{len(books['events'])} audit events" in first
    assert "7 journal entries with 14 legs" in first
    # 5 ledgers (cash, buyer_funds, released, suspense, deducted) and 5 kinds booked on the one account
    assert first.endswith("14 legs, 10 maintained account sums")
    assert "every maintained balance and kind total equals the journal's sum" in out


def test_verify_passes_on_an_empty_database(cli):
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "0 audit events (head: empty)" in out


def test_a_booking_without_an_audit_event_is_refused(engine, books):
    with UnitOfWork(engine) as uow:
        account = uow.projects.account_by_no(books["account_no"])
        uow.journal.post(account.id, ledger.interest(100, booked_on=ledger.date(2026, 11, 22), reference="i"))
        with pytest.raises(audit.UnauditedBooking, match="without an audit event"):
            uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(func.count(JournalEntry.id))) == len(books["entries"])


# --- tampering ---------------------------------------------------------------------------------------------


def tamper(engine, *statements: str) -> None:
    """Run SQL as someone with rights over the database: the append-only triggers and foreign keys off."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        conn = sqlite3.connect(path)  # a plain connection: foreign keys are off
        try:
            triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
            for name, _ in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            for sql in statements:
                conn.execute(sql)
            for _, sql in triggers:
                conn.execute(sql)
            conn.commit()
        finally:
            conn.close()
    else:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # no triggers, no FK checks
            for sql in statements:
                conn.execute(text(sql))


def _first_broken(cli) -> str:
    code, out, _ = cli("audit", "verify")
    assert code == 1, out
    first = out.splitlines()[0]
    assert first.startswith("audit trail BROKEN: first broken link: "), out
    return first.removeprefix("audit trail BROKEN: first broken link: ")


def _swap(table: str, a: int, b: int, fk: tuple[str, str] | None = None) -> list[str]:
    """Swap two rows' ids (and the references to them): the rows stay, their order changes."""
    sql = [
        f"UPDATE {table} SET id = -1 WHERE id = {a}",
        f"UPDATE {table} SET id = {a} WHERE id = {b}",
        f"UPDATE {table} SET id = {b} WHERE id = -1",
    ]
    if fk:
        child, column = fk
        sql += [
            f"UPDATE {child} SET {column} = -1 WHERE {column} = {a}",
            f"UPDATE {child} SET {column} = {a} WHERE {column} = {b}",
            f"UPDATE {child} SET {column} = {b} WHERE {column} = -1",
        ]
    return sql


def test_an_edited_journal_leg_is_named(engine, cli, books):
    release = books["entries"][1]
    # the entry and both legs halved: everything still balances and adds up, but it is not what was paid
    tamper(
        engine,
        f"UPDATE journal_legs SET amount_fen = amount_fen / 2 WHERE entry_id = {release}",
        f"UPDATE journal_entries SET amount_fen = amount_fen / 2 WHERE id = {release}",
    )
    assert _first_broken(cli) == (
        f"journal entry {release}: altered after it was booked: its rows no longer match the digest audit "
        f"event {_claimant(engine, release)} recorded"
    )


def _claimant(engine, entry_id: int) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return next(
            e.id
            for e in uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if any(c[0] == entry_id for c in e.details.get(audit.JOURNAL_KEY, []))
        )


def test_an_edited_journal_entry_is_named(engine, cli, books):
    target = books["entries"][2]
    tamper(engine, f"UPDATE journal_entries SET booked_on = '2025-01-01' WHERE id = {target}")
    assert _first_broken(cli).startswith(f"journal entry {target}: altered")


def test_an_unbalanced_leg_is_named(engine, cli, books):
    target = books["entries"][3]
    tamper(
        engine,
        f"UPDATE journal_legs SET amount_fen = amount_fen + 1 WHERE entry_id = {target} AND amount_fen > 0",
    )
    broken = _first_broken(cli)
    assert broken.startswith(f"journal entry {target}: ")
    out = cli("audit", "verify")[1]
    assert f"journal entry {target}: its legs sum to 1 fen, not zero" in out


def test_a_deleted_journal_entry_is_named(engine, cli, books):
    target = books["entries"][2]
    tamper(
        engine,
        f"DELETE FROM journal_legs WHERE entry_id = {target}",
        f"DELETE FROM journal_entries WHERE id = {target}",
    )
    assert re.match(
        rf"journal entry {target}: missing: audit event \d+ recorded booking it", _first_broken(cli)
    )


def test_a_deleted_entry_leaves_orphan_legs_named(engine, cli, books):
    target = books["entries"][4]
    tamper(engine, f"DELETE FROM journal_entries WHERE id = {target}")
    code, out, _ = cli("audit", "verify")
    assert code == 1
    assert f"first broken link: journal entry {target}: missing" in out
    assert re.search(rf"journal leg \d+: refers to journal entry {target}, which does not exist", out)


def test_reordered_journal_entries_are_named(engine, cli, books):
    a, b = books["entries"][2], books["entries"][3]
    tamper(engine, *_swap("journal_entries", a, b, fk=("journal_legs", "entry_id")))
    assert _first_broken(cli).startswith(f"journal entry {a}: altered")


def test_a_forged_journal_entry_is_named(engine, cli, books):
    with UnitOfWork(engine, readonly=True) as uow:
        account_id = uow.projects.account_by_no(books["account_no"]).id
        top = uow.session.scalar(select(func.max(JournalLeg.id)))
    forged = books["entries"][-1] + 1
    tamper(
        engine,
        "INSERT INTO journal_entries (id, account_id, kind, booked_on, reference, amount_fen, created_at) "
        "VALUES "
        f"({forged}, {account_id}, 'deposit', '2026-11-22', 'deposit:999', 100000, '2026-11-22 10:00:00')",
        "INSERT INTO journal_legs (id, entry_id, account_id, ledger, amount_fen) "
        f"VALUES ({top + 1}, {forged}, {account_id}, 'cash', 100000), "
        f"({top + 2}, {forged}, {account_id}, 'buyer_funds', -100000)",
    )
    assert _first_broken(cli).startswith(f"journal entry {forged}: not recorded in the audit trail")


def _account_and_cash(engine, books) -> tuple[int, int]:
    with UnitOfWork(engine, readonly=True) as uow:
        account_id = uow.projects.account_by_no(books["account_no"]).id
        return account_id, uow.journal.summed_figures()[("ledger", account_id, "cash")]


def test_a_maintained_balance_edited_by_sql_is_named(engine, cli, books):
    """Someone raises an account's maintained cash balance: the caps would read it, the audit names it."""
    account_id, cash = _account_and_cash(engine, books)
    tamper(
        engine,
        "UPDATE account_balances SET balance_fen = balance_fen + 100 "
        f"WHERE account_id = {account_id} AND ledger = 'cash'",
    )
    assert _first_broken(cli) == (
        f"account {account_id}: the cash ledger's balance is {cash + 100} fen in the maintained sums, but "
        f"{cash} fen in the journal"
    )


def test_a_missing_or_invented_maintained_sum_is_named(engine, cli, books):
    account_id, _ = _account_and_cash(engine, books)
    with UnitOfWork(engine, readonly=True) as uow:
        deposits = uow.journal.summed_figures()[("kind", account_id, "deposit")]
    tamper(
        engine,
        f"DELETE FROM account_kind_totals WHERE account_id = {account_id} AND kind = 'deposit'",
        f"INSERT INTO account_balances (account_id, ledger, balance_fen) VALUES ({account_id}, 'fees', 5)",
    )
    code, out, _ = cli("audit", "verify")
    assert code == 1
    assert out.splitlines()[0] == (
        f"audit trail BROKEN: first broken link: account {account_id}: the deposit entries' total is missing "
        f"from the maintained sums; the journal's is {deposits} fen"
    )
    assert (
        f"  also: account {account_id}: the fees ledger's balance is 5 fen in the maintained sums, but the "
        "journal has no such rows"
    ) in out.splitlines()


def _chains(engine) -> dict[int, list[int]]:
    """chain → its events' ids in order."""
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.execute(select(AuditEvent.id, AuditEvent.chain).order_by(AuditEvent.id)).all()
    chains: dict[int, list[int]] = {}
    for event_id, chain in rows:
        chains.setdefault(chain, []).append(event_id)
    return chains


def _account_chain(engine, books) -> tuple[int, list[int]]:
    with UnitOfWork(engine, readonly=True) as uow:
        account_id = uow.projects.account_by_no(books["account_no"]).id
    return account_id, _chains(engine)[account_id]


def test_an_edited_audit_event_is_named(engine, cli, books):
    """The finding names the event and the chain it is on."""
    account_id, chain = _account_chain(engine, books)
    target = chain[len(chain) // 2]
    tamper(engine, f"UPDATE audit_events SET actor = 'user:999' WHERE id = {target}")
    assert (
        _first_broken(cli)
        == f"audit event {target} on account {account_id}'s chain: altered: its content no "
        "longer hashes to its stored hash"
    )


def test_an_edited_event_of_the_city_chain_is_named(engine, cli, books):
    target = _chains(engine)[audit.CITY_CHAIN][1]
    tamper(engine, f"UPDATE audit_events SET action = 'x.y' WHERE id = {target}")
    assert _first_broken(cli).startswith(f"audit event {target} on the city chain: altered")


def test_a_deleted_audit_event_is_named(engine, cli, books):
    """The next event of the same chain no longer links; other chains are untouched."""
    account_id, chain = _account_chain(engine, books)
    target = chain[len(chain) // 2]
    tamper(engine, f"DELETE FROM audit_events WHERE id = {target}")
    after = chain[chain.index(target) + 1]
    assert _first_broken(cli).startswith(
        f"audit event {after} on account {account_id}'s chain: its prev_hash is not the hash of audit event "
    )


def test_an_event_moved_to_another_chain_is_named(engine, cli, books):
    _, chain = _account_chain(engine, books)
    target = chain[2]
    tamper(engine, f"UPDATE audit_events SET chain = 0 WHERE id = {target}")
    assert _first_broken(cli).startswith(f"audit event {target} on the city chain: misfiled")


def test_reordered_audit_events_are_named(engine, cli, books):
    account_id, chain = _account_chain(engine, books)
    a, b = chain[3], chain[4]
    tamper(engine, *_swap("audit_events", a, b))
    assert _first_broken(cli).startswith(
        f"audit event {a} on account {account_id}'s chain: its prev_hash is not"
    )


def test_an_altered_claim_is_named_even_with_a_matching_journal_edit(engine, cli, books):
    """Editing a booking and the digest its event recorded breaks that event's hash."""
    target = books["entries"][1]
    with UnitOfWork(engine, readonly=True) as uow:
        event = next(
            e
            for e in uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if any(c[0] == target for c in e.details.get(audit.JOURNAL_KEY, []))
        )
        legs = list(uow.session.scalars(select(JournalLeg).where(JournalLeg.entry_id == target)))
        entry = uow.session.get(JournalEntry, target)
    forged = audit.entry_record(
        {**entry.model_dump(), "amount_fen": entry.amount_fen * 10},
        [{**leg.model_dump(), "amount_fen": leg.amount_fen * 10} for leg in legs],
    )
    details = {**event.details, audit.JOURNAL_KEY: [[target, audit.entry_digest(forged)]]}
    tamper(
        engine,
        f"UPDATE journal_legs SET amount_fen = amount_fen * 10 WHERE entry_id = {target}",
        f"UPDATE journal_entries SET amount_fen = amount_fen * 10 WHERE id = {target}",
        f"UPDATE audit_events SET details = '{json.dumps(details)}' WHERE id = {event.id}",
    )
    assert (
        _first_broken(cli) == f"audit event {event.id} on account {event.account_id}'s chain: altered: its "
        "content no longer hashes to its stored hash"
    )


def test_a_chain_cut_off_at_its_end_is_named_by_its_head(engine, cli, books):
    account_id, chain = _account_chain(engine, books)
    tamper(engine, f"DELETE FROM audit_events WHERE id = {chain[-1]}")  # the statement's event claims nothing
    assert _first_broken(cli) == (
        f"account {account_id}'s chain: ends at audit event {chain[-2]} after {len(chain) - 1} events, but "
        f"its head was audit event {chain[-1]} after {len(chain)} events: events were cut off or added"
    )


def test_a_rewritten_or_cut_off_chain_is_caught_by_an_anchor(engine, cli, books):
    """A tail cut off together with its head row still forms a chain; a head noted earlier (printed by
    verify, or the export's last event) must still be in it."""
    code, out, _ = cli("audit", "verify")
    head = re.search(r"head: event \d+ ([0-9a-f]{64})", out).group(1)
    assert cli("audit", "verify", "--anchor", head)[0] == 0
    account_id, chain = _account_chain(engine, books)
    assert chain[-1] == books["events"][-1]
    with UnitOfWork(engine, readonly=True) as uow:
        before = uow.session.get(AuditEvent, chain[-2])
    tamper(
        engine,
        f"DELETE FROM audit_events WHERE id = {chain[-1]}",  # the statement's event claims no booking
        f"UPDATE audit_heads SET head_id = {before.id}, head_hash = '{before.hash}', length = length - 1 "
        f"WHERE chain = {account_id}",
    )
    assert cli("audit", "verify")[0] == 0
    code, out, _ = cli("audit", "verify", "--anchor", head)
    assert code == 1 and f"the anchor {head} is not in it" in out


# --- anchors -----------------------------------------------------------------------------------------------


def _anchor(cli) -> str:
    code, out, _ = cli("audit", "anchor")
    assert code == 0, out
    root = out.splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", root), out
    return root


def test_an_anchor_commits_to_every_chains_head_and_is_itself_chained(engine, cli, books):
    from escrow.domain import merkle
    from escrow.store.models import AuditAnchor, AuditAnchorLeaf, AuditHead

    root = _anchor(cli)
    with UnitOfWork(engine, readonly=True) as uow:
        anchor = uow.session.scalars(select(AuditAnchor)).one()
        leaves = list(uow.session.scalars(select(AuditAnchorLeaf).order_by(AuditAnchorLeaf.chain)))
        heads = {h.chain: h for h in uow.session.scalars(select(AuditHead))}
        event = uow.session.get(AuditEvent, anchor.event_id)
    chains = _chains(engine)
    assert anchor.root == root and anchor.chains == len(leaves) == 2  # the city's and the account's
    for leaf in leaves:  # the heads as they stood: the city chain's then got the anchor's own event
        assert leaf.head_id == [i for i in chains[leaf.chain] if i < event.id][-1]
    assert merkle.root((leaf.chain, leaf.head_hash) for leaf in leaves) == root
    assert (
        event.chain == audit.CITY_CHAIN and event.action == audit.ANCHORED and event.details["root"] == root
    )
    assert heads[audit.CITY_CHAIN].head_id == event.id
    code, out, _ = cli("audit", "verify", "--anchor", root)
    assert code == 0 and "1 anchors (latest root " + root in out
    code, out, _ = cli("audit", "verify", "--anchor", "f" * 64)
    assert code == 1 and f"the anchor {'f' * 64} is not in it" in out


def test_a_changed_anchor_leaf_or_root_is_named(engine, cli, books):
    account_id, chain = _account_chain(engine, books)
    _anchor(cli)
    tamper(engine, f"UPDATE audit_anchor_leaves SET head_hash = '{'0' * 64}' WHERE chain = {account_id}")
    first = _first_broken(cli)
    assert first.startswith("audit anchor 1: its root ") and "is not the Merkle root of its leaves" in first
    out = cli("audit", "verify")[1]
    assert f"audit anchor 1: its leaf for account {account_id}'s chain names audit event {chain[-1]}" in out


def test_a_changed_anchor_root_is_named(engine, cli, books):
    _anchor(cli)
    tamper(engine, f"UPDATE audit_anchors SET root = '{'a' * 64}'")
    first = _first_broken(cli)
    assert first.startswith(f"audit anchor 1: its root {'a' * 64} is not the Merkle root of its leaves")


def test_a_chain_rewritten_after_an_anchor_is_named_by_it(engine, cli, books):
    """Someone rewrites an account's last event and re-hashes it, its head row too: the chain verifies on its
    own, the anchor taken before does not."""
    account_id, chain = _account_chain(engine, books)
    _anchor(cli)
    with UnitOfWork(engine, readonly=True) as uow:
        last = uow.session.get(AuditEvent, chain[-1])
        uow.session.expunge(last)
    last.actor = "user:999"
    forged = audit.event_hash(last.prev_hash, last)
    tamper(
        engine,
        f"UPDATE audit_events SET actor = 'user:999', hash = '{forged}' WHERE id = {last.id}",
        f"UPDATE audit_heads SET head_hash = '{forged}' WHERE chain = {account_id}",
    )
    assert _first_broken(cli).startswith(
        f"audit anchor 1: its leaf for account {account_id}'s chain names audit event {last.id}, which is on "
        f"account {account_id}'s chain with another hash"
    )


# --- the export --------------------------------------------------------------------------------------------


def test_export_verifies_on_its_own_and_by_the_readme_recipe(engine, cli, books, tmp_path):
    path = tmp_path / "trail.jsonl"
    code, out, _ = cli("audit", "export", "-o", str(path))
    assert code == 0, out
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["type"] for line in lines] == ["audit_event"] * len(books["events"]) + ["journal_entry"] * 7
    assert lines[0]["prev_hash"] == audit.GENESIS
    assert f"head: event {books['events'][-1]} {lines[len(books['events']) - 1]['hash']}" in out

    code, out, _ = cli("audit", "verify", "--file", str(path))
    assert code == 0 and out.startswith("audit trail intact")

    recipe = _readme_recipe()
    namespace = {"__name__": "recipe"}
    exec(compile(recipe, "README recipe", "exec"), namespace)
    last = lines[len(books["events"]) - 1]
    assert namespace["verify"](str(path))[last["chain"]] == last["hash"]

    # an edited amount in the file is caught by both
    tampered = tmp_path / "tampered.jsonl"
    text_ = path.read_text(encoding="utf-8")
    release = next(line for line in lines if line.get("kind") == "release")
    amount = release["amount_fen"]
    text_ = text_.replace(f'"amount_fen":{amount}', f'"amount_fen":{amount * 10}').replace(
        f'"amount_fen":-{amount}', f'"amount_fen":-{amount * 10}'
    )
    tampered.write_text(text_, encoding="utf-8")
    code, out, _ = cli("audit", "verify", "--file", str(tampered))
    assert code == 1 and f"first broken link: journal entry {release['id']}: altered" in out
    with pytest.raises(AssertionError, match=f"journal entry {release['id']}"):
        namespace["verify"](str(tampered))


def test_an_export_carries_the_anchors_and_verifies_them_on_its_own(engine, cli, books, tmp_path):
    root = _anchor(cli)
    path = tmp_path / "trail.jsonl"
    assert cli("audit", "export", "-o", str(path))[0] == 0
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[-1]["type"] == "audit_anchor" and lines[-1]["root"] == root
    code, out, _ = cli("audit", "verify", "--file", str(path), "--anchor", root)
    assert code == 0, out
    namespace = {"__name__": "recipe"}
    exec(compile(_readme_recipe(), "README recipe", "exec"), namespace)
    namespace["verify"](str(path))

    leaf = lines[-1]["leaves"][-1]
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(path.read_text(encoding="utf-8").replace(f'"{leaf[2]}"]', f'"{"1" * 64}"]'), "utf-8")
    code, out, _ = cli("audit", "verify", "--file", str(tampered))
    assert code == 1 and "first broken link: audit anchor 1: its root" in out
    with pytest.raises(AssertionError, match="audit anchor 1"):
        namespace["verify"](str(tampered))


def _readme_recipe() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- audit-recipe -->\s*```python\n(.*?)```", readme, re.S)
    assert match, "the README's verifier recipe is missing"
    return match.group(1)


def test_export_refuses_a_file_it_cannot_read(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "journal_entry", "id": 1}\nnot json\n', encoding="utf-8")
    code, _, err = cli("audit", "verify", "--file", str(bad))
    assert code == 1 and err.startswith("escrow: error: bad.jsonl line 2: not JSON")
    bad.write_text('{"type": "audit_event", "id": 1}\n', encoding="utf-8")
    code, _, err = cli("audit", "verify", "--file", str(bad))
    assert code == 1 and err.startswith("escrow: error: bad.jsonl: a line lacks the field")
    code, _, err = cli("audit", "verify", "--file", str(tmp_path / "none.jsonl"))
    assert code == 1 and "no such file" in err


def test_the_verifier_reads_what_the_service_wrote(engine, books):
    """The library call behind the command: a report with counts and the head."""
    report = auditing.verify(engine)
    assert report.ok and report.entries == 7 and report.legs == 14
    assert report.head_id == books["events"][-1]
    assert Path(REPO / "README.md").exists()
