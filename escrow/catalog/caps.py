"""The release cap's terms in words: the one place that names each term, explains it, says the required
retention from its figures (escrow.domain.caps.Retention) and cites the rule-book keys it rests on. The
bureau's project and release pages, the developer portal and the release form PDF all say a cap this way;
none of them re-computes a figure (the formula lives in escrow.domain.caps).

A term stored before terms carried codes (code "") keeps its stored text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from escrow.catalog import N_, Gettext
from escrow.catalog.words import named, node_name
from escrow.domain.caps import Retention, Term
from escrow.domain.rulebook import RuleBook

# Each term of releasable = balance − suspense − required retention − frozen − pending_out, by its name.
TERM_NAMES = {
    "balance": N_("Balance of the supervised account"),
    "suspense": N_("Money in suspense"),
    "required_retention": N_("Key supervised funds to retain"),
    "frozen": N_("Frozen by court orders"),
    "pending_out": N_("Approved releases and refunds not yet paid"),
    "received": N_("Money received for the project"),
    "supervised_amount": N_("Key supervised amount"),
    "non_key_taken": N_("Non-key releases already approved"),
    "held": N_("Retained or frozen"),
}
# Terms that start a sum of their own (the non-key cap is the smaller of two): said without a sign.
STARTS_A_SUM = frozenset({"balance", "received"})
# The two sums of the non-key cap (escrow.domain.caps.non_key_cap `parts`), by the term each starts with.
BOUND_OF_FIRST_TERM = {"received": "beyond_key_amount", "balance": "account_room"}
BOUND_NAMES = {
    "beyond_key_amount": N_("Received beyond the key supervised amount and not yet taken"),
    "account_room": N_("What the account can pay after what it holds back"),
}
# What a term is, by its code (escrow.domain.caps.TERM_CODES); the retention is said from its figures.
TERM_EXPLANATIONS = {
    "cash_ledger": N_("Cash in the supervised account by the books"),
    "unassigned_money": N_("Money received but not yet assigned to a contract; it cannot be released"),
    "court_freezes": N_("Held by court orders in force"),
    "approved_not_paid": N_("Already approved; reserved until the bank pays it"),
    "key_supervised_amount": N_(
        "Stays in the account for the construction nodes; only money received beyond it is non-key"
    ),
    "non_key_taken": N_("Non-key money already withdrawn or approved for withdrawal"),
}
# Terms said from their parameters (amounts written as the pages write them).
TERM_SENTENCES = {
    "money_received": N_("Deposits received ¥%(received)s, less ¥%(refunded)s refunded to buyers"),
    "court_freezes_beyond_retention": N_(
        "¥%(frozen)s frozen by court orders, of which the ¥%(retention)s retained is held already"
    ),
    "court_freezes_exempt": N_(
        "¥%(frozen)s frozen by court orders does not hold back this payment: the bank pays it and reports it"
        " to the court (法〔2022〕12号 art. 2)"
    ),
    "retention_or_frozen": N_(
        "The larger of the cash retention ¥%(retention)s and the money frozen by court orders ¥%(frozen)s"
    ),
}
FULL_FREEZE = N_("; the whole account is frozen")
# The rule-book keys a term rests on, by its code.
TERM_RULES = {"court_freezes_exempt": "freeze.exempt", "retention_or_frozen": "freeze"}
# The parts of the retention sentence.
RETENTION_AT_NODE = N_("Key supervised amount ¥%(amount)s × %(share)s retained once “%(node)s” is confirmed")
RETENTION_BEFORE_FIRST_NODE = N_(
    "Key supervised amount ¥%(amount)s, all of it retained until the first node is confirmed"
)
RETENTION_BY_BUILDING = N_("By building, summed: %(parts)s")
BUILDING_AT_NODE = N_("%(building)s ¥%(amount)s × %(share)s (“%(node)s”) = ¥%(gross)s")
BUILDING_BEFORE_FIRST_NODE = N_("%(building)s ¥%(amount)s, all of it retained until its first node")
FINISH_SURCHARGE = N_(", plus the finish surcharge of %(share)s")
GUARANTEE_COUNTED = N_(
    ", less the accepted bank guarantee ¥%(amount)s (counted up to %(share)s of the key amount)"
)
GUARANTEE_COUNTED_OF_RETENTION = N_(
    ", less the bank guarantee ¥%(amount)s (counted up to %(share)s of the required retention; the rest stays"
    " in cash)"
)
GUARANTEE_NUMBERS = N_("; guarantees counted: %(numbers)s")
GUARANTEE_WAITING = N_(
    "; the accepted bank guarantee ¥%(amount)s is not counted until deposits reach the key supervised amount"
)


# The rule-book keys a cap cites (`TermWords.rules`: "<book id> <key>"), in words; each is an anchor of the
# book's page (/rules/<jurisdiction>/<version>#<key>). A node's share ("nodes.<code>.retention") is said with
# the node's name. Keys of terms stored before terms carried codes ("books", "freezes", …) name what the
# figure was read from; they are not rules of a book and link nowhere.
RULE_KEYS = {
    "nodes": N_("Release nodes and the share retained at each"),
    "buildings": N_("Supervision by building"),
    "finish_surcharge": N_("Surcharge on the retention for finished-interior housing"),
    "guarantee.max_share": N_("Share of the retention a bank guarantee may stand in for"),
    "guarantee.requires_full_amount": N_(
        "A bank guarantee counts once deposits reach the key supervised amount"
    ),
    "freeze": N_("Court freezes before first registration"),
    "freeze.exempt": N_("Payments a court freeze does not stop"),
    "supervised_amount": N_("Key supervised amount formula"),
    "release.approval_chain": N_("Approval chain of a node release"),
    "non_key_release.approval_chain": N_("Approval chain of a non-key release"),
    "limits.suspense_max_days": N_("Days money may stay unassigned"),
}
NODE_RETENTION = N_("Share retained at the node “%(node)s”")
NOT_OF_A_BOOK = {
    "books": N_("Balance of the supervised account by the books"),
    "freezes": N_("Court freezes recorded"),
    "projects": N_("The project's key supervised amount"),
    "releases": N_("Releases approved or paid"),
}
UNKNOWN_RULE = N_("A rule of %(book)s")


@dataclass(frozen=True)
class RuleRef:
    """A rule-book reference in words, with the address of its row on the book's page (None: not a rule of
    a book)."""

    key: str
    words: str
    href: str | None


def rule_href(book_id: str, key: str) -> str:
    """hengshui@2026.2, nodes.topped_out.retention → /rules/hengshui/2026.2#nodes.topped_out.retention"""
    jurisdiction, _at, version = book_id.partition("@")
    return f"/rules/{jurisdiction}/{version}#{key}"


