"""Named deposit checks. A rule book selects them by name, sets their parameters and severity.

Each check is a pure function of a `DepositFacts` and its parameters, returning pass/fail and a sentence a
teller can read. Names are stable: rule books refer to them, and stored decisions cite them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from escrow.domain.money import to_wire


@dataclass(frozen=True)
class DepositFacts:
    """What is known about a payment when it is verified or posted."""

    account_no: str
    amount: Decimal
    payer_name: str
    value_date: date
    today: date
    notice_given: bool
    notice_account_no: str | None = None  # the account the notice tells the buyer to pay into
    notice_status: str | None = None  # "open", "paid", "cancelled"; None if no such notice
    notice_amount: Decimal | None = None
    notice_kind: str | None = None
    buyer_name: str | None = None
    contract_status: str | None = None  # "signed", "cancelled"
    contract_price: Decimal | None = None
    paid_so_far: Decimal = Decimal("0.00")  # accepted, unreversed deposits on the contract
    bank_reference_seen: bool = False
    payer_is_lender: bool = False  # payer is a bank, paying a mortgage notice


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str


CheckFn = Callable[[DepositFacts, Mapping[str, Any]], Outcome]
REGISTRY: dict[str, CheckFn] = {}
PARAMS: dict[str, dict[str, type]] = {}  # check name → parameter name → its TOML type


def check(name: str, *, params: dict[str, type] | None = None) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        if name in REGISTRY:
            raise ValueError(f"check {name} registered twice")
        REGISTRY[name] = fn
        PARAMS[name] = dict(params or {})
        return fn

    return register


def _normalise_name(name: str) -> str:
    return "".join(name.split()).casefold()


@check("account_matches_project")
def account_matches_project(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.notice_account_no is None:
        return Outcome(True, "no notice names an account; the payment stays in the account it reached")
    if f.notice_account_no == f.account_no:
        return Outcome(True, f"the notice names account {f.account_no}, the one paid into")
    return Outcome(False, f"the notice names account {f.notice_account_no}, not {f.account_no}")


@check("notice_exists_and_open")
def notice_exists_and_open(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if not f.notice_given:
        return Outcome(False, "no payment notice number was given")
    if f.notice_status is None:
        return Outcome(False, "no such payment notice")
    if f.notice_status != "open":
        return Outcome(False, f"the payment notice is {f.notice_status}, not open")
    return Outcome(True, "the payment notice exists and is open")


@check("amount_equals_notice")
def amount_equals_notice(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.notice_amount is None:
        return Outcome(False, "there is no notice amount to compare with")
    if f.amount == f.notice_amount:
        return Outcome(True, f"the amount {to_wire(f.amount)} equals the notice")
    return Outcome(
        False, f"the amount {to_wire(f.amount)} differs from the notice's {to_wire(f.notice_amount)}"
    )


@check("payer_matches_buyer", params={"allow_mortgage_lender": bool})
def payer_matches_buyer(f: DepositFacts, p: Mapping[str, Any]) -> Outcome:
    if f.buyer_name is None:
        return Outcome(False, "there is no contract buyer to compare the payer with")
    if _normalise_name(f.payer_name) == _normalise_name(f.buyer_name):
        return Outcome(True, "the payer is the buyer on the contract")
    if p.get("allow_mortgage_lender", True) and f.payer_is_lender and f.notice_kind == "mortgage":
        return Outcome(True, "a mortgage lender pays the buyer's mortgage notice")
    return Outcome(False, f"the payer {f.payer_name} is not the buyer {f.buyer_name}")


@check("bank_reference_unseen")
def bank_reference_unseen(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.bank_reference_seen:
        return Outcome(False, "this bank reference was already booked")
    return Outcome(True, "the bank reference is new")


@check("contract_not_cancelled")
def contract_not_cancelled(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.contract_status == "cancelled":
        return Outcome(False, "the contract was cancelled")
    if f.contract_status is None:
        return Outcome(False, "no contract is linked to the payment")
    return Outcome(True, "the contract is in force")


@check("within_contract_price")
def within_contract_price(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.contract_price is None:
        return Outcome(False, "no contract price to compare with")
    total = f.paid_so_far + f.amount
    if total <= f.contract_price:
        return Outcome(True, f"payments would total {to_wire(total)} of {to_wire(f.contract_price)}")
    return Outcome(
        False, f"payments would total {to_wire(total)}, above the price {to_wire(f.contract_price)}"
    )


@check("value_date_within_days", params={"days": int})
def value_date_within_days(f: DepositFacts, p: Mapping[str, Any]) -> Outcome:
    days = int(p.get("days", 3))
    age = (f.today - f.value_date).days
    if age < 0:
        return Outcome(False, f"the value date {f.value_date} is in the future")
    if age > days:
        return Outcome(False, f"the value date {f.value_date} is {age} days old; at most {days} allowed")
    return Outcome(True, f"the value date {f.value_date} is within {days} days")
