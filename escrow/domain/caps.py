"""Release cap: how much may leave a supervised account now, and why (DESIGN.md §4).

releasable = balance − suspense − required retention − frozen − approved but unexecuted, floored at 0
required retention = key supervised amount × min(1, retention share of the highest confirmed node
                     + finish surcharge) − accepted guarantee (within its cap, once the account reached
                     the key supervised amount)
free money (what a refund may take) = balance − suspense − frozen − approved but unexecuted, floored at 0

Each term carries a code and its parameters, so the edges say it in their own words without re-computing it
or reading the English `detail`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from escrow.domain.money import ZERO, quantize, to_wire

ONE = Decimal("1")

# The kinds of payment instruction whose amount is held back as `pending_out` until the bank executes them:
# approved releases and refunds. A `return` (unassigned money sent back to its payer) is left out: that
# money is still in suspense, which the cap already holds back, and counting it again would hold it twice.
PENDING_OUTFLOW_KINDS = ("release", "refund")


@dataclass(frozen=True)
class RetentionRule:
    """The parts of a rule book the cap needs, already resolved for one project."""

    rulebook_id: str
    node_code: str | None  # highest confirmed node, None before the first
    node_share: Decimal  # its retention share (1 before the first node)
    surcharge: Decimal  # finish surcharge on top of it
    guarantee_max_share: Decimal
    guarantee_requires_full_amount: bool


@dataclass(frozen=True)
class CapInputs:
    balance: Decimal
    suspense: Decimal
    supervised_amount: Decimal
    frozen: Decimal
    pending_out: Decimal  # approved releases and refunds not yet executed by the bank
    guarantee: Decimal  # accepted bank guarantees
    deposits_total: Decimal  # all money ever received (for the guarantee precondition)


# What each term of the cap is, as a code the edges name in their own words (the `detail` stays the
# domain's English sentence, kept with every stored cap for the record and for old releases).
TERM_CODES = {
    "balance": "cash_ledger",
    "suspense": "unassigned_money",
    "frozen": "court_freezes",
    "pending_out": "approved_not_paid",
}
RETENTION_AT_NODE = "retention_at_node"
RETENTION_BEFORE_FIRST_NODE = "retention_before_first_node"


def retention_share(node_share: Decimal, surcharge: Decimal) -> Decimal:
    """The share of the key supervised amount retained: the node's share plus the finish surcharge, at most
    all of it."""
    return min(ONE, node_share + surcharge)


@dataclass(frozen=True)
class Retention:
    """The figures of the required retention: what the pages say in words instead of re-computing them.

    gross = key supervised amount × retention_share(node share, surcharge); retention = gross − guarantee
    counted (never below 0). `guarantee_waiting` is an accepted guarantee not counted yet (deposits have not
    reached the key supervised amount)."""

    supervised_amount: Decimal
    node_code: str | None
    node_share: Decimal
    surcharge: Decimal
    share: Decimal
    gross: Decimal
    guarantee: Decimal  # counted against the gross
    guarantee_waiting: Decimal
    guarantee_max_share: Decimal

    @property
    def code(self) -> str:
        return RETENTION_AT_NODE if self.node_code else RETENTION_BEFORE_FIRST_NODE

    def params(self) -> dict[str, str | None]:
        """The figures as wire strings (money with two decimals, shares as written in the rule book)."""
        return {
            "supervised_amount": to_wire(self.supervised_amount),
            "node": self.node_code,
            "node_share": str(self.node_share),
            "surcharge": str(self.surcharge),
            "share": str(self.share),
            "gross": to_wire(self.gross),
            "guarantee": to_wire(self.guarantee),
            "guarantee_waiting": to_wire(self.guarantee_waiting),
            "guarantee_max_share": str(self.guarantee_max_share),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Retention:
        return cls(
            supervised_amount=Decimal(params["supervised_amount"]),
            node_code=params.get("node"),
            node_share=Decimal(params["node_share"]),
            surcharge=Decimal(params["surcharge"]),
            share=Decimal(params["share"]),
            gross=Decimal(params["gross"]),
            guarantee=Decimal(params["guarantee"]),
            guarantee_waiting=Decimal(params["guarantee_waiting"]),
            guarantee_max_share=Decimal(params["guarantee_max_share"]),
        )


@dataclass(frozen=True)
class Term:
    term: str
    value: Decimal
    rule: str
    detail: str  # the domain's English sentence; the edges say the term again from `code` and `params`
    code: str = ""  # "" only for a term stored before terms carried codes
    params: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def retention(self) -> Retention | None:
        """The retention figures of a required_retention term (None for other terms and old stored ones)."""
        if self.code in (RETENTION_AT_NODE, RETENTION_BEFORE_FIRST_NODE):
            return Retention.from_params(self.params)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "value": to_wire(self.value),
            "rule": self.rule,
            "detail": self.detail,
            "code": self.code,
            "params": dict(self.params),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Term:
        """A term as stored with a release, a step or a refusal; one stored before terms carried codes comes
        back with code "" and its stored text only."""
        return cls(
            term=data.get("term", ""),
            value=Decimal(data.get("value", "0")),
            rule=data.get("rule", ""),
            detail=data.get("detail", ""),
            code=data.get("code", ""),
            params=dict(data.get("params") or {}),
        )


def _simple(term: str, value: Decimal, rule: str, detail: str) -> Term:
    return Term(term, value, rule, detail, TERM_CODES[term])


@dataclass(frozen=True)
class Cap:
    releasable: Decimal
    required_retention: Decimal
    rulebook_id: str
    terms: tuple[Term, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        parts = " ".join(
            f"{'−' if i else ''} {t.term} {to_wire(t.value)}".strip() for i, t in enumerate(self.terms)
        )
        floored = " (floored at 0)" if self.releasable == 0 else ""
        return f"releasable {to_wire(self.releasable)} = {parts}{floored}, under {self.rulebook_id}"

    def to_json(self) -> dict:
        return {
            "releasable": to_wire(self.releasable),
            "required_retention": to_wire(self.required_retention),
            "rulebook": self.rulebook_id,
            "terms": [t.to_json() for t in self.terms],
            "text": self.text,
        }


def retention(inputs: CapInputs, rule: RetentionRule) -> Retention:
    """The required retention's figures (the formula lives here and nowhere else)."""
    share = retention_share(rule.node_share, rule.surcharge)
    gross = quantize(inputs.supervised_amount * share)
    guarantee_cap = quantize(inputs.supervised_amount * rule.guarantee_max_share)
    eligible = not rule.guarantee_requires_full_amount or inputs.deposits_total >= inputs.supervised_amount
    guarantee = min(inputs.guarantee, guarantee_cap) if eligible else ZERO
    return Retention(
        supervised_amount=inputs.supervised_amount,
        node_code=rule.node_code,
        node_share=rule.node_share,
        surcharge=rule.surcharge,
        share=share,
        gross=gross,
        guarantee=guarantee,
        guarantee_waiting=ZERO if eligible else inputs.guarantee,
        guarantee_max_share=rule.guarantee_max_share,
    )


