"""The rule books' deposit checks (escrow.domain.checks) and the deposits they judge, in the user's words:
shared by the suspense page and every page that shows a check's result."""

from __future__ import annotations

import re
from collections.abc import Callable

from escrow.domain.identity import mask_name
from escrow.web.shell.labels import N_, named

DEPOSIT_STATUS = {
    "accepted": N_("Accepted"),
    "suspense": N_("In suspense"),
    "assigned": N_("Assigned from suspense"),
    "returning": N_("Being returned to the payer"),
    "returned": N_("Returned to payer"),
    "reversed": N_("Reversed"),
}
DEPOSIT_BADGES = {"suspense": "warn", "returning": "warn", "assigned": "good", "returned": "good"}
CHANNELS = {
    "counter": N_("Counter"),
    "transfer": N_("Transfer"),
    "pos": N_("POS"),
    "mortgage": N_("Mortgage"),
    "statement": N_("Bank statement"),
}
RESULTS = {"pass": N_("Passed"), "fail": N_("Failed"), "warn": N_("Warning")}
RESULT_BADGES = {"pass": "good", "fail": "bad", "warn": "warn"}

# The deposit checks of the rule books (escrow.domain.checks), and what they say, in words. A check a later
# rule book adds shows under its code, with its message as the service wrote it.
CHECK_NAMES = {
    "account_matches_project": N_("Paid into the account the notice names"),
    "notice_exists_and_open": N_("Payment notice exists and is open"),
    "amount_equals_notice": N_("Amount equals the notice"),
    "payer_matches_buyer": N_("Payer is the buyer"),
    "bank_reference_unseen": N_("Bank reference not booked before"),
    "contract_not_cancelled": N_("Contract in force"),
    "within_contract_price": N_("Within the contract price"),
    "value_date_within_days": N_("Value date recent enough"),
    "statement_only": N_("Posted by the bank"),
}
_V = r"(?P<{}>.+?)"
CHECK_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile("^" + pattern.format(**{k: _V.format(k) for k in ("a", "b", "c")}) + "$"), text)
    for pattern, text in (
        (
            "no notice names an account; the payment stays in the account it reached",
            N_("No notice names an account; the money stays in the account it reached."),
        ),
        (
            "the notice names account {a}, the one paid into",
            N_("The notice names account %(a)s, the one paid."),
        ),
        ("the notice names account {a}, not {b}", N_("The notice names account %(a)s, not %(b)s.")),
        ("no payment notice number was given", N_("No payment notice number was given.")),
        ("no such payment notice", N_("There is no such payment notice.")),
        ("the payment notice is {a}, not open", N_("The payment notice is no longer open (%(a)s).")),
        ("the payment notice exists and is open", N_("The payment notice exists and is open.")),
        ("there is no notice amount to compare with", N_("There is no notice amount to compare with.")),
        ("the amount {a} equals the notice", N_("The amount %(a)s equals the notice.")),
        (
            "the amount {a} differs from the notice's {b}",
            N_("The amount %(a)s differs from the notice's %(b)s."),
        ),
        (
            "there is no contract buyer to compare the payer with",
            N_("There is no contract buyer to compare the payer with."),
        ),
        ("the payer is the buyer on the contract", N_("The payer is the buyer on the contract.")),
        (
            "a mortgage lender pays the buyer's mortgage notice",
            N_("A mortgage lender pays the mortgage notice."),
        ),
        ("the payer {a} is not the buyer {b}", N_("The payer %(a)s is not the buyer %(b)s.")),
        ("this bank reference was already booked", N_("This bank reference was already booked.")),
        ("the bank reference is new", N_("The bank reference is new.")),
        ("the contract was cancelled", N_("The contract was cancelled.")),
        ("no contract is linked to the payment", N_("No contract is linked to the payment.")),
        ("the contract is in force", N_("The contract is in force.")),
        ("no contract price to compare with", N_("There is no contract price to compare with.")),
        (
            "payments would total {a}, above the price {b}",
            N_("Payments would total %(a)s, above the price %(b)s."),
        ),
        ("payments would total {a} of {b}", N_("Payments would total %(a)s of %(b)s.")),
        ("the value date {a} is in the future", N_("The value date %(a)s is in the future.")),
        (
            "the value date {a} is {b} days old; at most {c} allowed",
            N_("The value date %(a)s is %(b)s days old; at most %(c)s allowed."),
        ),
        ("the value date {a} is within {b} days", N_("The value date %(a)s is within %(b)s days.")),
        (
            "credited on the bank statement with no deposit posted",
            N_("Credited on the bank statement with no deposit posted."),
        ),
    )
)
NOTICE_STATUS = {"paid": N_("paid"), "cancelled": N_("cancelled"), "open": N_("open")}


def check_rule(_: Callable[..., str], rule: str) -> str:
    return _(CHECK_NAMES[rule]) if rule in CHECK_NAMES else rule


def check_message(_: Callable[..., str], message: str) -> str:
    """A check's sentence in the user's language; amounts, dates and numbers stay as they are. A buyer's
    name in it is masked, as everywhere buyers are named to the bureau."""
    for pattern, text in CHECK_MESSAGES:
        found = pattern.match(message)
        if not found:
            continue
        values = found.groupdict()
        if text.endswith("is not the buyer %(b)s."):
            values["b"] = mask_name(values["b"])
        if text.startswith("The payment notice is no longer open"):
            values["a"] = named(_, NOTICE_STATUS, values["a"])
        return _(text, **values)
    return message


def checks_in_words(_: Callable[..., str], results: list[dict[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "rule": c.get("rule", ""),
            "name": check_rule(_, c.get("rule", "")),
            "result": c.get("result", ""),
            "result_name": named(_, RESULTS, c.get("result")),
            "badge": RESULT_BADGES.get(c.get("result", ""), ""),
            "message": check_message(_, c.get("message", "")),
        }
        for c in results
    ]
