"""The city overview behind the dashboard's charts and risk panel and the city report's charts: money in and
out by month, the cash by supervising bank, the retention coverage by bank, and the accounts and items a
supervisor should look at now. Amounts are Decimal yuan; the edges turn them into pictures and words.

Every figure is read in a fixed number of grouped statements (escrow.store.reads.overview, the cap figures
in batches), never one per month or per account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from escrow.domain import caps, ledger
from escrow.domain.guarantees import EXPIRY_WARNING_DAYS
from escrow.domain.ledger import Balances, EntryKind
from escrow.domain.money import from_fen
from escrow.domain.risks import is_near_floor
from escrow.services import alerts
from escrow.services.context import Context
from escrow.store.db import UnitOfWork

ZERO = Decimal(0)
MAX_MONTHS = 120  # a longer period charts no months (ten years of bars are unreadable, and cost)


@dataclass(frozen=True)
class MonthFlow:
    month: str  # YYYY-MM
    deposits: Decimal  # received: net of same-day reversals and unidentified money sent back (as the stats)
    releases: Decimal


@dataclass(frozen=True)
class BankFigures:
    bank: str
    balance: Decimal  # cash at the period's end
    held: Decimal  # cash of its live accounts now
    required: Decimal  # their required cash retention now


@dataclass(frozen=True)
class Charts:
    months: tuple[MonthFlow, ...]  # empty for a period of more than MAX_MONTHS months
    banks: tuple[BankFigures, ...]  # largest balance first


@dataclass(frozen=True)
class RiskItem:
    project_id: int | None
    project: str
    account_no: str
    subject: str  # what the item is: account, deposit, instruction, guarantee
    subject_id: str
    link: str
    headroom: Decimal | None = None  # near the floor: what a node release could take
    required: Decimal | None = None  # near the floor: the required cash retention


@dataclass(frozen=True)
class Risks:
    near_floor: tuple[RiskItem, ...]
    overdue_instructions: tuple[RiskItem, ...]
    old_suspense: tuple[RiskItem, ...]
    expiring_guarantees: tuple[RiskItem, ...]
    near_percent: int  # the configured threshold (ESCROW_RETENTION_NEAR_PERCENT)
    guarantee_days: int  # EXPIRY_WARNING_DAYS


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    """Every (year, month) from start's to end's, both included; none beyond MAX_MONTHS of them."""
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        return []
    out, (y, m) = [], (start.year, start.month)
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def charts(
    uow: UnitOfWork, ctx: Context, start: date, end: date, now: list[AccountNow] | None = None
) -> Charts:
    """The charts' figures for [start, end]: each month's money in and out (a month with no entry is
    zero), each bank's cash at `end`, and each bank's live accounts' cash against their retention now
    (`now`: retention_now, where the caller has it already)."""
    by_month = uow.overview.totals_by_month(start, end) if months_between(start, end) else {}
    months = tuple(
        MonthFlow(
            f"{y:04d}-{m:02d}",
            from_fen(ledger.received_fen(by_month.get((y, m), {}))),
            from_fen(by_month.get((y, m), {}).get(EntryKind.RELEASE, 0)),
        )
        for y, m in months_between(start, end)
    )
    held: dict[str, Decimal] = {}
    required: dict[str, Decimal] = {}
    for a in retention_now(uow, ctx) if now is None else now:
        held[a.row.bank_name] = held.get(a.row.bank_name, ZERO) + from_fen(a.books.cash)
        required[a.row.bank_name] = required.get(a.row.bank_name, ZERO) + a.retained
    cash = {name: from_fen(fen) for _, name, fen in uow.overview.cash_by_bank_until(end)}
    names = sorted(cash.keys() | held.keys(), key=lambda name: (-cash.get(name, ZERO), name))
    return Charts(
        months=months,
        banks=tuple(
            BankFigures(name, cash.get(name, ZERO), held.get(name, ZERO), required.get(name, ZERO))
            for name in names
        ),
    )


@dataclass(frozen=True)
class AccountNow:
    row: Any  # escrow.store.reads.overview.OverviewReads.live_accounts
    books: Balances
    retained: Decimal  # required cash retention
    releasable: Decimal  # what a node release could take


def retention_now(uow: UnitOfWork, ctx: Context) -> list[AccountNow]:
    """Every live account's books, required cash retention and what a node release could take, with the
    cap's own formula (escrow.domain.caps.node_release_figures); the inputs read in batches."""
    live = uow.overview.live_accounts()
    books = uow.journal.balances_of([a.id for a in live])
    inputs = uow.cap_figures.inputs(
        ((a.id, a.supervised_amount_fen) for a in live), ctx.today(), balances=books
    )
    progress = uow.cap_figures.progress_of([a.project_id for a in live])
    rule_for = caps.RuleMemo()
    out = []
    for a in live:
        rule = rule_for(ctx.rulebook(a.rulebook_id), progress[a.project_id], a.finish)
        retained, releasable = caps.node_release_figures(inputs[a.id], rule)
        out.append(AccountNow(a, books[a.id], retained, releasable))
    return out


def risks(uow: UnitOfWork, ctx: Context, now: list[AccountNow] | None = None) -> Risks:
    """Accounts near their retention floor (only those money has already left, as the retention alert: an
    account before its first release holds everything by design), and what the sweep's rules find today:
    payments approved but not executed in time, suspense older than the rule book allows, guarantees
    expiring within EXPIRY_WARNING_DAYS days or expired."""
    percent = ctx.settings.retention_near_percent
    near, names = [], {}
    for account in retention_now(uow, ctx) if now is None else now:
        a, retained, releasable = account.row, account.retained, account.releasable
        names[a.id] = a
        paid_out = account.books.released + account.books.deducted > 0
        if paid_out and is_near_floor(retained, releasable, percent):
            near.append(
                RiskItem(
                    a.project_id,
                    a.project_name,
                    a.account_no,
                    "account",
                    a.account_no,
                    f"/projects/{a.project_id}",
                    headroom=releasable,
                    required=retained,
                )
            )
    found = alerts.risks_now(uow, ctx, ctx.today())

    def items(rule: str) -> tuple[RiskItem, ...]:
        out = []
        for f in found[rule]:
            a = names.get(f.account_id)
            out.append(
                RiskItem(
                    a.project_id if a else None,
                    a.project_name if a else "",
                    a.account_no if a else "",
                    f.subject_type,
                    f.subject_id,
                    f.link,
                )
            )
        return tuple(out)

    return Risks(
        near_floor=tuple(near),
        overdue_instructions=items("instruction_overdue"),
        old_suspense=items("suspense_overdue"),
        expiring_guarantees=items("guarantee_expiring"),
        near_percent=percent,
        guarantee_days=EXPIRY_WARNING_DAYS,
    )
