"""Codes in words: the marker for message ids translated later, and the lookups every room uses to name a
stored code (a role, a status, a rule book's node) in the page's language."""

from __future__ import annotations

from collections.abc import Callable

from escrow.catalog import N_ as N_  # the marker of message ids, for every room that imports it from here
from escrow.rulebooks import RuleBook

ROLE_NAMES = {
    "admin": N_("Administrator"),
    "reviewer": N_("Reviewer"),
    "approver": N_("Approver"),
    "director": N_("Director"),
    "inspector": N_("Node inspector"),
    "auditor": N_("Auditor"),
    "developer": N_("Developer staff"),
}


def named(_: Callable[..., str], names: dict[str, str], key: str | None) -> str:
    """A code in words from one of the tables of message ids, or the code itself when it has no name."""
    return _(names[key]) if key in names else (key or "")


def node_name(book: RuleBook, code: str, lang: str) -> str:
    """A node of the rule book by its name in `lang`; a code the book does not know stays a code."""
    node = book.node(code)
    if node is None:
        return code
    return node.name_en if lang == "en" else node.name_zh
