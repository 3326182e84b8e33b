"""Named deposit checks. A rule book selects them by name, sets their parameters and severity.

Each check is a pure function of a `DepositFacts` and its parameters, returning pass/fail, a code with its
params, and the English sentence a teller can read, built from them. Names are stable: rule books refer to
them, and stored decisions cite them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    payer_is_fund_centre: bool = False  # payer is a housing provident fund centre (is_provident_fund_centre)
    notice_paid: Decimal = Decimal("0.00")  # accepted, unreversed deposits already against the notice


# Payment kinds of a notice (and of a deposit), CONTRACT.md §3 and §9. A provident fund loan
# (住房公积金贷款) is paid by the housing provident fund centre; a combination loan (组合贷款) is paid by two
# lenders, the commercial bank and the provident fund centre, against ONE notice of the loan's whole amount:
# each pays its part and the notice is paid once the parts sum to its amount (`notice_settled`).
NOTICE_KINDS = (
    "earnest",
    "down_payment",
    "mortgage",
    "provident_fund_loan",
    "combination_loan",
    "full",
    "other",
)
LENDER_KINDS = ("mortgage", "combination_loan")  # a commercial lender may pay these
FUND_CENTRE_KINDS = ("provident_fund_loan", "combination_loan")  # a provident fund centre may pay these
PART_PAYMENT_KINDS = ("combination_loan",)  # paid in parts that sum to the notice's amount
# How a provident fund centre is recognised: the bank posts its transfer with channel `provident_fund` and
# the payer's name is a centre's (住房公积金管理中心, or the short forms 公积金管理中心 / 公积金中心, as in
# 衡水市住房公积金管理中心 or 河北省省直住房公积金管理中心). Both are required: a person's transfer labelled
# provident fund, or a centre's name on a counter payment, is not a loan disbursement and stays in suspense
# for a person to look at. This is the project's decision (no text quoted), stated in the README.
FUND_CENTRE_NAMES = ("住房公积金管理中心", "公积金管理中心", "公积金中心")


def is_provident_fund_centre(payer_name: str) -> bool:
    """Whether the payer's name is a housing provident fund centre's (spaces ignored)."""
    name = "".join(payer_name.split())
    return any(marker in name for marker in FUND_CENTRE_NAMES)


def notice_settled(kind: str, notice_amount: Decimal, paid_with_this: Decimal) -> bool:
    """Whether a notice is paid once this payment is booked: a combination loan's notice when its parts
    reach its amount, every other notice by its one payment."""
    return kind not in PART_PAYMENT_KINDS or paid_with_this >= notice_amount


# What each outcome says, by its code: the English the API and the stored results carry, built from the
# outcome's params. The web chooses its own words from the code (escrow.catalog.outcomes).
SENTENCES: dict[str, str] = {
    "no_notice_account": "no notice names an account; the payment stays in the account it reached",
    "notice_account_paid": "the notice names account {account}, the one paid into",
    "notice_account_other": "the notice names account {notice_account}, not {account}",
    "notice_not_given": "no payment notice number was given",
    "notice_unknown": "no such payment notice",
    "notice_not_open": "the payment notice is {status}, not open",
    "notice_open": "the payment notice exists and is open",
    "notice_amount_unknown": "there is no notice amount to compare with",
    "amount_equals_notice": "the amount {amount} equals the notice",
    "amount_differs_from_notice": "the amount {amount} differs from the notice's {notice_amount}",
    "amount_part_of_notice": "the part {amount} brings the notice to {total} of {notice_amount}",
    "amount_beyond_notice": "the part {amount} would bring the notice to {total}, above its {notice_amount}",
    "buyer_unknown": "there is no contract buyer to compare the payer with",
    "payer_is_buyer": "the payer is the buyer on the contract",
    "lender_pays_mortgage": "a mortgage lender pays the buyer's mortgage notice",
    "lender_pays_loan_part": "a commercial lender pays its part of the buyer's combination loan",
    "fund_centre_pays_loan": "a housing provident fund centre pays the buyer's provident fund loan",
    "payer_not_buyer": "the payer {payer} is not the buyer {buyer}",
    "reference_seen": "this bank reference was already booked",
    "reference_new": "the bank reference is new",
    "contract_cancelled": "the contract was cancelled",
    "contract_missing": "no contract is linked to the payment",
    "contract_in_force": "the contract is in force",
    "price_unknown": "no contract price to compare with",
    "within_price": "payments would total {total} of {price}",
    "above_price": "payments would total {total}, above the price {price}",
    "value_date_future": "the value date {value_date} is in the future",
    "value_date_old": "the value date {value_date} is {age} days old; at most {days} allowed",
    "value_date_recent": "the value date {value_date} is within {days} days",
    "statement_only": "credited on the bank statement with no deposit posted",
}


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str
    code: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The outcome as a check result stores it: the English sentence, its code and params."""
        return {"message": self.message, "code": self.code, "params": dict(self.params)}


