"""Errors the domain raises. The API turns them into problem+json; the CLI into one readable line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str


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


class Forbidden(DomainError):
    status = 403
    kind = "forbidden"
    title = "Forbidden"


@dataclass
class Problem:
    """A plain description of a refusal, for places that report rather than raise."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
