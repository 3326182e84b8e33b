"""The project's rule book in words in a real browser (zh-CN by default, then English): the cap's heading
names the book by title and version, never by its id, and the name is a link to the book's page.
Screenshots: leftover-rulebook-link-zh/en."""

from __future__ import annotations

import re

BOOK_ID = re.compile(r"\b[a-z_]+@\d+\.\d+\b")


def test_the_caps_rule_book_is_named_in_words_and_opens_its_page(live, page_as, shot):
    project = live.open_project()
    page = page_as("reviewer")
    for lang, words, title in (
        ("zh", "衡水市商品房预售资金监督管理办法（2024.1 版）", "衡水市商品房预售资金监督管理办法（修订）"),
        ("en", "Hengshui Measures", "Hengshui Measures"),
    ):
        page.goto(f"/projects/{project['project_id']}?lang={lang}")
        assert not BOOK_ID.search(page.inner_text("main")), BOOK_ID.findall(page.inner_text("main"))
        link = page.locator("#cap a.rulebook")
        assert words in link.inner_text()
        shot(page, f"leftover-rulebook-link-{lang}")
        link.click()
        page.wait_for_url("**/rules/hengshui/2024.1*")
        assert title in page.inner_text("main h1")
