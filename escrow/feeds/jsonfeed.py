"""The JSON statement of CONTRACT.md §3 (``POST /api/v1/statements`` with ``application/json``).

``{account_no, statement_date, opening_balance, closing_balance, currency?, lines: [{bank_reference,
booked_on, amount, direction, counterparty_name, counterparty_account, remittance, kind?}]}`` - or a list of
such objects. Money is a decimal string as everywhere on the API; a JSON number is refused, naming the field.
A line's ``kind`` (CONTRACT.md §9) is "payment" (the default), "interest" (a credit) or "fee" (a debit).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from escrow.domain.money import MoneyError, parse_wire
from escrow.feeds.model import (
    CREDIT,
    DEBIT,
    KIND_DIRECTION,
    KINDS,
    PAYMENT,
    FeedError,
    ParsedStatement,
    StatementLine,
    new_line,
)


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise FeedError(f"the member {key!r} appears twice in one object")
        result[key] = value
    return result


def parse_json(data: bytes) -> list[ParsedStatement]:
    try:
        document = json.loads(data, object_pairs_hook=_no_duplicate_members)
    except UnicodeDecodeError:
        raise FeedError("the JSON is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        message = f"the JSON is not well-formed: {exc.msg} (column {exc.colno})"
        raise FeedError(message, line=exc.lineno) from None
    if isinstance(document, dict):
        return [_statement(document, "")]
    if isinstance(document, list):
        if not document:
            raise FeedError("the JSON list holds no statement")
        return [_statement(item, f"[{index}].") for index, item in enumerate(document)]
    raise FeedError("the JSON must be a statement object (or a list of them)")


def _string(obj: dict[str, Any], key: str, path: str, *, required: bool) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise FeedError("is required", field=path + key)
        return ""
    if not isinstance(value, str):
        raise FeedError(f"must be a string, not {_kind(value)}", field=path + key)
    value = value.strip()
    if required and not value:
        raise FeedError("must not be empty", field=path + key)
    return value


def _date(obj: dict[str, Any], key: str, path: str, *, required: bool) -> date | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise FeedError("is required", field=path + key)
        return None
    if not isinstance(value, str):
        raise FeedError(f"must be a date string YYYY-MM-DD, not {_kind(value)}", field=path + key)
    try:
        if len(value.strip()) != 10:
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FeedError(f"{value!r} is not a date (YYYY-MM-DD)", field=path + key) from None


def _money(value: Any, field: str, *, signed: bool) -> Decimal:
    try:
        if signed and isinstance(value, str) and value.strip().startswith("-"):
            return -parse_wire(value.strip()[1:], positive=False) + 0  # "+ 0" turns -0.00 into 0.00
        return parse_wire(value, positive=not signed)
    except MoneyError as exc:
        text = str(exc)
        if not isinstance(value, str) and not isinstance(value, bool) and isinstance(value, int | float):
            text = 'must be a decimal string such as "1234.50", not a JSON number'
        elif not isinstance(value, str):
            text = f'must be a decimal string such as "1234.50", not {_kind(value)}'
        raise FeedError(text, field=field) from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return type(value).__name__


def _statement(doc: Any, path: str) -> ParsedStatement:
    if not isinstance(doc, dict):
        where = path.rstrip(".") or "statement"
        raise FeedError(f"must be a statement object, not {_kind(doc)}", field=where)
    account_no = _string(doc, "account_no", path, required=True)
    currency = _string(doc, "currency", path, required=False).upper() or None
    statement_date = _date(doc, "statement_date", path, required=False)
    balances: dict[str, Decimal | None] = {}
    for key in ("opening_balance", "closing_balance"):
        value = doc.get(key)
        balances[key] = None if value is None else _money(value, path + key, signed=True)
    raw_lines = doc.get("lines")
    if raw_lines is None:
        raise FeedError("is required (a list, possibly empty)", field=path + "lines")
    if not isinstance(raw_lines, list):
        raise FeedError(f"must be a list, not {_kind(raw_lines)}", field=path + "lines")
    lines: list[StatementLine] = []
    first_seen: dict[str, int] = {}
    for index, item in enumerate(raw_lines):
        where = f"{path}lines[{index}]."
        if not isinstance(item, dict):
            raise FeedError(f"must be an object, not {_kind(item)}", field=where.rstrip("."))
        reference = _string(item, "bank_reference", where, required=True)
        if reference in first_seen:
            raise FeedError(
                f"{reference!r} repeats {path}lines[{first_seen[reference]}].bank_reference",
                field=where + "bank_reference",
            )
        first_seen[reference] = index
        booked_on = _date(item, "booked_on", where, required=True)
        if "amount" not in item:
            raise FeedError("is required", field=where + "amount")
        amount = _money(item["amount"], where + "amount", signed=False)
        direction = item.get("direction")
        if direction not in (CREDIT, DEBIT):
            raise FeedError(f'must be "credit" or "debit", not {direction!r}', field=where + "direction")
        kind = item.get("kind")
        if kind is None:
            kind = PAYMENT
        elif kind not in KINDS:
            raise FeedError(f'must be "payment", "interest" or "fee", not {kind!r}', field=where + "kind")
        elif KIND_DIRECTION.get(kind, direction) != direction:
            raise FeedError(
                f'a line of kind "{kind}" is a {KIND_DIRECTION[kind]}, not a {direction}',
                field=where + "kind",
            )
        lines.append(
            new_line(
                index + 1,
                reference,
                booked_on,
                amount,
                direction,
                _string(item, "counterparty_name", where, required=False),
                _string(item, "counterparty_account", where, required=False),
                _string(item, "remittance", where, required=False),
                currency,
                kind,
            )
        )
    if statement_date is None:
        if not lines:
            raise FeedError("is required when the statement has no lines", field=path + "statement_date")
        statement_date = max(line.booked_on for line in lines)
    reference = doc.get("statement_id")
    return ParsedStatement(
        format="json",
        account_no=account_no,
        currency=currency,
        statement_date=statement_date,
        opening_balance=balances["opening_balance"],
        closing_balance=balances["closing_balance"],
        lines=lines,
        reference=reference if isinstance(reference, str) and reference.strip() else None,
    )
