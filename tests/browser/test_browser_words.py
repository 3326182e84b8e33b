"""Words, not identifiers, in a real browser (zh-CN by default, then English): the project page's audit
trail names who acted by name and role and says what happened; the cap's rule reference is a link that lands
on its own row of the rule book's page. Screenshots: words-audit-trail-zh/en, words-rulebook-zh/en."""

from __future__ import annotations

import re

from escrow.store.db import UnitOfWork

IDENTIFIERS = re.compile(r"\b(?:user|bank|developer|system):\w+|\b[a-z_]+\.[a-z_]+(?:\.[a-z_]+)*\b")


def test_the_audit_trail_and_the_rule_book_page_read_as_words(live, page_as, engine, shot):
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name("inspector").display_name = "陈磊"
        uow.parties.user_by_name("admin").display_name = "王芳"
        uow.commit()
    project = live.open_project()
    live.pay(project, "300000.00")
    live.confirm(project, "half_structure")
    page = page_as("admin")

    page.goto(f"/projects/{project['project_id']}")
    trail = page.locator("#audit-trail")
    trail.scroll_into_view_if_needed()
    text = trail.inner_text()
    assert "陈磊（节点核验员）确认项目" in text and "王芳（系统管理员）将项目" in text
    assert "衡水银行入账缴款" in text
    assert not IDENTIFIERS.search(text), IDENTIFIERS.findall(text)
    shot(page, "words-audit-trail-zh")

    link = page.locator("#cap a.rule").first
    assert link.inner_text() == "“主体结构完成二分之一”节点留存比例"
    link.click()
    page.wait_for_url("**/rules/hengshui/2024.1#nodes.half_structure.retention")
    row = page.locator('[id="nodes.half_structure.retention"]')
    assert row.is_visible() and "主体结构完成二分之一" in row.inner_text() and "70%" in row.inner_text()
    assert page.inner_text("main h1") == "衡水市商品房预售资金监督管理办法（修订）"
    shot(page, "words-rulebook-zh")

    page.goto(f"/projects/{project['project_id']}?lang=en")
    text = page.locator("#audit-trail").inner_text()
    assert "陈磊 (Node inspector) confirmed the node “Half of the main structure completed”" in text
    assert not IDENTIFIERS.search(text), IDENTIFIERS.findall(text)
    shot(page, "words-audit-trail-en")

    page.locator("#cap a.rule").first.click()
    page.wait_for_url("**/rules/hengshui/2024.1#nodes.half_structure.retention")
    row = page.locator('[id="nodes.half_structure.retention"]')
    assert "Half of the main structure completed" in row.inner_text()
    assert "Hengshui Measures" in page.inner_text("main h1")
    shot(page, "words-rulebook-en")
