"""Notifications: what a user is told, as a kind with parameters (the words are chosen when it is read), and
when a failed e-mail is tried again.

Invariants (tests/http/test_notifications.py):
- NOTIFIED_WITH_THE_EVENT: a notification is written in the transaction of the event that causes it, so a
  committed event has its notifications and a rolled-back one has none;
- ONLY_THE_RECIPIENT: a user reads and marks only their own notifications; another user's is not found.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

NOTIFIED_WITH_THE_EVENT = "notification.with_the_event"
ONLY_THE_RECIPIENT = "notification.only_the_recipient"

CASE_AT_STEP = "case_at_step"  # a case reached a step that the recipient's role takes
CASE_DECIDED = "case_decided"  # the recipient's (developer's) application was approved or rejected
ALERT_RAISED = "alert_raised"  # an alert was opened (or reopened) that the recipient should look at
Kind = Literal["case_at_step", "case_decided", "alert_raised"]
KINDS: tuple[str, ...] = (CASE_AT_STEP, CASE_DECIDED, ALERT_RAISED)

# Applications a developer makes: their decision is told to the developer's staff.
DEVELOPER_APPLIES = frozenset({"release", "refund", "fund_plan"})

# Alert rules about what the developer does (its notices, its drawings, its building, its releases held by
# a freeze): the developer's staff are told too, besides the bureau role that owns the rule.
DEVELOPER_ALERTS = frozenset(
    {"notice_overdue", "fund_plan_ahead", "fund_plan_behind", "frozen_with_pending_releases"}
)

# E-mail back-off: 1, 2, 4 … minutes after each failure, at most 6 hours apart; given up after 12 attempts
# (about a day and a half of trying).
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 12


def next_attempt(attempts: int, failed_at: datetime) -> datetime | None:
    """When to try an e-mail again after its `attempts`-th failure; None once it is given up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return failed_at + min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)
