"""Audit events in sentences: every action the services record (`audit.record(action=…)`) by a message id
whose parameters are filled from the event — who acted (`actor`, already in words), what it concerned
(`id`: the subject's number as the event stored it) and its details (amounts as money, dates as long dates,
a node by its name, a role by its word). An action with no sentence yet is said by a plain sentence that
names no code. tests/unit/test_event_words.py checks that every action the code can write has its sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from escrow.catalog import N_, Gettext
from escrow.catalog.caps import amount_text
from escrow.catalog.words import ROLE_NAMES, named

# Approval workflows (escrow.services.approvals.Flow kinds) in words, for the sentences of their steps.
_FLOWS = {
    "release": (N_("release application #%(id)s"), "release"),
    "refund": (N_("refund #%(id)s"), "refund"),
    "supervised_amount_change": (N_("key supervised amount change #%(id)s"), "change"),
    "adoption": (N_("rule book adoption #%(id)s"), "adoption"),
    "fund_plan": (N_("fund plan #%(id)s"), "plan"),
}

EVENTS = {
    # projects, buildings, nodes
    "project.opened": N_("%(actor)s opened project #%(id)s for supervision"),
    "building.added": N_("%(actor)s added building %(code)s to project #%(id)s"),
    "node.confirmed": N_(
        "%(actor)s confirmed the node “%(node)s” of project #%(id)s, reached on %(reached_on)s"
    ),
    "project.supervised_amount_changed": N_("%(actor)s changed the key supervised amount of project #%(id)s"),
    "project.rulebook_adopted": N_("%(actor)s moved project #%(id)s to another rule book version"),
    # the account
    "account.opened.transfer": N_("%(actor)s opened account %(id)s to take over from account %(replaces)s"),
    "account.agreement_confirmed": N_(
        "%(actor)s confirmed the tri-party supervision agreement of account %(id)s"
    ),
    "account.frozen": N_("Account %(id)s is frozen by a court order (recorded by %(actor)s)"),
    "account.active": N_("Account %(id)s is active again (recorded by %(actor)s)"),
    "account.closed": N_("%(actor)s closed account %(id)s"),
    "statement.reconciled": N_("%(actor)s sent statement #%(id)s; it reconciles with the books"),
    "statement.discrepancy": N_("%(actor)s sent statement #%(id)s; it differs from the books"),
    # buyers' money
    "contract.registered": N_("%(actor)s registered contract %(id)s"),
    "contract.cancelled": N_("%(actor)s cancelled contract %(id)s; %(paid)s paid in is to be refunded"),
    "notice.issued": N_("%(actor)s issued payment notice %(id)s"),
    "deposit.accepted": N_("%(actor)s booked payment #%(id)s; voucher %(voucher_no)s issued"),
    "deposit.suspense": N_("%(actor)s booked payment #%(id)s into suspense: its payer is not yet known"),
    "deposit.assigned": N_("%(actor)s assigned payment #%(id)s in suspense to contract %(contract_no)s"),
    "deposit.returning": N_("%(actor)s ordered payment #%(id)s in suspense returned to its payer"),
    "deposit.returned": N_("%(actor)s returned payment #%(id)s to its payer"),
    "deposit.reversed": N_("%(actor)s reversed payment #%(id)s"),
    "voucher.receipted": N_("%(actor)s exchanged voucher %(id)s for its receipt"),
    # releases, refunds, instructions
    "release.submitted": N_("%(actor)s applied for release #%(id)s (releasable then %(cap)s)"),
    "refund.submitted": N_("%(actor)s applied for refund #%(id)s"),
    "release.executed": N_("%(actor)s paid out release #%(id)s"),
    "refund.executed": N_("%(actor)s paid out refund #%(id)s"),
    "instruction.created.closure": N_("%(actor)s ordered the closing payout (instruction #%(id)s)"),
    "instruction.created.transfer": N_(
        "%(actor)s ordered the move to another supervising bank (instruction #%(id)s)"
    ),
    "instruction.executed.release": N_("%(actor)s executed payment instruction #%(id)s of a release"),
    "instruction.executed.refund": N_("%(actor)s executed payment instruction #%(id)s of a refund"),
    "instruction.executed.return": N_(
        "%(actor)s executed payment instruction #%(id)s returning money to its payer"
    ),
    "instruction.executed.closure": N_("%(actor)s executed the closing payout (instruction #%(id)s)"),
    "instruction.executed.transfer": N_(
        "%(actor)s moved the balance to the new supervising bank (instruction #%(id)s)"
    ),
    # approval workflows: submitted, each step, the outcome
    "supervised_amount_change.submitted": N_("%(actor)s applied for key supervised amount change #%(id)s"),
    "adoption.submitted": N_("%(actor)s proposed rule book adoption #%(id)s"),
    "fund_plan.submitted": N_("%(actor)s submitted fund plan #%(id)s (planned in all %(planned_total)s)"),
    "fund_plan.superseded": N_("Fund plan #%(id)s was replaced by version %(by_version)s (%(actor)s)"),
    # court freezes and guarantees
    "freeze.placed": N_("%(actor)s recorded court freeze #%(id)s"),
    "freeze.lifted": N_("%(actor)s recorded that court freeze #%(id)s is lifted"),
    "freeze.deducted": N_(
        "%(actor)s paid %(deducted)s of court freeze #%(id)s to the court, on %(executed_on)s"
    ),
    "guarantee.registered": N_("%(actor)s registered bank guarantee #%(id)s (counted up to %(limit)s)"),
    "guarantee.released": N_("%(actor)s ended bank guarantee #%(id)s"),
    # parties, sign-in, upkeep
    "bank.created": N_("%(actor)s registered bank %(id)s"),
    "developer.created": N_("%(actor)s registered developer %(id)s"),
    "user.created": N_("%(actor)s created user account %(id)s"),
    "user.signed_in": N_("%(actor)s signed in"),
    "user.locked": N_("%(actor)s was locked out after repeated wrong passwords"),
    "api_key.created": N_("%(actor)s issued an API key"),
    "api_key.revoked": N_("%(actor)s revoked an API key"),
    "user.disabled": N_("%(actor)s disabled user account %(id)s"),
    "user.enabled": N_("%(actor)s enabled user account %(id)s again"),
    "user.password_reset": N_("%(actor)s reset the password of user account %(id)s"),
    "user.unlocked": N_("%(actor)s unlocked user account %(id)s"),
    "webhook.created": N_("%(actor)s subscribed webhook #%(id)s to events"),
    "webhook.secret_rotated": N_("%(actor)s rotated the signing secret of webhook #%(id)s"),
    "webhook.deleted": N_("%(actor)s deleted webhook #%(id)s"),
    "notification.read": N_("%(actor)s read a notification"),
    "notification.read_all": N_("%(actor)s marked every notification read"),
    "alert.opened": N_("An alert was raised (#%(id)s, %(actor)s)"),
    "alert.reopened": N_("Alert #%(id)s was raised again (%(actor)s)"),
    "alert.acknowledged": N_("%(actor)s acknowledged alert #%(id)s"),
    "alert.resolved": N_("Alert #%(id)s was resolved (%(actor)s)"),
    "idempotency.pruned": N_("%(actor)s pruned %(deleted)s old replay records"),
    "report.quiet_listed": N_(
        "%(actor)s listed the accounts without movements for the monthly reports of %(period)s"
    ),
    "report.archived": N_("%(actor)s archived a monthly report of %(period)s"),
    "audit.anchored": N_("%(actor)s anchored the audit trail"),
}
# Each approval workflow's step and outcome sentences (one message id each, so each reads naturally).
FLOW_EVENTS = {
    "step_approved": N_("%(actor)s approved step %(step_no)s (%(role)s) of %(subject)s"),
    "step_rejected": N_("%(actor)s rejected %(subject)s at step %(step_no)s (%(role)s)"),
    # what escrow.services.approvals wrote for a rejected step before it wrote step_rejected (kept: stored)
    "step_rejectd": N_("%(actor)s rejected %(subject)s at step %(step_no)s (%(role)s)"),
    "approved": N_("%(subject)s: approved (%(actor)s)"),
    "rejected": N_("%(subject)s: not approved (%(actor)s)"),
}
for _kind in _FLOWS:
    for _outcome in FLOW_EVENTS:
        EVENTS.setdefault(f"{_kind}.{_outcome}", FLOW_EVENTS[_outcome])
OTHER_EVENT = N_("%(actor)s recorded a change")

# Details said as money, and as long dates.
MONEY_KEYS = frozenset(
    {"cap", "limit", "planned_total", "deducted", "paid", "supervised_amount", "supervised_amount_added"}
)
DATE_KEYS = frozenset({"reached_on", "executed_on", "ordered_on", "created_before"})


class _Filled(dict):
    """Parameters of a sentence: a detail the event did not store reads as a dash, never a KeyError."""

    def __missing__(self, key: str) -> str:
        return "—"


def _money(value: Any) -> str:
    try:
        return f"¥{amount_text(Decimal(str(value)))}"
    except (InvalidOperation, ValueError):
        return str(value)


def event_sentence(
    _: Gettext,
    action: str,
    *,
    actor: str,
    subject_id: str,
    details: Mapping[str, Any] | None,
    long_date: Callable[[date | str], str],
    node_name: Callable[[str], str] = lambda code: code,
) -> str:
    """One event in words: `actor` is already in words (escrow.catalog.actors), `long_date` writes a date
    in the reader's language, `node_name` names a node of the event's rule book."""
    params = _Filled(actor=actor, id=subject_id)
    for key, value in (details or {}).items():
        if value is None or isinstance(value, dict | list):
            continue
        if key in MONEY_KEYS:
            params[key] = _money(value)
        elif key in DATE_KEYS:
            params[key] = long_date(str(value))
        elif key == "node_code":
            params["node"] = node_name(str(value))
        elif key == "role":
            params["role"] = named(_, ROLE_NAMES, str(value))
        else:
            params[key] = str(value)
    kind, _dot, outcome = action.partition(".")
    if kind in _FLOWS and outcome in FLOW_EVENTS:
        params["subject"] = _(_FLOWS[kind][0]) % params
    return _(EVENTS.get(action, OTHER_EVENT)) % params