def required_retention(inputs: CapInputs, rule: RetentionRule) -> tuple[Decimal, Term]:
    figures = retention(inputs, rule)
    amount = max(ZERO, figures.gross - figures.guarantee)
    where = f"node {rule.node_code}" if rule.node_code else "no node confirmed yet"
    detail = (
        f"key supervised amount {to_wire(inputs.supervised_amount)} × (share {rule.node_share}"
        f" + surcharge {rule.surcharge}) at {where}"
    )
    if figures.guarantee:
        detail += (
            f", less guarantee {to_wire(figures.guarantee)} (at most {rule.guarantee_max_share} of the key"
            " amount)"
        )
    elif inputs.guarantee:
        detail += ", guarantee not counted until deposits reach the key supervised amount"
    rule_ref = (
        f"{rule.rulebook_id} nodes.{rule.node_code}.retention"
        if rule.node_code
        else f"{rule.rulebook_id} nodes"
    )
    term = Term("required_retention", amount, rule_ref, detail, figures.code, figures.params())
    return amount, term


def release_cap(inputs: CapInputs, rule: RetentionRule) -> Cap:
    amount, retention_term = required_retention(inputs, rule)
    terms = (
        _simple("balance", inputs.balance, "books", "cash ledger of the supervised account"),
        _simple("suspense", inputs.suspense, "books", "money received but not yet assigned to a contract"),
        retention_term,
        _simple("frozen", inputs.frozen, "freezes", "amounts held by court orders in force"),
        _simple(
            "pending_out", inputs.pending_out, "instructions", "approved releases and refunds not yet paid"
        ),
    )
    raw = inputs.balance - inputs.suspense - amount - inputs.frozen - inputs.pending_out
    return Cap(max(ZERO, raw), amount, rule.rulebook_id, terms)


def retention_of(cap: Cap) -> Retention | None:
    """The retention figures of a cap (None for a cap stored before terms carried codes)."""
    return next((t.retention for t in cap.terms if t.term == "required_retention"), None)


# A refund pays the buyer's own money back: the retention does not hold it back, but it can take only money
# that is free. These are the terms of that sum, in order.
FREE_MONEY_TERMS = ("balance", "suspense", "frozen", "pending_out")


def free_money(cap: Cap) -> Decimal:
    """balance − suspense − frozen − pending_out, NOT floored: below 0 when the account owes more than it
    holds (an instruction already counted in pending_out may then no longer be paid)."""
    values = {t.term: t.value for t in cap.terms}
    return values["balance"] - values["suspense"] - values["frozen"] - values["pending_out"]


def release_headroom(cap: Cap) -> Decimal:
    """The releasable amount before flooring: free money less the required retention. Paying an approved
    release moves balance and pending_out alike, so while this is ≥ 0 the payment still fits."""
    return free_money(cap) - cap.required_retention


def return_headroom(cap: Cap, amount: Decimal) -> Decimal:
    """What paying `amount` of suspense back to its payer leaves above what is frozen or reserved: the money
    is suspense, not the developer's, so retention and suspense are not held against it."""
    values = {t.term: t.value for t in cap.terms}
    return values["balance"] - amount - values["frozen"] - values["pending_out"]


def refundable(cap: Cap) -> Decimal:
    """What a refund may take now: the free money, floored at 0."""
    return max(ZERO, free_money(cap))


def supervised_amount(
    cost_per_m2: Decimal, area_m2: Decimal, coefficient: Decimal, grade_factor: Decimal
) -> Decimal:
    """Key supervised amount = construction cost per m² × pre-sale area × coefficient (× credit grade)."""
    return quantize(cost_per_m2 * area_m2 * coefficient * grade_factor)
