"""The public voucher look-up's read: one statement of plain driver SQL (`escrow.store.driver`), built once
per dialect, because SQLAlchemy's statement building would be most of the cost of a look-up."""

from __future__ import annotations

from typing import Any

from escrow.store.driver import DriverSQL

_LOOKUP = (
    "SELECT v.voucher_no, v.verification_code, v.status, d.amount_fen, d.value_date, p.name, a.account_no, "
    "b.name FROM vouchers v JOIN deposits d ON d.id = v.deposit_id "
    "JOIN supervised_accounts a ON a.id = v.account_id JOIN projects p ON p.id = a.project_id "
    "JOIN banks b ON b.id = a.bank_id WHERE v.voucher_no = {0}"
)


def voucher_for_lookup(sql: DriverSQL, voucher_no: str) -> tuple[Any, ...] | None:
    """(voucher no, verification code, status, amount in fen, value date, project name, account no, bank
    name) of the voucher with this number, or None; the value date as the driver returns it (ISO text on
    SQLite)."""
    rows = sql.rows(_LOOKUP, (voucher_no,))
    return rows[0] if rows else None
