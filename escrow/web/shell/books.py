"""A rule book version as a person reads it: its title and version in words (escrow.catalog.documents),
linking to its page /rules/<jurisdiction>/<version>; a rule a refusal cites, in words, linking to its row."""

from __future__ import annotations

from markupsafe import Markup, escape

from escrow.catalog import Gettext
from escrow.catalog.caps import UNKNOWN_RULE, rule_reference
from escrow.catalog.documents import book_in_words
from escrow.rulebooks import RuleBooks


def book_href(book_id: str) -> str:
    """hengshui@2024.1 → /rules/hengshui/2024.1"""
    jurisdiction, _at, version = book_id.partition("@")
    return f"/rules/{jurisdiction}/{version}"


def book_link(_: Gettext, books: RuleBooks, book_id: str | None, lang: str) -> Markup:
    """衡水市商品房预售资金监督管理办法（2024.1 版）, linking to its page; a book not loaded keeps its id
    (there is no page to link to), and no book is a dash."""
    if not book_id:
        return Markup("—")
    book = books.get(book_id)
    if book is None:
        return escape(book_id)
    return Markup('<a class="rulebook" href="{}">{}</a>').format(
        book_href(book_id), book_in_words(_, book, lang)
    )


def with_book(_: Gettext, books: RuleBooks, sentence: str, book_id: str | None, lang: str) -> Markup:
    """A translated sentence (`_('… %(book)s …')`, left unfilled) whose %(book)s is the linked rule book;
    the sentence itself is escaped."""
    return escape(sentence) % {"book": book_link(_, books, book_id, lang)}


def rule_link(_: Gettext, books: RuleBooks, rule: str | None, lang: str) -> Markup:
    """A rule a refusal names, in words: a rule of a loaded book ("<book id> <key>") links to its row of the
    book's page when the catalog says it in words, else to the book's page; a bare key of a service (its
    message already says the rule) and a book not loaded say nothing more."""
    book_id, _sp, key = (rule or "").strip().rpartition(" ")
    book = books.get(book_id) if book_id else None
    if book is None:
        return Markup("")
    ref = rule_reference(_, f"{book_id} {key}", book, lang)
    if ref.words == _(UNKNOWN_RULE, book=book_id):
        return book_link(_, books, book_id, lang)
    return Markup('<a class="rule" href="{}">{}</a> · {}').format(
        ref.href, ref.words, book_link(_, books, book_id, lang)
    )
