"""The city dashboard (`/`) and the alert list (`/alerts`) of the bureau.

The dashboard's figures are `services.stats.city_stats` — the same numbers as GET /api/v1/stats — for a
period the user picks (default: the last 12 months ending today, by the app's clock: from the first day of
the month eleven months back, so the monthly chart shows twelve months). Beside them: the charts of the
period (escrow.reports.charts, the city report's own renderer), the risk panel (escrow.services.overview),
alerts not yet resolved, accounts whose latest bank statement does not reconcile, and the releases and
refunds whose next approval step is the signed-in user's to take (all read by `services.listings`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from escrow.catalog import gettext_for
from escrow.domain.errors import Conflict, InvalidInput
from escrow.domain.money import from_fen
from escrow.reports import charts
from escrow.services import alerts as alert_service
from escrow.services import listings, overview
from escrow.services.context import Context
from escrow.web.bureau.projects import labeller, local_time, query_url, tone
from escrow.web.shell import exports, pages, sessions
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

ALERTS_PER_PAGE = 25
TOP_ALERTS = 5
COMMENT_MAX = 500
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

pages.NOTICES["alert_acknowledged"] = N_("The alert was acknowledged.")
pages.NOTICES["alert_resolved"] = N_("The alert was resolved.")

# The alert rules store their texts in English; a clerk reads the rule's name in their own language.
ALERT_RULES = {
    "statement_missing": N_("No bank statement for a working day"),
    "suspense_overdue": N_("Deposit in suspense too long"),
    "deposit_unknown_notice": N_("Deposit for an unknown payment notice"),
    "retention_breach": N_("Balance below the required retention"),
    "instruction_overdue": N_("Approved payment not executed in time"),
    "frozen_with_pending_releases": N_("Frozen account with pending releases"),
    "notice_overdue": N_("Payment notice overdue"),
    "voucher_lookup_failures": N_("Repeated failed voucher look-ups"),
    "guarantee_expiring": N_("Bank guarantee expiring or expired"),
    "fund_plan_ahead": N_("Drawings ahead of the fund plan"),
    "fund_plan_behind": N_("Construction behind the fund plan"),
    "agreement_unconfirmed": N_("Supervised account not confirmed by its bank"),
}
# ids chosen not to clash with other areas' ids of another meaning ("Open" notices, "Warning" checks)
# one vocabulary in both languages, the API's values in words: critical 严重, warning 警告, info 提示
SEVERITIES = {"critical": N_("Critical"), "warning": N_("Warning"), "info": N_("Notice")}
STATES = {"open": N_("Not handled"), "acknowledged": N_("Acknowledged"), "resolved": N_("Resolved")}
SUBJECTS = {
    "account": N_("Account"),
    "deposit": N_("Deposit"),
    "instruction": N_("Payment instruction"),
    "notice": N_("Payment notice"),
    "client": N_("Client address"),
    "guarantee": N_("Bank guarantee"),
    "project": N_("Project"),
}
UNRESOLVED = ("open", "acknowledged")


def alert_labels(_: Callable[..., str]) -> Callable[[str, str | None], str]:
    """`label(group, code)` for the alert pages: the project labels plus rule, severity, state, subject."""
    groups = {"rule": ALERT_RULES, "severity": SEVERITIES, "state": STATES, "subject": SUBJECTS}
    base = labeller(_)

    def label(group: str, code: str | None) -> str:
        if group in groups:
            text = groups[group].get(code or "")
            return _(text) if text else (code or "")
        return base(group, code)

    return label


# --- the period -------------------------------------------------------------------------------------------


def parse_day(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def months_back(today: date, n: int) -> date:
    """The first day of the month `n` months before today's."""
    months = today.year * 12 + today.month - 1 - n
    return date(months // 12, months % 12 + 1, 1)


def default_period(today: date) -> tuple[date, date]:
    """The last 12 months ending today: this month and the eleven before it."""
    return months_back(today, 11), today


def quick_periods(today: date) -> list[tuple[str, date, date]]:
    """The periods a clerk asks for most, as (label, from, to)."""
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        (N_("This month"), month_start, today),
        (N_("Last month"), last_month_end.replace(day=1), last_month_end),
        (N_("Last 3 months"), months_back(today, 2), today),
        (N_("Last 12 months"), *default_period(today)),
        (N_("This year"), date(today.year, 1, 1), today),
        (N_("Last year"), date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    ]


# --- what waits for the signed-in user --------------------------------------------------------------------


def _waiting(item: listings.Waiting, lang: str) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "url": f"/{item.kind}s/{item.id}",
        "project": item.project,
        "contract_no": item.contract_no,
        "amount": item.amount,
        "step_no": item.step_no,
        "step": item.label_zh if lang == "zh" else item.label_en,
        "submitted": local_time(item.submitted_at),
    }


