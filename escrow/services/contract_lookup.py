"""A buyer looks up their own contract (CONTRACT.md §10): its payments with their voucher status, the money
paid that stayed in the account, and the construction nodes of the building with the dates reached.

No key is needed; the contract number and the last six characters of the buyer's ID number stand in for
one. So the answer must not help anyone guess, exactly as the voucher look-up (escrow.services.vouchers):

- an unknown contract and a wrong ID suffix are one answer ("no match"), after the same work: the one
  statement reading the contract by number (a hit or a miss), a constant-time comparison of the suffix
  (against a dummy when there is no contract), and the same rate-limit update, in one transaction;
- every look-up counts against the client's limit in the bucket of the voucher look-up (one limit for
  both: guessing contracts spends the budget of guessing vouchers), and a "no match" counts as a failure,
  which the alert rule on guessed look-ups watches;
- a malformed suffix (not six letters or digits) is the client's syntax error, refused before any of it
  (`InvalidInput`, 422): it tells nothing about any contract.

The suffix is compared and forgotten: it is never logged, audited or stored.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from escrow.domain.errors import FieldError, InvalidInput
from escrow.domain.identifiers import identifier_problem
from escrow.domain.money import Money, from_fen
from escrow.domain.rulebook import RuleBook
from escrow.services import ratelimit
from escrow.services.context import Context
from escrow.services.vouchers import MAX_INPUT, VoucherStatus, mask_account, status_words
from escrow.store.db import Connection
from escrow.store.driver import DriverSQL, counting_transaction
from escrow.store.reads.public import contract_for_lookup, contract_nodes, contract_payments

SUFFIX_LENGTH = 6
# A resident ID ends in a digit or X; passports and permits (6–20 letters and digits) in either
_SUFFIX = re.compile(r"[0-9A-Z]{6}")
_DUMMY_SUFFIX = "000000"
# What stayed in the account: a reversed posting never was the buyer's money there, a refunded one left
GONE = frozenset({"reversed", "refunded"})

ContractStatus = Literal["signed", "cancelled"]
CONTRACT_WORDS: dict[str, dict[str, str]] = {
    "zh": {"signed": "已签约", "cancelled": "已解除（退房）"},
    "en": {"signed": "Signed", "cancelled": "Cancelled"},
}


def normalise_suffix(raw: str | None) -> str:
    """The last six characters of an ID number as typed (` 00011x ` → `00011X`); InvalidInput (422) if they
    are not six letters or digits."""
    value = (raw or "").strip().upper()[:MAX_INPUT]
    if not _SUFFIX.fullmatch(value):
        raise InvalidInput(
            "id_last6 must be the last 6 characters of the buyer's ID number: 6 digits or letters",
            rule="public.id_last6",
            errors=[FieldError.coded("id_last6", "id_suffix")],
        )
    return value


def normalise_contract_no(raw: str | None) -> str:
    """The number as typed, without the spaces around it; a value no contract number can be becomes "" —
    still looked up, so that it costs the same and matches nothing."""
    number = (raw or "").strip()
    return "" if len(number) > MAX_INPUT or identifier_problem(number) is not None else number


@dataclass(frozen=True)
class ContractPayment:
    voucher_no: str
    amount: Money
    paid_on: date  # the value date of the payment
    status: VoucherStatus
    status_text: str


@dataclass(frozen=True)
class ContractNode:
    code: str
    name: str  # in the language asked for
    reached_on: date | None  # None: not reached yet


@dataclass(frozen=True)
class PublicContract:
    """What a buyer sees of their contract; nothing of any other buyer, not even their own name or ID."""

    contract_no: str
    project_name: str
    unit: str
    status: ContractStatus
    status_text: str
    paid_total: Money  # payments neither reversed nor refunded
    payments: list[ContractPayment]
    nodes: list[ContractNode]
    account_no_masked: str  # 6222********2222
    bank_name: str


@dataclass(frozen=True)
class Found:
    """The contract as read, in no language yet."""

    contract_no: str
    project_name: str
    unit: str
    status: str
    payments: list[tuple[str, int, date, str]]
    nodes: list[tuple[str, str, str, date | None]]  # (code, name zh, name en, reached on)
    account_no_masked: str
    bank_name: str

    def view(self, lang: str = "zh") -> PublicContract:
        english = lang == "en"
        kept = sum(fen for _, fen, _, status in self.payments if status not in GONE)
        return PublicContract(
            contract_no=self.contract_no,
            project_name=self.project_name,
            unit=self.unit,
            status="cancelled" if self.status == "cancelled" else "signed",
            status_text=CONTRACT_WORDS["en" if english else "zh"].get(self.status, self.status),
            paid_total=from_fen(kept),
            payments=[
                ContractPayment(no, from_fen(fen), paid_on, status, status_words(status, lang))
                for no, fen, paid_on, status in self.payments
            ],
            nodes=[
                ContractNode(code, name_en if english else name_zh, reached)
                for code, name_zh, name_en, reached in self.nodes
            ],
            account_no_masked=self.account_no_masked,
            bank_name=self.bank_name,
        )


@dataclass(frozen=True)
class Lookup:
    """`found` is None for "no match" (whatever the reason); `limited` when over the limit, in which case
    nothing about the contract may be shown."""

    found: Found | None
    limited: bool
    retry_after: int


def look_up(
    ctx: Context,
    contract_no: str | None,
    id_last6: str | None,
    client: str | None,
    limit: ratelimit.Limit,
) -> Lookup:
    """The public look-up of a contract by `client` (its address), counted against its limit, in a
    transaction of its own committed whatever the answer (the count must be kept). InvalidInput for a
    malformed suffix, before anything is read or counted."""
    suffix = normalise_suffix(id_last6)
    if ctx.engine is None:
        raise RuntimeError("the public look-up needs the database")
    with counting_transaction(ctx.engine) as sql:
        return lookup(sql, ctx.rulebook, contract_no, suffix, client, limit)


def lookup(
    sql: Connection | DriverSQL,
    rulebook: Callable[[str], RuleBook],
    contract_no: str | None,
    suffix: str,
    client: str | None,
    limit: ratelimit.Limit,
    *,
    now: datetime | None = None,
) -> Lookup:
    """Look a contract up by number and ID suffix (normalised) for `client`, and count the look-up, in the
    caller's transaction."""
    sql = sql if isinstance(sql, DriverSQL) else DriverSQL.on(sql)
    row = contract_for_lookup(sql, normalise_contract_no(contract_no))
    expected = row[2][-SUFFIX_LENGTH:].upper() if row is not None else _DUMMY_SUFFIX
    matches = hmac.compare_digest(suffix.encode(), expected.encode()) and row is not None
    key = ratelimit.client_key(ratelimit.VOUCHER_LOOKUP, client)  # one bucket with the voucher look-up
    hit = ratelimit.hit(sql, key, limit, failed=not matches, now=now)
    if hit.limited or not matches:
        return Lookup(found=None, limited=hit.limited, retry_after=hit.retry_after)
    contract_id, number, _, unit, status, project_name, rulebook_id, account_no, bank_name = row
    reached = contract_nodes(sql, contract_id)
    book = rulebook(rulebook_id)
    found = Found(
        contract_no=number,
        project_name=project_name,
        unit=unit,
        status=status,
        payments=contract_payments(sql, contract_id),
        nodes=[(n.code, n.name_zh, n.name_en, reached.get(n.code)) for n in book.nodes],
        account_no_masked=mask_account(account_no),
        bank_name=bank_name,
    )
    return Lookup(found=found, limited=False, retry_after=hit.retry_after)
