"""Alerts: conditions on the books that a person should look at, found by the scheduled jobs.

Each alert concerns one subject (an account, a deposit, an instruction, a notice, a client address) under one
rule; its `dedup_key` (rule, subject, and the day for the daily statement check) makes it unique: a condition
that persists updates its one alert, never adds another. A sweep evaluates every rule against the database as
it is now, so an alert whose condition has cleared is resolved, and one that comes back is reopened — nothing
depends on what a process remembers. People acknowledge (I am on it) or resolve (done) alerts; a resolved
alert whose condition still holds is reopened by the next sweep.

Rules (the limits come from each project's rule book, `[limits]`):

- `statement_missing` — an account that is not closed received no bank statement for a working day
  (Monday–Friday); resolved when that day's statement arrives;
- `suspense_overdue` — a deposit in suspense longer than `suspense_max_days` calendar days;
- `deposit_unknown_notice` — a deposit booked to suspense because the payment notice it named does not exist
  (or none was named);
- `retention_breach` — money has left the account (releases or court deductions) and the balance is below the
  required retention;
- `instruction_overdue` — an approved release or refund not executed by the bank within
  `instruction_max_working_days` working days (Monday–Friday) after its approval;
- `frozen_with_pending_releases` — a frozen account with releases submitted or approved but not paid;
- `notice_overdue` — a payment notice still open `notice_overdue_days` days after its due date;
- `guarantee_expiring` — a bank guarantee (保函) not released whose `valid_until` is at most
  `EXPIRY_WARNING_DAYS` (30, CONTRACT §8) days away, or already past (it no longer counts in the cap: the
  bureau replaces or releases it); resolved when it is released;
- `fund_plan_ahead` — a project's drawings to date (node releases approved or executed, by the month of their
  approval) exceed its approved fund plan to date by more than `fund_plan.ahead_tolerance` of it;
- `fund_plan_behind` — a node the approved fund plan expects in a month (its earliest) is still unconfirmed
  `fund_plan.behind_days` days after that month ended. Both where the project's rule book states
  `[fund_plan]` (hengshui@2026.2 on; configured values); a plan under an older book raises none;
- `agreement_unconfirmed` — an account not closed whose bank has not confirmed the tri-party supervision
  agreement more than `bank_confirmation_days` days after its opening (hengshui@2026.2: 5; older books take
  escrow.services.agreements.DEFAULT_CONFIRMATION_DAYS, a configured value); resolved once confirmed;
- `voucher_lookup_failures` — one client failed `LOOKUP_FAILURES` or more public voucher look-ups within
  `LOOKUP_WINDOW` (the public endpoint counts them in `rate_limit_buckets`, key `voucher-lookup:<client>`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast

from escrow.domain import caps
from escrow.domain import fund_plan as fund_plan_rules
from escrow.domain.buildings import Progress
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.guarantees import EXPIRY_WARNING_DAYS
from escrow.domain.money import from_fen, to_wire
from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.services import approvals, notifications
from escrow.services.agreements import confirmation_days
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Alert, utcnow
from escrow.store.reads.alerts import SEVERITY_ORDER, URGENCY, AlertFilter

STATES = ("open", "acknowledged", "resolved")
SEVERITIES = SEVERITY_ORDER
LOOKUP_FAILURES = 20
LOOKUP_WINDOW = timedelta(hours=24)
LOOKUP_PREFIX = "voucher-lookup:"
SCHEDULER = "system:scheduler"


@dataclass(frozen=True)
class Rule:
    severity: str
    owner_role: str  # the bureau role expected to act
    title: str


RULES: dict[str, Rule] = {
    "statement_missing": Rule("warning", "reviewer", "no bank statement for a working day"),
    "suspense_overdue": Rule("warning", "reviewer", "a deposit in suspense too long"),
    "deposit_unknown_notice": Rule("warning", "reviewer", "a deposit for an unknown payment notice"),
    "retention_breach": Rule("critical", "director", "balance below the required retention"),
    "instruction_overdue": Rule("warning", "approver", "an approved payment not executed in time"),
    "frozen_with_pending_releases": Rule("critical", "approver", "a frozen account with pending releases"),
    "notice_overdue": Rule("info", "reviewer", "a payment notice overdue"),
    "voucher_lookup_failures": Rule("warning", "admin", "repeated failed voucher look-ups from one client"),
    "guarantee_expiring": Rule("warning", "admin", "a bank guarantee expiring or expired"),
    "fund_plan_ahead": Rule("warning", "reviewer", "drawings ahead of the approved fund plan"),
    "fund_plan_behind": Rule("warning", "inspector", "construction behind the approved fund plan"),
    "agreement_unconfirmed": Rule("warning", "admin", "a supervised account its bank has not confirmed"),
}
SWEPT = tuple(RULES)  # every rule is re-evaluated by the sweep (statement_missing: only its open alerts)


@dataclass(frozen=True)
class Finding:
    rule: str
    subject_type: str
    subject_id: str
    message: str
    account_id: int | None = None
    link: str = ""
    period: str | None = None  # for rules checked per period (the statement check's day)

    @property
    def dedup_key(self) -> str:
        key = f"{self.rule}:{self.subject_type}:{self.subject_id}"
        return f"{key}:{self.period}" if self.period else key


@dataclass
class SyncResult:
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    resolved: int = 0
    open_now: int = 0

    def __str__(self) -> str:
        return (
            f"{self.opened} opened, {self.reopened} reopened, {self.resolved} resolved, "
            f"{self.open_now} open or acknowledged"
        )


# --- helpers -----------------------------------------------------------------------------------------------


def working_days_after(start: date, end: date) -> int:
    """Monday–Friday days d with start < d ≤ end."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for i in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + i)).weekday() < 5:
            count += 1
    return count


