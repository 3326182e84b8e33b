"""Executing the instructions that end an account's life (CONTRACT.md §8): a closure (解除监管) pays the whole
balance to the payee the bureau named and closes the account; a transfer moves the whole balance to the
project's account at its new supervising bank, closes the old account and opens the new one, which holds the
books from then on (its opening journal entry is the balance moved) and takes the contracts and open payment
notices with it (the notices are re-issued naming it).

Called by escrow.services.instructions.execute_in under the old account's lock. What the bureau checked when
it ordered the instruction is checked again (escrow.domain.lifecycle): something opened since — a freeze, a
release, unassigned money — refuses the execution (409) and the instruction stays pending. The amount paid
is the balance at execution (interest or a fee booked from a statement in the meantime changes it); a
difference from the amount ordered is recorded in the audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from escrow.domain import ledger, lifecycle
from escrow.domain.errors import Conflict
from escrow.domain.money import from_fen, to_wire
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import PaymentInstruction, SupervisedAccount


def open_items(uow: UnitOfWork, account: SupervisedAccount, today: date) -> lifecycle.OpenItems:
    """What is open on the account, as the pure rules take it."""
    balances = uow.journal.balances(account.id)
    ending = uow.instructions.ending_of(account.id)
    return lifecycle.OpenItems(
        account_no=account.account_no,
        closed=account.status == "closed",
        ending=(ending.kind, ending.id) if ending is not None else None,
        suspense_fen=balances.suspense,
        balance_fen=balances.cash,
        **uow.instructions.open_counts(account.id, today),
    )


def confirmed_by_building(uow: UnitOfWork, project_id: int) -> dict[str, set[str]]:
    """building code → its confirmed node codes (the whole project's count for each); a project without
    buildings is one building ("")."""
    progress = uow.projects.progress(project_id)
    if not progress.buildings:
        return {"": set(progress.confirmed)}
    return {b.code: set(b.confirmed) for b in progress.buildings}


def refuse_while_ending(uow: UnitOfWork, account: SupervisedAccount, what: str) -> None:
    """Nothing new opens on an account whose closure or transfer waits for the bank (409)."""
    pending = uow.instructions.ending_of(account.id)
    if pending is not None:
        blocker = lifecycle.Blocker(
            lifecycle.ENDING_PENDING, {"kind": pending.kind, "instruction_id": str(pending.id)}
        )
        raise Conflict(
            f"{what} is refused: account {account.account_no} is ending ({blocker.text})",
            rule=f"lifecycle.{lifecycle.ENDING_PENDING}",
        )


def execute(
    uow: UnitOfWork,
    ctx: Context,
    ins: PaymentInstruction,
    account: SupervisedAccount,
    *,
    executed_on: date,
    actor_ref: str,
) -> dict[str, Any]:
    """Move the books for a closure or a transfer; returns details for the audit event."""
    items = open_items(uow, account, ctx.today())
    items = lifecycle.OpenItems(**{**vars(items), "ending": None})
    if ins.kind == "closure":
        project = uow.projects.get(account.project_id)
        book = ctx.rulebook(project.rulebook_id)
        blockers = lifecycle.closure_blockers(book, confirmed_by_building(uow, project.id), items)
    else:
        blockers = lifecycle.bank_change_blockers(items)
    if blockers:
        raise lifecycle.Refused(f"executing the {ins.kind} instruction {ins.id} (it stays pending)", blockers)
    balance = items.balance_fen
    details: dict[str, Any] = {}
    if balance != ins.amount_fen:
        details["amount_ordered"] = to_wire(from_fen(ins.amount_fen))
        ins.amount_fen = balance
    details["amount_paid"] = to_wire(from_fen(balance))
    reference = f"{ins.kind}:{ins.id}"
    if ins.kind == "closure":
        if balance > 0:
            uow.journal.post(account.id, ledger.closure(balance, booked_on=executed_on, reference=reference))
        _close(account, executed_on)
        return details
    if uow.projects.account_by_no(ins.payee_account_no) is not None:  # taken since (e.g. by another transfer)
        raise Conflict(
            f"account number {ins.payee_account_no} is already in use; the transfer stays pending",
            rule="one_account_per_project",
        )
    uow.journal.post(account.id, ledger.transfer_out(balance, booked_on=executed_on, reference=reference))
    _close(account, executed_on)  # first: a project has at most one open account
    uow.session.flush()
    new = uow.projects.add(
        SupervisedAccount(
            project_id=account.project_id,
            bank_id=ins.new_bank_id,
            account_no=ins.payee_account_no,
            account_name=ins.payee_name,
            currency=account.currency,
            status="active",
            opened_on=executed_on,
        )
    )
    uow.journal.post(new.id, ledger.transfer_in(balance, booked_on=executed_on, reference=reference))
    account.replaced_by_id = new.id
    ins.new_account_id = new.id
    moved = _move_open_business(uow, account, new)
    uow.session.flush()
    # events follow on both accounts' chains: their locks in ascending order (escrow.store.audit)
    audit.lock_chains(uow.session, (audit.chain_of(account.id), audit.chain_of(new.id)))
    audit.record(
        uow.session,
        actor=actor_ref,
        action="account.opened.transfer",
        subject_type="account",
        subject_id=new.account_no,
        account_id=new.id,
        before=None,
        after={"account_no": new.account_no, "status": "active", "opened_on": executed_on.isoformat()},
        details={"replaces": account.account_no, "instruction_id": ins.id, **moved},
    )
    details.update(new_account_no=new.account_no, **moved)
    return details


def _close(account: SupervisedAccount, on: date) -> None:
    account.status, account.closed_on = "closed", on


def _move_open_business(uow: UnitOfWork, old: SupervisedAccount, new: SupervisedAccount) -> dict[str, Any]:
    """The contracts not cancelled, the open payment notices and the guarantees not released now belong to
    the new account (the notices are re-issued naming it; their history — deposits, vouchers — stays with
    the old account)."""
    contracts = uow.contracts.live_of_account(old.id)
    notices = uow.contracts.open_notices_of_account(old.id)
    held = uow.guarantees.active_of(old.id)  # they stand in for the project's retention, wherever it is held
    for row in (*contracts, *notices, *held):
        row.account_id = new.id
    return {
        "contracts_moved": [c.contract_no for c in contracts],
        "notices_reissued": [n.notice_no for n in notices],
        "guarantees_moved": [g.guarantee_no for g in held],
    }