def _risks(risks: overview.Risks) -> list[dict[str, Any]]:
    """The risk panel's four lists, each with its heading's message id and what its rows show."""
    return [
        {"key": "near_floor", "title": N_("Accounts near their retention floor"), "items": risks.near_floor},
        {"key": "overdue", "title": N_("Approved payments not executed in time"),
         "items": risks.overdue_instructions},
        {"key": "suspense", "title": N_("Suspense older than the rule book allows"),
         "items": risks.old_suspense},
        {"key": "guarantees", "title": N_("Bank guarantees expiring or expired"),
         "items": risks.expiring_guarantees},
    ]  # fmt: skip


def _dashboard(ctx: Context, period: tuple[date, date] | None, user, lang: str) -> dict[str, Any]:
    found = listings.dashboard(ctx, period, user.role, user.user_id, TOP_ALERTS)
    _ = gettext_for(lang)
    return {
        "charts": charts.city_charts(found.charts, _) if found.charts else [],
        "risks": _risks(found.risks),
        "near_percent": found.risks.near_percent,
        "guarantee_days": found.risks.guarantee_days,
        "figures": found.figures,
        "alert_counts": found.alert_counts,
        "top_alerts": found.top_alerts,
        "discrepancies": found.discrepancies,
        "waiting": [_waiting(item, lang) for item in found.waiting],
    }


# --- the alert list ---------------------------------------------------------------------------------------

ALERT_FILTERS = ("state", "severity", "rule", "page")


async def _alerts_page(
    request: Request, params: Mapping[str, str], *, status: int = 200, form_error: str = "", **extra: Any
) -> Template:
    _ = pages.gettext(request)
    values = {k: (params.get(k) or "").strip() for k in ALERT_FILTERS}
    errors: dict[str, str] = {}
    allowed = {"state": {*STATES, "all"}, "severity": SEVERITIES, "rule": ALERT_RULES}
    for name, known in allowed.items():
        if values[name] and values[name] not in known:
            errors[name] = _("Choose one of the listed values.")
    state = values["state"] if "state" not in errors else ""
    states = UNRESOLVED if not state else () if state == "all" else (state,)
    page = int(values["page"]) if values["page"].isdigit() and len(values["page"]) < 7 else 1
    page_found = await pages.run(
        listings.alerts,
        pages.ctx(request),
        states,
        values["severity"] if "severity" not in errors else "",
        values["rule"] if "rule" not in errors else "",
        max(page, 1),
        ALERTS_PER_PAGE,
    )
    found = {
        "rows": page_found.rows,
        "total": page_found.total,
        "page": page_found.page,
        "pages": page_found.pages,
    }
    params_kept = {k: v for k, v in values.items() if k != "page" and k not in errors}
    back = query_url("/alerts", params_kept, page=found["page"] if found["page"] > 1 else "")
    return pages.render(
        request,
        "bureau/alerts/list.html",
        status=400 if errors and status == 200 else status,
        values=values,
        errors=errors,
        form_error=form_error,
        back=back,
        label=alert_labels(_),
        tone=tone,
        local_time=local_time,
        page_url=lambda n: query_url("/alerts", params_kept, page=n),
        options={
            "state": [("", _("Not resolved")), *((k, _(v)) for k, v in STATES.items()), ("all", _("All"))],
            "severity": [("", _("Any")), *((k, _(v)) for k, v in SEVERITIES.items())],
            "rule": [("", _("Any")), *((k, _(v)) for k, v in ALERT_RULES.items())],
        },
        **found,
        **extra,
    )


