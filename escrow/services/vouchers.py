"""Public voucher verification (CONTRACT.md §3, Public): a buyer confirms that the money is in the account.

No key is needed, so the answer must not help anyone guess: an unknown voucher number, a wrong code and a
malformed number or code all answer "no match" identically, after the same work — the same one query (by
voucher number, a miss or a hit), a constant-time comparison of the code (against a dummy when there is no
voucher), and the same rate-limit update, in the same transaction. Every look-up counts against the
client's limit (`ratelimit.Limit`), and a failed one also counts as a failure.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from escrow.domain.money import Money, from_fen
from escrow.services import ratelimit
from escrow.services.context import Context
from escrow.store.db import Connection
from escrow.store.driver import Busy, DriverSQL, counting_at_once, counting_transaction
from escrow.store.reads.pages import DatabaseUnavailable  # noqa: F401 (the look-up page answers 503 on it)
from escrow.store.reads.vouchers import voucher_for_lookup

MAX_INPUT = 64  # longer input cannot match anything; it is cut before it is used
_VOUCHER_NO = re.compile(r"[0-9A-Z-]{1,40}")
_NOT_CODE = re.compile(r"[^0-9A-Z]")
# Crockford's base32 reads O as 0 and I, L as 1: a code typed from paper is forgiven those slips.
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
_DUMMY_CODE = "00000-00000"

STATUSES = ("issued", "confirmed", "receipted", "reversed", "refunded")
STATUS_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "issued": "已入账：监管银行已将款项记入监管账户",
        "confirmed": "已核对：款项已与监管银行对账单核对一致",
        "receipted": "已开票：开发企业已凭本凭证开具缴款票据",
        "reversed": "已冲正：该笔入账已被银行撤销，款项不在监管账户中",
        "refunded": "已退款：该笔款项已退还购房人",
    },
    "en": {
        "issued": "Paid in: the supervising bank has booked the money into the supervised account",
        "confirmed": "Confirmed: the payment matches a line of the bank's statement",
        "receipted": "Receipt issued: the developer has issued the receipt for this voucher",
        "reversed": "Reversed: the bank cancelled this posting; the money is not in the supervised account",
        "refunded": "Refunded: the money has been paid back to the buyer",
    },
}


def normalise_voucher_no(raw: str | None) -> str:
    """Upper case, trimmed; anything but letters, digits and hyphens (a NUL byte, a quote) is no voucher
    number at all and becomes "" — still looked up, so that it costs the same and matches nothing."""
    number = (raw or "").strip().upper()[:MAX_INPUT]
    return number if _VOUCHER_NO.fullmatch(number) else ""


def normalise_code(raw: str | None) -> str:
    """`abcde fghjk`, `ABCDEFGHJK`, `ABCDE-FGHJK` → `ABCDE-FGHJK` (O read as 0, I and L as 1)."""
    chars = _NOT_CODE.sub("", (raw or "").upper()[:MAX_INPUT]).translate(_TYPO)
    return f"{chars[:5]}-{chars[5:]}" if len(chars) == 10 else chars


def mask_account(account_no: str) -> str:
    """6222000011112222 → 6222********2222: enough for a buyer to recognise the account on the notice."""
    if len(account_no) > 8:
        return account_no[:4] + "*" * (len(account_no) - 8) + account_no[-4:]
    return "*" * max(0, len(account_no) - 2) + account_no[-2:]


VoucherStatus = Literal["issued", "confirmed", "receipted", "reversed", "refunded"]


@dataclass(frozen=True)
class PublicVoucher:
    """What a buyer sees of a voucher: its status in words, in the language asked for."""

    voucher_no: str
    status: VoucherStatus
    status_text: str
    amount: Money
    paid_on: date  # the value date of the payment
    project_name: str
    account_no_masked: str  # 6222********2222
    bank_name: str


@dataclass(frozen=True)
class Found:
    voucher_no: str
    status: VoucherStatus
    amount: Money
    paid_on: date
    project_name: str
    account_no_masked: str
    bank_name: str

    def view(self, lang: str = "zh") -> PublicVoucher:
        return PublicVoucher(
            voucher_no=self.voucher_no,
            status=self.status,
            status_text=status_words(self.status, lang),
            amount=self.amount,
            paid_on=self.paid_on,
            project_name=self.project_name,
            account_no_masked=self.account_no_masked,
            bank_name=self.bank_name,
        )


@dataclass(frozen=True)
class Lookup:
    """The outcome: `found` is None for "no match" (whatever the reason); `limited` when over the limit,
    in which case nothing about the voucher may be shown."""

    found: Found | None
    limited: bool
    retry_after: int


def status_words(status: str, lang: str = "zh") -> str:
    return STATUS_WORDS.get(lang, STATUS_WORDS["zh"]).get(status, status)


# The look-up is the public hot path (see docs/BENCHMARKS.md): two statements sent as plain driver SQL, built
# once per dialect (escrow.store.driver), skip SQLAlchemy's statement building and compilation (most of the
# cost of a look-up).


def verify(
    ctx: Context, voucher_no: str | None, code: str | None, client: str | None, limit: ratelimit.Limit
) -> Lookup:
    """The public look-up of a voucher by `client` (its address), counted against its limit: `lookup` in a
    transaction of its own, committed whatever the answer (the count must be kept), on a pooled driver
    connection (SQLAlchemy's own execution costs more than the two statements)."""
    if ctx.engine is None:
        raise RuntimeError("the public look-up needs the database")
    with counting_transaction(ctx.engine) as sql:
        return lookup(sql, voucher_no, code, client, limit)


def verify_at_once(
    ctx: Context, voucher_no: str | None, code: str | None, client: str | None, limit: ratelimit.Limit
) -> Lookup | None:
    """`verify` without waiting, for the event loop on SQLite: each statement commits on its own, on a
    connection that never waits for a lock. None when another writer holds the database (nothing was
    counted): then `verify` in a worker thread."""
    if ctx.engine is None:
        raise RuntimeError("the public look-up needs the database")
    try:
        with counting_at_once(ctx.engine) as sql:
            return lookup(sql, voucher_no, code, client, limit)
    except Busy:
        return None


def lookup(
    sql: Connection | DriverSQL,
    voucher_no: str | None,
    code: str | None,
    client: str | None,
    limit: ratelimit.Limit,
    *,
    now: datetime | None = None,
) -> Lookup:
    """Look a voucher up by number and verification code for `client` (its address), and count the look-up,
    in the caller's transaction (a SQLAlchemy connection, or a driver cursor)."""
    sql = sql if isinstance(sql, DriverSQL) else DriverSQL.on(sql)
    number = normalise_voucher_no(voucher_no)
    given = normalise_code(code)
    row = voucher_for_lookup(sql, number)
    expected = row[1] if row is not None else _DUMMY_CODE
    matches = hmac.compare_digest(given.encode(), expected.encode()) and row is not None
    key = ratelimit.client_key(ratelimit.VOUCHER_LOOKUP, client)
    hit = ratelimit.hit(sql, key, limit, failed=not matches, now=now)
    if hit.limited or not matches:
        return Lookup(found=None, limited=hit.limited, retry_after=hit.retry_after)
    number, _, status, amount_fen, value_date, project_name, account_no, bank_name = row
    found = Found(
        voucher_no=number,
        status=status,
        amount=from_fen(amount_fen),
        paid_on=value_date if isinstance(value_date, date) else date.fromisoformat(value_date),
        project_name=project_name,
        account_no_masked=mask_account(account_no),
        bank_name=bank_name,
    )
    return Lookup(found=found, limited=False, retry_after=hit.retry_after)
