"""Buyers' payments as the supervising bank reports them: verify, post, reverse; vouchers and receipts.

The money is in the bank whatever the checks say. A blocking check failure books it to suspense with no
voucher; passing books it to the buyer's funds and issues a voucher with an unguessable verification code.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from escrow.domain import checks, dates, ledger, money
from escrow.domain.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from escrow.domain.identity import mask_name
from escrow.domain.money import Money, from_fen, to_fen
from escrow.domain.principal import Principal
from escrow.ops import metrics
from escrow.rulebooks import RuleBook
from escrow.services import ending, webhooks
from escrow.services.context import Context
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, Deposit, PaymentNotice, Project, SupervisedAccount, Voucher

KINDS = checks.NOTICE_KINDS
CHANNELS = ("counter", "transfer", "pos", "mortgage", "provident_fund")
# Crockford's base32: no I, L, O, U. 10 characters carry 50 bits.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


def new_verification_code() -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


@dataclass(frozen=True)
class VerifyDeposit:
    account_no: str
    notice_no: str | None
    amount: Decimal
    payer_name: str


@dataclass(frozen=True)
class PostDeposit:
    account_no: str
    bank_reference: str
    amount: Decimal
    payer_name: str
    payer_account: str
    notice_no: str | None
    kind: str
    channel: str
    value_date: date


VoucherStatus = Literal["issued", "confirmed", "receipted", "reversed", "refunded"]
DepositStatus = Literal["accepted", "suspense", "assigned", "returning", "returned", "reversed"]


@dataclass(frozen=True)
class CheckResult:
    rule: str
    result: Literal["pass", "fail", "warn"]
    message: str  # the English sentence
    code: str | None = None  # what the sentence says, as a code of escrow.domain.checks (None on old rows)
    params: dict[str, str] = field(default_factory=dict)  # the code's values, as text


@dataclass(frozen=True)
class NoticeSummary:
    notice_no: str
    kind: str
    amount: Money
    due_on: date
    status: Literal["open", "paid", "cancelled"]
    contract_no: str | None
    buyer_name: str | None  # masked


@dataclass(frozen=True)
class Verification:
    """What posting a payment would conclude; `ok` is false when a blocking check fails (→ suspense)."""

    ok: bool
    checks: list[CheckResult]
    rulebook: str
    notice: NoticeSummary | None


@dataclass(frozen=True)
class VoucherRef:
    voucher_no: str
    verification_code: str
    status: VoucherStatus
    lender: str | None = None  # the bank or provident fund centre that paid the buyer's loan; None: the buyer


@dataclass(frozen=True)
class DepositView:
    deposit_id: int
    account_no: str
    bank_reference: str
    amount: Money
    value_date: date
    status: DepositStatus
    checks: list[CheckResult]
    rulebook: str
    voucher: VoucherRef | None  # None when the money went to suspense

    @property
    def booked_now(self) -> bool:
        """False when the bank reference was booked before and this is that deposit (not on the wire)."""
        return True


@dataclass(frozen=True)
class BookedBefore(DepositView):
    """The deposit an earlier posting with the same bank reference booked."""

    @property
    def booked_now(self) -> bool:
        return False


@dataclass(frozen=True)
class ReceiptView:
    voucher_no: str
    status: Literal["receipted"]
    receipt_no: str


def check_results(results: list[dict[str, str]]) -> list[CheckResult]:
    return [
        CheckResult(c["rule"], c["result"], c["message"], c.get("code"), dict(c.get("params") or {}))
        for c in results
    ]


def bank_account(
    uow: UnitOfWork, principal: Principal, account_no: str, *, lock: bool = False
) -> SupervisedAccount:
    """An account this bank supervises; any other answers as if it did not exist."""
    account = uow.projects.account_by_no(account_no)
    if account is None or principal.bank_id != account.bank_id:
        raise NotFound(f"no supervised account {account_no}")
    return uow.projects.lock_account(account.id) if lock else account


@dataclass(frozen=True)
class Payment:
    """A payment as the deposit checks judge it: posted or checked by a bank, or suspense money assigned."""

    notice_no: str | None
    amount: Decimal
    payer_name: str
    value_date: date
    by_lender: bool = False  # a mortgage lender pays the loan part of the price
    by_fund_centre: bool = False  # a housing provident fund centre pays the buyer's provident fund loan


def payment_of(
    notice_no: str | None, amount: Decimal, payer_name: str, value_date: date, channel: str
) -> Payment:
    """A payment as the bank reports it: a lender is a bank paying on channel `mortgage`; a provident fund
    centre is a payer named as one paying on channel `provident_fund` (escrow.domain.checks)."""
    by_centre = channel == "provident_fund" and checks.is_provident_fund_centre(payer_name)
    return Payment(notice_no, amount, payer_name, value_date, channel == "mortgage", by_centre)


@dataclass(frozen=True)
class Judgement:
    book: RuleBook
    results: list[dict[str, str]]
    blocked: bool
    notice: PaymentNotice | None
    contract: Contract | None
    notice_paid_fen: int = 0  # accepted deposits against the notice before this payment


def judge(
    uow: UnitOfWork,
    ctx: Context,
    account: SupervisedAccount,
    payment: Payment,
    contract: Contract | None = None,
    *,
    book: RuleBook | None = None,
) -> Judgement:
    """The account's rule book's deposit checks run against a payment. The contract is the notice's;
    `contract` stands in when no notice names one (assigning suspense money to a contract chosen by hand).
    Every caller judges a payment whose bank reference is booked at most once: its own. `book`: the
    account's rule book when the caller has it already."""
    if book is None:
        _, book = _book_for(uow, ctx, account)
    # the notice, its contract and account, and what both have been paid: one statement (issue 13)
    found = uow.deposits.notice_facts(payment.notice_no) if payment.notice_no else None
    notice = found.notice if found else None
    if found is not None:
        contract, paid_fen, notice_paid_fen = found.contract, found.contract_paid_fen, found.notice_paid_fen
    else:
        paid_fen, notice_paid_fen = (uow.contracts.paid_fen(contract.id) if contract else 0), 0
    facts = checks.DepositFacts(
        account_no=account.account_no,
        amount=payment.amount,
        payer_name=payment.payer_name,
        value_date=payment.value_date,
        today=ctx.today(),
        notice_given=bool(payment.notice_no),
        notice_account_no=found.notice_account_no if found else None,
        notice_status=notice.status if notice else None,
        notice_amount=from_fen(notice.amount_fen) if notice else None,
        notice_kind=notice.kind if notice else None,
        buyer_name=contract.buyer_name if contract else None,
        contract_status=contract.status if contract else None,
        contract_price=from_fen(contract.total_price_fen) if contract else None,
        paid_so_far=from_fen(paid_fen),
        bank_reference_seen=False,
        payer_is_lender=payment.by_lender,
        payer_is_fund_centre=payment.by_fund_centre,
        notice_paid=from_fen(notice_paid_fen),
    )
    results, blocked = run_checks(book, facts)
    return Judgement(book, results, blocked, notice, contract, notice_paid_fen)


