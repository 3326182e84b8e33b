"""The alert page's pieces: its filters read from the query (the same for the list, its summaries, the bulk
actions and any export of the list), and each alert's subject in words from the catalog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from escrow.domain.ids import valid_id
from escrow.domain.money import from_fen
from escrow.reports.numerals import money
from escrow.services import alert_page
from escrow.services.alert_page import AlertFilter, AlertRow
from escrow.web.shell.labels import N_

UNRESOLVED = ("open", "acknowledged")
STATE_CHOICES = ("open", "acknowledged", "resolved", "all")
FILTERS = ("state", "severity", "rule", "project", "group")

# What each alert concerns, in a sentence with its figures (the texts the rules stored stay in English).
SUBJECT_WORDS = {
    "statement_missing": N_("No bank statement for %(day)s"),
    "deposit": N_("Deposit no. %(id)s"),
    "instruction": N_("Payment instruction no. %(id)s"),
    "notice": N_("Payment notice %(id)s"),
    "guarantee": N_("Bank guarantee no. %(id)s"),
    "client": N_("Client address %(id)s"),
    "fund_plan_behind": N_("Node %(node)s not confirmed as planned"),
    "fund_plan_ahead": N_("Drawings ahead of the approved fund plan"),
}
# The same with the figures of the subject, where the store found them (AlertRow.figures).
FIGURES_WORDS = {
    "deposit": N_("Deposit no. %(id)s of %(amount)s, received on %(day)s"),
    "instruction": N_("Payment instruction no. %(id)s of %(amount)s"),
    "notice": N_("Payment notice %(id)s of %(amount)s, due on %(day)s"),
    "guarantee": N_("Bank guarantee %(id)s of %(amount)s, valid until %(day)s"),
}


@dataclass(frozen=True)
class Filters:
    """The filters as asked (`values`, to refill the form), as applied, and the ones refused."""

    values: dict[str, str]
    applied: AlertFilter
    grouping: str
    errors: dict[str, str] = field(default_factory=dict)

    def kept(self) -> dict[str, str]:
        """The filters to keep in the list's links: the valid ones."""
        return {k: v for k, v in self.values.items() if k not in self.errors}


def read_filters(
    params: Mapping[str, str], choices: Mapping[str, Mapping[str, str]], refused: str
) -> Filters:
    """The filters in `params`; a value not among `choices` (rule, severity) or not a project id is
    refused with the message `refused` and left out. No state asked means the alerts not resolved."""
    values = {k: (params.get(k) or "").strip() for k in FILTERS}
    errors: dict[str, str] = {}
    allowed = {"state": STATE_CHOICES, **choices}
    for name, known in allowed.items():
        if values[name] and values[name] not in known:
            errors[name] = refused
    project = values["project"]
    if project and not (project.isdigit() and len(project) < 12 and valid_id(int(project))):
        errors["project"] = refused

    def ok(name: str) -> str:
        return values[name] if name not in errors else ""

    state = ok("state")
    states = UNRESOLVED if not state else () if state == "all" else (state,)
    applied = AlertFilter(states, ok("severity"), ok("rule"), int(ok("project")) if ok("project") else None)
    grouping = (
        values["group"] if values["group"] in alert_page.GROUPINGS else "rule"
    )  # a summary, not a filter
    return Filters(values, applied, grouping, errors)


def subject_words(_: Callable[..., str], row: AlertRow, node_names: Mapping[str, str]) -> str:
    """The alert's subject in the reader's words, with its figures; '' where its project and account say
    it all (the account rules)."""
    alert = row.alert
    if day := alert_page.missing_day(alert):
        return _(SUBJECT_WORDS["statement_missing"], day=day)
    if node := alert_page.planned_node(alert):
        return _(SUBJECT_WORDS["fund_plan_behind"], node=node_names.get(node, node))
    if alert.rule in SUBJECT_WORDS:
        return _(SUBJECT_WORDS[alert.rule])
    if (figures := row.figures) is not None and alert.subject_type in FIGURES_WORDS:
        return _(
            FIGURES_WORDS[alert.subject_type],
            id=figures.number or alert.subject_id,
            amount=f"¥{money(from_fen(figures.amount_fen))}",
            day=figures.day.isoformat() if figures.day else "",
        )
    if alert.subject_type in SUBJECT_WORDS:
        return _(SUBJECT_WORDS[alert.subject_type], id=alert.subject_id)
    return ""
