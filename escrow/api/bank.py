"""Supervising banks: their accounts, deposits and reversals (CONTRACT.md §3, Bank)."""

from __future__ import annotations

from decimal import Decimal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from escrow.api.deps import authenticate, require_kind, services
from escrow.api.idempotency import idempotent
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    answers,
    problems,
)
from escrow.api.schemas import DepositIn, DepositVerifyIn, ReversalIn
from escrow.domain.principal import Principal
from escrow.services import accounts, deposits


def _deposit_status(view: deposits.DepositView) -> int:
    """201 for a payment booked now; 200 for a bank reference booked before (the original deposit)."""
    return 201 if view.booked_now else 200


class BankController(Controller):
    path = "/api/v1"
    tags = ["bank"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}

    @get(
        "/accounts",
        sync_to_thread=True,
        summary="The supervised accounts this bank holds",
        response_description="The bank's supervised accounts",
        responses=problems(*GET_ERRORS, 403),
    )
    def list_accounts(
        self, request: Request, principal: NamedDependency[Principal]
    ) -> list[accounts.BankAccountView]:
        require_kind(principal, "bank")
        return accounts.of_bank(services(request), principal)

    @get(
        "/accounts/{account_no:str}",
        sync_to_thread=True,
        summary="One supervised account with its release cap",
        operation_class=DocumentedOperation,
        response_description="The account",
        responses=problems(*GET_ERRORS, 403, 404),
    )
    def account(
        self, request: Request, account_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> accounts.BankAccountView:
        require_kind(principal, "bank")
        return accounts.get(services(request), account_no, principal)

    @post(
        "/deposits/verify",
        sync_to_thread=True,
        status_code=200,
        summary="Check a payment before taking it",
        operation_class=IdempotentOperation,
        response_description="What posting it would conclude; nothing changed",
        responses=problems(*POST_ERRORS, 403, 404),
    )
    @idempotent
    def verify(
        self, request: Request, data: JSONBody[DepositVerifyIn], principal: NamedDependency[Principal]
    ) -> deposits.Verification:
        require_kind(principal, "bank")
        cmd = deposits.VerifyDeposit(data.account_no, data.notice_no, Decimal(data.amount), data.payer_name)
        return deposits.verify(services(request), cmd, principal)

    @post(
        "/deposits",
        sync_to_thread=True,
        status_code=201,
        summary="Post a payment received",
        operation_class=IdempotentOperation,
        responses=answers(
            {
                201: (deposits.DepositView, "Booked: accepted with a voucher, or to suspense without one"),
                200: (deposits.DepositView, "This bank reference was booked before: the original deposit"),
            },
            *POST_ERRORS,
            403,
            404,
        ),
    )
    @idempotent(status=_deposit_status)
    def post_deposit(
        self, request: Request, data: JSONBody[DepositIn], principal: NamedDependency[Principal]
    ) -> deposits.DepositView:
        require_kind(principal, "bank")
        cmd = deposits.PostDeposit(
            account_no=data.account_no,
            bank_reference=data.bank_reference,
            amount=Decimal(data.amount),
            payer_name=data.payer_name,
            payer_account=data.payer_account,
            notice_no=data.notice_no,
            kind=data.kind,
            channel=data.channel,
            value_date=data.value_date,
        )
        return deposits.book(services(request), cmd, principal)

    @get(
        "/deposits/{bank_reference:str}",
        sync_to_thread=True,
        summary="A deposit by its bank reference",
        operation_class=DocumentedOperation,
        response_description="The deposit",
        responses=problems(*GET_ERRORS, 403, 404),
    )
    def deposit(
        self, request: Request, bank_reference: FromPath[str], principal: NamedDependency[Principal]
    ) -> deposits.DepositView:
        require_kind(principal, "bank")
        return deposits.get(services(request), bank_reference, principal)

    @post(
        "/deposits/{bank_reference:str}/reversal",
        sync_to_thread=True,
        status_code=201,
        summary="Reverse a wrong posting on its value date",
        operation_class=IdempotentOperation,
        response_description="The reversed deposit",
        responses=problems(*POST_ERRORS, 403, 404),
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