def run_checks(book: RuleBook, facts: checks.DepositFacts) -> tuple[list[dict[str, str]], bool]:
    """Each check of the rule book with its result; and whether any blocking check failed."""
    results, blocked = [], False
    for spec in book.deposit_checks:
        outcome = checks.REGISTRY[spec.rule](facts, spec.params)
        if outcome.passed:
            result = "pass"
        else:
            result = "fail" if spec.severity == "block" else "warn"
            blocked = blocked or spec.severity == "block"
        results.append({"rule": spec.rule, "result": result, **outcome.record()})
    return results, blocked


class Room:
    """What more may come into an account before the largest account total (escrow.domain.money): its
    balance and the money it has received, read once when first needed and counted on as credits are booked
    (a statement's lines, one by one). The caller holds the account's lock."""

    def __init__(self, uow: UnitOfWork, account: SupervisedAccount) -> None:
        self.uow, self.account = uow, account
        self.sums: tuple[int, int] | None = None  # (balance, received) in fen

    def take(self, fen: int, *, received: bool = True) -> None:
        """Count `fen` coming in, or refuse it (422 naming the limit). Interest is not received from payers:
        `received` false."""
        if self.sums is None:
            journal = self.uow.journal
            self.sums = (journal.balances(self.account.id).cash, journal.received_fen(self.account.id))
        balance, got = self.sums
        money.check_account_total(
            "amount", balance_fen=balance, received_fen=got, adding_fen=fen, received=received
        )
        self.sums = (balance + fen, got + fen if received else got)


