"""Bulk loads: rows written in batches instead of one use case a row (the big demo cities).

`BulkRows` buffers rows of the high-volume tables (contracts, payment notices, deposits, journal entries and
legs, vouchers, audit events) as plain dicts and writes them when `flush` is called: on PostgreSQL with COPY
(psycopg's `cursor.copy`, on the driver connection under the session's own transaction), on SQLite with one
executemany per table. The caller builds each row exactly as its use case would (escrow.services.bulk); this
module only knows the tables.

What the use cases keep besides the rows is kept here too, so that the books after a flush are those the use
cases would have left:

- ids are drawn before the rows are written (a notice's or a voucher's number and a journal entry's digest
  carry them) and in the order the rows are buffered: the first id of a table after a flush is the next value
  of its sequence on PostgreSQL (`nextval`), max(id) + 1 on SQLite; the following ones are counted here, and
  the flush sets the sequence to the last one (`setval`). So ids grow with time across bulk rows and the rows
  the services write between flushes (a chain is walked, and an account's journal read, in id order). The
  load must be the database's only writer meanwhile (the demo seeds an empty database). On PostgreSQL the
  tables whose ids need not follow time (contracts, notices, deposits, vouchers, journal legs) may instead
  have a block of ids reserved at once (`reserve`: the sequence is moved past it), which saves two round
  trips a table and flush; the use cases' own rows of those tables then take ids after the block.
- each audit event extends its chain's head as this transaction holds it (`audit.held_head`, the list
  `audit.record` extends), its hash computed by `audit.chain_hash` over `audit.hashed_body`; the flush writes
  the heads' rows as `record` does.
- the maintained sums (`account_balances`, `account_kind_totals`) are added to by the flush, one upsert per
  (account, ledger) and (account, kind), as `Journal.post` adds each entry.
- a notice a later payment settles is marked paid by the flush (or in the buffer, before it is written).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from escrow.store import audit
from escrow.store.models import (
    AccountBalance,
    AccountKindTotal,
    AuditEvent,
    AuditHead,
    Contract,
    Deposit,
    JournalEntry,
    JournalLeg,
    PaymentNotice,
    Voucher,
)
from escrow.store.repos.journal import upsert_insert

# in the order they are written (each refers only to tables before it)
TABLES = {
    "contracts": Contract.__table__,
    "payment_notices": PaymentNotice.__table__,
    "deposits": Deposit.__table__,
    "journal_entries": JournalEntry.__table__,
    "journal_legs": JournalLeg.__table__,
    "vouchers": Voucher.__table__,
    "audit_events": AuditEvent.__table__,
}
JSON_COLUMNS = {("deposits", "checks"), ("audit_events", "details")}
IN_TIME = ("journal_entries", "audit_events")  # read in id order: their ids must follow time, never a block


class BulkRows:
    """Rows buffered for one transaction's session, written by `flush` (see the module's docstring)."""

    def __init__(self, session: Session):
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.last_id: dict[str, int] = {}  # table → the last id drawn since the last flush
        self.drawn: dict[str, int] = {}  # table → an id drawn from its sequence and not yet used
        self.paid_notices: set[int] = set()  # written notices a buffered payment settled
        self.balances: dict[tuple[int, str], int] = defaultdict(int)  # (account, ledger) → fen to add
        self.kind_totals: dict[tuple[int, str], int] = defaultdict(int)  # (account, kind) → fen to add
        self.heads: dict[int, list[Any]] = {}  # chains extended since the last flush
        self.pending_notices: dict[int, dict[str, Any]] = {}  # notice id → its buffered row
        self.blocks: dict[str, list[int]] = {}  # table → [next id, last id] of its reserved block

    def reserve(self, counts: dict[str, int]) -> None:
        """On PostgreSQL, a block of ids for each of these tables (not IN_TIME), moved past in its sequence
        at once; on SQLite nothing (the next id there is max(id) + 1, which a block not yet written would
        not move)."""
        if not self.postgres:
            return
        for table, n in counts.items():
            if table in IN_TIME or n <= 0:
                raise ValueError(f"no block of ids for {table}")
            seq = func.pg_get_serial_sequence(table, "id")
            last = self.session.execute(select(func.setval(seq, func.nextval(seq) + n - 1))).scalar_one()
            self.blocks[table] = [int(last) - n + 1, int(last)]

    # -- ids ---------------------------------------------------------------------------------------------

    def next_id(self, table: str) -> int:
        block = self.blocks.get(table)
        if block is not None and block[0] <= block[1]:
            block[0] += 1
            return block[0] - 1
        last = self.last_id.get(table)
        if last is None:
            if self.postgres:
                wanted = IN_TIME if table in IN_TIME else (table,)  # drawn together: one round trip
                drawn_all = self.session.execute(
                    select(*(func.nextval(func.pg_get_serial_sequence(t, "id")) for t in wanted))
                ).one()
                for t, value in zip(wanted, drawn_all, strict=True):
                    if t != table and t not in self.last_id:
                        self.last_id[t] = int(value) - 1  # its next id is `value`: counted on from here
                        self.drawn[t] = int(value)
                drawn = drawn_all[wanted.index(table)]
            else:
                column = TABLES[table].c.id
                drawn = self.session.execute(select(func.coalesce(func.max(column), 0) + 1)).scalar_one()
            self.last_id[table] = int(drawn)
            return int(drawn)
        self.last_id[table] = last + 1
        return last + 1

    # -- rows --------------------------------------------------------------------------------------------

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.rows[table].append(row)
        if table == "payment_notices":
            self.pending_notices[row["id"]] = row
        return row

    def notice_paid(self, notice_id: int) -> None:
        """A payment booked now settles this notice."""
        row = self.pending_notices.get(notice_id)
        if row is not None:
            row["status"] = "paid"
        else:
            self.paid_notices.add(notice_id)

    def add_to_sums(self, account_id: int, ledger_sums: dict[str, int], kind: str, amount_fen: int) -> None:
        for name, fen in ledger_sums.items():
            self.balances[(account_id, name)] += fen
        self.kind_totals[(account_id, kind)] += amount_fen

    def event(self, row: dict[str, Any]) -> dict[str, Any]:
        """An audit event (its columns but id, prev_hash, hash and chain): chained to its chain's head as
        `audit.record` chains it, given its id, and buffered. The head moves on at once."""
        chain = audit.chain_of(row["account_id"])
        head = audit.held_head(self.session, chain)
        row["prev_hash"] = head[1]
        row["hash"] = audit.chain_hash(head[1], audit.hashed_body(row))
        row["chain"] = chain
        row["id"] = self.next_id("audit_events")
        head[:] = [row["id"], row["hash"], head[2] + 1]
        self.heads[chain] = head
        return self.add("audit_events", row)

    # -- writing -----------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything buffered, then the notices settled, the maintained sums, the chains' heads and
        the sequences; returns how many rows were written."""
        self.session.flush()
        written = 0
        for name, table in TABLES.items():
            rows = self.rows[name]
            if not rows:
                continue
            columns = list(rows[0])
            if self.postgres:
                self._copy(name, columns, rows)
            else:
                self.session.execute(insert(table), rows)
            written += len(rows)
            self.rows[name] = []
        self.pending_notices = {}
        if self.paid_notices:
            notices = PaymentNotice.__table__
            self.session.execute(
                update(notices).where(notices.c.id == bindparam("id_")).values(status="paid"),
                [{"id_": i} for i in sorted(self.paid_notices)],
            )
            for notice_id in self.paid_notices:  # the session's copy, if it holds one, is stale now
                held = self.session.identity_map.get(self.session.identity_key(PaymentNotice, notice_id))
                if held is not None:
                    self.session.expire(held)
            self.paid_notices = set()
        self._write_sums()
        if self.heads:
            h = AuditHead.__table__
            self.session.execute(
                update(h)
                .where(h.c.chain == bindparam("chain_"))
                .values(head_id=bindparam("id_"), head_hash=bindparam("hash_"), length=bindparam("length_")),
                [
                    {"chain_": chain, "id_": head[0], "hash_": head[1], "length_": head[2]}
                    for chain, head in sorted(self.heads.items())
                ],
            )
            self.heads = {}
        if self.postgres and self.last_id:  # the sequences moved past what was drawn: one statement
            moved = {name: max(last, self.drawn.get(name, last)) for name, last in self.last_id.items()}
            self.session.execute(
                select(*(func.setval(func.pg_get_serial_sequence(t, "id"), v) for t, v in moved.items()))
            )
        self.last_id, self.drawn = {}, {}
        return written

    def flush_sums(self) -> bool:
        """On PostgreSQL: write only the maintained sums and move the sequences past the ids drawn since the
        last flush (a block's tables have nothing to move), so that a use case that reads nothing else of
        the buffered rows (a cap) sees the books as they are and its own events and entries take later ids;
        the rows stay buffered. False on SQLite, whose next id is max(id) + 1: there the rows must be
        written first (`flush`)."""
        if not self.postgres:
            return False
        self.session.flush()
        self._write_sums()
        moved = {t: max(last, self.drawn.get(t, last)) for t, last in self.last_id.items()}
        if moved:
            self.session.execute(
                select(*(func.setval(func.pg_get_serial_sequence(t, "id"), v) for t, v in moved.items()))
            )
            self.last_id, self.drawn = {}, {}  # the next ids are drawn afresh, after the use case's
        return True

    def _copy(self, name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        json_at = [i for i, c in enumerate(columns) if (name, c) in JSON_COLUMNS]
        driver = self.session.connection().connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                values = [row[c] for c in columns]
                for i in json_at:
                    values[i] = json.dumps(values[i])
                copy.write_row(values)

    def _write_sums(self) -> None:
        insert_ = upsert_insert(self.session)
        for table, key, value, sums in (
            (AccountBalance.__table__, "ledger", "balance_fen", self.balances),
            (AccountKindTotal.__table__, "kind", "total_fen", self.kind_totals),
        ):
            if not sums:
                continue
            stmt = insert_(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.account_id, table.c[key]],
                set_={value: table.c[value] + stmt.excluded[value]},
            )
            self.session.execute(
                stmt, [{"account_id": a, key: k, value: fen} for (a, k), fen in sorted(sums.items())]
            )
            sums.clear()