def said(passed: bool, code: str, **params: object) -> Outcome:
    """An outcome by its code; params are kept as text (amounts as wire strings, dates ISO)."""
    values = {name: str(value) for name, value in params.items()}
    return Outcome(passed, SENTENCES[code].format(**values), code, values)


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
        return said(True, "no_notice_account")
    if f.notice_account_no == f.account_no:
        return said(True, "notice_account_paid", account=f.account_no)
    return said(False, "notice_account_other", notice_account=f.notice_account_no, account=f.account_no)


@check("notice_exists_and_open")
def notice_exists_and_open(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if not f.notice_given:
        return said(False, "notice_not_given")
    if f.notice_status is None:
        return said(False, "notice_unknown")
    if f.notice_status != "open":
        return said(False, "notice_not_open", status=f.notice_status)
    return said(True, "notice_open")


@check("amount_equals_notice")
def amount_equals_notice(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.notice_amount is None:
        return said(False, "notice_amount_unknown")
    if f.notice_kind in PART_PAYMENT_KINDS:  # each lender pays its part; together at most the amount
        total = f.notice_paid + f.amount
        words = {
            "amount": to_wire(f.amount),
            "total": to_wire(total),
            "notice_amount": to_wire(f.notice_amount),
        }
        if total <= f.notice_amount:
            return said(True, "amount_part_of_notice", **words)
        return said(False, "amount_beyond_notice", **words)
    if f.amount == f.notice_amount:
        return said(True, "amount_equals_notice", amount=to_wire(f.amount))
    return said(
        False,
        "amount_differs_from_notice",
        amount=to_wire(f.amount),
        notice_amount=to_wire(f.notice_amount),
    )


# `allow_provident_fund_centre` where a rule book does not state it: allowed. The national opinion of
# 2022 (住房和城乡建设部、中国人民银行、中国银保监会《关于规范商品房预售资金监管的意见》) counts the whole
# price the buyer pays, loans included, as pre-sale funds to be paid into the supervised account; a book
# written before the provident fund kinds existed could not have meant to refuse them (no notice of those
# kinds, and no deposit on channel `provident_fund`, existed before, so no past decision changes). A later
# book states it (hengshui 2026.1: `allow_provident_fund_centre = true`).
ALLOW_FUND_CENTRE_DEFAULT = True


@check("payer_matches_buyer", params={"allow_mortgage_lender": bool, "allow_provident_fund_centre": bool})
def payer_matches_buyer(f: DepositFacts, p: Mapping[str, Any]) -> Outcome:
    if f.buyer_name is None:
        return said(False, "buyer_unknown")
    if _normalise_name(f.payer_name) == _normalise_name(f.buyer_name):
        return said(True, "payer_is_buyer")
    if p.get("allow_mortgage_lender", True) and f.payer_is_lender and f.notice_kind in LENDER_KINDS:
        return said(True, "lender_pays_mortgage" if f.notice_kind == "mortgage" else "lender_pays_loan_part")
    allow_centre = p.get("allow_provident_fund_centre", ALLOW_FUND_CENTRE_DEFAULT)
    if allow_centre and f.payer_is_fund_centre and f.notice_kind in FUND_CENTRE_KINDS:
        return said(True, "fund_centre_pays_loan")
    return said(False, "payer_not_buyer", payer=f.payer_name, buyer=f.buyer_name)


# The outcomes that say a lender (a bank or a provident fund centre) paid: the voucher then names it.
LENDER_OUTCOMES = frozenset({"lender_pays_mortgage", "lender_pays_loan_part", "fund_centre_pays_loan"})


def lender_of(results: list[Mapping[str, Any]], payer_name: str) -> str | None:
    """The lender a deposit's stored check results say paid (the payer), or None when the buyer paid."""
    passed = {r.get("code") for r in results if r.get("result") == "pass"}
    return payer_name if passed & LENDER_OUTCOMES else None


@check("bank_reference_unseen")
def bank_reference_unseen(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.bank_reference_seen:
        return said(False, "reference_seen")
    return said(True, "reference_new")


@check("contract_not_cancelled")
def contract_not_cancelled(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.contract_status == "cancelled":
        return said(False, "contract_cancelled")
    if f.contract_status is None:
        return said(False, "contract_missing")
    return said(True, "contract_in_force")


@check("within_contract_price")
def within_contract_price(f: DepositFacts, _: Mapping[str, Any]) -> Outcome:
    if f.contract_price is None:
        return said(False, "price_unknown")
    total = f.paid_so_far + f.amount
    if total <= f.contract_price:
        return said(True, "within_price", total=to_wire(total), price=to_wire(f.contract_price))
    return said(False, "above_price", total=to_wire(total), price=to_wire(f.contract_price))


@check("value_date_within_days", params={"days": int})
def value_date_within_days(f: DepositFacts, p: Mapping[str, Any]) -> Outcome:
    days = int(p.get("days", 3))
    age = (f.today - f.value_date).days
    if age < 0:
        return said(False, "value_date_future", value_date=f.value_date)
    if age > days:
        return said(False, "value_date_old", value_date=f.value_date, age=age, days=days)
    return said(True, "value_date_recent", value_date=f.value_date, days=days)
