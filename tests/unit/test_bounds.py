"""The bounds of escrow.domain.money and the date rules of escrow.domain.dates, as properties."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain import dates, ledger, money
from escrow.domain.errors import InvalidInput
from escrow.domain.money import (
    AMOUNT_PATTERN,
    INT64_MAX,
    LARGEST_ACCOUNT_TOTAL_FEN,
    LARGEST_AMOUNT,
    LARGEST_AMOUNT_FEN,
    WIRE_PATTERN,
    from_fen,
    to_wire,
)

CITY_ACCOUNTS = 20_000  # the size the bounds are sized for (README, API conventions)
within = st.integers(min_value=1, max_value=LARGEST_AMOUNT_FEN)
above = st.integers(min_value=LARGEST_AMOUNT_FEN + 1, max_value=10**18 - 1)


def test_the_bounds_are_far_above_a_project_and_far_below_64_bits():
    assert Decimal("10000000000.00") == LARGEST_AMOUNT and LARGEST_AMOUNT_FEN == 10**12
    assert from_fen(LARGEST_ACCOUNT_TOTAL_FEN) == Decimal("1000000000000.00")
    assert CITY_ACCOUNTS * LARGEST_ACCOUNT_TOTAL_FEN <= 2 * 10**18 < INT64_MAX


@given(st.lists(st.integers(min_value=0, max_value=LARGEST_ACCOUNT_TOTAL_FEN), min_size=1, max_size=50))
def test_city_sums_of_accounts_within_their_total_never_overflow(totals):
    # any 20,000 accounts: the worst is every one at its limit, so scaling the sample up bounds the city
    worst = max(totals) * CITY_ACCOUNTS
    assert worst < INT64_MAX and sum(totals) < INT64_MAX
    assert re.match(WIRE_PATTERN, to_wire(from_fen(worst)))  # the API can write it


@given(st.lists(within, min_size=1, max_size=200))
def test_deposits_within_the_bounds_fill_an_account_up_to_its_total_and_no_further(amounts):
    balance = received = 0
    for fen in amounts:
        assert money.check_amount(from_fen(fen)) == from_fen(fen)
        refused = money.above_account_total(balance_fen=balance, received_fen=received, adding_fen=fen)
        if refused:
            with pytest.raises(InvalidInput) as caught:
                money.check_account_total(
                    "amount", balance_fen=balance, received_fen=received, adding_fen=fen
                )
            assert caught.value.errors[0].code == "above_account_total"
            continue
        balance += fen
        received += fen
        assert balance <= LARGEST_ACCOUNT_TOTAL_FEN and balance < INT64_MAX
        assert (
            ledger.deposit(fen, suspense=False, booked_on=date(2026, 1, 1), reference="d").cash_effect_fen
            == fen
        )


@given(above)
def test_amounts_above_the_single_limit_are_refused_naming_it(fen):
    amount = from_fen(fen)
    with pytest.raises(InvalidInput) as caught:
        money.check_amount(amount)
    error = caught.value.errors[0]
    assert caught.value.rule == "largest_amount"
    assert (error.code, error.params) == ("above_largest_amount", {"limit": str(LARGEST_AMOUNT)})
    assert not re.match(AMOUNT_PATTERN, to_wire(amount))
    assert money.statement_amount_problem(amount) is not None


@given(within)
def test_the_documented_pattern_is_the_rule(fen):
    assert re.match(AMOUNT_PATTERN, to_wire(from_fen(fen)))
    assert money.statement_amount_problem(from_fen(fen)) is None


def test_interest_is_bounded_by_the_balance_only():
    full = LARGEST_ACCOUNT_TOTAL_FEN
    assert money.above_account_total(balance_fen=0, received_fen=full, adding_fen=1)
    assert not money.above_account_total(balance_fen=0, received_fen=full, adding_fen=1, received=False)
    assert money.above_account_total(balance_fen=full, received_fen=0, adding_fen=1, received=False)


# --- dates -----------------------------------------------------------------------------------------------

OPENED, TODAY = date(2025, 3, 5), date(2026, 11, 22)


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (date(1900, 1, 1), "before_opening"),
        (OPENED - timedelta(days=1), "before_opening"),
        (TODAY + timedelta(days=1), "in_future"),
    ],
)
def test_dates_outside_the_account_life_are_refused(day, code):
    with pytest.raises(InvalidInput) as caught:
        dates.check_within_account_life("value_date", day, OPENED, TODAY)
    assert caught.value.errors[0].code == code and caught.value.rule == "account_life"


def test_the_first_and_the_last_day_are_inside():
    dates.check_within_account_life("value_date", OPENED, OPENED, TODAY)
    dates.check_within_account_life("value_date", TODAY, OPENED, TODAY)


days = st.dates(min_value=OPENED, max_value=TODAY)
flows = st.lists(st.tuples(days, st.integers(min_value=1, max_value=LARGEST_AMOUNT_FEN)), max_size=20)


@given(flows, st.lists(st.tuples(days, st.integers(min_value=1, max_value=LARGEST_AMOUNT_FEN)), max_size=20))
def test_outflows_accepted_by_held_from_never_make_any_day_negative(inflows, outflows):
    """Whatever order money comes and goes in, and whatever dates the bank gives its payments, the cash read
    in date order (the city figures, the monthly report) never shows a negative balance."""
    booked: list[tuple[date, int]] = list(inflows)
    for day, fen in outflows:
        if dates.held_from(day, booked, fen):
            booked.append((day, -fen))
    running = 0
    by_day: dict[date, int] = {}
    for day, net in booked:
        by_day[day] = by_day.get(day, 0) + net
    for day in sorted(by_day):
        running += by_day[day]
        assert running >= 0, (day, running)
