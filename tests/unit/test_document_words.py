"""The words of the documents a bureau files (escrow.catalog.documents): a rule book by title and version,
its keys in words, and the bureau named from the rule book's place, in both languages."""

from __future__ import annotations

from escrow.catalog import gettext_for
from escrow.catalog.documents import book_in_words, bureau_name, rule_in_words
from escrow.rulebooks import load_dir
from tests.conftest import REPO

BOOK = load_dir(REPO / "rules").get("hengshui@2024.1")
ZH, EN = gettext_for("zh"), gettext_for("en")


def test_a_rule_book_is_cited_by_its_title_and_version():
    assert book_in_words(ZH, BOOK, "zh") == "衡水市商品房预售资金监督管理办法（2024.1 版）"
    assert book_in_words(EN, BOOK, "en") == (
        "Hengshui Measures for the Supervision of Commercial Housing Pre-sale Funds (version 2024.1)"
    )


def test_rule_book_keys_are_said_in_words():
    book = "衡水市商品房预售资金监督管理办法（2024.1 版）"
    assert rule_in_words(ZH, "hengshui@2024.1 nodes.topped_out.retention", BOOK, "zh") == (
        f"{book}：“主体结构封顶”节点确认后的留存比例"
    )
    assert rule_in_words(ZH, "hengshui@2024.1 finish_surcharge", BOOK, "zh") == f"{book}：全装修附加留存比例"
    assert rule_in_words(ZH, "hengshui@2024.1 freeze", BOOK, "zh") == f"{book}：人民法院冻结的资金不得拨付"
    assert rule_in_words(EN, "hengshui@2024.1 nodes", BOOK, "en").endswith(
        "(version 2024.1): the whole key amount is retained before the first node"
    )
    # what has no words stays as it is, never guessed at
    assert rule_in_words(ZH, "hengshui@2024.1 limits.unknown", BOOK, "zh") == "hengshui@2024.1 limits.unknown"
    assert rule_in_words(ZH, "other@1 nodes", BOOK, "zh") == "other@1 nodes"


def test_the_bureau_is_named_from_the_rule_books_place():
    assert bureau_name(ZH, BOOK, "zh") == "衡水市住房和城乡建设局"
    assert bureau_name(EN, BOOK, "en") == "Hengshui Housing and Urban-Rural Development Bureau"
