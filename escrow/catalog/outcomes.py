"""The domain's coded outcomes in words: field errors (escrow.domain.errors.FieldError) and deposit checks
(escrow.domain.checks), by their code and params, never by reading their English. The web pages say them in
the page's language; a code this table does not know falls back to a translated generic message (field
errors) or to the stored sentence (check results stored before outcomes had codes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from escrow.catalog import N_, Gettext
from escrow.domain.errors import FieldError
from escrow.domain.identity import mask_name

# Field-error code → (message id, the param said as its `%(value)s`, if any).
FIELD_MESSAGES: dict[str, tuple[str, str | None]] = {
    "required": (N_("Required."), None),
    "in_future": (N_("Cannot be in the future."), None),
    "before_permit_date": (N_("Cannot be before the pre-sale permit date."), None),
    "before_order": (N_("Cannot be before the order date."), None),
    "before_start": (N_("The end date is before the start date."), None),
    "positive": (N_("Must be more than zero."), None),
    "at_most": (N_("At most %(value)s."), "value"),
    "at_most_chars": (N_("At most %(value)s characters."), "count"),
    "at_least_chars": (N_("At least %(value)s characters."), "count"),
    "missing": (N_("Missing: %(value)s."), "kind"),
    "confirm_first": (N_("Confirm node %(value)s first."), "node"),
    "must_sum_to": (N_("The payee amounts must add up to %(value)s."), "amount"),
    "one_of": (N_("Choose one of: %(value)s."), "choices"),
    "must_be": (N_("Must be: %(value)s."), "value"),
    "not_a_node": (N_("Not a node of the project's rule book."), None),
    "not_confirmed": (N_("This node is not confirmed yet."), None),
    "approve_or_reject": (N_("Choose approve or reject."), None),
    "required_when_rejecting": (N_("Say why when rejecting."), None),
    "above_owed": (N_("More than the contract still owes."), None),
    "no_such_developer": (N_("No such developer."), None),
    "no_such_bank": (N_("No such bank."), None),
    "shell_or_finished": (N_("Choose shell or finished housing."), None),
    "no_rulebook_in_force": (N_("No %(value)s rule book is in force on this date."), "jurisdiction"),
    "no_such_contract_on_account": (N_("No such contract on this project's account."), None),
    "notice_of_other_contract": (N_("This payment notice belongs to another contract."), None),
    "not_in_rulebook": (N_("The project's rule book does not allow this."), None),
    "not_for_non_key": (N_("A non-key release is not tied to a node."), None),
    "not_for_full_freeze": (N_("A full freeze holds the whole balance and takes no amount."), None),
    "above_largest_amount": (N_("At most ¥%(value)s, the largest single amount."), "limit"),
    "above_account_total": (
        N_("This would take the account above ¥%(value)s, the largest account total."),
        "limit",
    ),
    "before_opening": (N_("Cannot be before the account was opened (%(value)s)."), "opened_on"),
    "not_held_on_date": (N_("The account did not hold ¥%(value)s on that date."), "amount"),
    "not_after_start": (N_("Must be after the start date, %(value)s."), "start"),
    "in_past": (N_("Already past."), None),
    "duplicate": (N_("%(value)s appears twice."), "value"),
    "must_sum_to_area": (N_("The buildings' areas must add up to the pre-sale area, %(value)s m²."), "area"),
    "no_such_building": (N_("No building %(value)s in this project."), "building"),
    "building_required": (N_("Name the building: this project is supervised building by building."), None),
    "not_by_building": (N_("This project is not supervised building by building."), None),
    "building_exists": (N_("Building %(value)s already exists."), "building"),
    "id_suffix": (N_("Type the last 6 characters of the ID number: 6 digits or letters."), None),
    "duplicate_plan_item": (N_("Listed twice: the same node, building, role and month."), None),
    "beyond_plan_reason": (N_("Required: the release goes beyond the approved fund plan."), None),
    "in_use": (N_("Already in use."), None),
}
UNKNOWN = N_("Not accepted.")

# Deposit-check outcome code → message id; the placeholders are the outcome's params.
CHECK_MESSAGES: dict[str, str] = {
    "no_notice_account": N_("No notice names an account; the money stays in the account it reached."),
    "notice_account_paid": N_("The notice names account %(account)s, the one paid."),
    "notice_account_other": N_("The notice names account %(notice_account)s, not %(account)s."),
    "notice_not_given": N_("No payment notice number was given."),
    "notice_unknown": N_("There is no such payment notice."),
    "notice_not_open": N_("The payment notice is no longer open (%(status)s)."),
    "notice_open": N_("The payment notice exists and is open."),
    "notice_amount_unknown": N_("There is no notice amount to compare with."),
    "amount_equals_notice": N_("The amount %(amount)s equals the notice."),
    "amount_differs_from_notice": N_("The amount %(amount)s differs from the notice's %(notice_amount)s."),
    "amount_part_of_notice": N_("The part %(amount)s brings the notice to %(total)s of %(notice_amount)s."),
    "amount_beyond_notice": N_(
        "The part %(amount)s would bring the notice to %(total)s, above its %(notice_amount)s."
    ),
    "buyer_unknown": N_("There is no contract buyer to compare the payer with."),
    "payer_is_buyer": N_("The payer is the buyer on the contract."),
    "lender_pays_mortgage": N_("A mortgage lender pays the mortgage notice."),
    "lender_pays_loan_part": N_("A commercial lender pays its part of the combination loan."),
    "fund_centre_pays_loan": N_("A housing provident fund centre pays the provident fund loan."),
    "payer_not_buyer": N_("The payer %(payer)s is not the buyer %(buyer)s."),
    "reference_seen": N_("This bank reference was already booked."),
    "reference_new": N_("The bank reference is new."),
    "contract_cancelled": N_("The contract was cancelled."),
    "contract_missing": N_("No contract is linked to the payment."),
    "contract_in_force": N_("The contract is in force."),
    "price_unknown": N_("There is no contract price to compare with."),
    "within_price": N_("Payments would total %(total)s of %(price)s."),
    "above_price": N_("Payments would total %(total)s, above the price %(price)s."),
    "value_date_future": N_("The value date %(value_date)s is in the future."),
    "value_date_old": N_("The value date %(value_date)s is %(age)s days old; at most %(days)s allowed."),
    "value_date_recent": N_("The value date %(value_date)s is within %(days)s days."),
    "statement_only": N_("Credited on the bank statement with no deposit posted."),
}
# A check with a single outcome says it by its rule alone, even in a result stored without a code.
SINGLE_OUTCOME = {"statement_only": "statement_only"}
NOTICE_STATUS = {"paid": N_("paid"), "cancelled": N_("cancelled"), "open": N_("open")}
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


def field_message(_: Gettext, error: FieldError) -> str:
    """A field error in the user's language, chosen by its code (an uncoded one: a generic refusal)."""
    if error.code == "check_failed":
        return check_failure(_, error.params)
    if error.code not in FIELD_MESSAGES:
        return _(UNKNOWN)
    message, value = FIELD_MESSAGES[error.code]
    return _(message, value=error.params.get(value, "")) if value else _(message)


