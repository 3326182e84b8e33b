"""The documents a bureau files, on SQLite and PostgreSQL: the release approval form (拨付审批表) entirely in
Chinese with its signature table and seal box, and the monthly statement's nodes as they stood at the
month's end. Each PDF is read back with poppler's pdftotext (tests/http/test_reports.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from escrow import reports
from escrow.store.db import UnitOfWork
from escrow.store.models import NodeConfirmation
from tests.http.test_api_releases import confirm, release_body, site, steps  # noqa: F401 (fixtures)
from tests.http.test_reports import flat, pdf_text


@pytest.fixture
def today() -> date:
    """Early December: November has ended, so its monthly statement covers the whole month."""
    return date(2026, 12, 5)


def confirmed_at(engine, project_id: int, node: str, moment: datetime) -> None:
    """Arrange when the bureau confirmed a node (the service stamps the time of the request)."""
    with UnitOfWork(engine) as uow:
        uow.session.execute(
            update(NodeConfirmation)
            .where(NodeConfirmation.project_id == project_id, NodeConfirmation.node_code == node)
            .values(created_at=moment)
        )
        uow.commit()


# --- the monthly statement: nodes as of the month's end -----------------------------------------------------


def nodes_section(text: str) -> str:
    return flat(text).split("工程节点", 1)[1].split("银行对账", 1)[0]


def test_the_monthly_statement_says_the_nodes_as_they_stood_at_the_months_end(
    client,
    world,
    engine,
    app,
    site,  # noqa: F811
):
    """Half of the structure was confirmed on 20 November; the topping-out, reached on 25 November, was
    confirmed at 00:30 on 1 December (Beijing time): November's statement, printed in December, shows it not
    yet reached, December's shows it reached. A confirmation at 23:30 on the month's last day counts."""
    ctx = app.state.runtime.ctx
    project_id = site["project_id"]
    confirmed_at(engine, project_id, "half_structure", datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    r = client.post(
        f"/api/v1/projects/{project_id}/nodes/topped_out/confirmation",
        json={
            "reached_on": "2026-11-25",
            "evidence": [{"kind": "topping_out_acceptance"}, {"kind": "supervision_engineer_confirmation"}],
        },
        headers=world.headers("inspector", "confirm-topped"),
    )
    assert r.status_code == 201, r.text
    confirmed_at(engine, project_id, "topped_out", datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 00:30 +8

    def nodes(month: int) -> str:
        with UnitOfWork(engine, readonly=True) as uow:
            _, content = reports.render(
                "monthly", uow, ctx, account_no=site["account_no"], year=2026, month=month
            )
        return nodes_section(pdf_text(content))

    november = nodes(11)
    assert "主体结构完成二分之一70%2025年6月1日" in november
    assert "主体结构封顶45%未达到" in november
    december = nodes(12)
    assert "主体结构封顶45%2026年11月25日" in december

    confirmed_at(engine, project_id, "topped_out", datetime(2026, 11, 30, 15, 30, tzinfo=UTC))  # 23:30 +8
    assert "主体结构封顶45%2026年11月25日" in nodes(11)