def check_room(uow: UnitOfWork, account: SupervisedAccount, fen: int, *, received: bool = True) -> None:
    """Refuse money coming in (a deposit; interest with `received` false) that would take the account's
    balance or the money it has received above the largest account total."""
    Room(uow, account).take(fen, received=received)


def _book_for(uow: UnitOfWork, ctx: Context, account: SupervisedAccount) -> tuple[Project, RuleBook]:
    project = uow.projects.get(account.project_id)
    return project, ctx.rulebook(project.rulebook_id)


def notice_summary(notice: PaymentNotice | None, contract: Contract | None) -> NoticeSummary | None:
    if notice is None:
        return None
    return NoticeSummary(
        notice_no=notice.notice_no,
        kind=notice.kind,
        amount=from_fen(notice.amount_fen),
        due_on=notice.due_on,
        status=notice.status,
        contract_no=contract.contract_no if contract else None,
        buyer_name=mask_name(contract.buyer_name) if contract else None,
    )


def verify(ctx: Context, cmd: VerifyDeposit, actor: Principal) -> Verification:
    """What posting this payment would conclude, without changing anything."""
    return ctx.run(_verify, cmd, actor)  # writing: the API's idempotency key is kept like any POST's


def _verify(uow: UnitOfWork, ctx: Context, cmd: VerifyDeposit, actor: Principal) -> Verification:
    account = bank_account(uow, actor, cmd.account_no)
    judged = judge(uow, ctx, account, Payment(cmd.notice_no, cmd.amount, cmd.payer_name, ctx.today()))
    return Verification(
        ok=not judged.blocked,
        checks=check_results(judged.results),
        rulebook=judged.book.id,
        notice=notice_summary(judged.notice, judged.contract),
    )


def settle_notice(uow: UnitOfWork, notice: PaymentNotice, paid_fen: int | None = None) -> None:
    """After a payment against it is booked: the notice is paid (a combination loan's once its parts, this
    one included, reach its amount). `paid_fen`: what has been paid against it now, when the caller knows
    it (read under the account's lock before this payment, plus this payment); else it is summed again."""
    if paid_fen is None:
        uow.session.flush()
        paid_fen = uow.contracts.notice_paid_fen(notice.id)
    paid = from_fen(paid_fen)
    if checks.notice_settled(notice.kind, from_fen(notice.amount_fen), paid):
        notice.status = "paid"


def issue_voucher(uow: UnitOfWork, deposit: Deposit, on: date, voucher_id: int | None = None) -> Voucher:
    """The buyer's voucher for money booked to their contract, numbered PZ<date of issue><id>. `voucher_id`:
    an id drawn from the vouchers' sequence beforehand (PostgreSQL), so that it is written numbered in one
    INSERT; without it the number follows the id the INSERT gave."""
    if voucher_id is not None:
        return uow.deposits.add(
            Voucher(
                id=voucher_id,
                voucher_no=voucher_number(on, voucher_id),
                deposit_id=deposit.id,
                account_id=deposit.account_id,
                verification_code=new_verification_code(),
            )
        )
    voucher = uow.deposits.add(
        Voucher(
            voucher_no=f"pending-{uuid.uuid4().hex}",
            deposit_id=deposit.id,
            account_id=deposit.account_id,
            verification_code=new_verification_code(),
        )
    )
    voucher.voucher_no = voucher_number(on, voucher.id)
    uow.session.flush()
    return voucher


def voucher_number(on: date, voucher_id: int) -> str:
    return f"PZ{on:%Y%m%d}{voucher_id:07d}"


def deposit_view(uow: UnitOfWork, deposit: Deposit) -> DepositView:
    voucher = uow.deposits.voucher_for(deposit.id)
    account = uow.session.get(SupervisedAccount, deposit.account_id)
    return view_of(deposit, account.account_no, voucher)


def view_of(deposit: Deposit, account_no: str, voucher: Voucher | None) -> DepositView:
    """A deposit's view from rows the caller holds (no query)."""
    return DepositView(
        deposit_id=deposit.id,
        account_no=account_no,
        bank_reference=deposit.bank_reference,
        amount=from_fen(deposit.amount_fen),
        value_date=deposit.value_date,
        status=deposit.status,
        checks=check_results(deposit.checks),
        rulebook=deposit.rulebook_id,
        voucher=(
            VoucherRef(
                voucher.voucher_no,
                voucher.verification_code,
                voucher.status,
                checks.lender_of(deposit.checks, deposit.payer_name),
            )
            if voucher
            else None
        ),
    )


