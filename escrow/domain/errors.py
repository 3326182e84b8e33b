"""Errors the domain raises. The API turns them into problem+json; the CLI into one readable line.

A field error carries a `code` and its `params` besides its English `message`: the message is built from
them (FIELD_WORDS), so the API's words stay as they were, and every other edge (the web pages in Chinese or
English) chooses its own words from the code, never by reading the English.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# What each field-error code says on the wire (the API's `errors[].message`), from its params.
FIELD_WORDS: dict[str, str] = {
    "required": "required",
    "in_future": "in the future",
    "before_permit_date": "before the permit date",
    "before_order": "before the order",
    "before_start": "before from",
    "positive": "> 0",
    "at_most": "at most {value}",
    "at_most_chars": "at most {count} characters",
    "at_least_chars": "at least {count} characters",
    "missing": "missing {kind}",
    "confirm_first": "confirm {node} first",
    "must_sum_to": "amounts must sum to {amount}",
    "one_of": "one of {choices}",
    "must_be": "must be {value}",
    "not_a_node": "not a node of the project's rule book",
    "not_confirmed": "not yet confirmed",
    "approve_or_reject": "approve or reject",
    "required_when_rejecting": "required when rejecting",
    "above_owed": "above what the contract still owes",
    "no_such_developer": "no such developer",
    "no_such_bank": "no such bank",
    "shell_or_finished": "shell or finished",
    "no_rulebook_in_force": "no {jurisdiction} rule book in force on this date",
    "no_such_contract_on_account": "no such contract on this account",
    "notice_of_other_contract": "belongs to another contract",
    "not_in_rulebook": "not allowed by the project's rule book",
    "not_for_non_key": "not for a non-key release",
    "not_for_full_freeze": "not for a full freeze",
    "above_largest_amount": "at most {limit}, the largest single amount",
    "above_account_total": "would take the account above {limit}, the largest account total",
    "before_opening": "before the account was opened on {opened_on}",
    "not_held_on_date": "the account did not hold {amount} on that date",
    "not_after_start": "not after {start}",
    "in_past": "already past",
    "duplicate": "{value} appears twice",
    "must_sum_to_area": "the buildings' areas must sum to the pre-sale area {area}",
    "no_such_building": "no building {building} in this project",
    "building_required": "name the building: the project is supervised by building",
    "not_by_building": "the project is not supervised by building",
    "building_exists": "building {building} already exists",
    "id_suffix": "the last 6 characters of the buyer's ID number: 6 digits or letters",
    "duplicate_plan_item": "listed twice (the same node, building, role and month)",
    "beyond_plan_reason": "required: the release goes beyond the approved fund plan",
    "in_use": "already in use",
}


@dataclass
class FieldError:
    field: str
    message: str
    code: str | None = None  # None: a message of its own (e.g. a parser's), said as it is
    params: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def coded(cls, field: str, code: str, **params: object) -> FieldError:
        """The error `code` with its params (kept as text, as they travel); its English from FIELD_WORDS."""
        values = {name: str(value) for name, value in params.items()}
        return cls(field, FIELD_WORDS[code].format(**values), code, values)

    @classmethod
    def at_most(cls, field: str, value: object) -> FieldError:
        return cls.coded(field, "at_most", value=value)

    @classmethod
    def at_most_chars(cls, field: str, count: int) -> FieldError:
        return cls.coded(field, "at_most_chars", count=count)

    @classmethod
    def missing(cls, field: str, kind: str) -> FieldError:
        return cls.coded(field, "missing", kind=kind)

    @classmethod
    def confirm_first(cls, field: str, node: str) -> FieldError:
        return cls.coded(field, "confirm_first", node=node)

    @classmethod
    def must_sum_to(cls, field: str, amount: object) -> FieldError:
        return cls.coded(field, "must_sum_to", amount=amount)

    @classmethod
    def one_of(cls, field: str, choices: Iterable[str], *, separator: str | None = None) -> FieldError:
        """ "one of a, b"; with a `separator` the choices alone ("a | b"), as some endpoints have said."""
        listed = list(choices)
        error = cls.coded(field, "one_of", choices=", ".join(listed))
        if separator is not None:
            error.message = separator.join(listed)
        return error

    @classmethod
    def failed_check(cls, field: str, result: Mapping[str, Any]) -> FieldError:
        """A failed deposit check (a result of escrow.domain.checks) said next to `field`: its sentence, and
        its rule, outcome code and params under the code `check_failed` (a result stored before outcomes had
        codes keeps its sentence only)."""
        if not result.get("code"):
            return cls(field, result["message"])
        params = {**result.get("params", {}), "rule": result["rule"], "check": result["code"]}
        return cls(field, result["message"], "check_failed", params)


class DomainError(Exception):
    """A request the business rules refuse. `kind` becomes the problem type's last path segment."""

    status = 422
    kind = "rule-violation"
    title = "The request breaks a rule"

    def __init__(self, detail: str, *, rule: str | None = None, errors: list[FieldError] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.errors = errors or []


class InvalidInput(DomainError):
    status = 422
    kind = "validation-error"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    kind = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    kind = "conflict"
    title = "Conflict"


class NotAuthenticated(DomainError):
    """The credentials presented are not (or no longer) valid."""

    status = 401
    kind = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    kind = "forbidden"
    title = "Forbidden"


@dataclass
class Problem:
    """A plain description of a refusal, for places that report rather than raise."""

    detail: str
    errors: list[FieldError] = dataclasses.field(default_factory=list)
