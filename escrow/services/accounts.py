"""Read models of a supervised account for the bank that holds it."""

from __future__ import annotations

from typing import Any

from escrow.services.context import Context
from escrow.services.projects import account_view
from escrow.store.db import UnitOfWork
from escrow.store.models import SupervisedAccount


def reconciliation(uow: UnitOfWork, account_id: int) -> dict[str, Any]:
    latest = uow.statements.latest(account_id)
    if latest is None:
        return {"last_statement_on": None, "status": "pending"}
    return {"last_statement_on": latest.statement_date.isoformat(), "status": latest.status}


def bank_view(uow: UnitOfWork, ctx: Context, account: SupervisedAccount) -> dict[str, Any]:
    project = uow.projects.get(account.project_id)
    view = account_view(uow, ctx, project, account)
    view["project"] = {"project_id": project.id, "name": project.name, "permit_no": project.permit_no}
    view["reconciliation"] = reconciliation(uow, account.id)
    return view
