"""The rule books' deposit checks (escrow.domain.checks) and the deposits they judge, in the user's words:
shared by the suspense page and every page that shows a check's result. What a check concluded is said from
its code and params (escrow.catalog.outcomes), the check by its name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from escrow.catalog.outcomes import check_rule, check_sentence
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
    "provident_fund": N_("Provident fund"),
    "statement": N_("Bank statement"),
}
RESULTS = {"pass": N_("Passed"), "fail": N_("Failed"), "warn": N_("Notice")}
RESULT_BADGES = {"pass": "good", "fail": "bad", "warn": "warn"}


def check_message(_: Callable[..., str], result: Mapping[str, Any]) -> str:
    """What a stored check result concluded, in the user's words, chosen by its code (buyers masked)."""
    return check_sentence(_, result)


def checks_in_words(_: Callable[..., str], results: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "rule": c.get("rule", ""),
            "name": check_rule(_, c.get("rule", "")),
            "result": c.get("result", ""),
            "result_name": named(_, RESULTS, c.get("result")),
            "badge": RESULT_BADGES.get(c.get("result", ""), ""),
            "message": check_message(_, c),
        }
        for c in results
    ]