def rule_reference(_: Gettext, ref: str, book: RuleBook | None, lang: str) -> RuleRef:
    """A reference as a cap cites it ("<book id> <key>", or a bare key of a term stored before terms carried
    codes) in words; `book` names the nodes (the cited book, or the page's)."""
    book_id, _sp, key = ref.strip().rpartition(" ")
    if not book_id or "@" not in book_id:
        return RuleRef(
            key, named(_, NOT_OF_A_BOOK, key) if key in NOT_OF_A_BOOK else _(UNKNOWN_RULE, book=key), None
        )
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "nodes" and parts[2] == "retention":
        node = node_name(book, parts[1], lang) if book is not None else parts[1]
        words = _(NODE_RETENTION, node=node)
    elif key in RULE_KEYS:
        words = _(RULE_KEYS[key])
    else:
        words = _(UNKNOWN_RULE, book=book_id)
    return RuleRef(key, words, rule_href(book_id, key))


@dataclass(frozen=True)
class TermWords:
    """One term of a cap as people read it: its sign in the sum, name, value, what it is (or how the
    retention was reached), and the rule-book keys it rests on (none for the books' own figures)."""

    term: str
    sign: str  # "" for the first term, "−" for the ones taken off it
    name: str
    value: Decimal
    words: str
    rules: tuple[str, ...]
    references: tuple[RuleRef, ...] = ()  # `rules` in words, each linking to its row of the book's page


def amount_text(value: Decimal) -> str:
    """10000000 → 10,000,000.00 (how the pages and the PDFs write an amount)."""
    return f"{value:,.2f}"


def percent(share: Decimal) -> str:
    """0.70 → 70%, 0.05 → 5%, 1 → 100%."""
    return f"{(share * 100).normalize():f}%"


def retention_sentence(
    _: Gettext, figures: Retention, node: str | None, node_names: Mapping[str, str] | None = None
) -> str:
    """The required retention from its figures: key amount × the node's share (or all of it before the
    first node), plus the finish surcharge, less the guarantee counted (naming the guarantees by their
    numbers), or why an accepted one waits; by building, each building's part, summed.
    `node` is the node's name in the reader's language, `node_names` every node's (by its code)."""
    amount = amount_text(figures.supervised_amount)
    if figures.buildings:
        names = node_names or {}
        parts = "; ".join(
            _(
                BUILDING_AT_NODE,
                building=b.code,
                amount=amount_text(b.supervised_amount),
                share=percent(b.share),
                node=names.get(b.node_code, b.node_code),
                gross=amount_text(b.gross),
            )
            if b.node_code
            else _(BUILDING_BEFORE_FIRST_NODE, building=b.code, amount=amount_text(b.supervised_amount))
            for b in figures.buildings
        )
        words = _(RETENTION_BY_BUILDING, parts=parts)
    elif figures.node_code:
        words = _(RETENTION_AT_NODE, amount=amount, share=percent(figures.node_share), node=node)
    else:
        words = _(RETENTION_BEFORE_FIRST_NODE, amount=amount)
    if figures.surcharge and not figures.buildings:  # by building, each share includes its surcharge
        words += _(FINISH_SURCHARGE, share=percent(figures.surcharge))
    if figures.guarantee:
        counted = (
            GUARANTEE_COUNTED_OF_RETENTION
            if figures.guarantee_share_of == "required_retention"
            else GUARANTEE_COUNTED
        )
        words += _(
            counted,
            amount=amount_text(figures.guarantee),
            share=percent(figures.guarantee_max_share),
        )
        if figures.guarantee_nos:
            words += _(GUARANTEE_NUMBERS, numbers=", ".join(figures.guarantee_nos))
    elif figures.guarantee_waiting:
        words += _(GUARANTEE_WAITING, amount=amount_text(figures.guarantee_waiting))
    return words