async def _alerts_download(request: Request, fmt: str) -> Response:
    """The alerts the list's filters select, as a file (escrow.web.shell.exports); a bad filter shows the
    page with its error instead."""
    _ = pages.gettext(request)
    values = {k: (request.query_params.get(k) or "").strip() for k in ("state", "severity", "rule")}
    known = {"state": {*STATES, "all"}, "severity": SEVERITIES, "rule": ALERT_RULES}
    if any(values[k] and values[k] not in allowed for k, allowed in known.items()):
        return await _alerts_page(request, request.query_params)
    state = values["state"]
    states = UNRESOLVED if not state else () if state == "all" else (state,)
    found = await pages.run(
        listings.alerts, pages.ctx(request), states, values["severity"], values["rule"], 1, exports.MAX_ROWS
    )
    exports.check_size(found.total, _)
    label = alert_labels(_)
    headings = (
        N_("Severity"), N_("Rule"), N_("Subject"), N_("Account"), N_("State"), N_("Opened"),
        N_("Recorded text"),
    )  # fmt: skip
    rows = [
        (
            label("severity", a.severity),
            label("rule", a.rule),
            f"{label('subject', a.subject_type)} {a.subject_id or ''}".strip(),
            account_no or "",
            label("state", a.state),
            local_time(a.created_at),
            a.message,
        )
        for a, account_no, _project_id in found.rows
    ]
    return await exports.download(request, "alerts", fmt, exports.Table([_(h) for h in headings], rows))


def _safe_back(target: str) -> str:
    """Back to the alert list the form was on; nothing but an /alerts path."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path != "/alerts":
        return "/alerts"
    return target


class DashboardController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", guards=[requires("dashboard.view")], name="dashboard")
    async def dashboard(self, request: Request) -> Template:
        _ = pages.gettext(request)
        ctx, lang, user = pages.ctx(request), pages.language(request), sessions.user(request)
        today = ctx.today()
        given = {k: request.query_params.get(k, "").strip() for k in ("from", "to")}
        start, end = default_period(today)
        values = {"from": given["from"] or start.isoformat(), "to": given["to"] or end.isoformat()}
        errors: dict[str, str] = {}
        days = {}
        for name in ("from", "to"):
            days[name] = parse_day(values[name])
            if days[name] is None:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
        period = (days["from"], days["to"]) if not errors else None
        headline = ""
        try:
            data = await pages.run(_dashboard, ctx, period, user, lang)
        except InvalidInput as exc:
            headline, errors = pages.field_errors(request, exc)
            data = await pages.run(_dashboard, ctx, None, user, lang)
        return pages.render(
            request,
            "bureau/dashboard/index.html",
            status=400 if errors else 200,
            values=values,
            errors=errors,
            form_error=headline if errors else "",
            period=period,
            quick=[(_(name), a.isoformat(), b.isoformat()) for name, a, b in quick_periods(today)],
            label=alert_labels(_),
            tone=tone,
            fen=from_fen,
            **data,
        )

    @get("/alerts", guards=[requires("alerts.view")], name="alerts")
    async def alerts(self, request: Request) -> Response:
        fmt = exports.requested(request)
        if fmt:
            return await _alerts_download(request, fmt)
        return await _alerts_page(request, request.query_params)

    @post("/alerts/{alert_id:int}/acknowledge", guards=[requires("alerts.handle")], status_code=303)
    async def acknowledge(self, request: Request, alert_id: FromPath[int]) -> Response:
        return await self._handle(request, alert_id, alert_service.acknowledge, "alert_acknowledged")

    @post("/alerts/{alert_id:int}/resolve", guards=[requires("alerts.handle")], status_code=303)
    async def resolve(self, request: Request, alert_id: FromPath[int]) -> Response:
        return await self._handle(request, alert_id, alert_service.resolve, "alert_resolved")

    async def _handle(self, request: Request, alert_id: int, fn: Callable, notice: str) -> Response:
        _ = pages.gettext(request)
        form = await pages.form(request)
        back = _safe_back(form.get("back", "/alerts"))
        comment = form.get("comment")
        params = dict(parse_qsl(urlsplit(back).query))
        if len(comment) > COMMENT_MAX:
            form.error("comment", _("At most %(value)s characters.", value=COMMENT_MAX))
        if not form.ok:
            return await _alerts_page(
                request,
                params,
                status=422,
                form_error=_("Please correct the marked fields"),
                failed_alert=alert_id,
                comment_error=form.errors.get("comment", ""),
                comment_value=comment,
            )
        try:
            await pages.run(fn, pages.ctx(request), alert_id, sessions.principal(request), comment)
        except (Conflict, InvalidInput) as exc:
            headline, _fields = pages.field_errors(request, exc)
            if isinstance(exc, Conflict):
                headline = _("This alert is already resolved.")
            return await _alerts_page(
                request, params, status=409 if isinstance(exc, Conflict) else 422, form_error=headline
            )
        return pages.redirect(request, back, notice=notice)


CONTROLLERS = [DashboardController]