def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().date()


def _limit(ctx: Context, rulebook_id: str, name: str) -> int | None:
    book = ctx.rulebooks.get(rulebook_id)
    return None if book is None else book.limits.get(name)


def _money(fen: int) -> str:
    return to_wire(from_fen(fen))


# --- rules -------------------------------------------------------------------------------------------------


def missing_statements(uow: UnitOfWork, day: date) -> list[Finding]:
    """Accounts (not closed, opened by `day`) with no statement dated `day`."""
    rows = uow.alert_reads.accounts_without_statement(day)
    return [
        Finding(
            "statement_missing",
            "account",
            account_no,
            f"account {account_no} received no bank statement for {day.isoformat()}",
            account_id=account_id,
            link=f"/projects/{project_id}",
            period=day.isoformat(),
        )
        for account_id, account_no, project_id in rows
    ]


def _still_missing(uow: UnitOfWork) -> list[Finding]:
    """The statement_missing alerts not yet resolved whose statement has still not arrived."""
    alerts = [
        (alert, date.fromisoformat(alert.dedup_key.rsplit(":", 1)[1]))
        for alert in uow.alert_reads.unresolved("statement_missing")
    ]
    arrived = uow.alert_reads.statements_dated({(alert.account_id, day) for alert, day in alerts})
    out = []
    for alert, day in alerts:
        if (alert.account_id, day) not in arrived:
            out.append(
                Finding(
                    alert.rule,
                    alert.subject_type,
                    alert.subject_id,
                    alert.message,
                    account_id=alert.account_id,
                    link=alert.link,
                    period=day.isoformat(),
                )
            )
    return out


def _suspense(uow: UnitOfWork, ctx: Context, today: date) -> list[Finding]:
    out = []
    for deposit in uow.alert_reads.suspense_deposits():
        link = f"/projects/{deposit.project_id}"
        amount = _money(deposit.amount_fen)
        what = f"deposit {deposit.bank_reference} of {amount} on account {deposit.account_no}"
        limit = _limit(ctx, deposit.rulebook_id, "suspense_max_days")
        age = (today - deposit.value_date).days
        if limit is not None and age > limit:
            out.append(
                Finding(
                    "suspense_overdue",
                    "deposit",
                    str(deposit.id),
                    f"{what} has been in suspense for {age} days (limit {limit} days, "
                    f"{deposit.rulebook_id} limits.suspense_max_days)",
                    account_id=deposit.account_id,
                    link=link,
                )
            )
        notice_check = next((c for c in deposit.checks if c.get("rule") == "notice_exists_and_open"), None)
        if deposit.notice_id is None and notice_check and notice_check.get("result") == "fail":
            out.append(
                Finding(
                    "deposit_unknown_notice",
                    "deposit",
                    str(deposit.id),
                    f"{what} is in suspense: {notice_check.get('message', 'unknown payment notice')}",
                    account_id=deposit.account_id,
                    link=link,
                )
            )
    return out


