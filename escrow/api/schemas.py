"""Request bodies, validated before any row is built (SQLModel tables do not validate)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from escrow.domain.errors import FIELD_WORDS
from escrow.domain.identifiers import MAX_LENGTH as IDENTIFIER_MAX
from escrow.domain.identifiers import check_identifier
from escrow.domain.money import LARGEST_AMOUNT, PAYMENT_PATTERN, above_largest_amount, parse_wire

_PAYMENT = re.compile(PAYMENT_PATTERN)


def _money(value: object) -> str:
    """The amount as the documented pattern decides, exactly: a string it does not match (`" 100.00"`,
    `"100.00\n"`) is refused, never trimmed."""
    amount = parse_wire(value)  # raises ValueError (MoneyError) with a readable message
    if above_largest_amount(amount):  # the field error's code and params reach the problem (api.problems)
        code = "above_largest_amount"
        raise PydanticCustomError(code, FIELD_WORDS[code], {"limit": str(LARGEST_AMOUNT)})
    if not (isinstance(value, str) and _PAYMENT.fullmatch(value)):
        raise ValueError('must be a decimal string such as "1234.50", with nothing around it (no space)')
    return str(amount)


MONEY_SCHEMA = {
    "type": "string",
    "pattern": PAYMENT_PATTERN,
    "maxLength": len(str(LARGEST_AMOUNT)),
    "examples": ["1234.50"],
    "description": "CNY as a decimal string with at most two decimals, greater than zero and at most "
    f"{LARGEST_AMOUNT} (the largest single amount)",
}
# WithJsonSchema is pydantic's JSON schema; Litestar's OpenAPI reads the Field's json_schema_extra instead.
Money = Annotated[
    str,
    BeforeValidator(_money),
    WithJsonSchema(MONEY_SCHEMA),
    Field(json_schema_extra={k: v for k, v in MONEY_SCHEMA.items() if k != "type"}),
]
Day = Annotated[
    date, Strict(), WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-11-22"]})
]
# Free text as the schema documents it and the API decides it (one place): no control character (C0 and DEL;
# NUL included, which PostgreSQL cannot store), never trimmed. A line (a name, an account number) neither
# starts nor ends with a space and is not blank; a text (a reason, a purpose) may span lines (tab, line feed
# and carriage return) and has at least one visible character. The patterns mean the same in ECMA-262 (the
# schema's), Rust (pydantic's) and Python regular expressions.
_C = r"\x00-\x1f\x7f"
_C_BUT_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
LINE_PATTERN = rf"^[^{_C}\x20]([^{_C}]*[^{_C}\x20])?$"
LINE_OR_EMPTY_PATTERN = rf"^([^{_C}\x20]([^{_C}]*[^{_C}\x20])?)?$"
TEXT_PATTERN = rf"^[^{_C_BUT_LINES}]*[^\x00-\x20\x7f][^{_C_BUT_LINES}]*$"
TEXT_OR_EMPTY_PATTERN = rf"^[^{_C_BUT_LINES}]*$"


def _codepoint(char: str) -> str:
    return "NUL (U+0000)" if char == "\x00" else f"U+{ord(char):04X}"


def _free_text(*, lines: bool) -> BeforeValidator:
    """The rule of the patterns above, said in words (the pattern stays the schema's and the backstop)."""
    kept = "\t\n\r" if lines else ""

    def check(value: object) -> object:
        if not isinstance(value, str):
            return value
        for char in value:
            if (char < "\x20" or char == "\x7f") and char not in kept:
                raise ValueError(f"must not contain the control character {_codepoint(char)}")
        if not lines and value and (value[0] == " " or value[-1] == " "):
            raise ValueError("must not start or end with a space")
        if value and not value.strip(" \t\n\r"):
            raise ValueError("must not be blank")
        return value

    return BeforeValidator(check)


_LINE, _TEXT = _free_text(lines=False), _free_text(lines=True)


def line(max_length: int, *, min_length: int = 1) -> Any:
    """A line of free text: refused with a control character, an edge space, or blank (min_length 0: empty
    is fine)."""
    pattern = LINE_PATTERN if min_length else LINE_OR_EMPTY_PATTERN
    limits = StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)
    return Annotated[str, _LINE, limits]


