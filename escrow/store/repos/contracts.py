"""Sale contracts with their payment notices, and what has been paid on them."""

from __future__ import annotations

from sqlalchemy import select

from escrow.store.models import Contract, Deposit, PaymentNotice, Voucher
from escrow.store.repos.base import Repo

PAID = ("accepted", "assigned")  # deposit states that count as paid on a contract: booked and not reversed


class Contracts(Repo):
    def by_no(self, contract_no: str) -> Contract | None:
        return self.one_of(Contract, Contract.contract_no == contract_no)

    def notices_total_fen(self, contract_id: int) -> int:
        """Open and paid notices of a contract (what the buyer has been asked to pay)."""
        return self.total_of(
            PaymentNotice.amount_fen,
            PaymentNotice.contract_id == contract_id,
            PaymentNotice.status.in_(("open", "paid")),
        )

    def notice_paid_fen(self, notice_id: int) -> int:
        """Accepted, unreversed deposits against one notice (a combination loan's notice is paid in parts)."""
        return self.total_of(Deposit.amount_fen, Deposit.notice_id == notice_id, Deposit.status.in_(PAID))

    def notice_by_no(self, notice_no: str) -> PaymentNotice | None:
        return self.one_of(PaymentNotice, PaymentNotice.notice_no == notice_no)

    def paid_fen(self, contract_id: int) -> int:
        """Accepted, unreversed deposits on a contract."""
        return self.total_of(Deposit.amount_fen, Deposit.contract_id == contract_id, Deposit.status.in_(PAID))

    def paid_deposits(self, contract_id: int) -> list[Deposit]:
        """The accepted, unreversed deposits that make up `paid_fen`, in booking order."""
        return self.all_of(
            Deposit, Deposit.contract_id == contract_id, Deposit.status.in_(PAID), order_by=Deposit.id
        )

    def notices_of(self, contract_id: int, status: str) -> list[PaymentNotice]:
        return self.all_of(
            PaymentNotice,
            PaymentNotice.contract_id == contract_id,
            PaymentNotice.status == status,
            order_by=PaymentNotice.id,
        )

    def vouchers_of(self, contract_id: int) -> list[Voucher]:
        """Vouchers issued for deposits on a contract."""
        return list(
            self.session.scalars(
                select(Voucher)
                .join(Deposit, Deposit.id == Voucher.deposit_id)
                .where(Deposit.contract_id == contract_id)
                .order_by(Voucher.id)
            )
        )

    def live_of_account(self, account_id: int) -> list[Contract]:
        """The account's contracts not cancelled, in id order (a change of bank moves them)."""
        return self.all_of(
            Contract, Contract.account_id == account_id, Contract.status != "cancelled", order_by=Contract.id
        )

    def open_notices_of_account(self, account_id: int) -> list[PaymentNotice]:
        """The account's open payment notices, in id order (a change of bank re-issues them)."""
        return self.all_of(
            PaymentNotice,
            PaymentNotice.account_id == account_id,
            PaymentNotice.status == "open",
            order_by=PaymentNotice.id,
        )