def _accounts(uow: UnitOfWork, ctx: Context) -> list[Finding]:
    """Per account: balance below retention after money left; frozen with pending releases. The books of
    every account are read at once, and the cap's inputs at once for the accounts money has left."""
    out = []
    pending = uow.alert_reads.unpaid_releases()
    live = uow.alert_reads.live_accounts()
    books = uow.journal.balances_of([account.id for account in live])
    paid_out = [a for a in live if books[a.id].released + books[a.id].deducted > 0]
    inputs = uow.cap_figures.inputs(
        ((a.id, a.supervised_amount_fen) for a in paid_out), ctx.today(), balances=books
    )
    progress = uow.cap_figures.progress_of([a.project_id for a in paid_out])
    rule_for = caps.RuleMemo()
    for account in live:
        link = f"/projects/{account.project_id}"
        balances = books[account.id]
        if account.id in inputs:
            book = ctx.rulebook(account.rulebook_id)
            rule = rule_for(book, progress[account.project_id], account.finish)
            retained, _ = caps.node_release_figures(inputs[account.id], rule)
            if from_fen(balances.cash) < retained:
                out.append(
                    Finding(
                        "retention_breach",
                        "account",
                        account.account_no,
                        f"account {account.account_no}: balance {_money(balances.cash)} is below the "
                        f"required retention {to_wire(retained)} ({rule.rulebook_id}); "
                        f"{_money(balances.released)} released, {_money(balances.deducted)} deducted",
                        account_id=account.id,
                        link=link,
                    )
                )
        if account.status == "frozen" and pending.get(account.id):
            n = pending[account.id]
            out.append(
                Finding(
                    "frozen_with_pending_releases",
                    "account",
                    account.account_no,
                    f"account {account.account_no} is frozen by a court order with {n} release"
                    f"{'s' if n > 1 else ''} submitted or approved but not paid",
                    account_id=account.id,
                    link=link,
                )
            )
    return out


def _instructions(uow: UnitOfWork, ctx: Context, today: date) -> list[Finding]:
    out = []
    for ins, release_book, refund_book, account in uow.alert_reads.pending_instructions():
        book = release_book or refund_book
        limit = _limit(ctx, book, "instruction_max_working_days") if book else None
        approved_on = local_date(ins.created_at)
        waited = working_days_after(approved_on, today)
        if limit is None or waited <= limit:
            continue
        link = f"/releases/{ins.release_id}" if ins.release_id else f"/projects/{account.project_id}"
        out.append(
            Finding(
                "instruction_overdue",
                "instruction",
                str(ins.id),
                f"{ins.kind} instruction {ins.id} of {_money(ins.amount_fen)} on account "
                f"{account.account_no}, approved on {approved_on}, is not executed after {waited} working "
                f"days (limit {limit}, "
                f"{book} limits.instruction_max_working_days)",
                account_id=account.id,
                link=link,
            )
        )
    return out


def _notices(uow: UnitOfWork, ctx: Context, today: date) -> list[Finding]:
    out = []
    for notice in uow.alert_reads.open_notices_due_before(today):
        book, account_no = notice.rulebook_id, notice.account_no
        limit = _limit(ctx, book, "notice_overdue_days")
        late = (today - notice.due_on).days
        if limit is None or late <= limit:
            continue
        out.append(
            Finding(
                "notice_overdue",
                "notice",
                notice.notice_no,
                f"payment notice {notice.notice_no} ({notice.kind}, {_money(notice.amount_fen)}) to account "
                f"{account_no} was due on {notice.due_on} and is unpaid {late} days later (limit {limit}, "
                f"{book} limits.notice_overdue_days)",
                account_id=notice.account_id,
                link=f"/projects/{notice.project_id}",
            )
        )
    return out


def _guarantees(uow: UnitOfWork, today: date) -> list[Finding]:
    """Guarantees not released within EXPIRY_WARNING_DAYS of their last valid day, or past it."""
    out = []
    for g, account, project in uow.guarantees.expiring(today + timedelta(days=EXPIRY_WARNING_DAYS)):
        what = f"bank guarantee {g.guarantee_no} of {_money(g.amount_fen)} on account {account.account_no}"
        if g.expires_on < today:
            when = f"expired on {g.expires_on} and no longer counts in the release cap"
        else:
            when = f"expires on {g.expires_on} ({(g.expires_on - today).days} days left)"
        out.append(
            Finding(
                "guarantee_expiring",
                "guarantee",
                str(g.id),
                f"{what} {when}; replace or release it",
                account_id=account.id,
                link=f"/projects/{project.id}#guarantees",
            )
        )
    return out


