"""The end of an account's life as pure rules (escrow.domain.lifecycle) and its journal entries
(escrow.domain.ledger): what blocks closure (解除监管) or a change of supervising bank, as codes with
parameters, and the books' invariants across a closure and a transfer."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain import ledger, lifecycle
from escrow.rulebooks import load_dir

RULES = Path(__file__).resolve().parents[2] / "rules"
BOOK = load_dir(RULES).get("hengshui@2026.1")
ALL = {n.code for n in BOOK.nodes}
CLEAN = lifecycle.OpenItems(
    account_no="6222000011112222",
    closed=False,
    ending=None,
    suspense_fen=0,
    refunds_open=0,
    releases_open=0,
    instructions_pending=0,
    freezes_in_force=0,
    guarantees_in_force=0,
    balance_fen=100_00,
)


def test_closure_is_allowed_once_every_node_is_confirmed_and_nothing_is_open():
    assert lifecycle.closure_blockers(BOOK, {"": ALL}, CLEAN) == []
    assert lifecycle.closure_blockers(BOOK, {}, CLEAN)[0] == lifecycle.Blocker(
        "node_missing", {"building": "", "node": "half_structure"}
    )


def test_every_building_needs_every_node():
    blockers = lifecycle.closure_blockers(BOOK, {"1#": ALL, "2#": ALL - {"first_registration"}}, CLEAN)
    assert blockers == [lifecycle.Blocker("node_missing", {"building": "2#", "node": "first_registration"})]
    assert not lifecycle.conflict(blockers)  # only nodes missing: a rule not yet met (422)


@pytest.mark.parametrize(
    ("field", "value", "code", "params"),
    [
        ("suspense_fen", 1000_00, "suspense_open", {"amount": "1000.00"}),
        ("refunds_open", 1, "refunds_open", {"count": "1"}),
        ("releases_open", 2, "releases_open", {"count": "2"}),
        ("instructions_pending", 1, "instructions_pending", {"count": "1"}),
        ("freezes_in_force", 1, "freeze_in_force", {"count": "1"}),
        ("guarantees_in_force", 3, "guarantees_in_force", {"count": "3"}),
    ],
)
def test_anything_open_blocks_closure(field, value, code, params):
    items = dataclasses.replace(CLEAN, **{field: value})
    blockers = lifecycle.closure_blockers(BOOK, {"": ALL}, items)
    assert blockers == [lifecycle.Blocker(code, params)]
    assert lifecycle.conflict(blockers)
    assert blockers[0].text  # the English of the code, from its params


def test_a_closed_or_ending_account_says_only_that():
    closed = dataclasses.replace(CLEAN, closed=True, suspense_fen=5)
    assert [b.code for b in lifecycle.closure_blockers(BOOK, {}, closed)] == ["account_closed"]
    ending = dataclasses.replace(CLEAN, ending=("transfer", 7))
    assert lifecycle.bank_change_blockers(ending) == [
        lifecycle.Blocker("ending_pending", {"kind": "transfer", "instruction_id": "7"})
    ]


def test_a_bank_change_ignores_nodes_and_guarantees_but_not_what_could_still_move_money():
    assert lifecycle.bank_change_blockers(dataclasses.replace(CLEAN, guarantees_in_force=2)) == []
    items = dataclasses.replace(CLEAN, instructions_pending=1, freezes_in_force=1, releases_open=4)
    assert [b.code for b in lifecycle.bank_change_blockers(items)] == [
        "releases_open",
        "instructions_pending",
        "freeze_in_force",
    ]
    empty = dataclasses.replace(CLEAN, balance_fen=0)
    assert [b.code for b in lifecycle.bank_change_blockers(empty)] == ["nothing_to_pay"]


def test_the_refusal_is_409_unless_only_nodes_are_missing():
    missing = lifecycle.Refused("closing", lifecycle.missing_nodes(BOOK, {"": ALL - {"topped_out"}}))
    assert missing.status == 422 and missing.rule == "lifecycle.node_missing"
    open_ = lifecycle.Refused("closing", [lifecycle.Blocker("freeze_in_force", {"count": "1"})])
    assert open_.status == 409 and "court freeze" in open_.detail


DAY = date(2026, 12, 6)


@given(
    deposits=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=5),
    released=st.integers(min_value=0, max_value=100),
)
def test_the_books_keep_their_invariants_across_a_transfer_and_a_closure(deposits, released):
    old = [
        ledger.deposit(fen, suspense=False, booked_on=DAY, reference=f"d{i}")
        for i, fen in enumerate(deposits)
    ]
    out = sum(deposits) * released // 100
    if out:
        old.append(ledger.release(out, booked_on=DAY, reference="r"))
    balance = ledger.balances(old).cash
    if balance == 0:
        return
    old.append(ledger.transfer_out(balance, booked_on=DAY, reference="transfer:1"))
    new = [ledger.transfer_in(balance, booked_on=DAY, reference="transfer:1")]
    new.append(ledger.closure(balance, booked_on=DAY, reference="closure:2"))
    for entries in (old, new):
        assert all(ledger.legs_sum_to_zero(e.legs) for e in entries)
        assert ledger.balance_equals_flows(entries)
        assert ledger.balance_never_negative(entries)
        assert ledger.balances(entries).cash == 0
    assert ledger.balances(old).transferred == -ledger.balances(new[:1]).transferred == balance
