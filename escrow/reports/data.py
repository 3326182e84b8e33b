"""What each report shows, as plain values for its template (reports/<kind>.html). Each builder checks its
input and raises NotFound / InvalidInput with a message a person can act on."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from escrow.catalog import documents as document_words
from escrow.catalog import gettext_for, words
from escrow.catalog.caps import stored_cap_sums
from escrow.catalog.words import named, node_name, step_label
from escrow.domain import checks, ledger
from escrow.domain import fund_plan as plan_rules
from escrow.domain.approvals import release_chain
from escrow.domain.errors import FieldError, InvalidInput, NotFound
from escrow.domain.ledger import EntryKind
from escrow.domain.money import from_fen
from escrow.domain.rulebook import RuleBook
from escrow.services import fund_plans, overview
from escrow.services.context import Context
from escrow.services.projects import building_figures, reached_dates
from escrow.services.vouchers import STATUS_WORDS
from escrow.store.db import UnitOfWork
from escrow.store.models import Release
from escrow.store.reads.reports import ReportQueries

from . import charts

# Words of the one catalog (escrow.catalog), in Chinese: the web pages say the same codes in the same words.
ZH = gettext_for("zh")
BEIJING = timezone(timedelta(hours=8))


def zh(table: dict[str, str], code: str | None) -> str:
    return named(ZH, table, code)


def yuan(fen: int) -> Decimal:
    return from_fen(fen)


def _ref_id(reference: str) -> tuple[str, str]:
    prefix, _, rest = reference.partition(":")
    return prefix, rest


# --- the block layout of long listings: one monospaced line per row ---------------------------------------


def _cells(text: str) -> int:
    """Display width in a CJK monospaced font: wide and full-width characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int, *, right: bool = False) -> str:
    text = re.sub(r"\s+", " ", text or "")
    if _cells(text) > width:
        out, used = "", 0
        for c in text:
            w = _cells(c)
            if used + w > width - 1:
                break
            out, used = out + c, used + w
        text = out + "…"
    pad = " " * max(0, width - _cells(text))
    return pad + text if right else text + pad


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    right: bool = False


def listing(columns: list[Column], rows: list[list[str]], *, chunk: int = 40) -> dict[str, Any]:
    """A long listing as lines of fixed-width text, in chunks of `chunk` lines (one block each): WeasyPrint
    lays out a few text blocks far faster than thousands of table cells (DESIGN.md §5)."""

    def line(cells: list[str]) -> str:
        return "  ".join(_fit(c, col.width, right=col.right) for c, col in zip(cells, columns, strict=True))

    lines = [line(r).rstrip() for r in rows]
    return {
        "header": line([c.title for c in columns]).rstrip(),
        "chunks": ["\n".join(lines[i : i + chunk]) for i in range(0, len(lines), chunk)],
        "count": len(rows),
    }