def _fund_plans(uow: UnitOfWork, ctx: Context, today: date) -> list[Finding]:
    """Each project's plan in force against what was drawn and what was confirmed
    (escrow.domain.fund_plan). The plans, their items, the drawings and the progress of every project are
    read at once, whatever the number of plans."""
    out = []
    month = fund_plan_rules.month_of(today)
    plans = [
        (plan, project, book)
        for plan, project in uow.fund_plans.approved_in_force_with_projects()
        if (book := ctx.rulebooks.get(project.rulebook_id)) is not None and book.fund_plan is not None
    ]
    project_ids = [project.id for _, project, _ in plans]
    items_of = uow.fund_plans.items_of([plan.id for plan, _, _ in plans])
    drawings_of = uow.fund_plans.drawings_of(project_ids)
    progress_of = uow.projects.progress_of(project_ids)
    for plan, project, book in plans:
        policy = book.fund_plan
        rows = items_of[plan.id]
        items = [fund_plan_rules.Item(i.node_code, i.month, i.role, from_fen(i.amount_fen)) for i in rows]
        drawn = [
            fund_plan_rules.Drawing(node, fund_plan_rules.month_of(on), role, from_fen(fen))
            for node, role, fen, on in drawings_of[project.id]
        ]
        link = f"/projects/{project.id}#fund-plan"
        ahead = fund_plan_rules.ahead_of_plan(items, drawn, month, policy.ahead_tolerance)
        if ahead.ahead:
            out.append(
                Finding(
                    "fund_plan_ahead",
                    "project",
                    str(project.id),
                    f"project {project.name} drew {to_wire(ahead.drawn)} to {month}, more than its fund plan "
                    f"(version {plan.version}) plans to date, {to_wire(ahead.planned)}, by more than "
                    f"{policy.ahead_tolerance:%} ({book.id} fund_plan.ahead_tolerance)",
                    account_id=plan.account_id,
                    link=link,
                )
            )
        late_nodes = _behind(
            progress_of[project.id], zip(rows, items, strict=True), today, policy.behind_days
        )
        for late in late_nodes:
            out.append(
                Finding(
                    "fund_plan_behind",
                    "project",
                    f"{project.id}:{late.node_code}",
                    f"project {project.name}: node {late.node_code}, planned for {late.month} in its fund "
                    f"plan (version {plan.version}), is not confirmed {policy.behind_days} days after that "
                    f"month ended ({book.id} fund_plan.behind_days)",
                    account_id=plan.account_id,
                    link=link,
                )
            )
    return out


def _behind(
    progress: Progress,
    items: Iterable[tuple[Any, fund_plan_rules.Item]],
    today: date,
    days: int,
) -> list[fund_plan_rules.Behind]:
    """The plan's nodes late: an item (its row, for the building it names) naming a building against that
    building's nodes, any other against the nodes the whole project (every building) has reached."""
    reached = {b.code: b.confirmed for b in progress.buildings}
    groups: dict[str | None, list] = {}
    for row, item in items:
        groups.setdefault(row.building_code if row.building_code in reached else None, []).append(item)
    late: dict[str, fund_plan_rules.Behind] = {}  # one alert per node, the earliest month late
    for building, group in groups.items():
        confirmed = reached[building] if building is not None else progress.everywhere
        for found in fund_plan_rules.behind_plan(group, confirmed, today, days):
            if found.node_code not in late or found.month < late[found.node_code].month:
                late[found.node_code] = found
    return sorted(late.values(), key=lambda b: (b.month, b.node_code))


def _agreements(uow: UnitOfWork, ctx: Context, today: date) -> list[Finding]:
    """Accounts whose bank has not confirmed the tri-party agreement within the rule book's days."""
    out = []
    for account in uow.alert_reads.unconfirmed_accounts():
        rulebook_id = account.rulebook_id
        book = ctx.rulebooks.get(rulebook_id)
        limit = confirmation_days(book.limits if book else {})
        stated = book is not None and "bank_confirmation_days" in book.limits
        age = (today - account.opened_on).days
        if age <= limit:
            continue
        source = f"{rulebook_id} limits.bank_confirmation_days" if stated else "configured default"
        agreement = f"agreement {account.agreement_no}" if account.agreement_no else "its agreement"
        out.append(
            Finding(
                "agreement_unconfirmed",
                "account",
                account.account_no,
                f"account {account.account_no}, opened on {account.opened_on}: the bank has not confirmed "
                f"{agreement} after {age} days (limit {limit} days, {source})",
                account_id=account.id,
                link=f"/projects/{account.project_id}",
            )
        )
    return out


