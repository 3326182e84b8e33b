"""The buyer's contract look-up (CONTRACT.md §10): plain driver SQL (`escrow.store.driver`), like the voucher
look-up it shares a rate limit and a transaction shape with.

`contract_for_lookup` is the one statement run for every look-up, a hit or a miss alike; the other two run
only once the buyer's ID suffix has matched. Nodes are read through `contract_nodes` alone, so that where
nodes are confirmed per building the contract's building is read here and nowhere else.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from escrow.store.driver import DriverSQL

_CONTRACT = (
    "SELECT c.id, c.contract_no, c.buyer_id_no, c.unit, c.status, p.name, p.rulebook_id, a.account_no, "
    "b.name FROM contracts c JOIN projects p ON p.id = c.project_id "
    "JOIN supervised_accounts a ON a.id = c.account_id JOIN banks b ON b.id = a.bank_id "
    "WHERE c.contract_no = {0}"
)
_PAYMENTS = (
    "SELECT v.voucher_no, d.amount_fen, d.value_date, v.status FROM vouchers v "
    "JOIN deposits d ON d.id = v.deposit_id WHERE d.contract_id = {0} ORDER BY d.value_date, v.id"
)
_NODES = (
    "SELECT n.node_code, n.reached_on FROM node_confirmations n "
    "JOIN contracts c ON c.project_id = n.project_id "
    "WHERE c.id = {0} AND (n.building_id IS NULL OR n.building_id = c.building_id)"
)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)  # ISO text on SQLite


def contract_for_lookup(sql: DriverSQL, contract_no: str) -> tuple[Any, ...] | None:
    """(contract id, contract no, buyer's ID number, unit, status, project name, rule book id, account no,
    bank name) of the contract with this number, or None."""
    rows = sql.rows(_CONTRACT, (contract_no,))
    return rows[0] if rows else None


def contract_payments(sql: DriverSQL, contract_id: int) -> list[tuple[str, int, date, str]]:
    """(voucher no, amount in fen, value date, voucher status) of every deposit booked to the contract, in
    the order they were paid."""
    return [(no, fen, _date(paid), status) for no, fen, paid, status in sql.rows(_PAYMENTS, (contract_id,))]


def contract_nodes(sql: DriverSQL, contract_id: int) -> dict[str, date]:
    """Node code → the date it was reached, for the nodes confirmed for the contract's building (those of
    the whole project count for every building; a contract that names no building sees the project's)."""
    return {code: _date(reached) for code, reached in sql.rows(_NODES, (contract_id,))}
