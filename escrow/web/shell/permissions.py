"""Who may do what in the web UI: one table of role × action, checked by every page and form.

Services still apply their own rules on top (the approval chain names the role of each step, the same
person may not take two steps, a developer sees only its own projects); this table decides which pages and
buttons a role gets at all. tests/http/test_web_permissions.py walks every cell of it through the real app.
"""

from __future__ import annotations

from escrow.domain.principal import BANK_STAFF, BUREAU_ROLES, DEVELOPER_STAFF

DEVELOPER = DEVELOPER_STAFF  # developer staff: users bound to a developer
BANK = BANK_STAFF  # bank staff: users bound to a supervising bank (the read-only bank portal)
ROLES = (*BUREAU_ROLES, DEVELOPER, BANK)

_BUREAU = frozenset(BUREAU_ROLES)
_DECIDERS = frozenset({"reviewer", "approver", "director"})

# action → roles allowed
MATRIX: dict[str, frozenset[str]] = {
    "dashboard.view": _BUREAU,
    "projects.view": _BUREAU,
    "alerts.view": _BUREAU,
    "alerts.handle": frozenset({"admin", "reviewer", "approver", "director"}),
    "nodes.confirm": frozenset({"inspector"}),
    "guarantees.manage": frozenset({"admin"}),
    "accounts.end": frozenset({"admin"}),  # order a closure (解除监管) or a change of supervising bank
    "releases.view": _BUREAU,
    "releases.decide": _DECIDERS,
    "refunds.view": _BUREAU,
    "refunds.decide": _DECIDERS,
    "fund_plans.view": _BUREAU,
    "fund_plans.decide": _DECIDERS,
    "suspense.resolve": frozenset({"reviewer", "approver"}),
    "rules.what_if": frozenset({"admin", "reviewer", "approver", "director", "auditor"}),
    "rules.adopt": frozenset({"admin"}),  # apply for a rule book adoption
    "rules.decide": _DECIDERS,  # take a step of an adoption's approval chain
    "buildings.add": frozenset({"admin"}),  # add a building with a new permit area (as for opening)
    "amounts.change": frozenset({"admin"}),  # apply for a key supervised amount change (as for opening)
    "amounts.decide": _DECIDERS,  # take a step of a key supervised amount change's approval chain
    "audit.view": frozenset({"admin", "director", "auditor"}),
    "documents.view": frozenset({*BUREAU_ROLES, DEVELOPER}),
    "portal.view": frozenset({DEVELOPER}),
    "portal.contracts": frozenset({DEVELOPER}),
    "portal.notices": frozenset({DEVELOPER}),
    "portal.releases": frozenset({DEVELOPER}),
    "portal.fund_plan": frozenset({DEVELOPER}),
    "admin.users": frozenset({"admin"}),  # create, disable, enable, unlock users and reset passwords
    "admin.keys": frozenset({"admin"}),  # create and revoke API keys
    "bank.view": frozenset({BANK}),  # the bank portal: read only, the user's own bank
    "inbox.view": frozenset(ROLES),  # one's own notifications (escrow.web.shell.inbox)
}

ACTIONS = tuple(MATRIX)


def allowed(role: str | None, action: str) -> bool:
    """Unknown actions are refused, so a typo in a page closes it rather than opening it."""
    return role is not None and role in MATRIX.get(action, frozenset())


def home(role: str) -> str:
    """Where `/` sends a role: developer staff to their portal, bank staff to theirs, everyone else to the
    city dashboard."""
    return {DEVELOPER: "/developer", BANK: "/bank"}.get(role, "/")
