"""Opening on a tri-party supervision agreement (三方监管协议, CONTRACT §8): the bank confirms it.

The bureau may name the agreement number at opening (optional: banks integrate against CONTRACT §3); the
supervising bank confirms the agreement with `{agreement_no, opened_on}`:

- another bank's account, or one that does not exist: 404 (as every bank resource);
- `opened_on` (the day the bank opened the account) before the account's opening date in the books, or in the
  future: 422 on the field;
- an agreement number other than the one named at opening, or other than the one the bank already confirmed:
  409 `agreement.mismatch` / `agreement.already_confirmed`, nothing changed;
- the same number again once confirmed: the same answer, nothing changed (the bank may retry).

An alert (`agreement_unconfirmed`, escrow.services.alerts) names the accounts not confirmed more than the
rule book's `limits.bank_confirmation_days` after opening (hengshui@2026.2: 5; older books state none and take
DEFAULT_CONFIRMATION_DAYS, a configured value, not a quoted one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from escrow.domain.errors import Conflict, FieldError, InvalidInput
from escrow.domain.principal import Principal
from escrow.services.context import Context
from escrow.services.deposits import bank_account
from escrow.services.projects import check_agreement_no
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import SupervisedAccount

# Configured, not quoted: the days a bank has to confirm the agreement under a rule book that states none.
DEFAULT_CONFIRMATION_DAYS = 5
RULE_MISMATCH = "agreement.mismatch"
RULE_CONFIRMED = "agreement.already_confirmed"


@dataclass(frozen=True)
class ConfirmAgreement:
    account_no: str
    agreement_no: str
    opened_on: date


@dataclass(frozen=True)
class ConfirmationView:
    account_no: str
    agreement_no: str
    confirmed_by_bank: bool
    confirmed_on: date  # the day the bank confirmed
    bank_opened_on: date  # the day the bank says it opened the account
    opened_on: date  # the account's opening date in the books


def _view(account: SupervisedAccount) -> ConfirmationView:
    return ConfirmationView(
        account_no=account.account_no,
        agreement_no=account.agreement_no,
        confirmed_by_bank=True,
        confirmed_on=account.confirmed_on,
        bank_opened_on=account.bank_opened_on,
        opened_on=account.opened_on,
    )


def confirm(ctx: Context, cmd: ConfirmAgreement, actor: Principal) -> ConfirmationView:
    """The supervising bank confirms the tri-party agreement of one of its accounts."""
    with ctx.writing() as uow:
        account = bank_account(uow, actor, cmd.account_no, lock=True)
        if account.confirmed_on is not None and account.agreement_no == cmd.agreement_no:
            return ctx.commit(uow, _view(account))  # the same confirmation again: nothing changes
        return ctx.commit(uow, _confirm(uow, ctx, account, cmd, actor))


def _confirm(
    uow: UnitOfWork, ctx: Context, account: SupervisedAccount, cmd: ConfirmAgreement, actor: Principal
) -> ConfirmationView:
    check_agreement_no(cmd.agreement_no)
    if account.confirmed_on is not None:
        raise Conflict(
            f"account {account.account_no} was confirmed on {account.confirmed_on} under agreement "
            f"{account.agreement_no}, not {cmd.agreement_no}",
            rule=RULE_CONFIRMED,
        )
    if account.agreement_no is not None and account.agreement_no != cmd.agreement_no:
        raise Conflict(
            f"account {account.account_no} was opened on agreement {account.agreement_no}, not "
            f"{cmd.agreement_no}",
            rule=RULE_MISMATCH,
        )
    if cmd.opened_on > ctx.today():
        raise InvalidInput(
            "the account cannot be opened in the future", errors=[FieldError.coded("opened_on", "in_future")]
        )
    if cmd.opened_on < account.opened_on:
        raise InvalidInput(
            f"the bank cannot have opened the account before {account.opened_on}, its opening in the books",
            errors=[FieldError.coded("opened_on", "before_opening", opened_on=account.opened_on.isoformat())],
        )
    before = {"agreement_no": account.agreement_no, "confirmed_on": None}
    account.agreement_no = cmd.agreement_no
    account.bank_opened_on = cmd.opened_on
    account.confirmed_on = ctx.today()
    uow.session.flush()
    view = _view(account)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="account.agreement_confirmed",
        subject_type="account",
        subject_id=account.account_no,
        account_id=account.id,
        before=before,
        after={
            "agreement_no": account.agreement_no,
            "confirmed_on": account.confirmed_on.isoformat(),
            "bank_opened_on": account.bank_opened_on.isoformat(),
        },
    )
    return view


def confirmation_days(limits: dict[str, int]) -> int:
    """The rule book's `limits.bank_confirmation_days`, or the configured default."""
    return limits.get("bank_confirmation_days", DEFAULT_CONFIRMATION_DAYS)