def text(max_length: int, *, min_length: int = 1) -> Any:
    """Free text of several lines: refused with a control character other than tab and line ends, or blank
    (min_length 0: empty is fine)."""
    pattern = TEXT_PATTERN if min_length else TEXT_OR_EMPTY_PATTERN
    limits = StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)
    return Annotated[str, _TEXT, limits]


def said(kind: Any, **extra: Any) -> dict[str, Any]:
    """The documented constraints of `kind` (an Annotated str) for the `json_schema_extra` of an optional
    field: Litestar's OpenAPI leaves them out of `X | None` (beside its `oneOf`, a pattern or a length
    applies to the string alone, so the schema says what the API decides)."""
    out: dict[str, Any] = {}
    for meta in getattr(kind, "__metadata__", ()):
        if isinstance(meta, StringConstraints):
            if meta.pattern:
                out["pattern"] = meta.pattern
            if meta.max_length is not None:
                out["maxLength"] = meta.max_length
            if meta.min_length:
                out["minLength"] = meta.min_length
        elif isinstance(meta, FieldInfo) and isinstance(meta.json_schema_extra, dict):
            out.update(meta.json_schema_extra)
    return {**out, **extra}


Text = line(200)
# Patterns as StringConstraints: Litestar's OpenAPI shows these (not a Field's pattern); they validate alike.
# ASCII spelled out: `\w` is Unicode in pydantic's and Python's patterns but ASCII in the schema's (ECMA-262).
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_./\-]+$")]
Area = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


def _identifier(value: object) -> object:
    """Refused before the model trims whitespace: a number with a leading or trailing space is a typo."""
    return check_identifier(value) if isinstance(value, str) else value


# A document number as the office writes it (CONTRACT.md §7; escrow.domain.identifiers): CJK, full-width
# digits and brackets, `/`, `·` and inner spaces are fine; control characters, edge spaces and dot segments
# are refused. In a path it is percent-encoded, `/` as %2F.
Identifier = Annotated[
    str,
    BeforeValidator(_identifier),
    # the schema says what a pattern can say portably (no control character, no edge space); the rest of
    # the rule (escrow.domain.identifiers) is in the description
    StringConstraints(min_length=1, max_length=IDENTIFIER_MAX, pattern=LINE_PATTERN),
    Field(
        json_schema_extra={
            "examples": ["衡房预售字(2026)第001号", "HT/2026/0001"],
            "description": "a document number as the issuing office writes it: 1–64 printable characters "
            "(letters of any script, digits, brackets, / - · and inner spaces); percent-encoded in a path",
        }
    ),
]


Command = TypeVar("Command")