def get(ctx: Context, bank_reference: str, actor: Principal) -> DepositView:
    """A deposit of this bank by its bank reference."""
    with ctx.reading() as uow:
        found = uow.deposits.by_reference(actor.bank_id, bank_reference)
        if found is None:
            raise NotFound(f"no deposit with bank reference {bank_reference}")
        return deposit_view(uow, found)


def book(ctx: Context, cmd: PostDeposit, actor: Principal) -> DepositView:
    """Book a payment; for a bank reference already booked, that deposit (`booked_now` false)."""
    view = ctx.run(_book, cmd, actor)
    if getattr(view, "booked_now", True):
        metrics.deposit_posted()  # after the commit: a refused or rolled back deposit is not counted
    return view


def post(uow: UnitOfWork, ctx: Context, cmd: PostDeposit, actor: Principal) -> DepositView:
    """`book` in the caller's unit of work (the demo's batch)."""
    return _book(uow, ctx, cmd, actor)


def _book(uow: UnitOfWork, ctx: Context, cmd: PostDeposit, actor: Principal) -> DepositView:
    # the account, locked, with what the checks below need of it: one statement (issue 13)
    target = uow.deposits.target(cmd.account_no, actor.bank_id, cmd.bank_reference, actor.key_id)
    if target is None or actor.bank_id != target.account.bank_id:
        raise NotFound(f"no supervised account {cmd.account_no}")
    if not target.key_active:  # revoked since this process cached the key's principal: no money booked
        raise NotAuthenticated("the API key is not valid")
    account = target.account
    if target.booked_before is not None:
        existing = uow.deposits.get(target.booked_before)
        if existing.account_id != account.id or existing.amount_fen != to_fen(cmd.amount):
            raise Conflict(
                f"bank reference {cmd.bank_reference} was already booked for another payment",
                rule="bank_reference_unseen",
            )
        return BookedBefore(**vars(deposit_view(uow, existing)))
    if account.status == "closed":  # supervision has ended here (closure or a change of bank): 409
        raise Conflict(f"account {account.account_no} is closed", rule="account_open")
    if target.ending_pending:
        ending.refuse_while_ending(uow, account, "a deposit")
    dates.check_within_account_life("value_date", cmd.value_date, account.opened_on, ctx.today())
    if cmd.kind not in KINDS or cmd.channel not in CHANNELS:
        raise InvalidInput("unknown kind or channel")
    money.check_amount(cmd.amount)
    room = Room(uow, account)
    room.sums = (target.cash_fen, target.received_fen)
    room.take(to_fen(cmd.amount))
    payment = payment_of(cmd.notice_no, cmd.amount, cmd.payer_name, cmd.value_date, cmd.channel)
    judged = judge(uow, ctx, account, payment, book=ctx.rulebook(target.rulebook_id))
    notice, contract = judged.notice, judged.contract
    accepted = not judged.blocked
    deposit = uow.deposits.add(
        Deposit(
            account_id=account.id,
            bank_id=actor.bank_id,
            bank_reference=cmd.bank_reference,
            amount_fen=to_fen(cmd.amount),
            payer_name=cmd.payer_name,
            payer_account=cmd.payer_account,
            notice_id=notice.id if notice else None,  # kept for suspense money too: it helps trace it
            contract_id=contract.id if contract else None,
            kind=cmd.kind,
            channel=cmd.channel,
            value_date=cmd.value_date,
            status="accepted" if accepted else "suspense",
            checks=judged.results,
            rulebook_id=judged.book.id,
        )
    )
    entry = ledger.deposit(
        deposit.amount_fen, suspense=not accepted, booked_on=cmd.value_date, reference=f"deposit:{deposit.id}"
    )
    uow.journal.post(account.id, entry)
    voucher = None
    if accepted:
        if notice is not None:  # paid before (read under the account's lock) and this payment
            settle_notice(uow, notice, judged.notice_paid_fen + deposit.amount_fen)
        voucher = issue_voucher(uow, deposit, cmd.value_date, target.voucher_id)
    view = view_of(deposit, account.account_no, voucher)
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"deposit.{deposit.status}",
        subject_type="deposit",
        subject_id=deposit.id,
        account_id=account.id,
        after={k: v for k, v in wire(view).items() if k != "voucher"},
        details={"voucher_no": view.voucher.voucher_no if view.voucher else None},
    )
    if target.hooked:  # the developer's webhooks, in this transaction (no statement at all without one)
        webhooks.deposit_posted(uow, account.id, lambda: view)
    return view


