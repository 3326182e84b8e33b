"""Release cap: how much may leave a supervised account now, and why (DESIGN.md §4).

releasable = balance − suspense − required retention − frozen − approved but unexecuted, floored at 0
required retention = key supervised amount × min(1, retention share of the highest confirmed node
                     + finish surcharge) − accepted guarantee (within its cap, once the account reached
                     the key supervised amount)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

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


@dataclass(frozen=True)
class Term:
    term: str
    value: Decimal
    rule: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"term": self.term, "value": to_wire(self.value), "rule": self.rule, "detail": self.detail}


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


def required_retention(inputs: CapInputs, rule: RetentionRule) -> tuple[Decimal, Term]:
    share = min(ONE, rule.node_share + rule.surcharge)
    gross = quantize(inputs.supervised_amount * share)
    guarantee_cap = quantize(inputs.supervised_amount * rule.guarantee_max_share)
    eligible = not rule.guarantee_requires_full_amount or inputs.deposits_total >= inputs.supervised_amount
    guarantee = min(inputs.guarantee, guarantee_cap) if eligible else ZERO
    retention = max(ZERO, gross - guarantee)
    where = f"node {rule.node_code}" if rule.node_code else "no node confirmed yet"
    detail = (
        f"key supervised amount {to_wire(inputs.supervised_amount)} × (share {rule.node_share}"
        f" + surcharge {rule.surcharge}) at {where}"
    )
    if guarantee:
        detail += (
            f", less guarantee {to_wire(guarantee)} (at most {rule.guarantee_max_share} of the key amount)"
        )
    elif inputs.guarantee:
        detail += ", guarantee not counted until deposits reach the key supervised amount"
    rule_ref = (
        f"{rule.rulebook_id} nodes.{rule.node_code}.retention"
        if rule.node_code
        else f"{rule.rulebook_id} nodes"
    )
    return retention, Term("required_retention", retention, rule_ref, detail)


def release_cap(inputs: CapInputs, rule: RetentionRule) -> Cap:
    retention, retention_term = required_retention(inputs, rule)
    terms = (
        Term("balance", inputs.balance, "books", "cash ledger of the supervised account"),
        Term("suspense", inputs.suspense, "books", "money received but not yet assigned to a contract"),
        retention_term,
        Term("frozen", inputs.frozen, "freezes", "amounts held by court orders in force"),
        Term("pending_out", inputs.pending_out, "instructions", "approved releases and refunds not yet paid"),
    )
    raw = inputs.balance - inputs.suspense - retention - inputs.frozen - inputs.pending_out
    return Cap(max(ZERO, raw), retention, rule.rulebook_id, terms)


def supervised_amount(
    cost_per_m2: Decimal, area_m2: Decimal, coefficient: Decimal, grade_factor: Decimal
) -> Decimal:
    """Key supervised amount = construction cost per m² × pre-sale area × coefficient (× credit grade)."""
    return quantize(cost_per_m2 * area_m2 * coefficient * grade_factor)
