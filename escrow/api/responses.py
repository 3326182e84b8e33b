"""What every endpoint answers, for the OpenAPI document (CONTRACT.md §2–§3).

The handlers return plain dicts built by the services' view functions (or a `Response` built by
`idempotent()`), so nothing here validates or serialises at run time: these models only describe, field for
field, what the services return today. `tests/http/test_schemathesis.py` checks real answers against them.

- Money is a decimal string with at most two decimals (`Money`); a difference may be negative
  (`SignedMoney`). Areas are decimal strings with two decimals.
- Every error is RFC 9457 `application/problem+json`: one shared `Problem` schema.
- Every POST needs an `Idempotency-Key` header (`IdempotentOperation` documents it; `idempotent()` enforces
  it with a 400 problem), and every endpoint of a bank, a developer or the bureau a bearer API key (`BEARER`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from escrow.api.problems import PROBLEM, TYPE_BASE
from escrow.domain.money import ACCOUNT_TOTAL_PATTERN, AMOUNT_PATTERN, WIRE_PATTERN

JSON = "application/json"
PDF = "application/pdf"

Money = Annotated[
    str,
    StringConstraints(pattern=WIRE_PATTERN),
    Field(description="CNY as a decimal string with at most two decimals", examples=["1234.50"]),
]
SignedMoney = Annotated[
    str,
    StringConstraints(pattern="^-?" + WIRE_PATTERN.removeprefix("^")),
    Field(
        description="CNY as a decimal string with at most two decimals; negative when short",
        examples=["-12.50"],
    ),
]
Area = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]*)\.[0-9]{2}$"),
    Field(description="square metres as a decimal string with two decimals", examples=["12000.50"]),
]
Timestamp = Annotated[datetime, Field(description="ISO 8601 timestamp with a zone")]
RuleBookId = Annotated[
    str, Field(description="the rule book in force, id@version", examples=["hengshui@2024.1"])
]


class Out(BaseModel):
    """A response body. Documentation only: the services build the dicts."""

    model_config = ConfigDict(extra="allow")


# --- problems ----------------------------------------------------------------------------------------------


class ProblemFieldError(Out):
    field: Annotated[
        str, Field(description="the field, query parameter or header at fault", examples=["amount"])
    ]
    message: str


class Problem(Out):
    """RFC 9457 problem details. Refusals by a rule name it in `rule` and may carry the facts they were judged
    on (e.g. `cap`, `available`, `deductible`) as further members."""

    type: Annotated[str, Field(description=f"{TYPE_BASE}<kind>, e.g. {TYPE_BASE}validation-error")]
    title: str
    status: Annotated[int, Field(description="the HTTP status code")]
    detail: str
    errors: Annotated[
        list[ProblemFieldError], Field(description="one entry per invalid field (validation failures)")
    ] = Field(default=None)
    rule: Annotated[str, Field(description="the rule that refused the request", examples=["release_cap"])] = (
        Field(default=None)
    )


_PROBLEM_DESCRIPTIONS = {
    400: "Missing or invalid Idempotency-Key header, a body that is not JSON, or an invalid query parameter",
    401: "No API key, or not a valid one (Authorization: Bearer <key>)",
    403: "The key's principal may not use this endpoint (wrong kind of key, or a bureau role not allowed)",
    404: "No such resource, or one that belongs to another principal",
    409: "The request conflicts with the current state (already done, a number already in use, a concurrent "
    "request); a retry may succeed only where the detail says so",
    413: "The request body is too large",
    415: "The body's content type is not one this endpoint reads",
    422: "The body is invalid (`errors` names the fields), a business rule refuses it (`rule` names it), or "
    "the Idempotency-Key was used before with a different body (type ending in idempotency-key-reused)",
    429: "Too many requests from this client; retry after the Retry-After seconds",
    503: "The database is busy or unavailable; retry after the Retry-After seconds",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem+json error responses of an endpoint (and 503: any endpoint can meet a busy database)."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_PROBLEM_DESCRIPTIONS[status],
            media_type=PROBLEM,
            generate_examples=False,
        )
        for status in sorted({*statuses, 503})
    }


def answers(success: dict[int, tuple[Any, str] | ResponseSpec], *errors: int) -> dict[int, ResponseSpec]:
    """`responses=` for a handler: its success bodies (status → (model, description), or a whole spec for a
    body that is not JSON) and its problems."""
    specs = {
        status: body
        if isinstance(body, ResponseSpec)
        else ResponseSpec(data_container=body[0], description=body[1], generate_examples=False)
        for status, body in success.items()
    }
    return {**specs, **problems(*errors)}


# Errors shared by kinds of endpoint. Every POST: 400 (Idempotency-Key, body not JSON), 401, 409 (a concurrent
# request with the same key, a lost race), 413, 415 (a body of a media type it cannot read), 422 (invalid
# body, key reused with another body).
POST_ERRORS = (400, 401, 409, 413, 415, 422)
GET_ERRORS = (401,)


# --- OpenAPI: the Idempotency-Key header and bearer authentication ----------------------------------------

BEARER_SCHEME = "BearerApiKey"
BEARER = [{BEARER_SCHEME: []}]
COMPONENTS = Components(
    security_schemes={
        BEARER_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="An API key (`escrow api-key create`). It acts as one bank, one developer or one "
            "bureau user and sees only what that principal owns; another principal's resource answers 404.",
        )
    }
)
IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=True,
    description="1–64 visible ASCII characters, unique per request. A repeat with the same key and body "
    "returns the first response (marked `Idempotent-Replayed: true`) and changes nothing; the same key with "
    "another body: 422. Keys are kept at least 7 days. Missing or invalid: 400.",
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=64, pattern=r"^[\x21-\x7e]{1,64}$"),
)


@dataclass
class DocumentedOperation(Operation):
    """Only the error responses the handler declares. Litestar adds a 400 of its own (a JSON body with
    `status_code` and `extra`) to every handler with parameters; this API answers every error as problem+json,
    and a path id out of range as 404, so that 400 is never sent. A body that may be null (`JSONBody[X | None]
    = None`) may also be left out: it is not required."""

    def __post_init__(self) -> None:
        self.responses = {
            status: response
            for status, response in sorted((self.responses or {}).items())
            if not (status.startswith("4") and JSON in (getattr(response, "content", None) or {}))
        }
        for response in self.responses.values():
            for media_type, content in (getattr(response, "content", None) or {}).items():
                if media_type == PDF:  # a file, not text: generated clients hand over its bytes
                    content.schema = binary(PDF)
        body = self.request_body
        if isinstance(body, RequestBody) and JSON in (body.content or {}):
            schema = body.content[JSON].schema
            if isinstance(schema, Schema) and any(
                isinstance(s, Schema) and s.type == OpenAPIType.NULL for s in schema.one_of or []
            ):
                # an optional body: its named schema, not an anonymous "that or null"
                body.required = False
                named = [
                    s
                    for s in schema.one_of or []
                    if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)
                ]
                if len(named) == 1:
                    body.content[JSON].schema = named[0]
        for parameter in self.parameters or []:
            if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
                simple_optional(parameter)


def binary(media_type: str) -> Schema:
    """A file in the body: bytes of `media_type` (OpenAPI 3.1 and its 3.0 spelling, `format: binary`)."""
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, content_media_type=media_type)


def simple_optional(parameter: Parameter) -> None:
    """A query filter typed `X | None` is documented as Litestar writes it: `type: [null, string]` with
    null among its enum values, which generators turn into three enum classes. An absent parameter is what
    None means, so the parameter is optional and its schema just X."""
    schema = parameter.schema
    assert isinstance(schema, Schema)
    if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
        rest = [t for t in schema.type if t != OpenAPIType.NULL]
        schema.type = rest[0] if len(rest) == 1 else rest
        if schema.enum:
            schema.enum = [value for value in schema.enum if value is not None]
    elif schema.one_of and any(isinstance(s, Schema) and s.type == OpenAPIType.NULL for s in schema.one_of):
        rest = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
        if len(rest) == 1 and isinstance(rest[0], Schema):
            parameter.schema = rest[0]
            if schema.description and not rest[0].description:
                rest[0].description = schema.description


@dataclass
class IdempotentOperation(DocumentedOperation):
    """A POST: documents the required Idempotency-Key header. Litestar itself does not check the header;
    `escrow.api.deps.idempotent()` answers its 400 problem."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.parameters = [*(self.parameters or []), IDEMPOTENCY_KEY]
        for status, response in self.responses.items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse):
                response.headers = {
                    "Idempotent-Replayed": OpenAPIHeader(
                        description="`true` when this is the stored answer to an earlier request",
                        schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
                    )
                }


