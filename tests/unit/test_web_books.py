"""A rule book as a page shows it (escrow.web.shell.books): its title and version in words linking to its
page, a sentence of the catalog with the link in its place (the sentence escaped, never the link's markup
taken from outside), and a rule a refusal names, in words, linking to its row."""

from __future__ import annotations

from pathlib import Path

from escrow.catalog import gettext_for
from escrow.rulebooks import load_dir
from escrow.web.shell.books import book_link, rule_link, with_book

BOOKS = load_dir(Path(__file__).resolve().parents[2] / "rules")
ZH, EN = gettext_for("zh"), gettext_for("en")
LINK_ZH = (
    '<a class="rulebook" href="/rules/hengshui/2024.1">衡水市商品房预售资金监督管理办法（2024.1 版）</a>'
)


def test_a_loaded_book_is_its_title_and_version_linking_to_its_page():
    assert str(book_link(ZH, BOOKS, "hengshui@2024.1", "zh")) == LINK_ZH
    english = str(book_link(EN, BOOKS, "hengshui@2024.1", "en"))
    assert english.startswith('<a class="rulebook" href="/rules/hengshui/2024.1">Hengshui Measures')
    assert english.endswith("(version 2024.1)</a>")


def test_a_book_not_loaded_keeps_its_id_escaped_and_no_book_is_a_dash():
    assert str(book_link(ZH, BOOKS, "hengshui@2099.1", "zh")) == "hengshui@2099.1"
    assert str(book_link(ZH, BOOKS, "<b>@1", "zh")) == "&lt;b&gt;@1"
    assert str(book_link(ZH, BOOKS, None, "zh")) == "—" and str(book_link(ZH, BOOKS, "", "zh")) == "—"


def test_a_sentence_gets_the_link_in_place_of_its_book_and_is_itself_escaped():
    said = with_book(ZH, BOOKS, ZH("Under the rule book %(book)s"), "hengshui@2024.1", "zh")
    assert str(said) == f"依据监管规则 {LINK_ZH}"
    assert str(with_book(ZH, BOOKS, "<i>%(book)s</i>", None, "zh")) == "&lt;i&gt;—&lt;/i&gt;"


def test_a_refusals_rule_is_words_linking_to_its_row_or_its_book():
    node = str(rule_link(ZH, BOOKS, "hengshui@2024.1 nodes.half_structure.retention", "zh"))
    assert node.startswith('<a class="rule" href="/rules/hengshui/2024.1#nodes.half_structure.retention">')
    assert "“主体结构完成二分之一”节点留存比例</a>" in node and node.endswith(LINK_ZH)
    # a rule of the book the catalog has no words for: the book, linked, and never the key
    other = str(rule_link(ZH, BOOKS, "hengshui@2024.1 release.distinct_people", "zh"))
    assert other == LINK_ZH
    # a bare key of a service (its message says it) or a book not loaded: nothing more
    assert str(rule_link(ZH, BOOKS, "adoption.already_on_version", "zh")) == ""
    assert str(rule_link(ZH, BOOKS, "hengshui@2099.1 nodes.x.retention", "zh")) == ""
    assert str(rule_link(ZH, BOOKS, None, "zh")) == ""
