"""The end of an account's life: closure (解除监管) and a change of supervising bank (CONTRACT.md §8).

Pure rules: what blocks each, as codes with parameters (the edges choose the words). Nothing here reads the
database; the service gathers the facts (`OpenItems`, the confirmed nodes per building) and asks.

Closure (解除监管) is allowed once construction is done — every node of the project's rule book confirmed, in
every building (a project without buildings is one building, keyed "") — and nothing is open that the
closing payout would cut short: no unassigned (suspense) money, no refund or release still being decided or
waiting for the bank, no payment instruction pending, no court freeze in force, no guarantee in force. The
closing instruction pays the whole balance (Hengshui measures: supervision ends when the project is
registered and the funds are settled; the national opinion of 2022 lets the remaining money go to the
developer).

A change of supervising bank moves the whole balance to the new account; it is refused while anything could
still move money at the old bank (a pending instruction, or a release or refund still being decided, whose
instruction would name the old account), while a court freeze holds the account (the court's order names
that account), or while money is unassigned there (suspense must be assigned or returned first, so the new
books start clean). Guarantees in force move with the account (they stand in for the project's retention).
A closed account, or one already closing, can do neither.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from escrow.domain.errors import Conflict, DomainError
from escrow.domain.rulebook import RuleBook

# Kinds of payment instruction that end the account's life: each pays out the whole balance.
ENDING_KINDS = ("closure", "transfer")

# The codes of what blocks closure or a bank change (each with its params, all text).
ACCOUNT_CLOSED = "account_closed"  # {account_no}
ENDING_PENDING = "ending_pending"  # {kind, instruction_id}: a closure or transfer already waits for the bank
NODE_MISSING = "node_missing"  # {building, node}: a node not yet confirmed
SUSPENSE_OPEN = "suspense_open"  # {amount}: unassigned money in the account
REFUNDS_OPEN = "refunds_open"  # {count}: refunds being decided or approved and not yet paid
RELEASES_OPEN = "releases_open"  # {count}: releases being decided or approved and not yet paid
INSTRUCTIONS_PENDING = "instructions_pending"  # {count}: payment instructions the bank has not executed
FREEZE_IN_FORCE = "freeze_in_force"  # {count}: court freezes in force
GUARANTEES_IN_FORCE = "guarantees_in_force"  # {count}: bank guarantees not released
NOTHING_TO_PAY = "nothing_to_pay"  # a bank change with a zero balance has nothing to move

CODES = (
    ACCOUNT_CLOSED,
    ENDING_PENDING,
    NODE_MISSING,
    SUSPENSE_OPEN,
    REFUNDS_OPEN,
    RELEASES_OPEN,
    INSTRUCTIONS_PENDING,
    FREEZE_IN_FORCE,
    GUARANTEES_IN_FORCE,
    NOTHING_TO_PAY,
)

# What each code says in English (the API's detail); the web chooses its own words from the code.
WORDS = {
    ACCOUNT_CLOSED: "account {account_no} is closed",
    ENDING_PENDING: "a {kind} instruction ({instruction_id}) already waits for the bank",
    NODE_MISSING: "node {node} of building {building} is not confirmed",
    SUSPENSE_OPEN: "{amount} of unassigned money is in the account",
    REFUNDS_OPEN: "{count} refund(s) are not yet decided or paid",
    RELEASES_OPEN: "{count} release(s) are not yet decided or paid",
    INSTRUCTIONS_PENDING: "{count} payment instruction(s) wait for the bank",
    FREEZE_IN_FORCE: "{count} court freeze(s) are in force",
    GUARANTEES_IN_FORCE: "{count} bank guarantee(s) are not released",
    NOTHING_TO_PAY: "the balance is zero: there is nothing to move",
}


@dataclass(frozen=True)
class Blocker:
    code: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if self.code == NODE_MISSING and not self.params.get("building"):  # a project without buildings
            return "node {node} is not confirmed".format(**self.params)
        return WORDS[self.code].format(**self.params)

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "params": dict(self.params), "message": self.text}


@dataclass(frozen=True)
class OpenItems:
    """What is still open on one account, as the store counts it."""

    account_no: str
    closed: bool
    ending: tuple[str, int] | None  # (kind, instruction id) of a pending closure or transfer
    suspense_fen: int
    refunds_open: int  # submitted or approved, not executed
    releases_open: int  # submitted or approved, not executed
    instructions_pending: int  # pending instructions of other kinds (release, refund, return)
    freezes_in_force: int
    guarantees_in_force: int  # active (not released) guarantees, expired or not
    balance_fen: int


def _fen_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _state(items: OpenItems) -> list[Blocker]:
    if items.closed:
        return [Blocker(ACCOUNT_CLOSED, {"account_no": items.account_no})]
    if items.ending is not None:
        kind, instruction_id = items.ending
        return [Blocker(ENDING_PENDING, {"kind": kind, "instruction_id": str(instruction_id)})]
    return []


def _count(code: str, count: int) -> list[Blocker]:
    return [Blocker(code, {"count": str(count)})] if count else []


def missing_nodes(book: RuleBook, confirmed: Mapping[str, Collection[str]]) -> list[Blocker]:
    """Every node of the book not confirmed in each building (building code → confirmed node codes; a
    project without buildings is the one building "")."""
    buildings = confirmed or {"": ()}
    return [
        Blocker(NODE_MISSING, {"building": building, "node": node.code})
        for building, codes in sorted(buildings.items())
        for node in book.nodes
        if node.code not in codes
    ]


def closure_blockers(
    book: RuleBook, confirmed: Mapping[str, Collection[str]], items: OpenItems
) -> list[Blocker]:
    """What stands in the way of closing the account; empty when closure is allowed. A closed or closing
    account says only that (the rest would not be news)."""
    state = _state(items)
    if state:
        return state
    return [
        *missing_nodes(book, confirmed),
        *([Blocker(SUSPENSE_OPEN, {"amount": _fen_text(items.suspense_fen)})] if items.suspense_fen else []),
        *_count(REFUNDS_OPEN, items.refunds_open),
        *_count(RELEASES_OPEN, items.releases_open),
        *_count(INSTRUCTIONS_PENDING, items.instructions_pending),
        *_count(FREEZE_IN_FORCE, items.freezes_in_force),
        *_count(GUARANTEES_IN_FORCE, items.guarantees_in_force),
    ]


def bank_change_blockers(items: OpenItems) -> list[Blocker]:
    """What stands in the way of moving the account to another bank; empty when it may move."""
    state = _state(items)
    if state:
        return state
    return [
        *([Blocker(SUSPENSE_OPEN, {"amount": _fen_text(items.suspense_fen)})] if items.suspense_fen else []),
        *_count(REFUNDS_OPEN, items.refunds_open),
        *_count(RELEASES_OPEN, items.releases_open),
        *_count(INSTRUCTIONS_PENDING, items.instructions_pending),
        *_count(FREEZE_IN_FORCE, items.freezes_in_force),
        *([Blocker(NOTHING_TO_PAY)] if items.balance_fen <= 0 else []),
    ]


def conflict(blockers: list[Blocker]) -> bool:
    """Whether the refusal is a conflict with the account's state (409) rather than a rule not yet met
    (422: a node missing)."""
    return any(b.code != NODE_MISSING for b in blockers)


class Refused(DomainError):
    """Closure or a bank change refused, naming every blocker (`blockers` on the wire). A conflict with the
    account's state answers 409; only nodes missing (a rule not yet met) answers 422."""

    def __init__(self, what: str, blockers: list[Blocker]):
        super().__init__(
            f"{what} is refused: " + "; ".join(b.text for b in blockers),
            rule=f"lifecycle.{blockers[0].code}",
        )
        self.blockers = blockers
        if conflict(blockers):
            self.status, self.kind, self.title = Conflict.status, Conflict.kind, Conflict.title
