"""Deposits booked by the supervising bank, and the payment vouchers issued for them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, exists, func, literal, select, update
from sqlalchemy.orm import aliased

from escrow.domain.ledger import RECEIVED_SIGN, Ledger
from escrow.domain.lifecycle import ENDING_KINDS
from escrow.store import audit
from escrow.store.models import (
    AccountBalance,
    AccountKindTotal,
    ApiKey,
    AuditHead,
    Contract,
    Deposit,
    PaymentInstruction,
    PaymentNotice,
    Project,
    StatementLine,
    SupervisedAccount,
    Voucher,
    Webhook,
)
from escrow.store.repos.base import Repo, valid_id


def by_references_sql(
    dialect: str, bank_id: int, account_id: int, references: list[str]
) -> tuple[str, tuple]:
    """`DepositRepo.by_references`'s driver SQL and parameters."""
    if dialect == "sqlite":
        where, params, mark = f"bank_reference IN ({', '.join('?' * len(references))})", (*references,), "?"
    else:
        where, params, mark = "bank_reference = ANY(%s)", (list(references),), "%s"
    sql = (
        "SELECT id, bank_reference, amount_fen, status FROM deposits "
        f"WHERE bank_id = {mark} AND +account_id = {mark} AND {where}"
    )
    return sql, (bank_id, account_id, *params)


PAID = ("accepted", "assigned")  # as escrow.store.repos.contracts: booked and not reversed


@dataclass(frozen=True)
class Target:
    """What booking a deposit needs to know of its account, read (and the account locked) in one statement."""

    account: SupervisedAccount
    rulebook_id: str
    key_active: bool  # the API key the deposit came with is still unrevoked (True without a key)
    booked_before: int | None  # the deposit id this bank reference was booked as, if any
    ending_pending: bool  # a closure or transfer of the account waits for the bank
    cash_fen: int
    received_fen: int
    voucher_id: int | None  # drawn from the vouchers' sequence on PostgreSQL (None on SQLite)
    hooked: bool = False  # the developer has an active webhook: tell it the deposit (services.webhooks)


@dataclass(frozen=True)
class NoticeFacts:
    """A payment notice with its contract, the account it names, and what has been paid against both."""

    notice: PaymentNotice
    contract: Contract
    notice_account_no: str
    notice_paid_fen: int
    contract_paid_fen: int


