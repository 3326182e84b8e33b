"""The documents a bureau files, on SQLite and PostgreSQL: the release approval form (拨付审批表) entirely in
Chinese with its signature table and seal box, and the monthly statement's nodes as they stood at the
month's end. Each PDF is read back with poppler's pdftotext (tests/http/test_reports.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from escrow import reports
from escrow.reports.data import beijing_day
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, NodeConfirmation, User
from tests.http.test_api_releases import confirm, release_body, site, steps  # noqa: F401 (fixtures)
from tests.http.test_reports import flat, get_pdf, pdf_text


@pytest.fixture
def today() -> date:
    """Early December: November has ended, so its monthly statement covers the whole month."""
    return date(2026, 12, 5)


def confirmed_at(engine, project_id: int, node: str, moment: datetime) -> None:
    """Arrange when the bureau confirmed a node: the moment, and its Beijing day as the bureau's day of
    confirmation (the service stamps the request's time and the context's today)."""
    day = moment.astimezone(timezone(timedelta(hours=8))).date()
    with UnitOfWork(engine) as uow:
        uow.session.execute(
            update(NodeConfirmation)
            .where(NodeConfirmation.project_id == project_id, NodeConfirmation.node_code == node)
            .values(created_at=moment, confirmed_on=day)
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

    def text(month: int) -> str:
        with UnitOfWork(engine, readonly=True) as uow:
            _, content = reports.render(
                "monthly", uow, ctx, account_no=site["account_no"], year=2026, month=month
            )
        return pdf_text(content)

    def nodes(month: int) -> str:
        return nodes_section(text(month))

    whole = flat(text(11))  # the statement says its bureau and rule book in Chinese, like the release form
    assert "衡水市住房和城乡建设局·2026年11月" in whole
    assert f"依据：{BOOK_WORDS}" in whole
    assert "Monthly" not in whole and "hengshui" not in whole
    november = nodes(11)
    assert "主体结构完成二分之一70%2025年6月1日" in november
    assert "主体结构封顶45%未达到" in november
    december = nodes(12)
    assert "主体结构封顶45%2026年11月25日" in december

    confirmed_at(engine, project_id, "topped_out", datetime(2026, 11, 30, 15, 30, tzinfo=UTC))  # 23:30 +8
    assert "主体结构封顶45%2026年11月25日" in nodes(11)


# --- the release approval form, in Chinese, with its signature table and seal -------------------------------

BOOK_WORDS = "衡水市商品房预售资金监督管理办法（2024.1版）"  # flattened: pdftotext's spaces taken out


def named(engine, username: str, display_name: str) -> None:
    """Arrange a bureau user's name as an administrator would have entered it."""
    with UnitOfWork(engine) as uow:
        uow.session.execute(update(User).where(User.username == username).values(display_name=display_name))
        uow.commit()


def english_left(text: str, identifiers: list[str]) -> list[str]:
    """Runs of ASCII letters left in a PDF's text once the identifiers it must print as they are (account
    numbers, bank references, file names, digests) are taken out: the words a Chinese form must not have."""
    rest = flat(text)
    for identifier in sorted(identifiers, key=len, reverse=True):  # a longer one may contain a shorter one
        rest = rest.replace(flat(identifier), "")
    return re.findall(r"[A-Za-z]+", rest)


def test_english_left_finds_words_but_not_identifiers():
    assert english_left("账号 6222AB01 流水号 PAY-REL-1", ["6222AB01", "PAY-REL-1"]) == []
    assert english_left("可拨付 cash ledger ¥1.00", []) == ["cashledger"]
    assert english_left("hengshui@2024.1 节点", ["6222"]) == ["hengshui"]


def release_ready(client, world, engine, site, steps) -> tuple[int, str]:  # noqa: F811
    """A release in Chinese words only, approved (the reviewer named 李明, the approver left unnamed) and
    paid; its id and the text of its form."""
    named(engine, "reviewer", "李明")
    body = release_body(site["project_id"], purpose="主体结构施工进度款")
    release_id = steps.applied(body)["release_id"]
    steps.approve_all(release_id)
    instruction = steps.pending()[0]
    assert steps.execute(instruction["instruction_id"], ref="PAY-REL-1").status_code == 201, instruction
    content = get_pdf(client, f"/api/v1/releases/{release_id}/pdf", world.headers("reviewer"))
    return release_id, pdf_text(content, layout=False)


def test_the_release_form_is_entirely_in_chinese(client, world, engine, site, steps):  # noqa: F811
    _, text = release_ready(client, world, engine, site, steps)
    squeezed = flat(text)
    # the rule book in words, in the heading, the cap's rule column and the note at the foot
    assert squeezed.count(BOOK_WORDS) >= 3, squeezed
    assert f"{BOOK_WORDS}：“主体结构完成二分之一”节点确认后的留存比例" in squeezed
    body = release_body(site["project_id"])
    identifiers = [
        site["account_no"],
        "PAY-REL-1",
        *(p["account_no"] for p in body["payees"]),
        *(d["filename"] for d in body["documents"]),
        *(d["sha256"][:16] for d in body["documents"]),
    ]
    assert english_left(text, identifiers) == []
    assert "hengshui" not in text and "reviewer" not in text and "approver" not in text
    # each approver by name and role in words; the unnamed one by role alone, never by the login name
    assert "1.初审同意李明" in squeezed and "审核人" in squeezed
    assert "2.审批同意" in squeezed and "审批人" in squeezed


def test_the_release_form_ends_with_signature_boxes_and_the_seal(client, world, engine, site, steps):  # noqa: F811
    """经办人 / 审核 / 审批 / 局领导, each with 签字 and 日期: filled in from the approval step its role took
    (the day in Beijing time), blank where none did (the handler signs by hand; no director's step below
    5,000,000.00); then the ruled box for the bureau's seal, named from the rule book's place."""
    release_id, text = release_ready(client, world, engine, site, steps)
    with UnitOfWork(engine, readonly=True) as uow:
        decided = {
            role: at
            for role, at in uow.session.execute(
                select(User.role, ApprovalStep.decided_at)
                .join(User, User.id == ApprovalStep.decided_by)
                .where(ApprovalStep.release_id == release_id)
            )
        }
    days = {role: beijing_day(at) for role, at in decided.items()}
    on = {role: f"{d.year}年{d.month}月{d.day}日" for role, d in days.items()}
    foot = flat(text).split("生成日期", 1)[1]
    assert "经办人审核审批局领导" in foot
    assert (
        f"签字：签字：李明签字：审批人签字：日期：日期：{on['reviewer']}日期：{on['approver']}日期：" in foot
    )
    assert "住建局（盖章）衡水市住房和城乡建设局" in foot