def _lookups(uow: UnitOfWork, now: datetime) -> list[Finding]:
    rows = uow.rate_limits.failure_totals_since(LOOKUP_PREFIX, now - LOOKUP_WINDOW, LOOKUP_FAILURES)
    return [
        Finding(
            "voucher_lookup_failures",
            "client",
            key.removeprefix(LOOKUP_PREFIX)[:80],
            f"client {key.removeprefix(LOOKUP_PREFIX)} failed {failures} public voucher look-ups in the "
            f"last {int(LOOKUP_WINDOW.total_seconds() // 3600)} hours (alert at {LOOKUP_FAILURES})",
            link="/alerts",
        )
        for key, failures in rows
    ]


RISK_RULES = ("suspense_overdue", "instruction_overdue", "guarantee_expiring")


def risks_now(uow: UnitOfWork, ctx: Context, today: date) -> dict[str, list[Finding]]:
    """What the suspense, instruction and guarantee rules find today, by rule (each key of RISK_RULES): the
    dashboard's risk panel (escrow.services.overview) lists them with the sweep's own rules and limits."""
    found = [*_suspense(uow, ctx, today), *_instructions(uow, ctx, today), *_guarantees(uow, today)]
    return {rule: [f for f in found if f.rule == rule] for rule in RISK_RULES}


def evaluate(uow: UnitOfWork, ctx: Context, now: datetime) -> list[Finding]:
    """Every rule, against the database as it is now."""
    today = ctx.today()
    return [
        *_still_missing(uow),
        *_suspense(uow, ctx, today),
        *_accounts(uow, ctx),
        *_instructions(uow, ctx, today),
        *_notices(uow, ctx, today),
        *_guarantees(uow, today),
        *_fund_plans(uow, ctx, today),
        *_agreements(uow, ctx, today),
        *_lookups(uow, now),
    ]


# --- keeping the alerts table in step ----------------------------------------------------------------------


def _record(uow: UnitOfWork, alert: Alert, actor: str, action: str, before: str | None, **details: Any):
    audit.record(
        uow.session,
        actor=actor,
        action=f"alert.{action}",
        subject_type="alert",
        subject_id=alert.id,
        account_id=alert.account_id,
        before={"state": before} if before else None,
        after={"state": alert.state, "message": alert.message},
        details={"rule": alert.rule, "dedup_key": alert.dedup_key, **details},
    )


def _lock_chains_to_record(
    uow: UnitOfWork, findings: dict[str, Finding], current: dict[str, Alert], rules: set[str]
) -> None:
    """The audit chains of every alert `raise_alerts` is about to open, reopen or resolve, locked first and in
    ascending order (escrow.store.audit): one sweep records on many accounts' chains."""
    chains = {
        audit.chain_of(f.account_id if key not in current else current[key].account_id)
        for key, f in findings.items()
        if key not in current or current[key].state == "resolved"
    }
    chains |= {
        audit.chain_of(alert.account_id)
        for key, alert in current.items()
        if key not in findings and alert.rule in rules and alert.state != "resolved"
    }
    audit.lock_chains(uow.session, chains)