def reverse(ctx: Context, bank_reference: str, reason: str, actor: Principal) -> DepositView:
    """Same-day correction of a wrong posting: a reversing journal entry; the voucher becomes reversed."""
    return ctx.run(_reverse, bank_reference, reason, actor)


def _reverse(
    uow: UnitOfWork, ctx: Context, bank_reference: str, reason: str, actor: Principal
) -> DepositView:
    deposit = uow.deposits.by_reference(actor.bank_id, bank_reference)
    if deposit is None:
        raise NotFound(f"no deposit with bank reference {bank_reference}")
    account = uow.projects.lock_account(deposit.account_id)
    uow.session.refresh(deposit)
    _, book = _book_for(uow, ctx, account)
    if deposit.status == "reversed":
        raise Conflict(f"deposit {bank_reference} is already reversed")
    if deposit.status not in ("accepted", "suspense"):
        raise InvalidInput(f"a {deposit.status} deposit cannot be reversed", rule="reversal")
    if book.limits.get("reversal_same_day", 1) and ctx.today() != deposit.value_date:
        raise InvalidInput(
            f"a deposit can be reversed only on its value date {deposit.value_date}",
            rule=f"{book.id} limits.reversal_same_day",
        )
    original = ledger.deposit(
        deposit.amount_fen,
        suspense=deposit.status == "suspense",
        booked_on=deposit.value_date,
        reference=f"deposit:{deposit.id}",
    )
    entry = ledger.reversal(original, booked_on=ctx.today(), reference=f"reversal:{deposit.id}")
    if not ledger.can_post(uow.journal.balances(account.id), entry):
        raise InvalidInput(
            "reversing would overdraw the account: the money has already left it", rule="balance"
        )
    before = deposit_view(uow, deposit)
    uow.journal.post(account.id, entry)
    if deposit.notice_id is not None:
        notice = uow.session.get(PaymentNotice, deposit.notice_id)
        notice.status = "open"
    voucher = uow.deposits.voucher_for(deposit.id)
    if voucher is not None:
        voucher.status = "reversed"
    deposit.status = "reversed"
    uow.session.flush()
    view = deposit_view(uow, deposit)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="deposit.reversed",
        subject_type="deposit",
        subject_id=deposit.id,
        account_id=account.id,
        before=wire(before),
        after=wire(view),
        details={"reason": reason},
    )
    return view


def receipt(ctx: Context, voucher_no: str, receipt_no: str, actor: Principal) -> ReceiptView:
    """The developer exchanges a voucher for its receipt (缴款票据)."""
    with ctx.writing() as uow:
        return ctx.commit(uow, _receipt(uow, voucher_no, receipt_no, actor))


def _receipt(uow: UnitOfWork, voucher_no: str, receipt_no: str, actor: Principal) -> ReceiptView:
    voucher = uow.deposits.voucher_by_no(voucher_no)
    project = None
    if voucher is not None:
        account = uow.session.get(SupervisedAccount, voucher.account_id)
        project = uow.projects.get(account.project_id)
    if voucher is None or actor.developer_id is None or project.developer_id != actor.developer_id:
        raise NotFound(f"no voucher {voucher_no}")
    if voucher.status == "receipted":
        raise Conflict(f"voucher {voucher_no} already has receipt {voucher.receipt_no}")
    if voucher.status not in ("issued", "confirmed"):
        raise InvalidInput(f"a {voucher.status} voucher cannot be receipted", rule="voucher_status")
    before = voucher.status
    voucher.status, voucher.receipt_no = "receipted", receipt_no
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor.ref,
        action="voucher.receipted",
        subject_type="voucher",
        subject_id=voucher_no,
        account_id=voucher.account_id,
        before={"status": before},
        after={"status": "receipted", "receipt_no": receipt_no},
    )
    return ReceiptView(voucher.voucher_no, "receipted", receipt_no)