def _statement_schemas() -> dict[str, Any]:
    """The statement upload's named schemas: the JSON statement of CONTRACT.md §3 as escrow.feeds.jsonfeed
    reads it (one, or a list of them), and the files of the other formats (CONTRACT.md §3, §4, §9)."""
    signed = {"type": ["string", "null"], "pattern": "^-?" + ACCOUNT_TOTAL_PATTERN.removeprefix("^")}
    line = {
        "type": "object",
        "description": "One line of a JSON statement",
        "required": ["bank_reference", "booked_on", "amount", "direction"],
        "properties": {
            "bank_reference": {"type": "string", "minLength": 1, "maxLength": 64},
            "booked_on": {"type": "string", "format": "date"},
            "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
            "direction": {"type": "string", "enum": ["credit", "debit"]},
            "counterparty_name": {"type": "string"},
            "counterparty_account": {"type": "string"},
            "remittance": {"type": "string"},
            "kind": {
                "type": "string",
                "enum": ["payment", "interest", "fee"],
                "description": "payment (the default); interest (结息) is a credit, a fee (手续费) a debit",
            },
        },
    }
    statement = {
        "type": "object",
        "description": "An end-of-day statement as JSON",
        "required": ["account_no", "lines"],
        "properties": {
            "account_no": {"type": "string", "minLength": 1},
            "statement_date": {
                "type": "string",
                "format": "date",
                "description": "required when there are no lines; else defaults to the last booking day",
            },
            "currency": {"type": "string", "examples": ["CNY"]},
            "opening_balance": signed,
            "closing_balance": signed,
            "statement_id": {"type": "string"},
            "lines": {"type": "array", "items": {"$ref": _ref("StatementJsonLine")}},
        },
    }
    return {
        "StatementJsonLine": line,
        "StatementJson": statement,
        "StatementJsonBody": {
            "description": "One JSON statement, or a list of them (each imported as one would be)",
            "oneOf": [
                {"$ref": _ref("StatementJson")},
                {"type": "array", "minItems": 1, "items": {"$ref": _ref("StatementJson")}},
            ],
        },
        "StatementCamt": {
            "type": "string",
            "contentMediaType": "application/xml",
            "description": "An ISO 20022 camt.053 (statement) or camt.054 (notification) XML document",
        },
        "StatementCamtZip": {
            "type": "string",
            "format": "binary",
            "contentMediaType": "application/zip",
            "description": "A ZIP of camt XML files (at most 500 members, 256 MiB unpacked), all or nothing",
        },
        "StatementMt940": {
            "type": "string",
            "contentMediaType": "text/plain",
            "description": "A SWIFT MT940 statement (it may end with the ETX character)",
        },
        "StatementCsv": {
            "type": "string",
            "contentMediaType": "text/csv",
            "description": "The statement CSV of CONTRACT.md §4 (UTF-8, a BOM accepted, a header row)",
        },
    }


