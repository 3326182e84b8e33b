"""Release cap and required retention under the shipped Hengshui rule book (DESIGN §4)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escrow.domain.buildings import BuildingProgress
from escrow.domain.caps import (
    CapInputs,
    RetentionRule,
    _advanced,
    node_release_figures,
    release_cap,
    required_retention,
    rule_of,
    supervised_amount,
)
from escrow.domain.money import ZERO, from_fen, quantize
from escrow.rulebooks import RuleBook, load_dir

RULES = Path(__file__).resolve().parents[2] / "rules"
BOOK = load_dir(RULES).get("hengshui@2024.1")
assert BOOK is not None
NODES = tuple(n.code for n in BOOK.nodes)
TERMS = ("balance", "suspense", "required_retention", "frozen", "pending_out")


def rule_for(book: RuleBook, confirmed: set[str] | frozenset[str], finish: str) -> RetentionRule:
    """The way a service resolves the rule book for one project (highest confirmed node + surcharge)."""
    return rule_of(book, confirmed, finish)


def money(max_yuan: int = 10**9) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=0, max_value=max_yuan * 100).map(from_fen)


cap_inputs = st.builds(
    CapInputs,
    balance=money(),
    suspense=money(10**7),
    supervised_amount=money(),
    frozen=money(10**8),
    pending_out=money(10**8),
    guarantee=money(10**8),
    deposits_total=money(),
)
confirmed_sets = st.frozensets(st.sampled_from(NODES))
finishes = st.sampled_from(("shell", "finished"))


@settings(max_examples=200)
@given(cap_inputs, confirmed_sets, finishes)
def test_releasable_is_never_negative_nor_above_the_balance(
    inputs: CapInputs, confirmed: frozenset[str], finish: str
) -> None:
    cap = release_cap(inputs, rule_for(BOOK, confirmed, finish))
    assert cap.releasable >= 0
    assert cap.releasable <= inputs.balance
    assert cap.releasable <= max(ZERO, inputs.balance - inputs.suspense - inputs.frozen - inputs.pending_out)
    assert cap.required_retention >= 0
    assert cap.releasable == quantize(cap.releasable)


@settings(max_examples=200)
@given(cap_inputs, confirmed_sets, st.sampled_from(NODES), finishes)
def test_confirming_a_later_node_never_lowers_the_cap(
    inputs: CapInputs, confirmed: frozenset[str], extra: str, finish: str
) -> None:
    before = release_cap(inputs, rule_for(BOOK, confirmed, finish))
    after = release_cap(inputs, rule_for(BOOK, confirmed | {extra}, finish))
    assert after.releasable >= before.releasable
    assert after.required_retention <= before.required_retention


@settings(max_examples=200)
@given(cap_inputs, confirmed_sets)
def test_finished_interior_never_releases_more_than_shell(
    inputs: CapInputs, confirmed: frozenset[str]
) -> None:
    shell = release_cap(inputs, rule_for(BOOK, confirmed, "shell"))
    finished = release_cap(inputs, rule_for(BOOK, confirmed, "finished"))
    assert finished.releasable <= shell.releasable
    assert finished.required_retention >= shell.required_retention


@settings(max_examples=200)
@given(cap_inputs, confirmed_sets, finishes)
def test_explanation_has_five_terms_that_add_up(
    inputs: CapInputs, confirmed: frozenset[str], finish: str
) -> None:
    cap = release_cap(inputs, rule_for(BOOK, confirmed, finish))
    assert tuple(t.term for t in cap.terms) == TERMS
    values = {t.term: t.value for t in cap.terms}
    assert values["balance"] == inputs.balance
    assert values["suspense"] == inputs.suspense
    assert values["required_retention"] == cap.required_retention
    # hengshui@2024.1 exempts nothing from a freeze: what is frozen beyond the retention is held back (the
    # retained money is held already, so it is not held twice)
    assert values["frozen"] == max(ZERO, inputs.frozen - cap.required_retention)
    assert values["pending_out"] == inputs.pending_out
    raw = (
        values["balance"]
        - values["suspense"]
        - values["required_retention"]
        - values["frozen"]
        - values["pending_out"]
    )
    assert cap.releasable == max(ZERO, raw)
    assert cap.rulebook_id == "hengshui@2024.1"
    assert "hengshui@2024.1" in cap.text
    retention_rule = next(t.rule for t in cap.terms if t.term == "required_retention")
    assert retention_rule.startswith("hengshui@2024.1")
    as_json = cap.to_json()
    assert as_json["rulebook"] == "hengshui@2024.1"
    assert [t["term"] for t in as_json["terms"]] == list(TERMS)


@settings(max_examples=200)
@given(cap_inputs, confirmed_sets, finishes)
def test_guarantee_counts_only_within_its_share_of_the_key_amount_under_2024_1(
    inputs: CapInputs, confirmed: frozenset[str], finish: str
) -> None:
    rule = rule_for(BOOK, confirmed, finish)
    without, _ = required_retention(dataclasses.replace(inputs, guarantee=ZERO), rule)
    with_guarantee, _ = required_retention(inputs, rule)
    reduction = without - with_guarantee
    assert reduction >= 0
    assert reduction <= quantize(inputs.supervised_amount * Decimal("0.30"))
    assert reduction <= inputs.guarantee
    assert with_guarantee >= 0
    limit = (inputs.supervised_amount * BOOK.guarantee_max_share).quantize(Decimal("0.01"), "ROUND_DOWN")
    assert reduction == min(inputs.guarantee, limit, without)


# --- worked examples: numbers checked by hand -----------------------------------------------------------

KEY = Decimal("10000000.00")  # key supervised amount ¥10,000,000


def inputs(**changes: Decimal) -> CapInputs:
    base = CapInputs(
        balance=Decimal("12000000.00"),
        suspense=ZERO,
        supervised_amount=KEY,
        frozen=ZERO,
        pending_out=ZERO,
        guarantee=ZERO,
        deposits_total=Decimal("12000000.00"),
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("confirmed", "shell", "finished"),
    [
        (set(), "10000000.00", "10000000.00"),  # before the first node the whole key amount stays
        ({"half_structure"}, "7000000.00", "7500000.00"),
        ({"half_structure", "topped_out"}, "4500000.00", "5000000.00"),
        ({"topped_out"}, "4500000.00", "5000000.00"),  # only the highest confirmed node counts
        ({"half_structure", "topped_out", "completion_report"}, "2500000.00", "3000000.00"),
        ({"completion_filed"}, "1000000.00", "1500000.00"),
        (set(NODES), "0.00", "0.00"),  # no surcharge from first registration on
    ],
)
def test_retention_by_node_and_finish(confirmed: set[str], shell: str, finished: str) -> None:
    assert required_retention(inputs(), rule_for(BOOK, confirmed, "shell"))[0] == Decimal(shell)
    assert required_retention(inputs(), rule_for(BOOK, confirmed, "finished"))[0] == Decimal(finished)


def test_worked_release_cap() -> None:
    cap = release_cap(
        inputs(
            suspense=Decimal("100000.00"),
            frozen=Decimal("200000.00"),
            pending_out=Decimal("300000.00"),
        ),
        rule_for(BOOK, {"half_structure", "topped_out"}, "finished"),
    )
    # 12,000,000 − 100,000 − 5,000,000 − 0 − 300,000: the 200,000 frozen lie inside the 5,000,000 retained
    assert cap.required_retention == Decimal("5000000.00")
    assert cap.releasable == Decimal("6600000.00")
    assert cap.text == (
        "releasable 6600000.00 = balance 12000000.00 − suspense 100000.00 − required_retention 5000000.00"
        " − frozen 0.00 − pending_out 300000.00, under hengshui@2024.1"
    )
    retention = cap.terms[2]
    assert retention.rule == "hengshui@2024.1 nodes.topped_out.retention"
    assert "share 0.45" in retention.detail and "surcharge 0.05" in retention.detail


def test_cap_is_floored_at_zero_and_says_so() -> None:
    cap = release_cap(
        inputs(balance=Decimal("1000.00"), frozen=Decimal("5000.00")), rule_for(BOOK, set(), "shell")
    )
    assert cap.releasable == ZERO
    assert "(floored at 0)" in cap.text
    assert cap.to_json()["releasable"] == "0.00"


def test_guarantee_is_capped_at_thirty_percent() -> None:
    rule = rule_for(BOOK, {"half_structure"}, "shell")  # gross retention 7,000,000
    small, _ = required_retention(inputs(guarantee=Decimal("1000000.00")), rule)
    big, term = required_retention(inputs(guarantee=Decimal("5000000.00")), rule)
    assert small == Decimal("6000000.00")
    assert big == Decimal("4000000.00")  # only 3,000,000 (30 % of 10,000,000) counts
    assert "less guarantee 3000000.00" in term.detail


def test_a_registered_guarantee_counts_whatever_was_deposited() -> None:
    """The balance condition is checked when a guarantee is registered (services.guarantees); once in
    force it counts, whatever the account received since."""
    rule = rule_for(BOOK, {"half_structure"}, "shell")
    short = inputs(guarantee=Decimal("3000000.00"), deposits_total=Decimal("9999999.99"))
    assert required_retention(short, rule)[0] == Decimal("4000000.00")


def test_guarantee_never_makes_retention_negative() -> None:
    rule = rule_for(BOOK, {"completion_filed"}, "shell")  # gross retention 1,000,000
    retention, _ = required_retention(inputs(guarantee=Decimal("3000000.00")), rule)
    assert retention == ZERO


def test_share_plus_surcharge_is_capped_at_the_whole_key_amount() -> None:
    rule = dataclasses.replace(rule_for(BOOK, {"half_structure"}, "finished"), node_share=Decimal("0.98"))
    assert required_retention(inputs(), rule)[0] == KEY


def test_supervised_amount_formula() -> None:
    sa = BOOK.supervised_amount
    # 2600.00 × 10,000 m² × 1.00 × grade A 0.90
    amount = supervised_amount(sa.cost_per_m2, Decimal("10000"), sa.coefficient, sa.credit_grade_factors["A"])
    assert amount == Decimal("23400000.00")
    assert supervised_amount(
        Decimal("2600.00"), Decimal("123.45"), Decimal("1.00"), Decimal("1.10")
    ) == Decimal("353067.00")
    # rounded half up to fen
    assert supervised_amount(Decimal("0.01"), Decimal("0.5"), Decimal("1"), Decimal("1")) == Decimal("0.01")


BOOKS = tuple(load_dir(RULES))
buildings = st.lists(
    st.builds(
        BuildingProgress,
        code=st.sampled_from(("1", "2", "3", "4")),
        area=st.integers(min_value=1, max_value=10**7).map(lambda x: Decimal(x) / 100),
        confirmed=confirmed_sets,
    ),
    max_size=3,
    unique_by=lambda b: b.code,
)


@settings(max_examples=300)
@given(
    cap_inputs,
    st.booleans(),
    st.sampled_from(BOOKS),
    confirmed_sets,
    buildings,
    finishes,
)
def test_the_lean_figures_are_the_caps_own(
    inputs: CapInputs,
    full_freeze: bool,
    book: RuleBook,
    confirmed: frozenset[str],
    parts: list[BuildingProgress],
    finish: str,
) -> None:
    """`node_release_figures` (what the city-wide views compute for every account) gives exactly the
    retention and the releasable amount of `release_cap`, under every shipped rule book, with or without
    buildings and freezes; each unlock's amount is the cap of the rule with that node confirmed."""
    inputs = dataclasses.replace(inputs, full_freeze=full_freeze)
    rule = rule_of(book, confirmed, finish, parts)
    cap = release_cap(inputs, rule)
    assert node_release_figures(inputs, rule) == (cap.required_retention, cap.releasable)
    for unlock, following in zip(cap.unlocks, rule.next_nodes, strict=True):
        assert unlock.releasable_after == release_cap(inputs, _advanced(rule, following)).releasable
