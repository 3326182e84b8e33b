"""The caps of hengshui@2026.1 (DESIGN §4): non-key releases, guarantees as a share of the required
retention, and freezes that do not stop bureau-approved construction releases and refunds (法〔2022〕12号)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from escrow.domain.caps import (
    CapInputs,
    free_money,
    non_key_cap,
    release_cap,
    release_headroom,
    retention,
    return_headroom,
    rule_of,
)
from escrow.domain.money import ZERO
from escrow.rulebooks import load_dir
from tests.unit.test_caps import BOOK as BOOK_2024
from tests.unit.test_caps import RULES, confirmed_sets, finishes, money

BOOK = load_dir(RULES).get("hengshui@2026.1")
assert BOOK is not None

flow_inputs = st.builds(
    CapInputs,
    balance=money(),
    suspense=money(10**7),
    supervised_amount=money(),
    frozen=money(10**8),
    pending_out=money(10**8),
    guarantee=money(10**9),
    deposits_total=money(2 * 10**9),
    full_freeze=st.booleans(),
    refunded=money(10**8),
    non_key_taken=money(10**8),
)


@settings(max_examples=300)
@given(flow_inputs, confirmed_sets, finishes)
def test_cash_retention_is_at_least_70_percent_of_the_required_retention_whatever_the_guarantee(
    inputs: CapInputs, confirmed, finish: str
) -> None:
    figures = retention(inputs, rule_of(BOOK, confirmed, finish))
    cash = figures.gross - figures.guarantee
    assert figures.guarantee >= 0
    assert figures.guarantee <= inputs.guarantee
    assert cash * 10 >= figures.gross * 7  # national notice on guarantees: at least 70% stays in cash
    without = retention(dataclasses.replace(inputs, guarantee=ZERO), rule_of(BOOK, confirmed, finish))
    assert without.gross == figures.gross and without.guarantee == 0


@settings(max_examples=300)
@given(flow_inputs, confirmed_sets, finishes)
def test_no_outflow_exceeds_what_the_law_allows(inputs: CapInputs, confirmed, finish: str) -> None:
    rule = rule_of(BOOK, confirmed, finish)
    node, non_key = release_cap(inputs, rule), non_key_cap(inputs, rule)
    cash_retention = node.required_retention
    assert node.required_retention == non_key.required_retention
    # A node release never takes retained, unassigned or reserved money; a freeze does not stop it (art. 2).
    assert node.releasable <= max(
        ZERO, inputs.balance - inputs.suspense - cash_retention - inputs.pending_out
    )
    assert node.releasable == max(ZERO, release_headroom(node))
    # A non-key release takes only money received beyond the key amount not taken yet ...
    assert non_key.releasable <= max(
        ZERO, inputs.deposits_total - inputs.refunded - inputs.supervised_amount - inputs.non_key_taken
    )
    # ... and never what is retained, frozen, unassigned or reserved.
    held = inputs.frozen_held
    assert non_key.releasable <= max(ZERO, inputs.balance - inputs.suspense - held - inputs.pending_out)
    assert non_key.releasable <= max(
        ZERO, inputs.balance - inputs.suspense - cash_retention - inputs.pending_out
    )
    if inputs.full_freeze:
        assert non_key.releasable == 0  # a full freeze stops every outflow the law does not exempt
        assert return_headroom(node, Decimal("0.01")) < 0
    # Refunds approved by the bureau are paid from a frozen account: only suspense and reservations hold.
    assert free_money(node) == inputs.balance - inputs.suspense - inputs.pending_out
    for cap in (node, non_key):
        assert cap.releasable >= 0 and cap.releasable <= max(ZERO, inputs.balance)


@settings(max_examples=200)
@given(flow_inputs, confirmed_sets, finishes)
def test_the_non_key_cap_explains_both_bounds(inputs: CapInputs, confirmed, finish: str) -> None:
    cap = non_key_cap(inputs, rule_of(BOOK, confirmed, finish))
    bounds = dict(cap.parts)
    assert cap.releasable == max(ZERO, min(bounds["beyond_key_amount"], bounds["account_room"]))
    assert release_headroom(cap) == min(bounds.values())
    as_json = cap.to_json()
    assert as_json["kind"] == "non_key"
    assert [t["term"] for t in as_json["terms"]] == [
        "received",
        "supervised_amount",
        "non_key_taken",
        "balance",
        "suspense",
        "held",
        "pending_out",
    ]
    assert "hengshui@2026.1" in cap.text


@settings(max_examples=100)
@given(flow_inputs, confirmed_sets, finishes)
def test_a_version_without_non_key_releases_allows_none(inputs: CapInputs, confirmed, finish: str) -> None:
    assert non_key_cap(inputs, rule_of(BOOK_2024, confirmed, finish)).releasable == 0


def test_a_guarantee_at_a_quarter_node_keeps_70_percent_in_cash() -> None:
    """The issue's case: at a 0.25 node a guarantee of 0.30 K used to wipe out the retention."""
    k = Decimal("10000000.00")
    inputs = CapInputs(
        balance=k,
        suspense=ZERO,
        supervised_amount=k,
        frozen=ZERO,
        pending_out=ZERO,
        guarantee=Decimal("3000000.00"),
        deposits_total=k,
    )
    rule = rule_of(BOOK, {"half_structure", "topped_out", "completion_report"}, "shell")
    figures = retention(inputs, rule)
    assert figures.gross == Decimal("2500000.00")
    assert figures.guarantee == Decimal("750000.00")  # 30% of the required retention
    assert release_cap(inputs, rule).required_retention == Decimal("1750000.00")
    # hengshui@2024.1, as published, counted 30% of the key amount: the whole retention
    old = retention(
        inputs, rule_of(BOOK_2024, {"half_structure", "topped_out", "completion_report"}, "shell")
    )
    assert old.gross - old.guarantee == 0


def test_frozen_money_inside_the_retention_is_not_held_twice() -> None:
    k = Decimal("1000000.00")
    inputs = CapInputs(
        balance=Decimal("1500000.00"),
        suspense=ZERO,
        supervised_amount=k,
        frozen=Decimal("600000.00"),
        pending_out=ZERO,
        guarantee=ZERO,
        deposits_total=Decimal("1500000.00"),
    )
    rule = rule_of(BOOK, {"half_structure"}, "shell")  # retention 0.70 K = 700,000
    non_key = non_key_cap(inputs, rule)
    assert non_key.releasable == Decimal("500000.00")  # 1.5m − max(700k retained, 600k frozen)
    old = release_cap(inputs, rule_of(BOOK_2024, {"half_structure"}, "shell"))
    assert old.releasable == Decimal("800000.00")  # 1.5m − 700k; the 600k frozen lies inside it
    assert release_cap(inputs, rule).releasable == Decimal("800000.00")  # 2026.1: not held at all
    full = non_key_cap(dataclasses.replace(inputs, full_freeze=True), rule)
    assert full.releasable == 0
