"""Deposits booked by the supervising bank, and the payment vouchers issued for them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select, update

from escrow.store.models import Deposit, PaymentNotice, Voucher
from escrow.store.repos.base import Repo, valid_id


class Deposits(Repo):
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
        10,000 references costs SQLAlchemy more in parameter processing than the query itself."""
        self.session.flush()  # what the unit of work added (suspense deposits) is found too
        connection = self.session.connection()
        if connection.dialect.name == "sqlite":
            where, params = f"bank_reference IN ({', '.join('?' * len(references))})", (*references,)
            mark = "?"
        else:
            where, params, mark = "bank_reference = ANY(%s)", (list(references),), "%s"
        sql = (
            "SELECT id, bank_reference, amount_fen, status FROM deposits "
            f"WHERE bank_id = {mark} AND account_id = {mark} AND {where}"
        )
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, (bank_id, account_id, *params))
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

    def unreversed_ids_until(self, account_id: int, day: date) -> Iterator[int]:
        """Ids of the account's deposits with a value date up to `day` that were not reversed."""
        yield from self.session.scalars(
            select(Deposit.id).where(
                Deposit.account_id == account_id, Deposit.value_date <= day, Deposit.status != "reversed"
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
