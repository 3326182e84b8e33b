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
from escrow.domain.errors import Conflict, InvalidInput, NotFound
from escrow.domain.money import from_fen
from escrow.reports import charts
from escrow.services import alert_page, listings, overview
from escrow.services import alerts as alert_service
from escrow.services.context import Context
from escrow.web.bureau import alert_list
from escrow.web.bureau.projects import labeller, local_time, node_options, query_url, tone
from escrow.web.shell import exports, pages, sessions
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

ALERTS_PER_PAGE = 25
TOP_ALERTS = 5
COMMENT_MAX = 500
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

pages.NOTICES["alert_acknowledged"] = N_("The alert was acknowledged.")
pages.NOTICES["alert_resolved"] = N_("The alert was resolved.")
BULK_WORDS = {
    "acknowledge": N_("%(count)s alerts acknowledged."),
    "resolve": N_("%(count)s alerts resolved."),
}

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

BULK_RESULT = ("bulk", "changed", "unchanged", "resolved", "remaining")  # what a bulk action did, in the URL


def alert_filters(request: Request, params: Mapping[str, str]) -> alert_list.Filters:
    """The alert list's filters from `params` (the page, its bulk actions and any export read them here)."""
    _ = pages.gettext(request)
    choices = {"severity": SEVERITIES, "rule": ALERT_RULES}
    return alert_list.read_filters(params, choices, _("Choose one of the listed values."))


async def list_alerts(
    request: Request, filters: alert_list.Filters, page: int = 1, per_page: int = ALERTS_PER_PAGE
) -> listings.Page:
    """One page of the alerts the filters ask for (rows: AlertRow), most severe first, then newest: what
    the page lists, and what an export of the list would read."""
    return await pages.run(alert_page.rows, pages.ctx(request), filters.applied, page, per_page)


def _bulk_notice(_: Callable[..., str], params: Mapping[str, str]) -> str:
    """The sentence saying what the bulk action just done changed (its counts came back in the URL)."""
    done = {k: params.get(k, "") for k in BULK_RESULT}
    if done["bulk"] not in BULK_WORDS or not all(done[k].isdigit() for k in BULK_RESULT[1:]):
        return ""
    counts = {k: int(done[k]) for k in BULK_RESULT[1:]}
    text = _(BULK_WORDS[done["bulk"]], count=counts["changed"])
    if counts["unchanged"]:
        text += " " + _("%(count)s were acknowledged already.", count=counts["unchanged"])
    if counts["resolved"]:
        text += " " + _("%(count)s were resolved already and left alone.", count=counts["resolved"])
    if counts["remaining"]:
        text += " " + _("%(count)s more match; run the action again for them.", count=counts["remaining"])
    return text


async def _alerts_page(
    request: Request, params: Mapping[str, str], *, status: int = 200, form_error: str = "", **extra: Any
) -> Template:
    _ = pages.gettext(request)
    ctx, lang = pages.ctx(request), pages.language(request)
    filters = alert_filters(request, params)
    page_text = (params.get("page") or "").strip()
    page = int(page_text) if page_text.isdigit() and len(page_text) < 7 else 1
    found = await list_alerts(request, filters, max(page, 1))
    summed = await pages.run(alert_page.summary, ctx, filters.applied, filters.grouping)
    kept = filters.kept()
    back = query_url("/alerts", kept, page=found.page if found.page > 1 else "")
    node_names = dict(node_options(ctx, lang))
    bulk_notice = _bulk_notice(_, params)
    return pages.render(
        request,
        "bureau/alerts/list.html",
        status=400 if filters.errors and status == 200 else status,
        values=filters.values,
        filters=kept,
        grouping=filters.grouping,
        errors=filters.errors,
        form_error=form_error,
        back=back,
        label=alert_labels(_),
        tone=tone,
        local_time=local_time,
        subject=lambda row: alert_list.subject_words(_, row, node_names),
        page_url=lambda n: query_url("/alerts", kept, page=n),
        filter_url=lambda **changes: query_url("/alerts", kept, **changes),
        options={
            "state": [("", _("Not resolved")), *((k, _(v)) for k, v in STATES.items()), ("all", _("All"))],
            "severity": [("", _("Any")), *((k, _(v)) for k, v in SEVERITIES.items())],
            "rule": [("", _("Any")), *((k, _(v)) for k, v in ALERT_RULES.items())],
            "project": [("", _("Any")), *((str(pid), name) for pid, name in summed.projects)],
        },
        rows=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        by_rule=summed.by_rule,
        by_project=summed.by_project,
        bulk_max=alert_service.BULK_MAX,
        **({"notice": bulk_notice} if bulk_notice else {}),
        **extra,
    )


