"""Cap terms as codes with parameters, the retention figures, and the free money a refund may take."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings

from escrow.domain.caps import (
    RETENTION_AT_NODE,
    RETENTION_BEFORE_FIRST_NODE,
    CapInputs,
    Term,
    free_money,
    refundable,
    release_cap,
    release_headroom,
    retention_of,
    retention_share,
    return_headroom,
)
from escrow.domain.money import ZERO, quantize
from tests.unit.test_caps import BOOK, cap_inputs, confirmed_sets, finishes, money, rule_for


@settings(max_examples=200)
@given(cap_inputs, confirmed_sets, finishes)
def test_the_retention_figures_add_up_to_the_term(inputs: CapInputs, confirmed, finish: str) -> None:
    rule = rule_for(BOOK, confirmed, finish)
    cap = release_cap(inputs, rule)
    figures = retention_of(cap)
    assert figures is not None
    assert figures.share == retention_share(rule.node_share, rule.surcharge) <= 1
    assert figures.gross == quantize(inputs.supervised_amount * figures.share)
    assert cap.required_retention == max(ZERO, figures.gross - figures.guarantee)
    assert figures.guarantee <= inputs.guarantee
    assert figures.guarantee == ZERO or figures.guarantee_waiting == ZERO
    assert figures.node_code == rule.node_code
    term = next(t for t in cap.terms if t.term == "required_retention")
    assert term.code == (RETENTION_AT_NODE if rule.node_code else RETENTION_BEFORE_FIRST_NODE)


@settings(max_examples=100)
@given(cap_inputs, confirmed_sets, finishes)
def test_every_term_survives_its_json(inputs: CapInputs, confirmed, finish: str) -> None:
    cap = release_cap(inputs, rule_for(BOOK, confirmed, finish))
    for term in cap.terms:
        assert term.code
        again = Term.from_json(term.to_json())
        assert again == term
        assert again.retention == term.retention


def test_a_term_stored_before_codes_keeps_its_text_only() -> None:
    old = {"term": "required_retention", "value": "5000000.00", "rule": "r", "detail": "key supervised …"}
    term = Term.from_json(old)
    assert term.code == "" and term.retention is None and term.detail == "key supervised …"
    assert term.value == Decimal("5000000.00")


def test_the_json_keeps_its_fields_and_adds_code_and_params() -> None:
    cap = release_cap(CapInputs(*(Decimal("0.00"),) * 7), rule_for(BOOK, set(), "shell"))
    for term in cap.to_json()["terms"]:
        assert list(term)[:4] == ["term", "value", "rule", "detail"]
        assert {"code", "params"} <= set(term)


@settings(max_examples=300)
@given(cap_inputs, confirmed_sets, finishes)
def test_free_money_ignores_the_retention_and_is_floored_for_refunds(
    inputs: CapInputs, confirmed, finish: str
) -> None:
    cap = release_cap(inputs, rule_for(BOOK, confirmed, finish))
    raw = inputs.balance - inputs.suspense - inputs.frozen - inputs.pending_out
    assert free_money(cap) == raw  # hengshui@2024.1: a freeze holds refunds back
    assert refundable(cap) == max(ZERO, raw)
    assert refundable(cap) >= cap.releasable  # the retention never holds back a refund
    frozen_beyond = max(ZERO, inputs.frozen - cap.required_retention)
    assert release_headroom(cap) == raw + inputs.frozen - frozen_beyond - cap.required_retention
    assert cap.releasable == max(ZERO, release_headroom(cap))  # the cap is the headroom, floored


@settings(max_examples=200)
@given(cap_inputs, confirmed_sets, finishes, money(10**7))
def test_a_suspense_return_is_held_only_against_frozen_and_reserved_money(
    inputs: CapInputs, confirmed, finish: str, amount: Decimal
) -> None:
    cap = release_cap(inputs, rule_for(BOOK, confirmed, finish))
    left = return_headroom(cap, amount)
    assert left == inputs.balance - amount - inputs.frozen - inputs.pending_out
    assert left >= free_money(cap) - amount  # neither suspense nor retention is held against it


@given(money(10), money(10))
def test_the_retention_share_is_at_most_all_of_it(share: Decimal, surcharge: Decimal) -> None:
    node_share, extra = share / 10, surcharge / 10
    assert retention_share(node_share, extra) == min(Decimal("1"), node_share + extra)
