"""Named deposit checks: each passes on good facts and fails, with a reason, on bad ones."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from escrow.domain import checks
from escrow.domain.checks import PARAMS, REGISTRY, DepositFacts, Outcome

TODAY = date(2025, 3, 14)

GOOD = DepositFacts(
    account_no="6222000011112222",
    amount=Decimal("300000.00"),
    payer_name="张三",
    value_date=TODAY,
    today=TODAY,
    notice_given=True,
    notice_account_no="6222000011112222",
    notice_status="open",
    notice_amount=Decimal("300000.00"),
    notice_kind="down_payment",
    buyer_name="张三",
    contract_status="signed",
    contract_price=Decimal("1000000.00"),
    paid_so_far=Decimal("50000.00"),
    bank_reference_seen=False,
)

EXPECTED_CHECKS = {
    "account_matches_project": {},
    "notice_exists_and_open": {},
    "amount_equals_notice": {},
    "payer_matches_buyer": {"allow_mortgage_lender": bool, "allow_provident_fund_centre": bool},
    "bank_reference_unseen": {},
    "contract_not_cancelled": {},
    "within_contract_price": {},
    "value_date_within_days": {"days": int},
}


def run(name: str, facts: DepositFacts, **params: object) -> Outcome:
    outcome = REGISTRY[name](facts, params)
    assert isinstance(outcome, Outcome)
    assert outcome.message  # always a sentence a teller can read
    return outcome


def test_registry_names_and_parameters_are_stable() -> None:
    # Rule books and stored decisions cite these names; renaming one breaks published versions. New checks
    # may be added.
    assert set(EXPECTED_CHECKS) <= set(REGISTRY)
    assert {name: PARAMS[name] for name in EXPECTED_CHECKS} == EXPECTED_CHECKS


@pytest.mark.parametrize("name", sorted(EXPECTED_CHECKS))
def test_every_check_passes_on_good_facts(name: str) -> None:
    assert run(name, GOOD).passed


# (check, change to the good facts that must make it fail, words the message must contain)
FAILURES = [
    ("account_matches_project", {"notice_account_no": "6222000099998888"}, "6222000099998888"),
    ("notice_exists_and_open", {"notice_given": False}, "no payment notice number"),
    ("notice_exists_and_open", {"notice_status": None}, "no such payment notice"),
    ("notice_exists_and_open", {"notice_status": "paid"}, "paid, not open"),
    ("notice_exists_and_open", {"notice_status": "cancelled"}, "cancelled, not open"),
    (
        "amount_equals_notice",
        {"amount": Decimal("300000.01")},
        "300000.01 differs from the notice's 300000.00",
    ),
    ("amount_equals_notice", {"amount": Decimal("299999.99")}, "differs"),
    ("amount_equals_notice", {"notice_amount": None}, "no notice amount"),
    ("payer_matches_buyer", {"payer_name": "李四"}, "李四 is not the buyer 张三"),
    ("payer_matches_buyer", {"buyer_name": None}, "no contract buyer"),
    ("bank_reference_unseen", {"bank_reference_seen": True}, "already booked"),
    ("contract_not_cancelled", {"contract_status": "cancelled"}, "cancelled"),
    ("contract_not_cancelled", {"contract_status": None}, "no contract"),
    ("within_contract_price", {"paid_so_far": Decimal("700000.01")}, "above the price 1000000.00"),
    ("within_contract_price", {"contract_price": None}, "no contract price"),
    ("value_date_within_days", {"value_date": date(2025, 3, 10)}, "4 days old; at most 3"),
    ("value_date_within_days", {"value_date": date(2025, 3, 15)}, "in the future"),
]


@pytest.mark.parametrize(("name", "change", "words"), FAILURES)
def test_each_check_fails_on_bad_facts(name: str, change: dict, words: str) -> None:
    outcome = run(name, dataclasses.replace(GOOD, **change))
    assert not outcome.passed
    assert words in outcome.message


def test_every_check_has_a_failing_case() -> None:
    assert {name for name, _, _ in FAILURES} == set(EXPECTED_CHECKS)


def test_account_check_passes_without_a_notice_account() -> None:
    assert run("account_matches_project", dataclasses.replace(GOOD, notice_account_no=None)).passed


def test_amount_and_price_boundaries() -> None:
    exactly_full = dataclasses.replace(GOOD, paid_so_far=Decimal("700000.00"))
    assert run("within_contract_price", exactly_full).passed
    assert run("amount_equals_notice", dataclasses.replace(GOOD, amount=Decimal("300000"))).passed


def test_payer_name_comparison_ignores_spaces_and_case() -> None:
    facts = dataclasses.replace(GOOD, payer_name=" Zhang  San ", buyer_name="zhang san")
    assert run("payer_matches_buyer", facts).passed
    assert run("payer_matches_buyer", dataclasses.replace(GOOD, payer_name="张 三")).passed


MORTGAGE = dataclasses.replace(
    GOOD, payer_name="中国建设银行衡水分行", payer_is_lender=True, notice_kind="mortgage"
)


def test_mortgage_lender_may_pay_the_buyers_mortgage_notice() -> None:
    outcome = run("payer_matches_buyer", MORTGAGE, allow_mortgage_lender=True)
    assert outcome.passed
    assert "mortgage lender" in outcome.message
    # The parameter defaults to allowing it.
    assert run("payer_matches_buyer", MORTGAGE).passed


def test_mortgage_lender_exception_can_be_switched_off() -> None:
    outcome = run("payer_matches_buyer", MORTGAGE, allow_mortgage_lender=False)
    assert not outcome.passed
    assert "is not the buyer" in outcome.message


@pytest.mark.parametrize(
    "change",
    [
        {"notice_kind": "down_payment"},  # a lender paying something other than a mortgage notice
        {"payer_is_lender": False},  # a third party paying a mortgage notice
    ],
)
def test_mortgage_lender_exception_is_narrow(change: dict) -> None:
    assert not run(
        "payer_matches_buyer", dataclasses.replace(MORTGAGE, **change), allow_mortgage_lender=True
    ).passed


@pytest.mark.parametrize(
    ("age", "days", "passed"), [(0, 0, True), (1, 0, False), (3, 3, True), (4, 3, False), (7, 7, True)]
)
def test_value_date_window_follows_its_parameter(age: int, days: int, passed: bool) -> None:
    facts = dataclasses.replace(GOOD, value_date=date.fromordinal(TODAY.toordinal() - age))
    assert run("value_date_within_days", facts, days=days).passed is passed


def test_value_date_window_defaults_to_three_days() -> None:
    assert run("value_date_within_days", dataclasses.replace(GOOD, value_date=date(2025, 3, 11))).passed
    assert not run("value_date_within_days", dataclasses.replace(GOOD, value_date=date(2025, 3, 10))).passed


def test_a_name_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        checks.check("amount_equals_notice")(lambda f, p: Outcome(True, "x"))
    assert REGISTRY["amount_equals_notice"] is checks.amount_equals_notice


# --- provident fund and combination loans (CONTRACT.md §9) --------------------------------------------------

CENTRE = "衡水市住房公积金管理中心"


@pytest.mark.parametrize(
    ("name", "centre"),
    [
        (CENTRE, True),
        ("河北省省直住房公积金管理中心", True),
        ("衡水市公积金中心 桃城管理部", True),
        ("中国建设银行衡水分行", False),
        ("张三", False),
        ("公积金", False),
    ],
)
def test_a_provident_fund_centre_is_recognised_by_its_name(name, centre):
    assert checks.is_provident_fund_centre(name) is centre


def _loan(kind: str, **changes) -> DepositFacts:
    return dataclasses.replace(GOOD, notice_kind=kind, payer_name=CENTRE, **changes)


def test_a_provident_fund_centre_pays_a_provident_fund_loan_where_the_rule_book_allows_it():
    facts = _loan("provident_fund_loan", payer_is_fund_centre=True)
    outcome = run("payer_matches_buyer", facts)  # a book that does not state it: allowed
    assert outcome.passed and outcome.code == "fund_centre_pays_loan"
    assert run("payer_matches_buyer", facts, allow_provident_fund_centre=True).passed
    refused = run("payer_matches_buyer", facts, allow_provident_fund_centre=False)
    assert not refused.passed and refused.code == "payer_not_buyer"


@pytest.mark.parametrize(
    ("kind", "centre", "lender", "passed"),
    [
        ("provident_fund_loan", False, False, False),  # the centre's name without the channel
        ("down_payment", True, False, False),  # a centre pays loans, not down payments
        ("mortgage", True, False, False),  # a commercial mortgage is the bank's
        ("mortgage", False, True, True),
        ("combination_loan", True, False, True),
        ("combination_loan", False, True, True),
        ("provident_fund_loan", False, True, False),  # a bank does not pay the centre's loan
    ],
)
def test_who_may_pay_which_loan(kind, centre, lender, passed):
    facts = _loan(kind, payer_is_fund_centre=centre, payer_is_lender=lender)
    assert run("payer_matches_buyer", facts).passed is passed


def test_a_combination_loan_is_paid_in_parts_that_sum_to_its_notice():
    first = _loan("combination_loan", amount=Decimal("200000.00"))
    outcome = run("amount_equals_notice", first)
    assert outcome.passed and outcome.code == "amount_part_of_notice"
    assert outcome.params["total"] == "200000.00"
    assert not checks.notice_settled("combination_loan", Decimal("300000.00"), Decimal("200000.00"))
    second = dataclasses.replace(first, amount=Decimal("100000.00"), notice_paid=Decimal("200000.00"))
    assert run("amount_equals_notice", second).passed
    assert checks.notice_settled("combination_loan", Decimal("300000.00"), Decimal("300000.00"))
    beyond = dataclasses.replace(second, amount=Decimal("100000.01"))
    outcome = run("amount_equals_notice", beyond)
    assert not outcome.passed and outcome.code == "amount_beyond_notice"
    # any other notice is paid by one payment of its amount
    assert not run("amount_equals_notice", dataclasses.replace(first, notice_kind="mortgage")).passed
    assert checks.notice_settled("mortgage", Decimal("300000.00"), Decimal("1.00"))


def test_the_lender_is_named_from_the_stored_outcome():
    paid_by_centre = [{"rule": "payer_matches_buyer", "result": "pass", "code": "fund_centre_pays_loan"}]
    assert checks.lender_of(paid_by_centre, CENTRE) == CENTRE
    by_buyer = [{"rule": "payer_matches_buyer", "result": "pass", "code": "payer_is_buyer"}]
    assert checks.lender_of(by_buyer, "张三") is None
    assert checks.lender_of([], "张三") is None