def check_rule(_: Gettext, rule: str) -> str:
    """A check of the rule books by its name (a check a later rule book adds: its code)."""
    return _(CHECK_NAMES[rule]) if rule in CHECK_NAMES else rule


def check_sentence(_: Gettext, result: Mapping[str, Any]) -> str:
    """What a check concluded (a stored result: rule, result, message, code, params), in the user's
    language; amounts, dates and numbers stay as they are. A buyer's name in it is masked, as everywhere
    buyers are named to the bureau. A result stored without a code is said as it was stored."""
    code = result.get("code") or SINGLE_OUTCOME.get(result.get("rule", ""))
    if code not in CHECK_MESSAGES:
        return result.get("message", "")
    values = dict(result.get("params") or {})
    if "buyer" in values:
        values["buyer"] = mask_name(values["buyer"])
    if "status" in values:
        status = values["status"]
        values["status"] = _(NOTICE_STATUS[status]) if status in NOTICE_STATUS else status
    return _(CHECK_MESSAGES[code], **values) if values else _(CHECK_MESSAGES[code])


def check_failure(_: Gettext, params: Mapping[str, str]) -> str:
    """A failed check said next to a field: the check's name and what it concluded."""
    rule = params.get("rule", "")
    why = check_sentence(_, {"rule": rule, "code": params.get("check"), "params": _own(params)})
    return _("%(check)s: %(why)s", check=check_rule(_, rule), why=why)


def _own(params: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in ("rule", "check")}
