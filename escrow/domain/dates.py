"""Dates that move money lie within the account's life: no earlier than its opening, no later than today.

A deposit's value date, an instruction's execution date, a court freeze's order date and a deduction's
date are refused (422, naming the rule) outside [`SupervisedAccount.opened_on`, today]. The service's own
rule, not the law's: money cannot reach or leave an account that does not exist yet, and a bank reports
what it has done, not what it will do.

An outflow dated in the past must also have been covered on that date: the account's cash read in date
order (what the city figures and the monthly report read) never goes below zero (`held_from`), so no
period's figures show a negative balance because a payment was dated before the money that paid it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from escrow.domain.errors import FieldError, InvalidInput
from escrow.domain.money import from_fen, to_wire


def check_within_account_life(field: str, day: date, opened_on: date, today: date, *, what: str = "") -> None:
    """A 422 when `day` is after today (code `in_future`) or before the account's opening (code
    `before_opening`, rule `account_life`)."""
    what = what or field.replace("_", " ")
    if day > today:
        raise InvalidInput(
            f"the {what} is in the future", rule="account_life", errors=[FieldError.coded(field, "in_future")]
        )
    check_not_before_opening(field, day, opened_on, what=what)


def check_not_before_opening(field: str, day: date, opened_on: date, *, what: str = "") -> None:
    """A 422 (code `before_opening`, rule `account_life`) when `day` is before the account's opening; for
    dates a bank gives on its own clock (a statement line's booking date), which are not judged by today."""
    if day < opened_on:
        what = what or field.replace("_", " ")
        raise InvalidInput(
            f"the {what} {day} is before the account was opened on {opened_on}",
            rule="account_life",
            errors=[FieldError.coded(field, "before_opening", opened_on=opened_on)],
        )


def lowest_cash_from(day: date, cash_by_day: Iterable[tuple[date, int]]) -> int:
    """The lowest cash balance at the end of `day` and of every later day the books move, from the net cash
    movement (fen) of each booking day."""
    by_day = sorted(cash_by_day)
    at_day = sum(net for d, net in by_day if d <= day)
    lowest = running = at_day
    for d, net in by_day:
        if d > day:
            running += net
            lowest = min(lowest, running)
    return lowest


def held_from(day: date, cash_by_day: Iterable[tuple[date, int]], fen: int) -> bool:
    """Whether an outflow of `fen` booked on `day` keeps the cash, read in date order, at or above zero."""
    return lowest_cash_from(day, cash_by_day) >= fen


def check_held_from(field: str, day: date, cash_by_day: Iterable[tuple[date, int]], fen: int) -> None:
    """A 422 (code `not_held_on_date`, rule `balance_on_date`) when the account did not hold `fen` on `day`
    (or would go below zero on a later day of its books)."""
    if not held_from(day, cash_by_day, fen):
        amount = to_wire(from_fen(fen))
        raise InvalidInput(
            f"the account did not hold {amount} on {day}: its books would show a negative balance",
            rule="balance_on_date",
            errors=[FieldError.coded(field, "not_held_on_date", amount=amount)],
        )
