"""Document numbers typed into a form (the portal's and the bureau's): the domain's one rule
(escrow.domain.identifiers), its refusal said in the page's language, chosen by the refusal's code."""

from __future__ import annotations

from collections.abc import Callable

from escrow.domain.identifiers import MAX_LENGTH, identifier_problem
from escrow.web.shell.labels import N_
from escrow.web.shell.pages import Form

IDENTIFIER_WORDS = {
    "empty": N_("Required."),
    "too_long": N_("At most %(value)s characters."),
    "edge_space": N_("Must not start or end with a space."),
    "control_character": N_("Must not contain control characters."),
    "character_not_allowed": N_("The character “%(char)s” cannot be used in a document number."),
    "dot_segment": N_("Must not contain “.” or “..” between slashes."),
}


def identifier(form: Form, name: str, _: Callable[..., str], *, required: bool = True) -> str:
    """The form's value of `name` (trimmed, as every form value is); a translated field error when it is not
    a document number this system takes."""
    value = form.get(name)
    if not value:
        if required:
            form.error(name, _(IDENTIFIER_WORDS["empty"]))
        return value
    problem = identifier_problem(value)
    if problem is not None:
        params = {"value": MAX_LENGTH, "char": problem.params.get("char", "")}
        form.error(name, _(IDENTIFIER_WORDS[problem.code], **params))
    return value