def _ref(name: str) -> str:
    return f"#/components/schemas/{name}"


STATEMENT_SCHEMAS = _statement_schemas()
STATEMENT_MEDIA_TYPES = {
    JSON: "StatementJsonBody",
    "application/xml": "StatementCamt",
    "text/xml": "StatementCamt",
    "application/zip": "StatementCamtZip",
    "text/plain": "StatementMt940",
    "text/csv": "StatementCsv",
}


@dataclass
class StatementOperation(IdempotentOperation):
    """POST /statements reads its raw body: document the formats it accepts, each by its named schema
    (STATEMENT_SCHEMAS, added to the document's components by `named_schemas`)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(
            required=True,
            description="One statement file: camt.053/camt.054 XML, a ZIP of camt XML files, MT940 text, "
            "the statement CSV (CONTRACT.md §4) or JSON. The content type selects the format; one no parser "
            "reads (a PDF, an image) is 415.",
            content={
                media_type: OpenAPIMediaType(schema=Reference(_ref(name)))
                for media_type, name in STATEMENT_MEDIA_TYPES.items()
            },
        )


def named_schemas(app: Any) -> None:
    """Add the schemas no handler's signature declares (STATEMENT_SCHEMAS) to the app's OpenAPI components.
    Litestar fills `components.schemas` from its registry of the handlers' types when it builds the
    document (once, at the first request for it), replacing what the configuration held: its plugin that
    builds the document becomes one that adds these after the build."""
    from litestar._openapi.plugin import OpenAPIPlugin  # Litestar's own; it has no hook after the build

    class WithNamedSchemas(OpenAPIPlugin):
        __slots__ = ()

        def _build_openapi(self) -> Any:
            document = super()._build_openapi()
            document.components.schemas = {**(document.components.schemas or {}), **STATEMENT_SCHEMAS}
            return document

    app.plugins.get(OpenAPIPlugin).__class__ = WithNamedSchemas


# --- city figures -----------------------------------------------------------------------------------------


# `from` is a Python keyword: the model is made with create_model so that the field keeps its wire name.
CityStats = create_model(
    "CityStats",
    __base__=Out,
    __doc__="A period's figures across all supervised accounts.",
    **{
        "from": (date, Field(description="first day of the period")),
        "to": (date, Field(description="last day of the period")),
        "accounts_opened": (int, ...),
        "presale_area_m2": (Area, ...),
        "deposits_total": (
            SignedMoney,
            Field(
                description="deposits net of reversals and of unidentified money returned; may be negative"
            ),
        ),
        "releases_total": (Money, ...),
        "balance_total": (Money, ...),
    },
)
