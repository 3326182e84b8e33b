"""Names and small helpers shared by the workflow pages (node confirmation, documents, releases)."""

from __future__ import annotations

from collections.abc import Callable

from escrow.store.repositories import MAX_ID
from escrow.web.pages import N_

# Evidence and document kinds named in the rule books, in words; a kind a later rule book adds shows as its
# code until it gets a name here.
KIND_NAMES = {
    "construction_progress_report": N_("Construction progress report"),
    "supervision_engineer_confirmation": N_("Supervising engineer's confirmation"),
    "topping_out_acceptance": N_("Topping-out acceptance record"),
    "completion_acceptance_report": N_("Completion acceptance report"),
    "completion_filing_certificate": N_("Completion acceptance filing certificate"),
    "first_registration_certificate": N_("First real-estate registration certificate"),
    "wage_arrears_statement": N_("Statement that no wages are owed to workers"),
}


def named(_: Callable[..., str], names: dict[str, str], key: str) -> str:
    """A code in words from one of the tables of message ids, or the code itself when it has no name."""
    return _(names[key]) if key in names else key


def valid_id(value: int) -> bool:
    """Ids in URLs beyond the INTEGER range cannot exist (and PostgreSQL refuses to compare with them)."""
    return 0 < value <= MAX_ID
