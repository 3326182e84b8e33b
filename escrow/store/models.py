"""SQLModel tables. Money is an integer count of fen (`*_fen`); areas are hundredths of m² (`*_x100`).
These classes are rows, not validators: request bodies are validated by the API's schema types and rows are
built from validated data (DESIGN.md §5).

Every money table carries `account_id`, so that a large deployment can shard by supervised account.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


def _fen(**kw: Any) -> Any:
    return Field(sa_type=BigInteger, **kw)


class Bank(SQLModel, table=True):
    __tablename__ = "banks"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = _ts()


class Developer(SQLModel, table=True):
    __tablename__ = "developers"
    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    credit_grade: str = Field(default="B", max_length=2)
    created_at: datetime = _ts()


class RulebookRecord(SQLModel, table=True):
    """The hash of a rule book version, recorded the first time a project is pinned to it."""

    __tablename__ = "rulebook_records"
    __table_args__ = (UniqueConstraint("rulebook_id"),)
    id: int | None = Field(default=None, primary_key=True)
    rulebook_id: str = Field(max_length=80)
    sha256: str = Field(max_length=64)
    first_used_at: datetime = _ts()


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    id: int | None = Field(default=None, primary_key=True)
    developer_id: int = Field(foreign_key="developers.id", index=True)
    name: str = Field(max_length=200)
    permit_no: str = Field(max_length=64, unique=True)
    permit_date: date
    presale_area_x100: int = Field(sa_type=BigInteger)  # hundredths of m²
    finish: str = Field(max_length=16)  # shell | finished
    jurisdiction: str = Field(max_length=40)
    rulebook_id: str = Field(max_length=80)  # pinned at opening: jurisdiction@version
    supervised_amount_fen: int = _fen()
    created_at: datetime = _ts()


class SupervisedAccount(SQLModel, table=True):
    """A project's account at its supervising bank. A change of bank (0013) closes the account and opens
    another for the same project (`replaced_by_id`); the project's current account is the one not replaced
    (`escrow.store.repos.projects.current_account`)."""

    __tablename__ = "supervised_accounts"
    __table_args__ = (
        UniqueConstraint("account_no"),
        # at most one open account per project (0013): a change of bank closes the old one first
        Index(
            "uq_supervised_accounts_open_project",
            "project_id",
            unique=True,
            sqlite_where=text("closed_on IS NULL"),
            postgresql_where=text("closed_on IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    bank_id: int = Field(foreign_key="banks.id", index=True)
    account_no: str = Field(max_length=40)
    account_name: str = Field(max_length=200)
    currency: str = Field(default="CNY", max_length=3)
    status: str = Field(default="active", max_length=16)  # active | frozen | closed
    opened_on: date
    created_at: datetime = _ts()
    # added in 0011: the tri-party supervision agreement (三方监管协议), named at opening or by the bank's
    # confirmation; the bank's confirmation (the day it opened the account, and the day it confirmed)
    agreement_no: str | None = Field(default=None, max_length=64)
    bank_opened_on: date | None = None
    confirmed_on: date | None = None

    closed_on: date | None = None  # supervision ended here: closure or a change of bank (0013)
    replaced_by_id: int | None = Field(default=None, foreign_key="supervised_accounts.id")  # (0013)


class Building(SQLModel, table=True):
    """A building (楼栋) of a project's permit, with its pre-sale area (0010)."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_buildings_project_code"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    presale_area_x100: int = Field(sa_type=BigInteger)  # hundredths of m²
    permit_no: str | None = Field(default=None, max_length=64)  # the permit that added it (None: at opening)
    created_at: datetime = _ts()