def raise_alerts(
    uow: UnitOfWork,
    findings: Iterable[Finding],
    *,
    resolve_others_of: Iterable[str] = (),
    actor: str = SCHEDULER,
) -> SyncResult:
    """Open (or reopen, or refresh) one alert per finding; resolve the unresolved alerts of the rules in
    `resolve_others_of` that no finding names any more. In bulk: the alerts concerned are read at once, the
    new ones inserted together, the changed ones updated together, and their audit events (one per alert
    opened, reopened or resolved) written together — a fixed number of statements however many alerts."""
    result = SyncResult()
    findings = {f.dedup_key: f for f in findings}
    rules = set(resolve_others_of)
    now = utcnow()
    current: dict[str, Alert] = {}
    if rules:
        current.update((a.dedup_key, a) for a in uow.alerts.unresolved_locked(rules))
    wanted = [k for k in findings if k not in current]
    current.update((a.dedup_key, a) for a in uow.alerts.by_dedup_keys_locked(wanted))
    _lock_chains_to_record(uow, findings, current, rules)
    opened: list[Alert] = []
    changed: list[tuple[Alert, str, str | None]] = []  # (alert, what happened, its state before), in order
    for key, f in findings.items():
        alert = current.get(key)
        if alert is None:
            rule = RULES[f.rule]
            alert = Alert(
                rule=f.rule,
                severity=rule.severity,
                urgency=URGENCY[rule.severity],
                owner_role=rule.owner_role,
                state="open",
                subject_type=f.subject_type,
                subject_id=f.subject_id,
                account_id=f.account_id,
                message=f.message,
                link=f.link,
                dedup_key=key,
                created_at=now,
                updated_at=now,
            )
            opened.append(alert)
            changed.append((alert, "opened", None))
        elif alert.state == "resolved":
            alert.state, alert.resolved_at, alert.acknowledged_by = "open", None, None
            alert.message, alert.updated_at = f.message, now
            changed.append((alert, "reopened", "resolved"))
            result.reopened += 1
        elif alert.message != f.message or alert.link != f.link:
            alert.message, alert.link, alert.updated_at = f.message, f.link, now
            result.updated += 1
    for key, alert in current.items():
        if key in findings or alert.rule not in rules or alert.state == "resolved":
            continue
        before = alert.state
        alert.state, alert.resolved_at, alert.updated_at = "resolved", now, now
        changed.append((alert, "resolved", before))
        result.resolved += 1
    uow.session.flush()  # the changed alerts are written (one UPDATE per kind of change)
    inserted = {a.dedup_key: a for a in uow.alerts.add_many(opened)}  # the new ones, with their ids
    changed = [
        (inserted.get(a.dedup_key, a) if action == "opened" else a, action, b) for a, action, b in changed
    ]
    result.opened = len(opened)
    with audit.batched(uow.session):
        for alert, action, before in changed:
            _record(uow, alert, actor, action, before, **({"cleared": True} if action == "resolved" else {}))
    notifications.alerts_raised(uow, [a for a, action, _ in changed if action in ("opened", "reopened")])
    result.open_now = uow.alerts.count_unresolved()
    return result


def sweep(uow: UnitOfWork, ctx: Context, now: datetime) -> SyncResult:
    """Evaluate every rule and bring the alerts in step: the job `alert-sweep`."""
    return raise_alerts(uow, evaluate(uow, ctx, now), resolve_others_of=SWEPT)


def statement_check(uow: UnitOfWork, day: date) -> SyncResult:
    """The end-of-day check: an alert for every account without a statement for `day`."""
    return raise_alerts(uow, missing_statements(uow, day))


def run_sweep(ctx: Context, now: datetime) -> SyncResult:
    """`sweep` in a transaction of its own (the scheduled job)."""
    return ctx.run(sweep, now)


@dataclass(frozen=True)
class StatementCheck:
    missing: int  # accounts without a statement for the day
    result: SyncResult


def check_statements(ctx: Context, day: date) -> StatementCheck:
    """`statement_check` in a transaction of its own (the scheduled job)."""
    with ctx.writing() as uow:
        missing = missing_statements(uow, day)
        return ctx.commit(uow, StatementCheck(len(missing), raise_alerts(uow, missing)))


# --- the API and the pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertSubject:
    type: str  # what the alert concerns: account, deposit, instruction, notice, client
    id: str  # its account number, id or client address


@dataclass(frozen=True)
class AlertView:
    alert_id: int
    rule: str
    title: str  # the rule in words
    severity: Literal["critical", "warning", "info"]
    owner_role: str  # the bureau role expected to act
    state: Literal["open", "acknowledged", "resolved"]
    subject: AlertSubject
    account_no: str | None
    message: str
    link: str  # the page of what it concerns
    created_at: str  # ISO 8601 with its zone
    updated_at: str
    resolved_at: str | None
    acknowledged_by: str | None  # username of who acknowledged or resolved it


def alert_view(uow: UnitOfWork, alert: Alert) -> AlertView:
    account = uow.projects.account(alert.account_id) if alert.account_id else None
    user = uow.parties.user(alert.acknowledged_by) if alert.acknowledged_by else None
    return _view(alert, account.account_no if account else None, user.username if user else None)


