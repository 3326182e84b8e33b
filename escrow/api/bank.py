"""Supervising banks: their accounts, deposits and reversals (CONTRACT.md §3, Bank)."""

from __future__ import annotations

from decimal import Decimal

from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from escrow.api.deps import authenticate_cached, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.routes import KeyedController, list_route, read_route, write_route
from escrow.api.schemas import AgreementConfirmationIn, DepositIn, DepositVerifyIn, ReversalIn
from escrow.domain.paging import Page
from escrow.domain.principal import Principal
from escrow.services import accounts, agreements, deposits


def _deposit_status(view: deposits.DepositView) -> int:
    """201 for a payment booked now; 200 for a bank reference booked before (the original deposit)."""
    return 201 if view.booked_now else 200


class BankController(KeyedController):
    tags = ["bank"]

    @list_route(
        "/accounts",
        "The supervised accounts this bank holds",
        "The bank's supervised accounts, in the order they were opened",
        (403,),
    )
    def list_accounts(
        self, request: Request, principal: NamedDependency[Principal], page: NamedDependency[Page]
    ) -> Response[list[accounts.BankAccountView]]:
        require_kind(principal, "bank")
        return paged(request, accounts.page_of_bank(services(request), principal, page))

    @read_route("/accounts/{account_no:str}", "One supervised account with its release cap", "The account")
    def account(
        self, request: Request, account_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> accounts.BankAccountView:
        require_kind(principal, "bank")
        return accounts.get(services(request), account_no, principal)

    @write_route(
        "/accounts/{account_no:str}/confirmation",
        "Confirm the tri-party supervision agreement of an account (the supervising bank)",
        "The account's agreement as confirmed; the same confirmation again answers the same",
        (403, 404, 409),
        status_code=200,
        operation_id="confirmAccountAgreement",
        description=(
            "`opened_on` before the account's opening in the books, or in the future: 422. Another agreement "
            "number than the one named at opening (`agreement.mismatch`) or already confirmed "
            "(`agreement.already_confirmed`): 409, nothing changed."
        ),
    )
    @idempotent
    def confirm_agreement(
        self,
        request: Request,
        account_no: FromPath[str],
        data: JSONBody[AgreementConfirmationIn],
        principal: NamedDependency[Principal],
    ) -> agreements.ConfirmationView:
        require_kind(principal, "bank")
        cmd = agreements.ConfirmAgreement(account_no, data.agreement_no, data.opened_on)
        return agreements.confirm(services(request), cmd, principal)

    @write_route(
        "/deposits/verify",
        "Check a payment before taking it",
        "What posting it would conclude; nothing changed",
        status_code=200,
        changes=False,  # CONTRACT.md §10: needs no Idempotency-Key, one sent is ignored
    )
    def verify(
        self, request: Request, data: JSONBody[DepositVerifyIn], principal: NamedDependency[Principal]
    ) -> deposits.Verification:
        require_kind(principal, "bank")
        cmd = deposits.VerifyDeposit(data.account_no, data.notice_no, Decimal(data.amount), data.payer_name)
        return deposits.verify(services(request), cmd, principal)

    @write_route(
        "/deposits",
        "Post a payment received",
        success={
            201: (deposits.DepositView, "Booked: accepted with a voucher, or to suspense without one"),
            200: (deposits.DepositView, "This bank reference was booked before: the original deposit"),
        },
        # the hot path: the key's principal from the cache; the booking re-checks the key itself
        dependencies={"principal": Provide(authenticate_cached, sync_to_thread=True)},
    )
    @idempotent(status=_deposit_status)
    def post_deposit(
        self, request: Request, data: JSONBody[DepositIn], principal: NamedDependency[Principal]
    ) -> deposits.DepositView:
        require_kind(principal, "bank")
        cmd = data.to(deposits.PostDeposit, amount=Decimal(data.amount))
        return deposits.book(services(request), cmd, principal)

    @read_route("/deposits/{bank_reference:str}", "A deposit by its bank reference", "The deposit")
    def deposit(
        self, request: Request, bank_reference: FromPath[str], principal: NamedDependency[Principal]
    ) -> deposits.DepositView:
        require_kind(principal, "bank")
        return deposits.get(services(request), bank_reference, principal)

    @write_route(
        "/deposits/{bank_reference:str}/reversal",
        "Reverse a wrong posting on its value date",
        "The reversed deposit",
    )
    @idempotent
    def reverse(
        self,
        request: Request,
        bank_reference: FromPath[str],
        data: JSONBody[ReversalIn],
        principal: NamedDependency[Principal],
    ) -> deposits.DepositView:
        require_kind(principal, "bank")
        return deposits.reverse(services(request), bank_reference, data.reason, principal)