def retention_rules(book_id: str, figures: Retention) -> tuple[str, ...]:
    """The rule-book keys the retention rests on: the node's share, and the surcharge and guarantee rules
    when they changed the figure."""
    if figures.buildings:
        base = f"{book_id} buildings"
    elif figures.node_code:
        base = f"{book_id} nodes.{figures.node_code}.retention"
    else:
        base = f"{book_id} nodes"
    extra = (
        ("finish_surcharge", bool(figures.surcharge)),
        ("guarantee.max_share", bool(figures.guarantee)),
        ("guarantee.requires_full_amount", not figures.guarantee and bool(figures.guarantee_waiting)),
    )
    return (base, *(f"{book_id} {key}" for key, applies in extra if applies))


def term_words(_: Gettext, term: Term, book: RuleBook, lang: str, *, first: bool = False) -> TermWords:
    """One term in the reader's language (`_` and `lang` of the same language)."""
    figures = term.retention
    if figures is not None:
        node = node_name(book, figures.node_code, lang) if figures.node_code else None
        names = {b.node_code: node_name(book, b.node_code, lang) for b in figures.buildings if b.node_code}
        words, rules = retention_sentence(_, figures, node, names), retention_rules(book.id, figures)
    elif term.code in TERM_SENTENCES:
        values = {k: amount_text(Decimal(v)) for k, v in term.params.items() if k not in ("full",)}
        words = _(TERM_SENTENCES[term.code], **values)
        if term.params.get("full") == "true":
            words += _(FULL_FREEZE)
        rules = (f"{book.id} {TERM_RULES[term.code]}",) if term.code in TERM_RULES else ()
    elif term.code in TERM_EXPLANATIONS:
        words, rules = _(TERM_EXPLANATIONS[term.code]), ()
    else:  # stored before terms carried codes: its stored text, and the rule book it cited, if any
        words = term.detail
        rules = (term.rule,) if term.term == "required_retention" and term.rule else ()
    return TermWords(
        term=term.term,
        sign="" if first or term.term in STARTS_A_SUM else "−",
        name=named(_, TERM_NAMES, term.term),
        value=term.value,
        words=words,
        rules=rules,
        references=tuple(rule_reference(_, r, book, lang) for r in rules),
    )


def cap_terms(_: Gettext, terms: Sequence[Term], book: RuleBook, lang: str) -> list[TermWords]:
    """Every term of a cap, in order: the first added, the rest taken off it."""
    return [term_words(_, t, book, lang, first=i == 0) for i, t in enumerate(terms)]


@dataclass(frozen=True)
class CapSum:
    """One sum of a cap's terms. A node cap is one sum, the releasable amount itself (`bound` None); a
    non-key cap is the smaller of two, each named by its bound and worked out to `value` (before flooring)."""

    terms: tuple[TermWords, ...]
    bound: str | None = None
    name: str = ""
    value: Decimal | None = None


def cap_sums(_: Gettext, words: Sequence[TermWords], bounds: Mapping[str, Any] | None) -> list[CapSum]:
    """The terms of a cap (`cap_terms`) as the sums they make: one for a node cap; for a non-key cap (its
    `bounds`: `Cap.parts` or the stored `bounds`) one per bound, each starting at a term of STARTS_A_SUM."""
    if not bounds:
        return [CapSum(tuple(words))]
    groups: list[list[TermWords]] = []
    for w in words:
        if not groups or w.term in STARTS_A_SUM:
            groups.append([])
        groups[-1].append(w)
    keys = [BOUND_OF_FIRST_TERM.get(g[0].term) for g in groups]
    if None in keys or set(keys) - set(bounds):
        return [CapSum(tuple(words))]
    return [
        CapSum(tuple(g), key, named(_, BOUND_NAMES, key), Decimal(str(bounds[key])))
        for g, key in zip(groups, keys, strict=True)
    ]


def stored_cap_sums(_: Gettext, cap: Mapping[str, Any], book: RuleBook, lang: str) -> list[CapSum]:
    """The sums of a cap as stored or sent on the wire (as `stored_cap_terms` reads it)."""
    holder = cap.get("explanation", cap) or {}
    return cap_sums(_, stored_cap_terms(_, cap, book, lang), holder.get("bounds"))


def stored_cap_terms(_: Gettext, cap: Mapping[str, Any], book: RuleBook, lang: str) -> list[TermWords]:
    """The terms of a cap as stored or sent on the wire: `Cap.to_json()` (`{"terms": […]}`) or the form kept
    with a release or a refusal (`{"releasable", "explanation": {"terms": […]}}`)."""
    holder = cap.get("explanation", cap) or {}
    return cap_terms(_, [Term.from_json(t) for t in holder.get("terms", [])], book, lang)
