"""Four eyes: who may take the next step of an approval chain, and why not (escrow.domain.approvals)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain import approvals as rules
from escrow.domain.errors import Conflict, Forbidden, InvalidInput
from tests.unit.test_caps import BOOK

BASE = rules.refund_chain(BOOK)  # reviewer → approver
LONG = BOOK.approval_steps_for(Decimal("100000000.00"))  # with the director's step
ROLES = ("reviewer", "approver", "director", "inspector", "auditor", "admin", None)


def test_the_chains() -> None:
    assert [s.role for s in BASE] == ["reviewer", "approver"]
    assert [s.role for s in LONG] == ["reviewer", "approver", "director"]
    assert rules.deciding_roles(BOOK) == {"reviewer", "approver", "director"}


def test_the_reviewer_takes_the_first_step() -> None:
    may = rules.may_decide(BOOK, BASE, [], "submitted", "reviewer", 1)
    assert may.allowed and may.reason is None and may.step.step_no == 1 and may.step.role == "reviewer"


@pytest.mark.parametrize(
    ("deciders", "status", "role", "user", "reason"),
    [
        ([], "approved", "reviewer", 1, rules.DECIDED),
        ([1, 2], "submitted", "approver", 3, rules.DECIDED),  # every step taken
        ([], "submitted", "inspector", 1, rules.ROLE_CANNOT_DECIDE),
        ([], "submitted", None, None, rules.ROLE_CANNOT_DECIDE),
        ([], "submitted", "approver", 1, rules.WRONG_ROLE),
        ([], "submitted", "director", 1, rules.WRONG_ROLE),
        ([1], "submitted", "reviewer", 1, rules.WRONG_ROLE),  # own_step tells the page it took step 1
        ([1], "submitted", "approver", 1, rules.ALREADY_TOOK_A_STEP),  # promoted, still one person
    ],
)
def test_why_not(deciders, status, role, user, reason) -> None:
    may = rules.may_decide(BOOK, BASE, deciders, status, role, user)
    assert not may.allowed and may.reason == reason
    assert may.own_step == (deciders.index(user) + 1 if user in deciders else None)


def test_without_distinct_people_one_person_may_take_two_steps() -> None:
    lenient = dataclasses.replace(BOOK, release=dataclasses.replace(BOOK.release, distinct_people=False))
    assert rules.may_decide(lenient, BASE, [1], "submitted", "approver", 1).allowed


@given(
    st.lists(st.integers(1, 5), max_size=3, unique=True),
    st.sampled_from(("submitted", "approved", "rejected", "executed")),
    st.sampled_from(ROLES),
    st.integers(1, 6),
)
def test_allowed_exactly_when_every_rule_holds(deciders, status, role, user) -> None:
    chain = LONG
    may = rules.may_decide(BOOK, chain, deciders, status, role, user)
    open_step = status == "submitted" and len(deciders) < len(chain)
    expected = open_step and chain[len(deciders)].role == role and user not in deciders
    assert may.allowed == expected
    assert (may.reason is None) == expected
    if not may.allowed and may.reason != rules.DECIDED:
        assert may.step is not None
        error = rules.refusal(may, BOOK, "release 1", "someone")
        assert isinstance(error, InvalidInput if may.reason == rules.ALREADY_TOOK_A_STEP else Forbidden)


def test_refusals_name_the_rule() -> None:
    decided = rules.may_decide(BOOK, BASE, [], "rejected", "reviewer", 1)
    assert isinstance(rules.refusal(decided, BOOK, "refund 3", "x"), Conflict)
    twice = rules.may_decide(BOOK, BASE, [1], "submitted", "approver", 1)
    assert rules.refusal(twice, BOOK, "refund 3", "x").rule == f"{BOOK.id} release.distinct_people"
    wrong = rules.may_decide(BOOK, BASE, [], "submitted", "approver", 1)
    assert "reviewer" in rules.refusal(wrong, BOOK, "refund 3", "x").detail


def test_a_decision_is_approve_or_reject_and_a_rejection_says_why() -> None:
    with pytest.raises(InvalidInput):
        rules.check_choice(rules.Decision("maybe"))
    with pytest.raises(InvalidInput):
        rules.check_reason(rules.Decision("reject", "  "))
    rules.check_reason(rules.Decision("reject", "no wage statement"))
    rules.check_reason(rules.Decision("approve"))


def test_the_applicant_of_an_adoption_never_decides_it() -> None:
    """A rule book adoption is applied for by a bureau user (escrow.services.adoptions): that user takes no
    step, even holding the role the step names; with distinct_people off the rule book allows it."""
    chain = rules.adoption_chain(BOOK)
    assert [s.role for s in chain] == ["reviewer", "approver"]  # no amount thresholds
    mine = rules.may_decide(BOOK, chain, [], "submitted", "reviewer", 7, applicant=7)
    assert (mine.allowed, mine.reason) == (False, rules.APPLICANT)
    assert rules.refusal(mine, BOOK, "adoption 1", "li").rule == f"{BOOK.id} release.distinct_people"
    assert rules.may_decide(BOOK, chain, [], "submitted", "reviewer", 8, applicant=7).allowed
    lenient = dataclasses.replace(BOOK, release=dataclasses.replace(BOOK.release, distinct_people=False))
    assert rules.may_decide(lenient, chain, [], "submitted", "reviewer", 7, applicant=7).allowed