def _view(alert: Alert, account_no: str | None, acknowledged_by: str | None) -> AlertView:
    return AlertView(
        alert_id=alert.id,
        rule=alert.rule,
        title=RULES[alert.rule].title if alert.rule in RULES else alert.rule,
        severity=alert.severity,
        owner_role=alert.owner_role,
        state=alert.state,
        subject=AlertSubject(alert.subject_type, alert.subject_id),
        account_no=account_no,
        message=alert.message,
        link=alert.link,
        created_at=approvals.timestamp(alert.created_at),
        updated_at=approvals.timestamp(alert.updated_at),
        resolved_at=approvals.timestamp(alert.resolved_at),
        acknowledged_by=acknowledged_by,
    )


def listing(
    ctx: Context,
    *,
    state: str | None = None,
    severity: str | None = None,
    rule: str | None = None,
    account_no: str | None = None,
    limit: int = 500,
) -> tuple[AlertView, ...]:
    return tuple(
        _listing(ctx, state=state, severity=severity, rule=rule, account_no=account_no, limit=limit).items
    )


def page_of_listing(
    ctx: Context,
    page: Page,
    *,
    state: str | None = None,
    severity: str | None = None,
    rule: str | None = None,
    account_no: str | None = None,
) -> Paged[AlertView]:
    """One page of the alerts, most severe first, then newest (the position: urgency and id)."""
    return _listing(ctx, state=state, severity=severity, rule=rule, account_no=account_no, page=page)


def _listing(
    ctx: Context,
    *,
    state: str | None,
    severity: str | None,
    rule: str | None,
    account_no: str | None,
    limit: int = 500,
    page: Page | None = None,
) -> Paged[AlertView]:
    errors = []
    if state is not None and state not in STATES:
        errors.append(FieldError("state", " | ".join(STATES)))
    if severity is not None and severity not in SEVERITIES:
        errors.append(FieldError("severity", " | ".join(SEVERITIES)))
    if rule is not None and rule not in RULES:
        errors.append(FieldError("rule", " | ".join(RULES)))
    if errors:
        raise InvalidInput("unknown filter value", errors=errors)
    with ctx.reading() as uow:
        account_id = None
        if account_no is not None:
            account = uow.projects.account_by_no(account_no)
            if account is None:
                return Paged([])
            account_id = account.id
        rows = uow.alert_reads.listing(
            state=state, severity=severity, rule=rule, account_id=account_id, limit=limit, page=page
        )
        if page is not None:
            found = page_of(rows, page, lambda row: (row[0].urgency, row[0].id))
            return Paged([_view(alert, no, username) for alert, no, username in found.items], found.next)
        return Paged([_view(alert, no, username) for alert, no, username in rows])