def money_text(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- voucher and notice -----------------------------------------------------------------------------------


def voucher(uow: UnitOfWork, ctx: Context, voucher_no: str) -> dict[str, Any]:
    row = ReportQueries(uow.session).voucher(voucher_no)
    if row is None:
        raise NotFound(f"no voucher {voucher_no}")
    v, deposit, account, project, bank, developer, notice, contract = row
    verify_url = f"{ctx.settings.public_base_url}/verify/{v.voucher_no}?code={v.verification_code}"
    return {
        "voucher_no": v.voucher_no,
        "status": v.status,
        "status_zh": zh(words.VOUCHER_STATUS, v.status),
        "status_words": STATUS_WORDS["zh"].get(v.status, v.status),
        "issued_at": v.issued_at,
        "receipt_no": v.receipt_no,
        "verification_code": v.verification_code,
        "verify_url": verify_url,
        "amount": yuan(deposit.amount_fen),
        "payer_name": deposit.payer_name,
        "payer_account": deposit.payer_account,
        "lender": checks.lender_of(deposit.checks, deposit.payer_name),  # the bank or centre paying a loan
        "kind": zh(words.NOTICE_KINDS, deposit.kind),
        "channel": zh(words.CHANNELS, deposit.channel),
        "value_date": deposit.value_date,
        "bank_reference": deposit.bank_reference,
        "notice_no": notice.notice_no if notice else None,
        "contract_no": contract.contract_no if contract else None,
        "buyer_name": contract.buyer_name if contract else None,
        "unit": contract.unit if contract else None,
        "project_name": project.name,
        "permit_no": project.permit_no,
        "developer_name": developer.name,
        "account_no": account.account_no,
        "account_name": account.account_name,
        "bank_name": bank.name,
        "rulebook": deposit.rulebook_id,
        "checks": deposit.checks,
    }


def notice(uow: UnitOfWork, ctx: Context, notice_no: str) -> dict[str, Any]:
    row = ReportQueries(uow.session).notice(notice_no)
    if row is None:
        raise NotFound(f"no payment notice {notice_no}")
    n, contract, account, project, bank, developer = row
    return {
        "notice_no": n.notice_no,
        "issued_on": n.created_at.date(),
        "kind": zh(words.NOTICE_KINDS, n.kind),
        "in_parts": n.kind in checks.PART_PAYMENT_KINDS,  # a combination loan: two lenders, one notice
        "amount": yuan(n.amount_fen),
        "due_on": n.due_on,
        "status": n.status,
        "status_zh": zh(words.NOTICE_STATUS, n.status),
        "contract_no": contract.contract_no,
        "buyer_name": contract.buyer_name,
        "unit": contract.unit,
        "total_price": yuan(contract.total_price_fen),
        "project_name": project.name,
        "permit_no": project.permit_no,
        "developer_name": developer.name,
        "account_no": account.account_no,
        "account_name": account.account_name,
        "bank_name": bank.name,
        "bank_code": bank.code,
        "verify_url": f"{ctx.settings.public_base_url}/verify",
        # re-issued for the project's new supervised account after a change of bank (CONTRACT.md §8)
        "reissued_from": uow.projects.reissued_from(n, account),
    }


# --- release approval form --------------------------------------------------------------------------------


def release(uow: UnitOfWork, ctx: Context, release_id: int) -> dict[str, Any]:
    release = uow.releases.get(release_id)
    if release is None:
        raise NotFound(f"no release {release_id}")
    q = ReportQueries(uow.session)
    account, project, bank, developer = q.release_parties(release)
    book = ctx.rulebook(release.rulebook_id)
    chain = release_chain(  # with the fund plan's extra step for a release beyond the plan
        book, yuan(release.amount_fen), release.kind, bool(release.plan and release.plan.get("extra_step"))
    )
    taken = uow.releases.steps(release.id)
    users = q.users(s.decided_by for s in taken)
    steps = []
    for i, spec in enumerate(chain, start=1):
        step = next((s for s in taken if s.step_no == i), None)
        user = users.get(step.decided_by) if step else None
        steps.append(
            {
                "step_no": i,
                "label": step_label(spec, "zh"),
                "role": spec.role,
                "decision": zh(words.DECISIONS, step.decision) if step else None,
                "approved": step.decision == "approve" if step else None,
                # a person by name and role in words, never by the login name (which a user created without
                # a name has as its display name too)
                "by": user.display_name if user and user.display_name != user.username else None,
                "by_role": zh(words.ROLE_NAMES, user.role) if user else None,
                "at": step.decided_at if step else None,
                "comment": step.comment if step else "",
                "releasable": (step.cap or {}).get("releasable") if step else None,
                "pending": step is None and release.status == "submitted",
                "skipped": step is None and release.status != "submitted",  # the chain stopped earlier
            }
        )
    instruction = uow.instructions.for_release(release.id)
    # 法〔2022〕12号 art. 2: a payment made from a frozen account is reported to the court; the flag was set
    # when the bank paid, or a freeze is in force while the instruction waits.
    court_report = instruction is not None and (
        instruction.court_report
        if instruction.status == "executed"
        else uow.holds.freeze_in_force(account.id)
    )
    return {
        "release_id": release.id,
        "kind": release.kind,
        "kind_zh": zh(words.RELEASE_KINDS, release.kind),
        "status": release.status,
        "status_zh": zh(words.RELEASE_STATUS, release.status),
        "applied_on": release.created_at,
        "amount": yuan(release.amount_fen),
        "purpose": release.purpose,
        "plan": release.plan,  # against the fund plan when applied for (None: not judged)
        "beyond_plan_reason": release.beyond_plan_reason,
        "node_code": release.node_code,
        "node_name": node_name(book, release.node_code, "zh") if release.node_code else None,
        "project_name": project.name,
        "permit_no": project.permit_no,
        "developer_name": developer.name,
        "account_no": account.account_no,
        "account_name": account.account_name,
        "bank_name": bank.name,
        "supervised_amount": yuan(project.supervised_amount_fen),
        "finish": zh(words.FINISH, project.finish),
        "rulebook": document_words.book_in_words(ZH, book, "zh"),
        "bureau": ctx.settings.bureau_name or document_words.bureau_name(ZH, book, "zh"),
        "cap": _cap(release, book),
        "payees": [
            {
                "name": p.name,
                "account_no": p.account_no,
                "bank_name": p.bank_name,
                "role": zh(words.PAYEE_ROLES, p.role),
                "amount": yuan(p.amount_fen),
            }
            for p in uow.releases.payees(release.id)
        ],
        "documents": [
            {"kind": zh(words.DOCUMENTS, d.kind), "filename": d.filename, "sha256": d.sha256}
            for d in uow.releases.documents(release.id)
        ],
        "steps": steps,
        "signatures": signature_boxes(steps),
        "seal": ZH(document_words.SEAL),
        "sign_here": ZH(document_words.SIGN_HERE),
        "signed_on": ZH(document_words.SIGNED_ON),
        "instruction": (
            {
                "status": ZH(words.INSTRUCTION_STATUS[instruction.status == "executed"]),
                "bank_reference": instruction.bank_reference,
                "executed_on": instruction.executed_on,
            }
            if instruction
            else None
        ),
        "court_report": bool(court_report),
    }


def _cap(release: Release, book: RuleBook) -> dict[str, Any]:
    """The cap when the developer applied (stored with the release), term by term in the words the pages
    say it in (escrow.catalog.caps) with the rule-book keys behind it."""
    cap = release.cap or {}
    explanation = cap.get("explanation") or {}
    both = cap.get("caps") or {}
    return {
        "releasable": Decimal(cap.get("releasable", "0")),
        "required_retention": Decimal(explanation.get("required_retention", "0")),
        "sums": [
            {
                "name": s.name,
                "bound": s.bound,
                "value": s.value,
                "terms": [
                    {
                        "sign": t.sign,
                        "name": t.name,
                        "words": t.words,
                        "value": t.value,
                        "rules": [document_words.rule_in_words(ZH, r, book, "zh") for r in t.rules],
                    }
                    for t in s.terms
                ],
            }
            for s in stored_cap_sums(ZH, cap, book, "zh")
        ],
        # what each kind of release could take at application, where the stored cap keeps both
        "both": [
            {"kind": zh(words.RELEASE_KINDS, k), "releasable": Decimal(both[k]["releasable"])}
            for k in ("node", "non_key")
            if k in both
        ],
        "rulebook": document_words.book_in_words(ZH, book, "zh"),
        "next": unlocks_in_words(explanation.get("next") or [], book),
    }


def signature_boxes(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The boxes at the foot of the form (经办人, 审核, 审批, 局领导), each filled in with the name and the
    date (Beijing time) of the approval step that its role took, where one did; else left to be signed."""
    boxes = []
    for code, label, role in document_words.SIGNATURE_BOXES:
        took = next((s for s in steps if role and s["role"] == role and s["at"] is not None), None)
        boxes.append(
            {
                "code": code,
                "label": ZH(label),
                "name": (took["by"] or took["by_role"]) if took else "",
                "on": beijing_day(took["at"]) if took else None,
            }
        )
    return boxes


def unlocks_in_words(unlocks: list[dict[str, Any]], book: RuleBook) -> list[dict[str, Any]]:
    """What the next node (per building) would unlock, as a cap stores it, in the PDFs' words."""
    return [
        {
            "building": u.get("building"),
            "node": node_name(book, u["node"], "zh"),
            "retention_drop": Decimal(u["retention_drop"]),
            "releasable_after": Decimal(u["releasable_after"]),
            "evidence": "、".join(zh(words.EVIDENCE_KINDS, k) for k in u.get("evidence", [])),
        }
        for u in unlocks
    ]


# --- monthly account statement ----------------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[date, date]:
    if not 1 <= month <= 12:
        raise InvalidInput(f"month must be 1–12, not {month}", errors=[FieldError("month", "1–12")])
    if not 2000 <= year <= 2999:
        raise InvalidInput(f"year {year} is out of range", errors=[FieldError("year", "2000–2999")])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def beijing_day(moment: datetime) -> date:
    """The day a stored time fell on in Beijing (SQLite hands a stored time back without its zone, UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).date()


def end_of_day(day: date) -> datetime:
    """The end of `day` in Beijing time (UTC+8), where the bureau works: a confirmation made at 23:30 that
    evening belongs to that day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BEIJING)


def check_monthly(uow: UnitOfWork, ctx: Context, account_no: str, year: int, month: int) -> tuple[Any, ...]:
    """The account's (SupervisedAccount, Project, Bank, Developer), once the month is one to report on: the
    account exists, the month has begun and does not end before the account was opened."""
    start, end = month_bounds(year, month)
    row = ReportQueries(uow.session).account(account_no)
    if row is None:
        raise NotFound(f"no supervised account {account_no}")
    account = row[0]
    today = ctx.today()
    period = f"{year}-{month:02d}"
    if start > today:
        raise InvalidInput(
            f"{period} has not begun (today is {today}): nothing to report yet",
            errors=[FieldError("month", "in the future")],
        )
    if end < account.opened_on:
        raise InvalidInput(
            f"account {account_no} was opened on {account.opened_on}: nothing to report for {period}",
            errors=[FieldError("month", "before the account was opened")],
        )
    return tuple(row)


def monthly(uow: UnitOfWork, ctx: Context, account_no: str, year: int, month: int) -> dict[str, Any]:
    account, project, bank, developer = check_monthly(uow, ctx, account_no, year, month)
    start, end = month_bounds(year, month)
    q = ReportQueries(uow.session)
    today = ctx.today()
    period = f"{year}-{month:02d}"
    until = min(end, today)
    opening = q.cash_until(account.id, start - timedelta(days=1))
    entries = q.cash_entries(account.id, start, until)
    ids: dict[str, list[int]] = {}
    for _, _, _, reference, _ in entries:
        prefix, rest = _ref_id(reference)
        if rest.isdigit():
            ids.setdefault(prefix, []).append(int(rest))
    deposits = q.deposits(ids.get("deposit", []) + ids.get("reversal", []))
    releases = q.releases(ids.get("release", []))
    refunds = q.refunds(ids.get("refund", []))

    rows, running = [], opening
    totals_in = totals_out = 0
    for _, booked_on, kind, reference, fen in entries:
        running += fen
        if fen > 0:
            totals_in += fen
        else:
            totals_out -= fen
        prefix, rest = _ref_id(reference)
        ref_text, party = reference, ""
        if prefix in ("deposit", "reversal") and rest.isdigit() and int(rest) in deposits:
            deposit, voucher_no = deposits[int(rest)]
            ref_text = voucher_no or deposit.bank_reference
            party = deposit.payer_name
        elif prefix == "release" and rest.isdigit() and int(rest) in releases:
            ref_text = f"拨付申请 {rest}"
            party = releases[int(rest)].purpose
        elif prefix == "refund" and rest.isdigit() and int(rest) in refunds:
            ref_text = f"退款 {rest}"
            party = f"合同 {refunds[int(rest)][1]}"
        elif prefix == "deduction":
            ref_text = rest
        elif prefix in ("interest", "fee"):  # the bank's own movements, by the statement's reference
            ref_text, party = rest, bank.name
        rows.append(
            [
                booked_on.isoformat(),
                zh(words.ENTRY_KINDS, kind),
                ref_text,
                party,
                money_text(yuan(fen)) if fen > 0 else "",
                money_text(yuan(-fen)) if fen < 0 else "",
                money_text(yuan(running)),
            ]
        )
    counts = q.entry_counts(account.id, start, until)
    interest, fees = (counts.get(kind, (0, 0))[1] for kind in (EntryKind.INTEREST, EntryKind.FEE))
    summary = [
        {"label": ZH(label), "count": counts[kind][0], "amount": yuan(counts[kind][1])}
        for kind, label in words.ENTRY_KINDS.items()
        if kind in counts
    ]
    book = ctx.rulebook(project.rulebook_id)
    # the nodes as they stood at the month's end: reached and confirmed by then (a node the bureau confirmed
    # after it shows as not yet reached, whenever the report is printed); a month not yet over shows them as
    # they stand now
    confirmed_by = end if end < today else None
    reached, _ = reached_dates(uow, project, book, until, confirmed_by)
    statements = q.statements(account.id, start, until)
    latest = uow.statements.latest(account.id)
    return {
        "period": period,
        "year": year,
        "month": month,
        "start": start,
        "end": end,
        "until": until,
        "partial": until < end,
        "generated_on": today,
        "account_no": account.account_no,
        "account_name": account.account_name,
        "account_status": zh(words.ACCOUNT_STATUS, account.status),
        "opened_on": account.opened_on,
        "project_name": project.name,
        "permit_no": project.permit_no,
        "developer_name": developer.name,
        "bank_name": bank.name,
        "supervised_amount": yuan(project.supervised_amount_fen),
        "rulebook": project.rulebook_id,
        "rulebook_words": document_words.book_in_words(ZH, book, "zh"),
        "bureau": ctx.settings.bureau_name or document_words.bureau_name(ZH, book, "zh"),
        "opening": yuan(opening),
        "closing": yuan(running),
        "total_in": yuan(totals_in),
        "total_out": yuan(totals_out),
        "interest": yuan(interest),  # 结息 the bank credited in the period (never a buyer's money)
        "fees": yuan(fees),  # 手续费 the bank debited in the period
        "summary": summary,
        "movements": listing(
            [
                Column("日期", 10),
                Column("摘要", 12),
                Column("凭证 / 流水号", 18),
                Column("缴款人 / 用途", 24),
                Column("收入", 15, right=True),
                Column("支出", 15, right=True),
                Column("余额", 16, right=True),
            ],
            rows,
        ),
        "nodes": [
            {
                "name": node_name(book, n.code, "zh"),
                "retention": n.retention,
                "reached_on": reached.get(n.code),
                "in_period": n.code in reached and start <= reached[n.code] <= until,
            }
            for n in book.nodes
        ],
        # each building's node and retention at the period's end, where the project has buildings
        "buildings": [
            {
                "code": b.code,
                "name": b.name,
                "supervised_amount": b.supervised_amount,
                "node": node_name(book, b.node, "zh") if b.node else None,
                "required_retention": b.required_retention,
            }
            for b in building_figures(uow, ctx, project, until, confirmed_by)
        ],
        "statements": [
            {
                "date": s.statement_date,
                "status": zh(words.RECONCILIATION, s.status),
                "ok": s.status == "reconciled",
                "matched": s.matched,
                "bank_only": s.bank_only,
                "books_only": s.books_only,
                "difference": yuan(s.balance_difference_fen),
            }
            for s in statements
        ],
        "reconciliation": zh(words.RECONCILIATION, latest.status if latest else "pending"),
        "last_statement_on": latest.statement_date if latest else None,
        "fund_plan": _fund_plan(uow, book, project.id, period),
        "freezes": [
            {
                "authority": f.authority,
                "order_no": f.order_no,
                "amount": yuan(f.amount_fen),
                "on": f.ordered_on,
            }
            for f in q.freezes_active_on(account.id, until)
        ],
    }


def _fund_plan(uow: UnitOfWork, book: RuleBook, project_id: int, period: str) -> dict[str, Any] | None:
    """The approved fund plan in force (资金需求计划) against what was drawn, by node × payee role: planned
    and drawn through the report's month and drawn in it (escrow.domain.fund_plan). None without a plan."""
    plan = uow.fund_plans.approved(project_id)
    if plan is None:
        return None
    items = fund_plans.plan_items(uow.fund_plans.items(plan.id))
    drawn = fund_plans.drawings(uow, project_id)
    rows = []
    for cell in plan_rules.table(items, drawn, [n.code for n in book.nodes]):
        roles = (cell.role,)
        rows.append(
            {
                "node": node_name(book, cell.node_code, "zh"),
                "role": zh(words.PAYEE_ROLES, cell.role),
                "planned": plan_rules.planned_to(items, period, cell.node_code, roles),
                "drawn": plan_rules.drawn_to(drawn, period, cell.node_code, roles),
                "in_month": plan_rules.drawn_to(
                    [d for d in drawn if d.month == period], period, cell.node_code, roles
                ),
            }
        )
    return {
        "version": plan.version,
        "rows": rows,
        "planned": plan_rules.planned_to(items, period),
        "drawn": plan_rules.drawn_to(drawn, period),
    }


# --- city report ------------------------------------------------------------------------------------------


CITY_CHUNK = 20  # lines per block of the account listing: a block that does not fit moves to the next page


def check_city(uow: UnitOfWork, ctx: Context, start: date, end: date) -> date:
    """The last day to report on (the period's end, or today if it has not ended), once the period is one
    to report on: it does not end before it starts, has begun, and some account was open in it."""
    if end < start:
        raise InvalidInput(
            f"the period ends ({end}) before it starts ({start})", errors=[FieldError("end", "before start")]
        )
    today = ctx.today()
    if start > today:
        raise InvalidInput(
            f"the period starts after today ({today}): nothing to report",
            errors=[FieldError("start", "future")],
        )
    until = min(end, today)
    if not ReportQueries(uow.session).any_account_opened_by(until):
        raise InvalidInput(
            f"no supervised account had been opened by {until}: the period {start} – {end} is empty",
            errors=[FieldError("end", "no accounts by then")],
        )
    return until


def city(uow: UnitOfWork, ctx: Context, start: date, end: date) -> dict[str, Any]:
    until = check_city(uow, ctx, start, end)
    today = ctx.today()
    q = ReportQueries(uow.session)
    accounts = q.accounts_opened_by(until)
    flows = q.flows_by_account(start, until)
    balances = q.cash_by_account_until(until, [account.id for account, *_ in accounts])

    totals = {"opened": 0, "area": 0, "supervised": 0, "deposits": 0, "releases": 0, "refunds": 0,
              "deductions": 0, "balance": 0}  # fmt: skip
    by_bank: dict[str, dict[str, Any]] = {}
    rows = []
    for account, project, bank, developer in accounts:
        f = flows.get(account.id, {})
        dep, rel = ledger.received_fen(f), f.get(EntryKind.RELEASE, 0)
        bal = balances.get(account.id, 0)
        opened_in = start <= account.opened_on <= until
        totals["opened"] += opened_in
        totals["area"] += project.presale_area_x100 if opened_in else 0
        totals["supervised"] += project.supervised_amount_fen
        totals["deposits"] += dep
        totals["releases"] += rel
        totals["refunds"] += f.get(EntryKind.REFUND, 0)
        totals["deductions"] += f.get(EntryKind.COURT_DEDUCTION, 0)
        totals["balance"] += bal
        b = by_bank.setdefault(
            bank.code,
            {"name": bank.name, "accounts": 0, "opened": 0, "deposits": 0, "releases": 0, "balance": 0},
        )
        b["accounts"] += 1
        b["opened"] += opened_in
        b["deposits"] += dep
        b["releases"] += rel
        b["balance"] += bal
        rows.append(
            [
                account.account_no,
                project.name,
                developer.name,
                account.opened_on.isoformat(),
                money_text(yuan(dep)),
                money_text(yuan(rel)),
                money_text(yuan(bal)),
            ]
        )
    return {
        "authority": ctx.settings.bureau_name,
        "charts": charts.city_charts(overview.charts(uow, ctx, start, until), ZH),
        "start": start,
        "end": end,
        "until": until,
        "partial": until < end,
        "generated_on": today,
        "accounts_total": len(accounts),
        "accounts_opened": totals["opened"],
        "presale_area_m2": Decimal(totals["area"]) / 100,
        "supervised_total": yuan(totals["supervised"]),
        "deposits_total": yuan(totals["deposits"]),
        "releases_total": yuan(totals["releases"]),
        "refunds_total": yuan(totals["refunds"]),
        "deductions_total": yuan(totals["deductions"]),
        "balance_total": yuan(totals["balance"]),
        "banks": [
            {
                **b,
                "deposits": yuan(b["deposits"]),
                "releases": yuan(b["releases"]),
                "balance": yuan(b["balance"]),
            }
            for _, b in sorted(by_bank.items(), key=lambda item: -item[1]["balance"])
        ],
        "accounts": listing(
            [
                Column("监管账号", 19),
                Column("项目", 22),
                Column("开发企业", 22),
                Column("开户日期", 10),
                Column("期间入账", 17, right=True),
                Column("期间拨付", 17, right=True),
                Column("期末余额", 17, right=True),
            ],
            rows,
            chunk=CITY_CHUNK,
        ),
    }