async def _alerts_download(request: Request, fmt: str) -> Response:
    """The alerts the list's filters select, as a file (escrow.web.shell.exports); a bad filter shows the
    page with its error instead."""
    _ = pages.gettext(request)
    filters = alert_filters(request, request.query_params)
    if filters.errors:
        return await _alerts_page(request, request.query_params)
    found = await list_alerts(request, filters, 1, exports.MAX_ROWS)
    exports.check_size(found.total, _)
    label = alert_labels(_)
    headings = (
        N_("Severity"), N_("Rule"), N_("Subject"), N_("Account"), N_("State"), N_("Opened"),
        N_("Recorded text"),
    )  # fmt: skip
    rows = [
        (
            label("severity", row.alert.severity),
            label("rule", row.alert.rule),
            f"{label('subject', row.alert.subject_type)} {row.alert.subject_id or ''}".strip(),
            row.account_no or "",
            label("state", row.alert.state),
            local_time(row.alert.created_at),
            row.alert.message,
        )
        for row in found.rows
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

    @post("/alerts/bulk", guards=[requires("alerts.handle")], status_code=303)
    async def bulk(self, request: Request) -> Response:
        """Acknowledge or resolve the alerts ticked (scope `selected`) or every unresolved alert the
        filter carried in the form matches (scope `filter`, at most BULK_MAX)."""
        _ = pages.gettext(request)
        form = await pages.form(request)
        filters = alert_filters(request, form.values)
        params = {**filters.kept(), "group": filters.grouping if filters.grouping != "rule" else ""}
        action, scope, comment = form.get("action"), form.get("scope"), form.get("comment")
        ids = [int(i) for i in form.getall("alert_id") if i.isdigit() and len(i) < 12]
        if action not in alert_service.BULK_ACTIONS or scope not in ("selected", "filter"):
            form.error("action", _("Choose one of the listed values."))
        elif scope == "selected" and not ids:
            form.error("alert_id", _("Tick at least one alert."))
        elif len(ids) != len(form.getall("alert_id")) or len(ids) > alert_service.BULK_MAX:
            form.error("alert_id", _("Choose one of the listed values."))
        if filters.errors and scope == "filter":
            form.error("filter", _("Choose one of the listed values."))
        if len(comment) > COMMENT_MAX:
            form.error("comment", _("At most %(value)s characters.", value=COMMENT_MAX))
        if not form.ok:
            return await _alerts_page(
                request,
                params,
                status=422,
                form_error=next(iter(form.errors.values())),
                bulk_comment=comment,
            )
        try:
            done = await pages.run(
                alert_service.handle_many,
                pages.ctx(request),
                action,
                sessions.principal(request),
                **({"alert_ids": ids} if scope == "selected" else {"matching": filters.applied}),
                comment=comment,
            )
        except (InvalidInput, NotFound) as exc:
            headline, _fields = pages.field_errors(request, exc)
            if isinstance(exc, NotFound):
                headline = _("Some of the ticked alerts no longer exist; nothing was changed.")
            return await _alerts_page(request, params, status=422, form_error=headline, bulk_comment=comment)
        result = {
            "bulk": action,
            "changed": len(done.changed),
            "unchanged": len(done.unchanged),
            "resolved": len(done.already_resolved),
            "remaining": done.remaining,
        }
        return pages.redirect(request, query_url("/alerts", params, **result))

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