def _bureau_alert(uow: UnitOfWork, alert_id: int) -> Alert:
    alert = uow.alerts.locked(alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def _acknowledge(uow: UnitOfWork, alert: Alert, actor: Principal, comment: str) -> bool:
    """Mark an open alert acknowledged, audited; False when it was acknowledged already. The caller
    refuses or skips a resolved one."""
    if alert.state != "open":
        return False
    alert.state, alert.acknowledged_by, alert.updated_at = "acknowledged", actor.user_id, utcnow()
    uow.session.flush()
    _record(uow, alert, actor.ref, "acknowledged", "open", comment=comment)
    return True


def _resolve(uow: UnitOfWork, alert: Alert, actor: Principal, comment: str) -> bool:
    """Mark an unresolved alert resolved, audited."""
    before = alert.state
    now = utcnow()
    alert.state, alert.resolved_at, alert.updated_at = "resolved", now, now
    if alert.acknowledged_by is None:
        alert.acknowledged_by = actor.user_id
    uow.session.flush()
    _record(uow, alert, actor.ref, "resolved", before, comment=comment)
    return True


def acknowledge(ctx: Context, alert_id: int, actor: Principal, comment: str = "") -> AlertView:
    """Someone is on it. Acknowledging an acknowledged alert changes nothing."""
    with ctx.writing() as uow:
        alert = _bureau_alert(uow, alert_id)
        if alert.state == "resolved":
            raise Conflict(f"alert {alert_id} is already resolved")
        _acknowledge(uow, alert, actor, comment)
        return ctx.commit(uow, alert_view(uow, alert))


def resolve(ctx: Context, alert_id: int, actor: Principal, comment: str = "") -> AlertView:
    """Done; if its condition still holds, the next sweep reopens it."""
    with ctx.writing() as uow:
        alert = _bureau_alert(uow, alert_id)
        if alert.state == "resolved":
            raise Conflict(f"alert {alert_id} is already resolved")
        _resolve(uow, alert, actor, comment)
        return ctx.commit(uow, alert_view(uow, alert))


# --- many alerts at once -----------------------------------------------------------------------------------

BULK_MAX = 1000  # the most alerts one bulk action takes; the rest of a larger filter waits for another turn
BULK_ACTIONS = {"acknowledge": _acknowledge, "resolve": _resolve}


@dataclass(frozen=True)
class BulkResult:
    action: Literal["acknowledge", "resolve"]
    changed: tuple[int, ...]  # the ids of the alerts this action changed
    unchanged: tuple[int, ...]  # acknowledged already (acknowledging changes nothing)
    already_resolved: tuple[int, ...]  # resolved already: left alone
    remaining: int  # unresolved alerts matching the filter beyond BULK_MAX, not taken this time


def check_filter(f: AlertFilter) -> None:
    """Refuse a filter value that is not one of the known ones."""
    errors = []
    if any(s not in STATES for s in f.states):
        errors.append(FieldError("state", " | ".join(STATES)))
    if f.severity and f.severity not in SEVERITIES:
        errors.append(FieldError("severity", " | ".join(SEVERITIES)))
    if f.rule and f.rule not in RULES:
        errors.append(FieldError("rule", " | ".join(RULES)))
    if errors:
        raise InvalidInput("unknown filter value", errors=errors)


def _unresolved_of(f: AlertFilter) -> AlertFilter:
    """`f` narrowed to the alerts not resolved (a bulk action by filter takes only those)."""
    states = tuple(s for s in (f.states or STATES) if s != "resolved") or ("none",)
    return AlertFilter(states, f.severity, f.rule, f.project_id)


def handle_many(
    ctx: Context,
    action: str,
    actor: Principal,
    *,
    alert_ids: Iterable[int] | None = None,
    matching: AlertFilter | None = None,
    comment: str = "",
) -> BulkResult:
    """Acknowledge or resolve the alerts listed by id, or the unresolved ones matching a filter (at most
    BULK_MAX, most urgent first), in one transaction, each audited as the single action audits it. Alerts
    resolved already are left alone and counted; an id that does not exist refuses the whole request."""
    if action not in BULK_ACTIONS:
        raise InvalidInput(
            "unknown action", errors=[FieldError.coded("action", "one_of", choices=" | ".join(BULK_ACTIONS))]
        )
    if (alert_ids is None) == (matching is None):
        raise InvalidInput(
            "give either alert ids or a filter", errors=[FieldError.coded("alert_ids", "required")]
        )
    ids = sorted(set(alert_ids)) if alert_ids is not None else []
    if alert_ids is not None and not ids:
        raise InvalidInput("no alert chosen", errors=[FieldError.coded("alert_ids", "required")])
    if len(ids) > BULK_MAX:
        raise InvalidInput("too many alerts", errors=[FieldError.at_most("alert_ids", BULK_MAX)])
    if matching is not None:
        check_filter(matching)
    with ctx.writing() as uow:
        remaining = 0
        if matching is None:
            alerts = uow.alerts.many_locked(ids)
            missing = sorted(set(ids) - {a.id for a in alerts})
            if missing:
                raise NotFound(f"no alert {', '.join(map(str, missing))}")
        else:
            unresolved = _unresolved_of(matching)
            alerts = uow.alerts.matching_locked(unresolved, BULK_MAX)
            remaining = max(0, uow.alerts.count_matching(unresolved) - len(alerts))
        resolved = tuple(a.id for a in alerts if a.state == "resolved")
        todo = [a for a in alerts if a.state != "resolved"]
        audit.lock_chains(uow.session, {audit.chain_of(a.account_id) for a in todo})
        change = BULK_ACTIONS[action]
        changed: list[int] = []
        unchanged: list[int] = []
        with audit.batched(uow.session):
            for alert in todo:
                (changed if change(uow, alert, actor, comment) else unchanged).append(alert.id)
        result = BulkResult(cast(Any, action), tuple(changed), tuple(unchanged), resolved, remaining)
        return ctx.commit(uow, result)
