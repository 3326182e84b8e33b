"""Refusals from the services, said in the user's language.

Services speak English to the API and the CLI; their field messages are short and fixed ("in the future",
"at most 1200.00", "missing wage_arrears_statement"). Here each known shape maps to a catalog message; a
message of unknown shape falls back to a translated generic one, so no English leaks into a Chinese page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from escrow.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


def _(message: str) -> str:  # marks ids for extraction; `describe` translates them at run time
    return message


FIXED = {
    "required": _("Required."),
    "in the future": _("Cannot be in the future."),
    "before the permit date": _("Cannot be before the pre-sale permit date."),
    "before the order": _("Cannot be before the order date."),
    "before from": _("The end date is before the start date."),
    "> 0": _("Must be more than zero."),
    "not yet confirmed": _("This node is not confirmed yet."),
    "not a node of the project's rule book": _("Not a node of the project's rule book."),
    "required when rejecting": _("Say why when rejecting."),
    "approve or reject": _("Choose approve or reject."),
    "above what the contract still owes": _("More than the contract still owes."),
    "no such developer": _("No such developer."),
    "no such bank": _("No such bank."),
    "shell or finished": _("Choose shell or finished housing."),
    "at least 10 characters": _("At least 10 characters."),
}
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^at most (?P<value>\S+)$"), _("At most %(value)s.")),
    (re.compile(r"^at most (?P<value>\d+) characters$"), _("At most %(value)s characters.")),
    (re.compile(r"^missing (?P<value>\S+)$"), _("Missing: %(value)s.")),
    (re.compile(r"^confirm (?P<value>\S+) first$"), _("Confirm node %(value)s first.")),
    (re.compile(r"^amounts must sum to (?P<value>\S+)$"), _("The payee amounts must add up to %(value)s.")),
    (re.compile(r"^one of (?P<value>.+)$"), _("Choose one of: %(value)s.")),
)
UNKNOWN = _("Not accepted.")


def field_message(message: str, gettext: Callable[..., str]) -> str:
    if message in FIXED:
        return gettext(FIXED[message])
    for pattern, template in PATTERNS:
        found = pattern.match(message)
        if found:
            return gettext(template, value=found["value"])
    return gettext(UNKNOWN)


def headline(exc: DomainError, gettext: Callable[..., str]) -> str:
    if isinstance(exc, NotFound):
        return gettext("Not found")
    if isinstance(exc, Forbidden):
        return gettext("You may not do this")
    if isinstance(exc, Conflict):
        return gettext("This conflicts with the current state of the record")
    if isinstance(exc, InvalidInput) and exc.errors:
        return gettext("Please correct the marked fields")
    return gettext("The request breaks a rule")


def describe(exc: DomainError, gettext: Callable[..., str]) -> tuple[str, dict[str, str]]:
    """(headline, {field: message}). The rule reference, where there is one, follows the headline as it
    is written in the rule book (e.g. `hengshui@2024.1 release.approval_chain`)."""
    title = headline(exc, gettext)
    if exc.rule:
        title = f"{title} ({exc.rule})"
    errors: dict[str, str] = {}
    for error in exc.errors:
        errors.setdefault(error.field, field_message(error.message, gettext))
    return title, errors
