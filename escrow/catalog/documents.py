"""Words of the documents a bureau files (the release approval form, 拨付审批表): a rule book by its title
and version, the rule-book keys a cap term rests on, the issuing bureau and the boxes of the signature table.
The form prints every one of them in Chinese (`gettext_for("zh")`); the keys stay codes only where no words
are known for them.
"""

from __future__ import annotations

import re

from escrow.catalog import N_, Gettext
from escrow.catalog.words import node_name
from escrow.domain.rulebook import RuleBook

BOOK_VERSION = N_("%(title)s (version %(version)s)")
# A rule-book key (escrow.catalog.caps.retention_rules, TERM_RULES) in words, by the key.
RULE_KEYS = {
    "nodes": N_("%(book)s: the whole key amount is retained before the first node"),
    "buildings": N_("%(book)s: the retention of each building, summed"),
    "finish_surcharge": N_("%(book)s: the finish surcharge"),
    "guarantee.max_share": N_("%(book)s: the share a bank guarantee may count for"),
    "guarantee.requires_full_amount": N_(
        "%(book)s: a bank guarantee counts once deposits reach the key supervised amount"
    ),
    "freeze": N_("%(book)s: money frozen by court orders is held back"),
    "freeze.exempt": N_("%(book)s: payments a court freeze does not hold back"),
}
NODE_RETENTION = N_("%(book)s: the share retained once “%(node)s” is confirmed")
_NODE_KEY = re.compile(r"nodes\.(?P<node>[\w-]+)\.retention")
# The bureau that supervises under a rule book: no setting names it (Settings.jurisdiction is a code, such as
# "hengshui"), so it is named from the place that opens the rule book's title (衡水市…办法 → 衡水市).
BUREAU = N_("%(place)s Housing and Urban-Rural Development Bureau")
_PLACE_ZH = re.compile(r"^(.+?[省市州盟县区旗])")
# The signature table at the foot of the form: the box, and the role whose approval step fills it in.
SIGNATURE_BOXES = (
    ("handler", N_("Handled by"), None),  # the clerk who handles the file signs by hand
    ("review", N_("Reviewed by"), "reviewer"),
    ("approval", N_("Approved by"), "approver"),
    ("director", N_("Bureau leader"), "director"),
)
SIGN_HERE = N_("Signature")
SIGNED_ON = N_("Date")
SEAL = N_("Housing and construction bureau (seal)")


def _trim(title: str) -> str:
    """A title without its closing remark in brackets: 衡水市…办法（修订） → 衡水市…办法."""
    return re.sub(r"\s*[（(][^（）()]*[）)]\s*$", "", title)


def book_title(book: RuleBook, lang: str) -> str:
    return _trim(book.title_en if lang == "en" else book.title)


def book_in_words(_: Gettext, book: RuleBook, lang: str) -> str:
    """衡水市商品房预售资金监督管理办法（2024.1 版）: the rule book as a document cites it."""
    return _(BOOK_VERSION, title=book_title(book, lang), version=book.version)


def rule_in_words(_: Gettext, rule: str, book: RuleBook, lang: str) -> str:
    """A rule-book reference as a cap term keeps it ("hengshui@2024.1 nodes.topped_out.retention") in words;
    a reference to another book or a key without words stays as it is."""
    book_id, _sep, key = rule.partition(" ")
    if book_id != book.id:
        return rule
    where = book_in_words(_, book, lang)
    if not key:
        return where
    node = _NODE_KEY.fullmatch(key)
    if node is not None:
        return _(NODE_RETENTION, book=where, node=node_name(book, node.group("node"), lang))
    if key in RULE_KEYS:
        return _(RULE_KEYS[key], book=where)
    return rule


def bureau_name(_: Gettext, book: RuleBook, lang: str) -> str:
    """衡水市住房和城乡建设局: the bureau of the place the rule book is the measures of (where the setting
    ESCROW_BUREAU_NAME names none)."""
    if lang == "en":
        place = book_title(book, "en").split(" ", 1)[0]
    else:
        found = _PLACE_ZH.match(book.title)
        place = found.group(1) if found else book.title
    return _(BUREAU, place=place)
