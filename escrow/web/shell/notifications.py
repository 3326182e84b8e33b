"""A notification in words, in the reader's language: its sentence and the page of its case, from the kind
and the parameters stored with it (escrow.services.notifications), never from stored text. The inbox says
them on the page; the e-mail job (escrow.jobs.mail) says them in Chinese."""

from __future__ import annotations

from decimal import Decimal

from escrow.catalog import N_, Gettext
from escrow.domain import notifications as kinds
from escrow.services.notifications import NotificationView
from escrow.web.bureau.dashboard import ALERT_RULES
from escrow.web.shell.filters import money

CASES = {
    "release": N_("Release #%(id)s"),
    "refund": N_("Refund #%(id)s"),
    "fund_plan": N_("Fund plan #%(id)s"),
    "adoption": N_("Rule book adoption #%(id)s"),
    "supervised_amount_change": N_("Key supervised amount change #%(id)s"),
}
AT_STEP = N_("%(case)s is waiting for your step: %(step)s.")
AT_STEP_OF_PROJECT = N_("%(case)s of %(project)s is waiting for your step: %(step)s.")
DECIDED = {
    "approved": N_("%(case)s of %(project)s was approved."),
    "rejected": N_("%(case)s of %(project)s was rejected."),
}
ALERT = N_("New alert: %(rule)s.")
ALERT_ON_PROJECT = N_("New alert on %(project)s: %(rule)s.")
AMOUNT = N_("Amount: ¥%(amount)s")
UNKNOWN = N_("Something needs your attention.")
OPEN_AT = N_("Open it at %(url)s")
SIGNATURE = N_("Pre-sale Fund Supervision")

# The case's page for each side: the bureau's pages, the developer's portal.
BUREAU_PAGES = {
    "release": "/releases/{id}",
    "refund": "/refunds/{id}",
    "fund_plan": "/fund-plans/{id}",
    "adoption": "/rules/adoptions/{id}",
    "supervised_amount_change": "/supervised-amount-changes/{id}",
}
PORTAL_PAGES = {
    "release": "/developer/releases/{id}",
    "refund": "/developer/contracts",
    "fund_plan": "/developer/fund-plan",
}


def sentence(n: NotificationView, _: Gettext, lang: str) -> str:
    p = n.params
    if n.kind == kinds.ALERT_RAISED:
        rule = _(ALERT_RULES[p["rule"]]) if p.get("rule") in ALERT_RULES else p.get("rule", "")
        if p.get("project"):
            return _(ALERT_ON_PROJECT, project=p["project"], rule=rule)
        return _(ALERT, rule=rule)
    case = _(CASES[n.subject_type], id=n.subject_id) if n.subject_type in CASES else str(n.subject_id)
    project = p.get("project")
    if n.kind == kinds.CASE_AT_STEP:
        step = p.get("step_zh" if lang == "zh" else "step_en") or p.get("role", "")
        if project:
            return _(AT_STEP_OF_PROJECT, case=case, project=project, step=step)
        return _(AT_STEP, case=case, step=step)
    if n.kind == kinds.CASE_DECIDED and p.get("status") in DECIDED:
        return _(DECIDED[p["status"]], case=case, project=project or "")
    return _(UNKNOWN)


def amount(n: NotificationView, _: Gettext) -> str | None:
    """The case's amount as a line of its own, if it has one."""
    value = n.params.get("amount")
    return _(AMOUNT, amount=money(Decimal(value))) if value else None


def link(n: NotificationView, developer_staff: bool) -> str:
    """The page of the notification's case for the reader's side of the counter."""
    if n.kind == kinds.ALERT_RAISED:
        if developer_staff:
            return "/developer"
        return f"/projects/{n.params['project_id']}" if n.params.get("project_id") else "/alerts"
    pages = PORTAL_PAGES if developer_staff else BUREAU_PAGES
    page = pages.get(n.subject_type)
    if page is None:
        return "/developer" if developer_staff else "/"
    return page.format(id=n.subject_id)


def mail(n: NotificationView, _: Gettext, lang: str, base_url: str, developer_staff: bool) -> tuple[str, str]:
    """An e-mail's subject and plain-text body."""
    subject = sentence(n, _, lang)
    lines = [subject]
    if (line := amount(n, _)) is not None:
        lines.append(line)
    lines += ["", _(OPEN_AT, url=f"{base_url}{link(n, developer_staff)}"), "", "-- ", _(SIGNATURE)]
    return subject, "\n".join(lines)