class NodeConfirmation(SQLModel, table=True):
    __tablename__ = "node_confirmations"
    # once per project (no building) or once per building (0010)
    __table_args__ = (
        Index(
            "uq_node_confirmations_project_node",
            "project_id",
            "node_code",
            unique=True,
            sqlite_where=text("building_id IS NULL"),
            postgresql_where=text("building_id IS NULL"),
        ),
        Index(
            "uq_node_confirmations_building_node",
            "building_id",
            "node_code",
            unique=True,
            sqlite_where=text("building_id IS NOT NULL"),
            postgresql_where=text("building_id IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    building_id: int | None = Field(default=None, foreign_key="buildings.id")  # None: the whole project
    node_code: str = Field(max_length=40)
    reached_on: date
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    confirmed_by: int | None = Field(default=None, foreign_key="users.id")
    confirmed_on: date | None = None  # the bureau's day of confirmation (migration 0026)
    rulebook_id: str = Field(max_length=80)
    created_at: datetime = _ts()


class Contract(SQLModel, table=True):
    __tablename__ = "contracts"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    building_id: int | None = Field(default=None, foreign_key="buildings.id")  # 0010
    contract_no: str = Field(max_length=64, unique=True)
    buyer_name: str = Field(max_length=200)
    buyer_id_no: str = Field(max_length=40)
    unit: str = Field(max_length=64)
    area_x100: int = Field(sa_type=BigInteger)
    total_price_fen: int = _fen()
    signed_on: date
    status: str = Field(default="signed", max_length=16)  # signed | cancelled
    created_at: datetime = _ts()


def _only(condition: str) -> dict[str, object]:
    """A partial index's condition on both engines: the alert sweep's few rows among millions."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class PaymentNotice(SQLModel, table=True):
    __tablename__ = "payment_notices"
    __table_args__ = (Index("ix_payment_notices_open_due", "due_on", **_only("status = 'open'")),)
    id: int | None = Field(default=None, primary_key=True)
    notice_no: str = Field(max_length=40, unique=True)
    contract_id: int = Field(foreign_key="contracts.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    kind: str = Field(max_length=24)  # sales.NOTICE_KINDS (provident_fund_loan is the longest)
    amount_fen: int = _fen()
    due_on: date
    status: str = Field(default="open", max_length=16)  # open | paid | cancelled
    created_at: datetime = _ts()


class Deposit(SQLModel, table=True):
    __tablename__ = "deposits"
    __table_args__ = (
        UniqueConstraint("bank_id", "bank_reference"),
        Index("ix_deposits_account_date", "account_id", "value_date"),
        Index("ix_deposits_in_suspense", "id", **_only("status = 'suspense'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    bank_id: int = Field(foreign_key="banks.id")
    bank_reference: str = Field(max_length=64)
    amount_fen: int = _fen()
    payer_name: str = Field(max_length=200)
    payer_account: str = Field(default="", max_length=64)
    notice_id: int | None = Field(default=None, foreign_key="payment_notices.id", index=True)
    contract_id: int | None = Field(default=None, foreign_key="contracts.id", index=True)
    kind: str = Field(default="other", max_length=24)  # as a notice's kind
    channel: str = Field(default="transfer", max_length=16)  # deposits.CHANNELS | statement
    value_date: date
    status: str = Field(max_length=16)  # accepted | suspense | assigned | returned | reversed
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    rulebook_id: str = Field(max_length=80)
    created_at: datetime = _ts()


class Voucher(SQLModel, table=True):
    __tablename__ = "vouchers"
    id: int | None = Field(default=None, primary_key=True)
    voucher_no: str = Field(max_length=40, unique=True)
    deposit_id: int = Field(foreign_key="deposits.id", unique=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    verification_code: str = Field(max_length=32)  # printed on the voucher; ≥ 40 bits of randomness
    status: str = Field(
        default="issued", max_length=16
    )  # issued | confirmed | receipted | reversed | refunded
    receipt_no: str | None = Field(default=None, max_length=64)
    issued_at: datetime = _ts()


class JournalEntry(SQLModel, table=True):
    """Append-only: a database trigger refuses UPDATE and DELETE (see the initial migration)."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_account_booked", "account_id", "booked_on"),
        Index("ix_journal_entries_booked", "booked_on"),  # the city's period sums (migration 0017)
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    kind: str = Field(max_length=24)
    booked_on: date
    reference: str = Field(max_length=80, index=True)
    amount_fen: int = _fen()  # the entry's size (sum of its debits), for reports
    created_at: datetime = _ts()


class JournalLeg(SQLModel, table=True):
    """Append-only, like its entry. Signed fen: debit positive, credit negative."""

    __tablename__ = "journal_legs"
    __table_args__ = (Index("ix_journal_legs_account_ledger", "account_id", "ledger"),)
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entries.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    ledger: str = Field(max_length=24)
    amount_fen: int = _fen()


class AccountBalance(SQLModel, table=True):
    """Maintained (0015): per account and ledger, the signed sum of its journal legs (debit positive), kept
    by `Journal.post` in the transaction that books the entry, so that an account's balances are one read
    whatever its history. Equal to the journal's sums by construction; `escrow audit verify` checks it.
    Each value is bounded as the journal it sums (escrow.domain.money: far inside 64 bits)."""

    __tablename__ = "account_balances"
    account_id: int = Field(foreign_key="supervised_accounts.id", primary_key=True)
    ledger: str = Field(max_length=24, primary_key=True)
    balance_fen: int = _fen()


class AccountKindTotal(SQLModel, table=True):
    """Maintained (0015), like AccountBalance: per account and entry kind, the sum of its entries' sizes
    (`amount_fen`): what `received_fen` reads (escrow.domain.ledger RECEIVED_SIGN)."""

    __tablename__ = "account_kind_totals"
    account_id: int = Field(foreign_key="supervised_accounts.id", primary_key=True)
    kind: str = Field(max_length=24, primary_key=True)
    total_fen: int = _fen()


class Release(SQLModel, table=True):
    __tablename__ = "releases"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    developer_id: int = Field(foreign_key="developers.id")
    kind: str = Field(default="node", max_length=16, sa_column_kwargs={"server_default": "node"})  # | non_key
    node_code: str | None = Field(default=None, max_length=40)  # None for a non-key release (0006)
    amount_fen: int = _fen()
    purpose: str = Field(sa_type=Text)
    status: str = Field(default="submitted", max_length=16)  # submitted | approved | rejected | executed
    cap: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # cap and explanation at application
    rulebook_id: str = Field(max_length=80)
    created_at: datetime = _ts()
    # added in 0012: the release against the approved fund plan when applied for (None for a non-key one),
    # and the developer's reason for going beyond it
    plan: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    beyond_plan_reason: str | None = Field(default=None, sa_type=Text)
    approved_on: date | None = None  # the day of the last approval step (0012; the month it drew in)


class ReleasePayee(SQLModel, table=True):
    __tablename__ = "release_payees"
    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="releases.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    name: str = Field(max_length=200)
    account_no: str = Field(max_length=64)
    bank_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    amount_fen: int = _fen()


class ReleaseDocument(SQLModel, table=True):
    __tablename__ = "release_documents"
    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="releases.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    kind: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size: int | None = None
    content: bytes | None = None  # uploaded through the web UI; API clients send only the hash


class Refund(SQLModel, table=True):
    __tablename__ = "refunds"
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contracts.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    amount_fen: int = _fen()
    reason: str = Field(default="", sa_type=Text)
    status: str = Field(default="submitted", max_length=16)  # submitted | approved | rejected | executed
    rulebook_id: str = Field(max_length=80)
    created_at: datetime = _ts()


class ApprovalStep(SQLModel, table=True):
    __tablename__ = "approval_steps"
    __table_args__ = (
        UniqueConstraint("release_id", "step_no"),
        UniqueConstraint("refund_id", "step_no"),
        UniqueConstraint("adoption_id", "step_no"),
        UniqueConstraint("fund_plan_id", "step_no"),
        UniqueConstraint("supervised_amount_change_id", "step_no"),
    )
    id: int | None = Field(default=None, primary_key=True)
    release_id: int | None = Field(default=None, foreign_key="releases.id")
    refund_id: int | None = Field(default=None, foreign_key="refunds.id")
    # added in 0007: a step of a rule book adoption, which spans projects and so names no one account
    adoption_id: int | None = Field(default=None, foreign_key="rulebook_adoptions.id")
    # added in 0012: a step of a fund demand plan
    fund_plan_id: int | None = Field(default=None, foreign_key="fund_plans.id")
    # added in 0011: a step of a key supervised amount change
    supervised_amount_change_id: int | None = Field(default=None, foreign_key="supervised_amount_changes.id")
    account_id: int | None = Field(default=None, foreign_key="supervised_accounts.id", index=True)
    step_no: int
    role: str = Field(max_length=16)
    decided_by: int = Field(foreign_key="users.id")
    decision: str = Field(max_length=16)  # approve | reject
    comment: str = Field(default="", sa_type=Text)
    cap: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the cap re-checked at this step
    rulebook_id: str = Field(max_length=80)
    decided_at: datetime = _ts()


class PaymentInstruction(SQLModel, table=True):
    __tablename__ = "payment_instructions"
    id: int | None = Field(default=None, primary_key=True)
    # release | refund | return (unassigned money back to its payer) | closure | transfer (0013)
    kind: str = Field(max_length=16)
    release_id: int | None = Field(default=None, foreign_key="releases.id", unique=True)
    refund_id: int | None = Field(default=None, foreign_key="refunds.id", unique=True)
    deposit_id: int | None = Field(default=None, foreign_key="deposits.id", unique=True)  # added in 0004
    reason: str | None = Field(default=None, sa_type=Text)  # why a return was ordered (added in 0004)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    amount_fen: int = _fen()
    status: str = Field(default="pending", max_length=16)  # pending | executed
    bank_reference: str | None = Field(default=None, max_length=64)
    executed_on: date | None = None
    # Paid while a freeze was in force: the bank reports it to the court (法〔2022〕12号 art. 2; 0006).
    court_report: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = _ts()
    # A closure's payee (named by the bureau) or a transfer's (the new account); a transfer's new bank, and
    # the account its execution opened (0013).
    payee_name: str | None = Field(default=None, max_length=200)
    payee_account_no: str | None = Field(default=None, max_length=64)
    payee_bank_name: str | None = Field(default=None, max_length=200)
    new_bank_id: int | None = Field(default=None, foreign_key="banks.id")
    new_account_id: int | None = Field(default=None, foreign_key="supervised_accounts.id")


class Freeze(SQLModel, table=True):
    __tablename__ = "freezes"
    __table_args__ = (UniqueConstraint("account_id", "order_no"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    authority: str = Field(max_length=200)
    order_no: str = Field(max_length=64)
    kind: str = Field(
        default="amount", max_length=16, sa_column_kwargs={"server_default": "amount"}
    )  # | full
    amount_fen: int = _fen()  # 0 for a `full` freeze: it holds the whole balance
    ordered_on: date
    status: str = Field(default="active", max_length=16)  # active | lifted
    lifted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()


class Guarantee(SQLModel, table=True):
    __tablename__ = "guarantees"
    __table_args__ = (UniqueConstraint("account_id", "guarantee_no"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    issuer: str = Field(max_length=200)
    guarantee_no: str = Field(max_length=64)
    amount_fen: int = _fen()
    accepted_on: date  # valid from (counts from this day on)
    expires_on: date  # valid until (counts through this day)
    status: str = Field(default="active", max_length=16)  # active | released (0006; "accepted" before)
    released_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()


class Statement(SQLModel, table=True):
    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("account_id", "digest"),
        Index("ix_statements_account_date", "account_id", "statement_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    bank_id: int = Field(foreign_key="banks.id")
    statement_date: date
    opening_fen: int | None = Field(default=None, sa_type=BigInteger)
    closing_fen: int | None = Field(default=None, sa_type=BigInteger)
    digest: str = Field(
        max_length=64
    )  # of the normalised content: importing the same statement twice is a no-op
    format: str = Field(max_length=16)
    matched: int = 0
    bank_only: int = 0
    books_only: int = 0
    balance_difference_fen: int = _fen(default=0)
    status: str = Field(max_length=16)  # reconciled | discrepancy
    created_at: datetime = _ts()


class StatementLine(SQLModel, table=True):
    __tablename__ = "statement_lines"
    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="statements.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    line_no: int
    bank_reference: str = Field(max_length=64)
    booked_on: date
    amount_fen: int = _fen()
    direction: str = Field(max_length=8)  # credit | debit
    counterparty_name: str = Field(default="", max_length=200)
    counterparty_account: str = Field(default="", max_length=64)
    remittance: str = Field(default="", sa_type=Text)
    match: str = Field(default="unmatched", max_length=16)  # matched | bank_only
    deposit_id: int | None = Field(default=None, foreign_key="deposits.id", index=True)  # migration 0019


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    developer_id: int | None = Field(default=None, foreign_key="developers.id")  # developer staff
    bank_id: int | None = Field(default=None, foreign_key="banks.id")  # bank staff (role bank, 0024)
    password_hash: str | None = Field(default=None, max_length=200)  # argon2
    active: bool = True
    email: str | None = Field(default=None, max_length=254)  # 0023: where notifications are e-mailed
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()


class ApiKey(SQLModel, table=True):
    """A key is `esk_<prefix>_<secret>`; only the prefix and the SHA-256 of the whole key are stored."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64)
    principal_kind: str = Field(max_length=16)  # bank | developer | user
    bank_id: int | None = Field(default=None, foreign_key="banks.id")
    developer_id: int | None = Field(default=None, foreign_key="developers.id")
    user_id: int | None = Field(default=None, foreign_key="users.id")
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()


class IdempotencyRecord(SQLModel, table=True):
    """One POST's effect per (principal, key), written in the same transaction as the effect."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    principal: str = Field(max_length=64)
    key: str = Field(max_length=64)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_type=Text)
    created_at: datetime = _ts(index=True)


class AuditEvent(SQLModel, table=True):
    """A state change, chained to the previous event by SHA-256."""

    __tablename__ = "audit_events"
    # the project page's trail reads a project's own events by subject (0014)
    __table_args__ = (
        Index("ix_audit_events_subject", "subject_type", "subject_id"),
        # an account's latest events read in order (the project page's trail), however long its history
        Index("ix_audit_events_account_latest", "account_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = _ts()
    actor: str = Field(max_length=80)
    action: str = Field(max_length=64)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=80)
    account_id: int | None = Field(default=None)  # indexed with id: ix_audit_events_account_latest
    before_digest: str | None = Field(default=None, max_length=64)
    after_digest: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    # the chain it extends (0016): the account's id, CITY_CHAIN (0) without an account, LEGACY_CHAIN (-1) for
    # the events of the single city-wide chain before 0016 (see escrow.store.audit)
    chain: int = Field(sa_column=Column(BigInteger, nullable=False, server_default=text("-1")))


# --- added in revision 0002: public look-ups, reports, alerts, scheduled jobs, web sessions, uploads ---


class RateLimitBucket(SQLModel, table=True):
    """Requests counted per client and window in the database, so that every worker shares the count."""

    __tablename__ = "rate_limit_buckets"
    __table_args__ = (UniqueConstraint("key", "window_start"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128)  # e.g. "voucher-lookup:<client address>"
    window_start: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    count: int = 0
    failures: int = 0  # failed voucher look-ups in the window (an alert rule watches them)


class ReportJob(SQLModel, table=True):
    """A report rendered off the request path: queued → running → done | failed."""

    __tablename__ = "report_jobs"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # voucher | notice | release | monthly | city
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="queued", max_length=16)
    requested_by: str = Field(max_length=80)
    filename: str | None = Field(default=None, max_length=200)
    content: bytes | None = None
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ArchivedReport(SQLModel, table=True):
    """A report kept for the record, e.g. each account's monthly statement archived on the 1st."""

    __tablename__ = "archived_reports"
    __table_args__ = (UniqueConstraint("account_id", "kind", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    kind: str = Field(max_length=16)
    period: str = Field(max_length=16)  # e.g. "2026-10"
    filename: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    content: bytes
    created_at: datetime = _ts()


class QuietAccountMonth(SQLModel, table=True):
    """A line of a month's city-level archive record (0018): an account that had no movement in the month
    (no journal entry booked in it) is listed here instead of getting a monthly statement PDF."""

    __tablename__ = "quiet_account_months"
    __table_args__ = (UniqueConstraint("account_id", "kind", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    account_no: str = Field(max_length=40)
    kind: str = Field(max_length=16)  # the report it stands in for: "monthly"
    period: str = Field(max_length=16, index=True)  # e.g. "2026-10"
    created_at: datetime = _ts()


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        Index("ix_alerts_state_severity", "state", "severity"),
        # the lists' order (most urgent, then newest) read straight from an index, however many are open
        Index("ix_alerts_unresolved_order", "urgency", "id", **_only("state != 'resolved'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=64)
    severity: str = Field(max_length=16)  # info | warning | critical
    # of the severity: critical 3, warning 2, info 1 (reads.alerts.URGENCY)
    urgency: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    owner_role: str = Field(max_length=16)
    state: str = Field(default="open", max_length=16)  # open | acknowledged | resolved
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=80)
    account_id: int | None = Field(default=None, foreign_key="supervised_accounts.id", index=True)
    message: str = Field(sa_type=Text)
    link: str = Field(default="", max_length=200)
    dedup_key: str = Field(max_length=200)  # one alert per rule and subject (and period where it applies)
    acknowledged_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one period: the unique key makes every job idempotent."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=64)
    period: str = Field(max_length=32)  # e.g. "2026-11-22" or "2026-11"
    status: str = Field(default="running", max_length=16)  # running | done | failed
    detail: str = Field(default="", sa_type=Text)
    started_at: datetime = _ts()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class WebSession(SQLModel, table=True):
    """Server-side sessions of the web UI (shared by every worker)."""

    __tablename__ = "web_sessions"
    key: str = Field(primary_key=True, max_length=64)  # SHA-256 of the cookie's random id
    user_id: int = Field(foreign_key="users.id", index=True)
    data: bytes  # JSON: language, last activity, sign-in time
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)


class StoredDocument(SQLModel, table=True):
    """A file uploaded through the web UI (node evidence, release documents), kept with its SHA-256."""

    __tablename__ = "stored_documents"
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    content: bytes
    uploaded_by: str = Field(max_length=80)
    account_id: int | None = Field(default=None, foreign_key="supervised_accounts.id", index=True)
    created_at: datetime = _ts()


# --- added in revision 0007: rule book adoptions (a later version adopted for chosen live projects) ---


class RulebookAdoption(SQLModel, table=True):
    """The bureau adopts a later version of a rule book for chosen live projects, decided with four eyes;
    `rulebook_id` is the version adopted (its approval chain decides the adoption)."""

    __tablename__ = "rulebook_adoptions"
    id: int | None = Field(default=None, primary_key=True)
    jurisdiction: str = Field(max_length=40)
    rulebook_id: str = Field(max_length=80)
    reason: str = Field(default="", sa_type=Text)
    status: str = Field(default="submitted", max_length=16)  # submitted | approved | rejected
    applied_by: int = Field(foreign_key="users.id")
    created_at: datetime = _ts()


class RulebookAdoptionProject(SQLModel, table=True):
    """One chosen project of an adoption, with the version it was on when the adoption was submitted."""

    __tablename__ = "rulebook_adoption_projects"
    __table_args__ = (UniqueConstraint("adoption_id", "project_id"),)
    id: int | None = Field(default=None, primary_key=True)
    adoption_id: int = Field(foreign_key="rulebook_adoptions.id")
    project_id: int = Field(foreign_key="projects.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    from_rulebook_id: str = Field(max_length=80)


class FundPlan(SQLModel, table=True):
    """A version of a project's fund demand plan (资金需求计划), filed by the developer and approved along the
    rule book's `[fund_plan]` chain; the approved one in force is the latest approved (an earlier approved
    version becomes `superseded` when a later one is approved)."""

    __tablename__ = "fund_plans"
    __table_args__ = (UniqueConstraint("project_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    developer_id: int = Field(foreign_key="developers.id")
    version: int
    note: str = Field(default="", sa_type=Text)
    status: str = Field(default="submitted", max_length=16)  # submitted | approved | rejected | superseded
    rulebook_id: str = Field(max_length=80)
    created_at: datetime = _ts()
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class FundPlanItem(SQLModel, table=True):
    """One line of a plan: the amount expected at a node (of a building, where supervised so), for payees
    of one role, in one month (YYYY-MM)."""

    __tablename__ = "fund_plan_items"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="fund_plans.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    line_no: int
    node_code: str = Field(max_length=40)
    building_code: str | None = Field(default=None, max_length=40)
    month: str = Field(max_length=7)
    role: str = Field(max_length=16)
    amount_fen: int = _fen()


# --- added in revision 0011: key supervised amount changes (CONTRACT §8) ---


class SupervisedAmountChange(SQLModel, table=True):
    """A change of a project's key supervised amount K, applied for by a bureau admin and taking effect once
    approved along the rule book's `[supervised_amount_change]` chain. `cap` keeps the caps before and after
    as judged at filing and, once approved, at the last approval."""

    __tablename__ = "supervised_amount_changes"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    account_id: int = Field(foreign_key="supervised_accounts.id", index=True)
    from_fen: int = _fen()
    to_fen: int = _fen()
    reason: str = Field(default="", sa_type=Text)
    status: str = Field(default="submitted", max_length=16)  # submitted | approved | rejected
    applied_by: int = Field(foreign_key="users.id")
    cap: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    rulebook_id: str = Field(max_length=80)
    created_at: datetime = _ts()


# --- added in revision 0016: the audit trail chained per account, anchored city-wide by a Merkle root ---


class AuditHead(SQLModel, table=True):
    """The last event of each audit chain; its row is the chain's lock (escrow.store.audit)."""

    __tablename__ = "audit_heads"
    chain: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    head_id: int = Field(sa_type=BigInteger)
    head_hash: str = Field(max_length=64)
    length: int = Field(sa_type=BigInteger)


class AuditAnchor(SQLModel, table=True):
    """A Merkle root over every audit chain's head at one moment (`escrow audit anchor`, daily job); the
    city-chain event `event_id` records it, so the anchor is itself chained."""

    __tablename__ = "audit_anchors"
    id: int | None = Field(default=None, primary_key=True)
    anchored_at: datetime = _ts()
    root: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    chains: int
    event_id: int | None = Field(default=None, sa_type=BigInteger)


class AuditAnchorLeaf(SQLModel, table=True):
    """One chain's head as an anchor committed to it."""

    __tablename__ = "audit_anchor_leaves"
    anchor_id: int = Field(foreign_key="audit_anchors.id", primary_key=True)
    chain: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    head_id: int = Field(sa_type=BigInteger)
    head_hash: str = Field(max_length=64)


# --- added in revision 0025: files of a form that came back with errors, held for that form -------------


class HeldUpload(SQLModel, table=True):
    """A checked file received with a web form that was refused, kept for that form (its token) and the
    session that sent it, so the corrected form need not choose it again. Taken by the final submit (the
    use case stores its own copy) or dropped once older than a day."""

    __tablename__ = "held_uploads"
    __table_args__ = (Index("ix_held_uploads_holder_token", "holder", "form_token"),)
    id: int | None = Field(default=None, primary_key=True)
    holder: str = Field(max_length=80)  # the web user and a digest of their session
    form_token: str = Field(max_length=64)
    field: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes
    created_at: datetime = _ts(index=True)


class Notification(SQLModel, table=True):
    """One thing a user should know (a case at their step, their application decided, an alert), written in
    the transaction of the event. The words are chosen when it is shown, in the reader's language, from
    `kind` and `params`; the mail columns are the outbox of the e-mail job (escrow.jobs.mail)."""

    __tablename__ = "notifications"
    __table_args__ = (
        # the inbox, newest first, and its unread count (the badge on every page), each from an index
        Index("ix_notifications_user_newest", "user_id", "id"),
        Index("ix_notifications_user_unread", "user_id", "id", **_only("read_at IS NULL")),
        # the e-mails still to send, few among many
        Index("ix_notifications_mail_due", "mail_due_at", **_only("mail_due_at IS NOT NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    kind: str = Field(max_length=32)  # case_at_step | case_decided | alert_raised
    subject_type: str = Field(max_length=40)  # release | refund | fund_plan | adoption | … | alert
    subject_id: int = Field(sa_type=BigInteger)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = _ts()
    read_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # when to (try to) e-mail it next; None: nothing (more) to send
    mail_due_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    mailed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    mail_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    mail_error: str | None = Field(default=None, sa_type=Text)


class Webhook(SQLModel, table=True):
    """A subscription of one bank or one developer (exactly one of the two) to events (CONTRACT §10; 0027).

    The secret is stored as issued: the service must sign every delivery with it (HMAC), so it cannot be
    kept as a one-way hash like an API key. It is 256 bits of randomness that only signs deliveries — it
    grants no access to the API — and is shown once, when created or rotated; the API never answers it
    again. Whoever can read the database could forge deliveries to the subscriber's own URL, nothing more;
    the database's access control protects it like the rest of the books."""

    __tablename__ = "webhooks"
    __table_args__ = (
        Index("ix_webhooks_bank", "bank_id", "id"),
        Index("ix_webhooks_developer", "developer_id", "id"),
        CheckConstraint("(bank_id IS NULL) <> (developer_id IS NULL)", name="ck_webhooks_one_owner"),
    )
    id: int | None = Field(default=None, primary_key=True)
    bank_id: int | None = Field(default=None, foreign_key="banks.id")
    developer_id: int | None = Field(default=None, foreign_key="developers.id")
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    secret: str = Field(max_length=100)
    active: bool = True
    created_at: datetime = _ts()
    secret_rotated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    disabled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: the outbox (written in the event's transaction) and the deliveries log.
    `status`: pending (to send at `next_attempt_at`) | delivered | failed (given up after a day of tries)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        # the log of one webhook, in order
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        # the outbox: the few rows still to send among many delivered
        Index("ix_webhook_deliveries_pending", "webhook_id", "id", **_only("status = 'pending'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhooks.id")
    event_id: str = Field(max_length=40)
    event_type: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # {id, type, created_at, data}
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = _ts()
    next_attempt_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_attempt_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


# --- added in revision 0028: statement lines staged before they are published --------------------------


class StatementStaging(SQLModel, table=True):
    """A statement being imported: its lines are staged (statement_staged_lines) in short transactions of
    their own, then published in one short transaction (escrow.services.reconcile). Nobody reads a staging
    but its own import; one older than a day is left from an interrupted import and is pruned."""

    __tablename__ = "statement_stagings"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="supervised_accounts.id")
    created_at: datetime = _ts(index=True)


class StatementStagedLine(SQLModel, table=True):
    """A line of a staging, with what it was matched to when it was staged (`match` `pending`: a credit to
    book to suspense, or the bank's own interest or fee to book, decided when it is published)."""

    __tablename__ = "statement_staged_lines"
    __table_args__ = (Index("ix_statement_staged_lines_staging_line", "staging_id", "line_no"),)
    id: int | None = Field(default=None, primary_key=True)
    staging_id: int  # no foreign key: a staging's lines are deleted in batches after it is gone
    line_no: int
    bank_reference: str = Field(max_length=64)
    booked_on: date
    amount_fen: int = _fen()
    direction: str = Field(max_length=8)
    kind: str = Field(max_length=16)
    counterparty_name: str = Field(default="", max_length=200)
    counterparty_account: str = Field(default="", max_length=64)
    remittance: str = Field(default="", sa_type=Text)
    match: str = Field(max_length=16)  # matched | unexplained | pending
    deposit_id: int | None = None
