"""What the developer portal's pages share: labels of codes, field parsing with translated errors, masking.

The portal's pages act as `sessions.principal(request)`: a developer staff member signs in and acts for the
developer, exactly as the developer's API key does, so the pages call the same services the developer API
calls and see only the developer's own records (another developer's are as absent as missing ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from escrow.catalog import statuses
from escrow.catalog.outcomes import field_message
from escrow.domain.money import CENT, above_largest_amount, largest_amount_error
from escrow.rulebooks import RuleBook
from escrow.web.shell import pages, sessions
from escrow.web.shell.identifiers import identifier
from escrow.web.shell.labels import N_

PER_PAGE = 20

NOTICE_KINDS = {
    "earnest": N_("Earnest money"),
    "down_payment": N_("Down payment"),
    "mortgage": N_("Mortgage loan"),
    "provident_fund_loan": N_("Provident fund loan"),
    "combination_loan": N_("Combination loan"),
    "full": N_("Full payment"),
    "other": N_("Other payment"),
}
STATUSES = {
    "signed": N_("Signed"),
    "cancelled": N_("Cancelled"),
    "open": N_("Open"),
    "paid": N_("Paid"),
    "issued": N_("Issued"),
    "confirmed": N_("Confirmed"),
    "receipted": N_("Receipted"),
    "reversed": N_("Reversed"),
    "refunded": N_("Refunded"),
    "pending": N_("Waiting for the bank"),
}
BADGES = {
    "signed": "good",
    "paid": "good",
    "approved": "good",
    "executed": "good",
    "receipted": "good",
    "confirmed": "good",
    "open": "warn",
    "submitted": "warn",
    "pending": "warn",
    "cancelled": "bad",
    "rejected": "bad",
    "reversed": "bad",
}
PAYEE_ROLES = {
    "construction": N_("Construction"),
    "equipment": N_("Equipment"),
    "materials": N_("Materials"),
    "developer": N_("Developer's own settlement account"),  # non-key releases only (the rule book says)
}
# Document kinds a rule book may require; an unknown kind is shown by its code (rule book data).
DOCUMENT_KINDS = {
    "wage_arrears_statement": N_("Statement that no migrant workers' wages are owed"),
    "fund_use_statement": N_("Statement of the use of the funds"),
    "other": N_("Other document"),
}
pages.NOTICES.update(
    {
        "contract_registered": N_("The contract was registered."),
        "notice_issued": N_("The payment notice was issued."),
        "contract_cancelled": N_("The contract was cancelled."),
        "release_submitted": N_("The release application was submitted for review."),
    }
)


def labels(_: Callable[..., str]) -> dict[str, Callable[[str], str]]:
    """Template helpers that turn codes into words of the page's language (unknown codes stay codes)."""

    def pick(table: dict[str, str]) -> Callable[[str], str]:
        return lambda code: _(table[code]) if code in table else (code or "")

    return {
        "notice_kind": pick(NOTICE_KINDS),
        "status_label": pick(STATUSES),
        "release_status": pick(statuses.RELEASE_STATUS),  # the bureau's words too
        "refund_status": pick(statuses.REFUND_STATUS),
        "payee_role": pick(PAYEE_ROLES),
        "document_kind": pick(DOCUMENT_KINDS),
        "badge": lambda code: BADGES.get(code, ""),
    }


def developer_id(request) -> int:
    """The signed-in staff member's developer (the permission table gives portal pages only to them)."""
    found = sessions.principal(request).developer_id
    if found is None:
        from escrow.domain.errors import NotFound

        raise NotFound("not a developer's staff member")
    return found


def url_part(value: str) -> str:
    return quote(value, safe="")


def node_name(book: RuleBook, code: str, lang: str) -> str:
    node = book.node(code)
    if node is None:
        return code
    return node.name_en if lang == "en" else node.name_zh


def mask_id(id_no: str) -> str:
    """110101199003070011 → 1101**********0011: enough to tell buyers apart, not enough to use."""
    if len(id_no) > 8:
        return id_no[:4] + "*" * (len(id_no) - 8) + id_no[-4:]
    return id_no[:1] + "*" * max(1, len(id_no) - 2) + id_no[-1:]


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 7 else 1


# --- fields -----------------------------------------------------------------------------------------------

_MONEY = re.compile(r"^\d{1,16}(\.\d{1,2})?$")
_AREA = re.compile(r"^\d{1,10}(\.\d{1,2})?$")


def text(form: pages.Form, name: str, _: Callable[..., str], *, limit: int, required: bool = True) -> str:
    value = form.get(name)
    if required and not value:
        form.error(name, _("Required."))
    elif len(value) > limit:
        form.error(name, _("At most %(value)s characters.", value=limit))
    return value


# A document number (contract no., permit no.): escrow.web.shell.identifiers, shared with the bureau's forms.
code = identifier


def money(
    form: pages.Form, name: str, _: Callable[..., str], *, value: str | None = None, key: str | None = None
) -> Decimal | None:
    """A positive amount in yuan with at most two decimals ("1,234.50" is taken as 1234.50); None and a
    field error otherwise. `value`/`key` read and report a repeated field (a payee row)."""
    key = key or name
    raw = (form.get(name) if value is None else value).replace(",", "").replace("，", "").strip()
    if not raw:
        form.error(key, _("Required."))
        return None
    if raw.startswith("-"):
        form.error(key, _("Must not be negative."))
        return None
    if re.match(r"^\d+\.\d{3,}$", raw):
        form.error(key, _("At most two decimals (fen)."))
        return None
    if not _MONEY.match(raw):
        form.error(key, _("Enter an amount in yuan, such as 1234.50."))
        return None
    amount = Decimal(raw).quantize(CENT)
    if amount <= 0:
        form.error(key, _("Must be more than zero."))
        return None
    if above_largest_amount(amount):  # the bound of escrow.domain.money, in the page's language
        form.error(key, field_message(_, largest_amount_error(key)))
        return None
    return amount


def area(form: pages.Form, name: str, _: Callable[..., str]) -> Decimal | None:
    raw = form.get(name).replace(",", "")
    if not raw:
        form.error(name, _("Required."))
        return None
    if raw.startswith("-"):
        form.error(name, _("Must not be negative."))
        return None
    if not _AREA.match(raw):
        form.error(name, _("Enter the area in m² with at most two decimals, such as 98.50."))
        return None
    value = Decimal(raw)
    if value <= 0:
        form.error(name, _("Must be more than zero."))
        return None
    return value


def day(form: pages.Form, name: str, _: Callable[..., str]) -> date | None:
    raw = form.get(name)
    if not raw:
        form.error(name, _("Required."))
        return None
    try:
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        form.error(name, _("Enter a date as YYYY-MM-DD."))
        return None