class Deposits(Repo):
    def target(
        self, account_no: str, bank_id: int | None, bank_reference: str, key_id: int | None
    ) -> Target | None:
        """The account by its number, locked (PostgreSQL: FOR UPDATE OF the account row; SQLite's write
        transaction is exclusive already) with everything a deposit checks before it books: one round trip
        instead of seven. None when no such account exists."""
        a = SupervisedAccount
        postgres = self.session.get_bind().dialect.name == "postgresql"
        cash = (
            select(AccountBalance.balance_fen)
            .where(AccountBalance.account_id == a.id, AccountBalance.ledger == Ledger.CASH.value)
            .scalar_subquery()
        )
        signed = case(
            *((AccountKindTotal.kind == kind.value, AccountKindTotal.total_fen * sign)
              for kind, sign in RECEIVED_SIGN.items()),
            else_=0,
        )  # fmt: skip
        received = select(func.sum(signed)).where(AccountKindTotal.account_id == a.id).scalar_subquery()
        before = (
            select(Deposit.id)
            .where(Deposit.bank_id == bank_id, Deposit.bank_reference == bank_reference)
            .scalar_subquery()
        )
        ending = exists().where(
            PaymentInstruction.account_id == a.id,
            PaymentInstruction.status == "pending",
            PaymentInstruction.kind.in_(ENDING_KINDS),
        )
        key_active = (
            exists().where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)) if key_id else literal(True)
        )
        # the voucher's id drawn now, so that it is written numbered in one INSERT: from the sequence on
        # PostgreSQL (an unused one leaves a gap, as a rolled-back INSERT would); the next id on SQLite, whose
        # write transaction excludes every other writer
        voucher_id = (
            func.nextval(func.pg_get_serial_sequence("vouchers", "id"))
            if postgres
            else select(func.coalesce(func.max(Voucher.id), 0) + 1).scalar_subquery()
        )
        hooked = exists().where(Webhook.developer_id == Project.developer_id, Webhook.active.is_(True))
        stmt = (
            select(a, Project.rulebook_id, key_active, before, ending, cash, received, voucher_id, hooked)
            .join(Project, Project.id == a.project_id)
            .where(a.account_no == account_no)
            .execution_options(populate_existing=True)
        )
        # the account's audit chain head locked with the account (one statement); an account whose chain
        # has no head row yet is read without it, and `audit.record` creates the row
        heads = AuditHead.__table__
        with_head = stmt.add_columns(*audit.head_columns()).join(heads, heads.c.chain == a.id)
        if postgres:
            with_head = with_head.with_for_update(of=[a, heads])
            stmt = stmt.with_for_update(of=a)
        row = self.session.execute(with_head).first()
        if row is not None:
            audit.hold(self.session, row[0].id, *row[-3:])
        else:
            row = self.session.execute(stmt).first()
        if row is None:
            return None
        account, rulebook_id, active, booked, pending, cash, got, drawn, hooked = row[:9]
        found = (bool(active), booked, bool(pending), cash or 0, got or 0, drawn, bool(hooked))
        return Target(account, rulebook_id, *found)

    def notice_facts(self, notice_no: str) -> NoticeFacts | None:
        """The notice by its number with its contract, its account's number and the sums paid against the
        notice and the contract: one statement instead of five."""
        named = aliased(SupervisedAccount)
        notice_paid = (
            select(func.coalesce(func.sum(Deposit.amount_fen), 0))
            .where(Deposit.notice_id == PaymentNotice.id, Deposit.status.in_(PAID))
            .scalar_subquery()
        )
        contract_paid = (
            select(func.coalesce(func.sum(Deposit.amount_fen), 0))
            .where(Deposit.contract_id == PaymentNotice.contract_id, Deposit.status.in_(PAID))
            .scalar_subquery()
        )
        stmt = (
            select(PaymentNotice, Contract, named.account_no, notice_paid, contract_paid)
            .join(named, named.id == PaymentNotice.account_id)
            .join(Contract, Contract.id == PaymentNotice.contract_id)
            .where(PaymentNotice.notice_no == notice_no)
        )
        row = self.session.execute(stmt).first()
        if row is None:
            return None
        notice, contract, account_no, paid, contract_paid_fen = row
        return NoticeFacts(notice, contract, account_no, int(paid), int(contract_paid_fen))

    def by_reference(self, bank_id: int, bank_reference: str) -> Deposit | None:
        return self.one_of(Deposit, Deposit.bank_id == bank_id, Deposit.bank_reference == bank_reference)

    def voucher_for(self, deposit_id: int) -> Voucher | None:
        return self.one_of(Voucher, Voucher.deposit_id == deposit_id)

    def voucher_by_no(self, voucher_no: str) -> Voucher | None:
        return self.one_of(Voucher, Voucher.voucher_no == voucher_no)

    def get(self, deposit_id: int) -> Deposit | None:
        return self.session.get(Deposit, deposit_id) if valid_id(deposit_id) else None

    def unassigned(self, account_id: int) -> list[Deposit]:
        """Money of the account still in suspense: waiting to be assigned, or to be returned to its payer."""
        return self.all_of(
            Deposit,
            Deposit.account_id == account_id,
            Deposit.status.in_(("suspense", "returning")),
            order_by=Deposit.id,
        )

    # --- for reconciliation: a statement's lines against the account's deposits -------------------------

    def by_references(
        self, bank_id: int, account_id: int, references: list[str]
    ) -> Iterator[tuple[int, str, int, str]]:
        """(deposit id, bank reference, amount in fen, status) of the account's deposits with these
        references, through the unique (bank, reference) index. Sent to the driver as it is: a batch of
        10,000 references costs SQLAlchemy more in parameter processing than the query itself. The account
        is compared as `+account_id`, an expression, so that no planner takes the (account, date) index
        instead: SQLite did for a long IN list, and then read the account's every deposit for each batch
        (a million-deposit account: 0.26 s a batch of 10,000, against 0.02 s through the unique index)."""
        self.session.flush()  # what the unit of work added (suspense deposits) is found too
        connection = self.session.connection()
        sql, params = by_references_sql(connection.dialect.name, bank_id, account_id, references)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, params)
            yield from cursor.fetchall()
        finally:
            cursor.close()

    def unreversed_by_voucher_no(self, account_id: int, voucher_no: str, amount_fen: int) -> int | None:
        """The id of the account's unreversed deposit of this amount whose voucher has this number."""
        stmt = (
            select(Deposit.id)
            .join(Voucher, Voucher.deposit_id == Deposit.id)
            .where(Voucher.voucher_no == voucher_no)
        )
        return self._unreversed(stmt, account_id, amount_fen)

    def unreversed_by_notice_no(self, account_id: int, notice_no: str, amount_fen: int) -> int | None:
        """The id of the account's unreversed deposit of this amount paid against this notice."""
        stmt = (
            select(Deposit.id)
            .join(PaymentNotice, PaymentNotice.id == Deposit.notice_id)
            .where(PaymentNotice.notice_no == notice_no)
        )
        return self._unreversed(stmt, account_id, amount_fen)

    def _unreversed(self, stmt, account_id: int, amount_fen: int) -> int | None:
        stmt = stmt.where(
            Deposit.account_id == account_id, Deposit.amount_fen == amount_fen, Deposit.status != "reversed"
        )
        return self.session.scalar(stmt.limit(1))

    def unshown_until(self, account_id: int, day: date) -> int:
        """How many of the account's deposits with a value date up to `day`, not reversed, no statement line
        has shown (a reconciliation's "books only"): one anti-join, whatever the account's history."""
        self.session.flush()
        shown = select(StatementLine.id).where(StatementLine.deposit_id == Deposit.id)
        return self.session.scalar(
            select(func.count())
            .select_from(Deposit)
            .where(
                Deposit.account_id == account_id,
                Deposit.value_date <= day,
                Deposit.status != "reversed",
                ~shown.exists(),
            )
        )

    def confirm_vouchers(self, deposit_ids: list[int]) -> int:
        """Issued vouchers of these deposits become confirmed (a statement showed the money); returns how
        many. A Core statement: a statement may confirm many vouchers, and the ORM's bulk path costs more."""
        vouchers = Voucher.__table__
        result = self.session.connection().execute(
            update(vouchers)
            .where(vouchers.c.deposit_id.in_(deposit_ids), vouchers.c.status == "issued")
            .values(status="confirmed")
        )
        return result.rowcount or 0
