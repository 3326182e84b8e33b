"""Request bodies, validated before any row is built (SQLModel tables do not validate)."""

from __future__ import annotations

import dataclasses
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
from pydantic_core import PydanticCustomError

from escrow.domain.errors import FIELD_WORDS
from escrow.domain.identifiers import MAX_LENGTH as IDENTIFIER_MAX
from escrow.domain.identifiers import check_identifier
from escrow.domain.money import AMOUNT_PATTERN, LARGEST_AMOUNT, above_largest_amount, parse_wire


def _money(value: object) -> str:
    amount = parse_wire(value)  # raises ValueError (MoneyError) with a readable message
    if above_largest_amount(amount):  # the field error's code and params reach the problem (api.problems)
        code = "above_largest_amount"
        raise PydanticCustomError(code, FIELD_WORDS[code], {"limit": str(LARGEST_AMOUNT)})
    return str(amount)


MONEY_SCHEMA = {
    "type": "string",
    "pattern": AMOUNT_PATTERN,
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
Text = Annotated[str, Field(min_length=1, max_length=200)]
# Patterns as StringConstraints: Litestar's OpenAPI shows these (not a Field's pattern); they validate alike.
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w./\-]+$")]
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
    StringConstraints(min_length=1, max_length=IDENTIFIER_MAX),
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
    model_config = ConfigDict(str_strip_whitespace=True)

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
    name: Annotated[str, Field(min_length=1, max_length=200)]
    presale_area_m2: Area


class NewBuildingIn(BuildingIn):
    permit_no: Identifier  # the permit that adds the building's pre-sale area


class ProjectIn(Body):
    developer_credit_code: Annotated[str, Field(min_length=18, max_length=18)]
    name: Text
    permit_no: Identifier
    permit_date: Day
    presale_area_m2: Area
    finish: Literal["shell", "finished"]
    supervised_amount: Money | None = Field(
        default=None, description="key supervised amount; omitted: computed by the rule book's formula"
    )
    bank_code: Code
    account_no: Annotated[str, StringConstraints(min_length=6, max_length=40, pattern=r"^[0-9A-Za-z\-]+$")]
    account_name: Text
    jurisdiction: Code | None = None
    opened_on: Day | None = None
    buildings: Annotated[list[BuildingIn], Field(max_length=200)] | None = Field(
        default=None, description="the permit's buildings (楼栋); omitted: the project is one building"
    )
    agreement_no: Identifier | None = Field(
        default=None,
        description="the tri-party supervision agreement (三方监管协议); optional: the bank's "
        "confirmation names it",
    )


class AgreementConfirmationIn(Body):
    agreement_no: Identifier
    opened_on: Annotated[Day, Field(description="the day the bank opened the account")]


class SupervisedAmountChangeIn(Body):
    amount: Annotated[Money, Field(description="the new key supervised amount")]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class EvidenceIn(Body):
    kind: Code
    description: Annotated[str, Field(max_length=500)] = ""
    filename: Annotated[str, Field(max_length=255)] | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class NodeConfirmationIn(Body):
    reached_on: Day
    evidence: Annotated[list[EvidenceIn], Field(min_length=1, max_length=50)]


Reference = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class ContractIn(Body):
    permit_no: Identifier
    contract_no: Identifier
    buyer_name: Name
    buyer_id_no: Annotated[str, Field(min_length=6, max_length=20)]
    unit: Annotated[str, Field(min_length=1, max_length=64)]
    area_m2: Area
    total_price: Money
    signed_on: Day
    building: BuildingCode | None = Field(default=None, description="the building (楼栋) of the unit")


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


class DepositVerifyIn(Body):
    account_no: Annotated[str, Field(min_length=1, max_length=40)]
    notice_no: NoticeNo = None
    amount: Money
    payer_name: Name


class DepositIn(Body):
    account_no: Annotated[str, Field(min_length=1, max_length=40)]
    bank_reference: Reference
    amount: Money
    payer_name: Name
    payer_account: Annotated[str, Field(max_length=64)] = ""
    notice_no: NoticeNo = None
    kind: PaymentKind = "other"
    channel: Literal["counter", "transfer", "pos", "mortgage", "provident_fund"]
    value_date: Day


class ReversalIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ReceiptIn(Body):
    receipt_no: Identifier


# --- releases, refunds, instructions, freezes ---------------------------------------------------------

Sha256 = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{64}$"),
    Field(description="SHA-256 of the file, 64 hex digits"),
]
BankAccountNo = Annotated[str, Field(min_length=1, max_length=64)]


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
    filename: Annotated[str, Field(min_length=1, max_length=255)]
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
    node_code: Annotated[Code | None, Field(description="the confirmed node; left out for non_key")] = None
    amount: Money
    purpose: Annotated[str, Field(min_length=1, max_length=2000)]
    payees: Annotated[list[PayeeIn], Field(min_length=1, max_length=50)]
    documents: Annotated[list[ReleaseDocumentIn], Field(max_length=50)] = Field(default_factory=list)
    beyond_plan_reason: Annotated[
        str | None,
        Field(
            max_length=2000,
            description="why the release goes beyond the approved fund plan (资金需求计划); required then"
            " (422 naming the rule without it), kept and shown",
        ),
    ] = None


class FundPlanItemIn(Body):
    node_code: Annotated[Code, Field(description="a node of the project's rule book")]
    building: Annotated[
        str | None,
        Field(
            max_length=40,
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
    note: Annotated[str, Field(max_length=2000)] = ""


class DecisionIn(Body):
    decision: Literal["approve", "reject"]
    comment: Annotated[str, Field(max_length=2000)] = ""


class ExecutionIn(Body):
    bank_reference: Reference
    executed_on: Day


class CancellationIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class FreezeIn(Body):
    account_no: Annotated[str, Field(min_length=1, max_length=40)]
    authority: Name
    order_no: Identifier
    kind: Annotated[
        Literal["amount", "full"],
        Field(description="amount (the default): holds `amount`; full: holds the whole balance, no amount"),
    ] = "amount"
    amount: Money | None = None
    ordered_on: Day


class FreezeLiftIn(Body):
    order_no: Identifier | None = Field(
        default=None, description="the court's lifting order (解除冻结裁定), if any"
    )


class DeductionIn(Body):
    amount: Money
    creditor_role: Literal["construction", "equipment", "materials", "other"]
    bank_reference: Reference
    executed_on: Day


class GuaranteeIn(Body):
    guarantee_no: Annotated[
        str, Field(min_length=1, max_length=64, description="the number the issuing bank wrote on it")
    ]
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
    reason: Annotated[str, Field(min_length=1, max_length=2000, description="why supervision ends")]


class BankChangeIn(Body):
    bank_code: Code
    account_no: Annotated[
        str,
        StringConstraints(min_length=6, max_length=40, pattern=r"^[0-9A-Za-z\-]+$"),
        Field(description="the project's new supervised account at the new bank"),
    ]
    account_name: Text
    reason: Annotated[str, Field(default="", max_length=2000)] = ""
