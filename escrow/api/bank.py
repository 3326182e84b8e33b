"""Supervising banks: their accounts, deposits and reversals (CONTRACT.md §3, Bank)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from escrow.api import responses as R
from escrow.api.deps import authenticate, require_kind, run_idempotent, runtime
from escrow.api.responses import (
    BEARER,
    GET_ERRORS,
    POST_ERRORS,
    DocumentedOperation,
    IdempotentOperation,
    answers,
)
from escrow.api.schemas import DepositIn, DepositVerifyIn, ReversalIn
from escrow.domain.errors import NotFound
from escrow.domain.principal import Principal
from escrow.services import accounts, deposits
from escrow.store.db import UnitOfWork


class BankController(Controller):
    path = "/api/v1"
    tags = ["bank"]
    security = BEARER
    dependencies = {"principal": Provide(authenticate, sync_to_thread=True)}

    @get(
        "/accounts",
        sync_to_thread=True,
        summary="The supervised accounts this bank holds",
        responses=answers({200: (list[R.BankAccount], "The bank's supervised accounts")}, *GET_ERRORS, 403),
    )
    def list_accounts(self, request: Request, principal: NamedDependency[Principal]) -> list[dict[str, Any]]:
        require_kind(principal, "bank")
        rt = runtime(request)
        with UnitOfWork(rt.engine, readonly=True) as uow:
            return [
                accounts.bank_view(uow, rt.ctx, a) for a in uow.projects.accounts_of_bank(principal.bank_id)
            ]

    @get(
        "/accounts/{account_no:str}",
        sync_to_thread=True,
        summary="One supervised account with its release cap",
        operation_class=DocumentedOperation,
        responses=answers({200: (R.BankAccount, "The account")}, *GET_ERRORS, 403, 404),
    )
    def account(
        self, request: Request, account_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> dict[str, Any]:
        require_kind(principal, "bank")
        rt = runtime(request)
        with UnitOfWork(rt.engine, readonly=True) as uow:
            return accounts.bank_view(uow, rt.ctx, deposits.bank_account(uow, principal, account_no))

    @post(
        "/deposits/verify",
        sync_to_thread=True,
        status_code=200,
        summary="Check a payment before taking it",
        operation_class=IdempotentOperation,
        responses=answers(
            {200: (R.DepositVerification, "What posting it would conclude; nothing changed")},
            *POST_ERRORS,
            403,
            404,
        ),
    )
    def verify(
        self, request: Request, data: JSONBody[DepositVerifyIn], principal: NamedDependency[Principal]
    ) -> Response:
        require_kind(principal, "bank")
        ctx = runtime(request).ctx
        cmd = deposits.VerifyDeposit(data.account_no, data.notice_no, Decimal(data.amount), data.payer_name)
        return run_idempotent(
            request, principal, data, lambda uow: (200, deposits.verify(uow, ctx, cmd, principal))
        )

    @post(
        "/deposits",
        sync_to_thread=True,
        status_code=201,
        summary="Post a payment received",
        operation_class=IdempotentOperation,
        responses=answers(
            {
                201: (R.Deposit, "Booked: accepted with a voucher, or to suspense without one"),
                200: (R.Deposit, "This bank reference was booked before: the original deposit"),
            },
            *POST_ERRORS,
            403,
            404,
        ),
    )
    def post_deposit(
        self, request: Request, data: JSONBody[DepositIn], principal: NamedDependency[Principal]
    ) -> Response:
        require_kind(principal, "bank")
        ctx = runtime(request).ctx
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
        return run_idempotent(request, principal, data, lambda uow: deposits.post(uow, ctx, cmd, principal))

    @get(
        "/deposits/{bank_reference:str}",
        sync_to_thread=True,
        summary="A deposit by its bank reference",
        operation_class=DocumentedOperation,
        responses=answers({200: (R.Deposit, "The deposit")}, *GET_ERRORS, 403, 404),
    )
    def deposit(
        self, request: Request, bank_reference: FromPath[str], principal: NamedDependency[Principal]
    ) -> dict[str, Any]:
        require_kind(principal, "bank")
        with UnitOfWork(runtime(request).engine, readonly=True) as uow:
            found = uow.deposits.by_reference(principal.bank_id, bank_reference)
            if found is None:
                raise NotFound(f"no deposit with bank reference {bank_reference}")
            return deposits.deposit_view(uow, found)

    @post(
        "/deposits/{bank_reference:str}/reversal",
        sync_to_thread=True,
        status_code=201,
        summary="Reverse a wrong posting on its value date",
        operation_class=IdempotentOperation,
        responses=answers({201: (R.Deposit, "The reversed deposit")}, *POST_ERRORS, 403, 404),
    )
    def reverse(
        self,
        request: Request,
        bank_reference: FromPath[str],
        data: JSONBody[ReversalIn],
        principal: NamedDependency[Principal],
    ) -> Response:
        require_kind(principal, "bank")
        ctx = runtime(request).ctx
        return run_idempotent(
            request,
            principal,
            data,
            lambda uow: (201, deposits.reverse(uow, ctx, bank_reference, data.reason, principal)),
        )
