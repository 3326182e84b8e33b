"""The bureau's alert page: a page of the alerts matching a filter, with the project each concerns, and the
same alerts summed up by rule or by project (each summary one GROUP BY in the store, never a loop over the
alerts). The words are the page's to choose; this gives codes and figures."""

from __future__ import annotations

from dataclasses import dataclass

from escrow.services.alerts import check_filter
from escrow.services.context import Context
from escrow.services.listings import Page, _paged
from escrow.store.models import Alert
from escrow.store.reads.alerts import AlertFilter, AlertRow, ProjectGroup, RuleGroup

__all__ = ["AlertFilter", "AlertRow", "ProjectGroup", "RuleGroup"]

GROUPINGS = ("rule", "project")


@dataclass(frozen=True)
class AlertSummary:
    by_rule: tuple[RuleGroup, ...]  # the grouping asked for (the other one empty)
    by_project: tuple[ProjectGroup, ...]
    projects: tuple[tuple[int, str], ...]  # (id, name) of the projects with alerts: the filter's choices


def rows(ctx: Context, f: AlertFilter, page: int, per_page: int) -> Page:
    """One page of the alerts matching `f` (AlertRow), most severe first, then newest: the list the page
    shows, and any export of it."""
    check_filter(f)
    with ctx.reading() as uow:
        found = _paged(
            lambda limit, offset: uow.alert_reads.rows(f, limit=limit, offset=offset), page, per_page
        )
        figures = uow.alert_reads.subject_figures([row.alert for row in found.rows])
        return Page(
            tuple(
                row._replace(figures=figures.get((row.alert.subject_type, row.alert.subject_id)))
                for row in found.rows
            ),
            found.total,
            found.page,
            found.pages,
        )


def summary(ctx: Context, f: AlertFilter, grouping: str) -> AlertSummary:
    """The alerts matching `f` summed up by `grouping` (rule or project)."""
    check_filter(f)
    with ctx.reading() as uow:
        return AlertSummary(
            by_rule=tuple(uow.alert_reads.by_rule(f)) if grouping != "project" else (),
            by_project=tuple(uow.alert_reads.by_project(f)) if grouping == "project" else (),
            projects=tuple(uow.alert_reads.projects_alerted()),
        )


def missing_day(alert: Alert) -> str | None:
    """The day whose bank statement a statement_missing alert misses: the last part of its key
    (`statement_missing:account:<no>:<YYYY-MM-DD>`, escrow.services.alerts.Finding.dedup_key)."""
    if alert.rule != "statement_missing":
        return None
    return alert.dedup_key.rsplit(":", 1)[1]


def planned_node(alert: Alert) -> str | None:
    """The node a fund_plan_behind alert is about (its subject is `<project id>:<node code>`)."""
    if alert.rule != "fund_plan_behind" or ":" not in alert.subject_id:
        return None
    return alert.subject_id.split(":", 1)[1]
