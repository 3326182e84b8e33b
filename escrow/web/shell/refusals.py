"""Refusals from the services, said in the user's language.

Services speak English to the API and the CLI; each field error also carries a code and its params
(escrow.domain.errors.FieldError), and the words here are chosen from the code by the one catalog
(escrow.catalog.outcomes). An error without a code known there says a translated generic refusal, so no
English leaks into a Chinese page.
"""

from __future__ import annotations

from collections.abc import Callable

from escrow.catalog.outcomes import field_message
from escrow.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


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
        errors.setdefault(error.field, field_message(gettext, error))
    return title, errors