class Body(BaseModel):
    # Nothing is trimmed: the schema's patterns decide (a space around a code or an amount is refused).
    model_config = ConfigDict()

    def to(self, command: type[Command], **converted: Any) -> Command:
        """The use case's command (a dataclass) from this body's fields of the same names; those whose wire
        form differs come `converted` (money arrives as a checked string, the command takes a Decimal)."""
        names = [field.name for field in dataclasses.fields(command)]  # type: ignore[arg-type]
        given = {name: getattr(self, name) for name in names if name not in converted}
        return command(**given, **converted)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """PostgreSQL cannot store the NUL character in text (SQLite can): refused alike on both engines."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain the NUL character (U+0000)")
        return value


BuildingCode = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[^\s/%?#]+$")]


class BuildingIn(Body):
    code: BuildingCode
    name: line(200)
    presale_area_m2: Area


class NewBuildingIn(BuildingIn):
    permit_no: Identifier  # the permit that adds the building's pre-sale area


class ProjectIn(Body):
    developer_credit_code: line(18, min_length=18)
    name: Text
    permit_no: Identifier
    permit_date: Day
    presale_area_m2: Area
    finish: Literal["shell", "finished"]
    supervised_amount: Money | None = Field(
        default=None,
        json_schema_extra=said(Money),
        description="key supervised amount; omitted: computed by the rule book's formula",
    )
    bank_code: Code
    account_no: Annotated[str, StringConstraints(min_length=6, max_length=40, pattern=r"^[0-9A-Za-z\-]+$")]
    account_name: Text
    jurisdiction: Code | None = Field(default=None, json_schema_extra=said(Code))
    opened_on: Day | None = None
    buildings: Annotated[list[BuildingIn], Field(max_length=200)] | None = Field(
        default=None, description="the permit's buildings (楼栋); omitted: the project is one building"
    )
    agreement_no: Identifier | None = Field(
        default=None,
        json_schema_extra=said(Identifier),
        description="the tri-party supervision agreement (三方监管协议); optional: the bank's "
        "confirmation names it",
    )


class AgreementConfirmationIn(Body):
    agreement_no: Identifier
    opened_on: Annotated[Day, Field(description="the day the bank opened the account")]


class SupervisedAmountChangeIn(Body):
    amount: Annotated[Money, Field(description="the new key supervised amount")]
    reason: text(2000)


class EvidenceIn(Body):
    kind: Code
    description: text(500, min_length=0) = ""
    filename: line(255, min_length=0) | None = Field(default=None, json_schema_extra=said(line(255)))
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None, json_schema_extra={"pattern": r"^[0-9a-f]{64}$"}
    )


class NodeConfirmationIn(Body):
    reached_on: Day
    evidence: Annotated[list[EvidenceIn], Field(min_length=1, max_length=50)]


Reference = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
Name = line(200)


class ContractIn(Body):
    permit_no: Identifier
    contract_no: Identifier
    buyer_name: Name
    buyer_id_no: line(20, min_length=6)
    unit: line(64)
    area_m2: Area
    total_price: Money
    signed_on: Day
    building: BuildingCode | None = Field(
        default=None, description="the building (楼栋) of the unit", json_schema_extra=said(BuildingCode)
    )


# Payment kinds (CONTRACT.md §3, §9; escrow.domain.checks.NOTICE_KINDS). A combination loan (组合贷款) is ONE
# notice of the loan's amount that the commercial lender and the provident fund centre each pay a part of.
PaymentKind = Literal[
    "earnest", "down_payment", "mortgage", "provident_fund_loan", "combination_loan", "full", "other"
]


class NoticeIn(Body):
    kind: PaymentKind
    amount: Money
    due_on: Day


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


# A deposit may name no notice: omitted, null, or (as some bank systems send it) an empty string.
NoticeNo = Annotated[Identifier | None, BeforeValidator(_blank_is_none)]
NOTICE_NO_SCHEMA = said(Identifier, pattern=LINE_OR_EMPTY_PATTERN, minLength=0)


class DepositVerifyIn(Body):
    account_no: line(40)
    notice_no: NoticeNo = Field(default=None, json_schema_extra=NOTICE_NO_SCHEMA)
    amount: Money
    payer_name: Name


class DepositIn(Body):
    account_no: line(40)
    bank_reference: Reference
    amount: Money
    payer_name: Name
    payer_account: line(64, min_length=0) = ""
    notice_no: NoticeNo = Field(default=None, json_schema_extra=NOTICE_NO_SCHEMA)
    kind: PaymentKind = "other"
    channel: Literal["counter", "transfer", "pos", "mortgage", "provident_fund"]
    value_date: Day


class ReversalIn(Body):
    reason: text(500)


class ReceiptIn(Body):
    receipt_no: Identifier


# --- releases, refunds, instructions, freezes ---------------------------------------------------------

Sha256 = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{64}$"),
    Field(description="SHA-256 of the file, 64 hex digits"),
]
BankAccountNo = line(64)


class PayeeIn(Body):
    name: Name
    account_no: BankAccountNo
    bank_name: Name
    role: Annotated[
        str,
        StringConstraints(min_length=1, max_length=16, pattern=r"^[a-z_]+$"),
        Field(
            description="construction | equipment | materials (the rule book's payee roles); a non-key"
            " release may also pay `developer` (its own settlement account)"
        ),
    ]
    amount: Money


class ReleaseDocumentIn(Body):
    kind: Code
    filename: line(255)
    sha256: Sha256


class ReleaseIn(Body):
    project_id: Annotated[int, Strict(), Field(gt=0, le=2**31 - 1)]
    kind: Annotated[
        Literal["node", "non_key"],
        Field(
            description="node (the default): key supervised funds at a confirmed node; non_key: money"
            " received beyond the key supervised amount, no node (CONTRACT §8)"
        ),
    ] = "node"
    node_code: Annotated[
        Code | None,
        Field(description="the confirmed node; left out for non_key", json_schema_extra=said(Code)),
    ] = None
    amount: Money
    purpose: text(2000)
    payees: Annotated[list[PayeeIn], Field(min_length=1, max_length=50)]
    documents: Annotated[list[ReleaseDocumentIn], Field(max_length=50)] = Field(default_factory=list)
    beyond_plan_reason: Annotated[
        text(2000, min_length=0) | None,
        Field(
            json_schema_extra=said(text(2000, min_length=0)),
            description="why the release goes beyond the approved fund plan (资金需求计划); required then"
            " (422 naming the rule without it), kept and shown",
        ),
    ] = None


class FundPlanItemIn(Body):
    node_code: Annotated[Code, Field(description="a node of the project's rule book")]
    building: Annotated[
        line(40, min_length=0) | None,
        Field(
            json_schema_extra=said(line(40, min_length=0)),
            description="the building, only where the project is supervised by building; left out otherwise",
        ),
    ] = None
    month: Annotated[
        str,
        StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
        Field(description="the month it expects to draw in, YYYY-MM", examples=["2027-03"]),
    ]
    role: Annotated[
        str,
        StringConstraints(min_length=1, max_length=16, pattern=r"^[a-z_]+$"),
        Field(description="a release payee role of the rule book: construction | equipment | materials"),
    ]
    amount: Money


class FundPlanIn(Body):
    items: Annotated[list[FundPlanItemIn], Field(min_length=1, max_length=500)]
    note: text(2000, min_length=0) = ""


class DecisionIn(Body):
    decision: Literal["approve", "reject"]
    comment: text(2000, min_length=0) = ""


class ExecutionIn(Body):
    bank_reference: Reference
    executed_on: Day


class CancellationIn(Body):
    reason: text(500)


class FreezeIn(Body):
    account_no: line(40)
    authority: Name
    order_no: Identifier
    kind: Annotated[
        Literal["amount", "full"],
        Field(description="amount (the default): holds `amount`; full: holds the whole balance, no amount"),
    ] = "amount"
    amount: Money | None = Field(default=None, json_schema_extra=said(Money))
    ordered_on: Day


class FreezeLiftIn(Body):
    order_no: Identifier | None = Field(
        default=None,
        json_schema_extra=said(Identifier),
        description="the court's lifting order (解除冻结裁定), if any",
    )


class DeductionIn(Body):
    amount: Money
    creditor_role: Literal["construction", "equipment", "materials", "other"]
    bank_reference: Reference
    executed_on: Day


class GuaranteeIn(Body):
    guarantee_no: Annotated[line(64), Field(description="the number the issuing bank wrote on it")]
    issuer: Name
    amount: Money
    valid_from: Day
    valid_until: Annotated[Day, Field(description="the last day it is valid (it counts through this day)")]

    @field_validator("guarantee_no")
    @classmethod
    def _printable(cls, value: str) -> str:
        """As real documents write numbers (CONTRACT §7): no control characters, no `..`."""
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) or ".." in value:
            raise ValueError("printable text without control characters or '..'")
        return value


# --- the end of an account's life (CONTRACT.md §8) ----------------------------------------------------------


class ClosurePayeeIn(Body):
    """Whom the closing payout goes to (解除监管: usually the developer's own settlement account)."""

    name: Name
    account_no: BankAccountNo
    bank_name: Name


class ClosureIn(Body):
    payee: ClosurePayeeIn
    reason: Annotated[text(2000), Field(description="why supervision ends")]


class BankChangeIn(Body):
    bank_code: Code
    account_no: Annotated[
        str,
        StringConstraints(min_length=6, max_length=40, pattern=r"^[0-9A-Za-z\-]+$"),
        Field(description="the project's new supervised account at the new bank"),
    ]
    account_name: Text
    reason: text(2000, min_length=0) = ""
