"""Alerts on two real projects and a client address, raised through the sweep's own path
(escrow.services.alerts.raise_alerts) — for the alert page's summaries and bulk actions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from escrow.services.alerts import Finding, raise_alerts
from escrow.store.db import UnitOfWork

NORTH_DAYS = ("2026-11-16", "2026-11-17", "2026-11-18")
SOUTH_DAYS = ("2026-11-19", "2026-11-20")


@dataclass(frozen=True)
class Seeded:
    north: dict  # the projects as the API answered their opening
    south: dict
    ids: dict[str, int]  # dedup key → alert id


def _missing(project: dict, account_id: int, day: str) -> Finding:
    no = project["account_no"]
    return Finding(
        "statement_missing",
        "account",
        no,
        f"account {no} received no bank statement for {day}",
        account_id=account_id,
        link=f"/projects/{project['project_id']}",
        period=day,
    )


def seed_alerts(engine: Engine, north: dict, south: dict) -> Seeded:
    """North: three missing statements (warning) and a retention breach (critical); south: two missing
    statements and an overdue notice (info); and a client address with failed look-ups (warning)."""
    with UnitOfWork(engine) as uow:
        n_id = uow.projects.account_by_no(north["account_no"]).id
        s_id = uow.projects.account_by_no(south["account_no"]).id
        findings = [
            *(_missing(north, n_id, day) for day in NORTH_DAYS),
            *(_missing(south, s_id, day) for day in SOUTH_DAYS),
            Finding("retention_breach", "account", north["account_no"], "below retention", account_id=n_id),
            Finding("notice_overdue", "notice", "TZ-2026-0007", "notice overdue", account_id=s_id),
            Finding("voucher_lookup_failures", "client", "203.0.113.7", "failed look-ups", link="/alerts"),
        ]
        raise_alerts(uow, findings)
        uow.commit()
        ids = {a.dedup_key: a.id for a in uow.alerts.by_dedup_keys_locked([f.dedup_key for f in findings])}
    return Seeded(north, south, ids)


def missing_key(project: dict, day: str) -> str:
    return f"statement_missing:account:{project['account_no']}:{day}"
