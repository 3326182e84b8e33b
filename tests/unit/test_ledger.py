"""Double-entry books of one supervised account and their named invariants (DESIGN §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escrow.domain import ledger
from escrow.domain.ledger import (
    Balances,
    Entry,
    EntryKind,
    Ledger,
    LedgerError,
    Leg,
    balance_equals_flows,
    balance_never_negative,
    balances,
    can_post,
    legs_sum_to_zero,
    suspense_never_negative,
)

DAY = date(2025, 3, 14)


def _all_invariants_hold(entries: list[Entry]) -> None:
    for e in entries:
        assert legs_sum_to_zero(e.legs), e
        assert len(e.legs) >= 2
        assert all(leg.amount_fen != 0 for leg in e.legs)
    assert balance_equals_flows(entries)
    assert balance_never_negative(entries)
    assert suspense_never_negative(entries)


# --- random sequences of valid operations -------------------------------------------------------------

OPS = ("deposit", "deposit_suspense", "reverse", "assign", "return", "release", "refund", "court", "interest")
amounts = st.integers(min_value=1, max_value=200_000)
operations = st.lists(st.tuples(st.sampled_from(OPS), amounts, st.integers(min_value=0, max_value=1000)))


@dataclass
class Model:
    """An independent account of what the books must show, kept without the ledger module's help."""

    cash: int = 0
    suspense: int = 0
    buyer_funds: int = 0
    interest: int = 0
    released: int = 0
    refunded: int = 0
    deducted: int = 0
    deposits: list[tuple[Entry, bool]] = field(default_factory=list)  # (entry, suspense?) not yet reversed


def _entry_for(op: str, fen: int, pick: int, model: Model, n: int) -> tuple[Entry, dict[str, int]] | None:
    ref = f"op-{n}"
    # Half of the outflows are sized to fit what is there, so that postable ones are common; the other half
    # keep their random size and are often refused by can_post.
    available = model.suspense if op in ("assign", "return") else model.cash
    if op in ("assign", "return", "release", "refund", "court") and pick % 2 == 0 and available > 0:
        fen = 1 + fen % available
    if op == "deposit":
        return ledger.deposit(fen, suspense=False, booked_on=DAY, reference=ref), {
            "cash": fen,
            "buyer_funds": fen,
        }
    if op == "deposit_suspense":
        return ledger.deposit(fen, suspense=True, booked_on=DAY, reference=ref), {
            "cash": fen,
            "suspense": fen,
        }
    if op == "reverse":
        if not model.deposits:
            return None
        original, to_suspense = model.deposits[pick % len(model.deposits)]
        amount = original.legs[0].amount_fen
        side = "suspense" if to_suspense else "buyer_funds"
        return ledger.reversal(original, booked_on=DAY, reference=ref), {"cash": -amount, side: -amount}
    if op == "assign":
        return ledger.suspense_assigned(fen, booked_on=DAY, reference=ref), {
            "suspense": -fen,
            "buyer_funds": fen,
        }
    if op == "return":
        return ledger.suspense_returned(fen, booked_on=DAY, reference=ref), {"suspense": -fen, "cash": -fen}
    if op == "release":
        return ledger.release(fen, booked_on=DAY, reference=ref), {"cash": -fen, "released": fen}
    if op == "refund":
        return ledger.refund(fen, booked_on=DAY, reference=ref), {"cash": -fen, "refunded": fen}
    if op == "court":
        return ledger.court_deduction(fen, booked_on=DAY, reference=ref), {"cash": -fen, "deducted": fen}
    assert op == "interest"
    return ledger.interest(fen, booked_on=DAY, reference=ref), {"cash": fen, "interest": fen}


@settings(max_examples=200)
@given(operations)
def test_random_valid_operations_keep_every_invariant(ops: list[tuple[str, int, int]]) -> None:
    model = Model()
    entries: list[Entry] = []
    for n, (op, fen, pick) in enumerate(ops):
        built = _entry_for(op, fen, pick, model, n)
        if built is None:
            continue
        entry, delta = built
        assert legs_sum_to_zero(entry.legs)
        current = balances(entries)
        after_cash = model.cash + delta.get("cash", 0)
        after_suspense = model.suspense + delta.get("suspense", 0)
        allowed = can_post(current, entry)
        # can_post answers exactly "cash and suspense stay at or above zero".
        assert allowed == (after_cash >= 0 and after_suspense >= 0), (op, fen, model)
        if not allowed:
            # ... and posting it anyway would indeed break a named invariant.
            trial = [*entries, entry]
            assert not (balance_never_negative(trial) and suspense_never_negative(trial))
            continue
        entries.append(entry)
        for name, change in delta.items():
            setattr(model, name, getattr(model, name) + change)
        if op in ("deposit", "deposit_suspense"):
            model.deposits.append((entry, op == "deposit_suspense"))
        elif op == "reverse":
            model.deposits.pop(pick % len(model.deposits))

        _all_invariants_hold(entries)
        got = balances(entries)
        assert got == Balances(
            cash=model.cash,
            buyer_funds=model.buyer_funds,
            suspense=model.suspense,
            interest=model.interest,
            released=model.released,
            refunded=model.refunded,
            deducted=model.deducted,
        )
    # The books as a whole balance: every debit has its credit.
    assert sum(leg.amount_fen for e in entries for leg in e.legs) == 0


@given(st.lists(amounts, min_size=1, max_size=20), st.data())
def test_balance_equals_deposits_less_outflows(deposits: list[int], data: st.DataObject) -> None:
    entries = [
        ledger.deposit(f, suspense=False, booked_on=DAY, reference=f"d{i}") for i, f in enumerate(deposits)
    ]
    total = sum(deposits)
    released = data.draw(st.integers(min_value=0, max_value=total), label="released")
    refunded = data.draw(st.integers(min_value=0, max_value=total - released), label="refunded")
    earned = data.draw(st.integers(min_value=0, max_value=10_000), label="interest")
    if released:
        entries.append(ledger.release(released, booked_on=DAY, reference="r"))
    if refunded:
        entries.append(ledger.refund(refunded, booked_on=DAY, reference="f"))
    if earned:
        entries.append(ledger.interest(earned, booked_on=DAY, reference="i"))
    assert balances(entries).cash == total - released - refunded + earned
    _all_invariants_hold(entries)


# --- entries refuse to be unbalanced ------------------------------------------------------------------


def test_entry_refuses_unbalanced_legs() -> None:
    with pytest.raises(LedgerError, match="sum to zero"):
        Entry(EntryKind.DEPOSIT, (Leg(Ledger.CASH, 100), Leg(Ledger.BUYER_FUNDS, -99)), DAY, "x")


def test_entry_refuses_a_single_leg() -> None:
    with pytest.raises(LedgerError, match="at least two legs"):
        Entry(EntryKind.INTEREST, (Leg(Ledger.CASH, 100),), DAY, "x")
    with pytest.raises(LedgerError, match="at least two legs"):
        Entry(EntryKind.INTEREST, (), DAY, "x")


def test_entry_refuses_zero_legs() -> None:
    with pytest.raises(LedgerError, match="zero"):
        Entry(EntryKind.DEPOSIT, (Leg(Ledger.CASH, 0), Leg(Ledger.BUYER_FUNDS, 0)), DAY, "x")
    with pytest.raises(LedgerError, match="zero"):
        Entry(
            EntryKind.DEPOSIT,
            (Leg(Ledger.CASH, 100), Leg(Ledger.BUYER_FUNDS, -100), Leg(Ledger.SUSPENSE, 0)),
            DAY,
            "x",
        )


def test_three_legged_balanced_entry_is_allowed() -> None:
    e = Entry(
        EntryKind.DEPOSIT,
        (Leg(Ledger.CASH, 100), Leg(Ledger.BUYER_FUNDS, -60), Leg(Ledger.SUSPENSE, -40)),
        DAY,
        "split",
    )
    assert e.cash_effect_fen == 100


@given(st.integers(max_value=0))
def test_constructors_refuse_amounts_that_move_nothing_or_backwards(fen: int) -> None:
    for make in (
        ledger.release,
        ledger.refund,
        ledger.interest,
        ledger.fee,
        ledger.court_deduction,
        ledger.suspense_assigned,
        ledger.suspense_returned,
    ):
        with pytest.raises(LedgerError, match="must be positive"):
            make(fen, booked_on=DAY, reference="x")
    for suspense in (True, False):
        with pytest.raises(LedgerError, match="must be positive"):
            ledger.deposit(fen, suspense=suspense, booked_on=DAY, reference="x")


@pytest.mark.parametrize(
    ("make", "kind", "cash"),
    [
        (lambda f: ledger.deposit(f, suspense=False, booked_on=DAY, reference="x"), EntryKind.DEPOSIT, 1),
        (
            lambda f: ledger.deposit(f, suspense=True, booked_on=DAY, reference="x"),
            EntryKind.DEPOSIT_SUSPENSE,
            1,
        ),
        (lambda f: ledger.suspense_assigned(f, booked_on=DAY, reference="x"), EntryKind.SUSPENSE_ASSIGNED, 0),
        (
            lambda f: ledger.suspense_returned(f, booked_on=DAY, reference="x"),
            EntryKind.SUSPENSE_RETURNED,
            -1,
        ),
        (lambda f: ledger.release(f, booked_on=DAY, reference="x"), EntryKind.RELEASE, -1),
        (lambda f: ledger.refund(f, booked_on=DAY, reference="x"), EntryKind.REFUND, -1),
        (lambda f: ledger.interest(f, booked_on=DAY, reference="x"), EntryKind.INTEREST, 1),
        (lambda f: ledger.court_deduction(f, booked_on=DAY, reference="x"), EntryKind.COURT_DEDUCTION, -1),
        (lambda f: ledger.fee(f, booked_on=DAY, reference="x"), EntryKind.FEE, -1),
    ],
)
def test_each_constructor_moves_cash_the_right_way(make, kind: EntryKind, cash: int) -> None:
    e = make(1234)
    assert e.kind is kind
    assert legs_sum_to_zero(e.legs)
    assert e.cash_effect_fen == cash * 1234
    assert ledger.CASH_DIRECTION[kind] == cash  # the one table INV-2 and the audit replay read


@given(st.lists(st.tuples(st.sampled_from(list(EntryKind)), amounts), max_size=30))
def test_money_received_counts_what_payers_sent_net_of_corrections(
    moves: list[tuple[EntryKind, int]],
) -> None:
    """Received = deposits (assigned or not) − reversals − unidentified money returned; interest, releases,
    refunds, deductions and assignments from suspense neither add to it nor take from it."""
    totals: dict[str, int] = {}
    for kind, fen in moves:
        totals[kind.value] = totals.get(kind.value, 0) + fen
    expected = sum(
        fen if kind in (EntryKind.DEPOSIT, EntryKind.DEPOSIT_SUSPENSE) else -fen
        for kind, fen in moves
        if kind
        in (EntryKind.DEPOSIT, EntryKind.DEPOSIT_SUSPENSE, EntryKind.REVERSAL, EntryKind.SUSPENSE_RETURNED)
    )
    assert ledger.received_fen(totals) == expected


@given(st.lists(st.tuples(st.booleans(), amounts), max_size=20))
def test_interest_and_fees_are_the_accounts_own_never_received_and_balance_equals_flows(
    moves: list[tuple[bool, int]],
) -> None:
    """The bank's interest credits and fee debits (CONTRACT §9): INV-2 holds over any mix posted on a deposit
    big enough to pay the fees, the fees ledger carries the fees, and neither counts as money received."""
    total_fees = sum(fen for is_interest, fen in moves if not is_interest)
    entries = [ledger.deposit(total_fees + 1, suspense=False, booked_on=DAY, reference="d")]
    for i, (is_interest, fen) in enumerate(moves):
        make = ledger.interest if is_interest else ledger.fee
        entries.append(make(fen, booked_on=DAY, reference=f"m{i}"))
    assert balance_equals_flows(entries) and balance_never_negative(entries)
    books = balances(entries)
    assert books.fees == total_fees and books.suspense == 0
    assert books.interest == sum(fen for is_interest, fen in moves if is_interest)
    totals: dict[str, int] = {}
    for e in entries:
        totals[e.kind.value] = totals.get(e.kind.value, 0) + abs(e.cash_effect_fen)
    assert ledger.received_fen(totals) == total_fees + 1


def test_reversal_negates_the_original_deposit() -> None:
    original = ledger.deposit(5000, suspense=True, booked_on=DAY, reference="d1")
    rev = ledger.reversal(original, booked_on=DAY, reference="rev-d1")
    assert rev.kind is EntryKind.REVERSAL
    assert [(leg.ledger, leg.amount_fen) for leg in rev.legs] == [
        (leg.ledger, -leg.amount_fen) for leg in original.legs
    ]
    assert balances([original, rev]) == Balances()
    assert balance_equals_flows([original, rev])


@pytest.mark.parametrize(
    "entry",
    [
        ledger.release(100, booked_on=DAY, reference="r"),
        ledger.interest(100, booked_on=DAY, reference="i"),
        ledger.reversal(
            ledger.deposit(100, suspense=False, booked_on=DAY, reference="d"), booked_on=DAY, reference="r"
        ),
    ],
)
def test_only_a_deposit_can_be_reversed(entry: Entry) -> None:
    with pytest.raises(LedgerError, match="only a deposit"):
        ledger.reversal(entry, booked_on=DAY, reference="again")


# --- the named invariants detect broken books ---------------------------------------------------------


def test_balance_never_negative_detects_an_overdraw() -> None:
    entries = [
        ledger.deposit(100_00, suspense=False, booked_on=DAY, reference="d"),
        ledger.release(150_00, booked_on=DAY, reference="r"),
    ]
    assert not balance_never_negative(entries)
    assert not can_post(balances(entries[:1]), entries[1])


def test_balance_never_negative_checks_every_step_not_just_the_end() -> None:
    # The final balance is positive, but the release was booked before the money arrived.
    entries = [
        ledger.release(50_00, booked_on=DAY, reference="r"),
        ledger.deposit(100_00, suspense=False, booked_on=DAY, reference="d"),
    ]
    assert balances(entries).cash == 50_00
    assert not balance_never_negative(entries)
    assert balance_never_negative(list(reversed(entries)))


def test_suspense_never_negative_detects_over_assignment() -> None:
    dep = ledger.deposit(100_00, suspense=True, booked_on=DAY, reference="d")
    entries = [dep, ledger.suspense_assigned(100_01, booked_on=DAY, reference="a")]
    assert balance_never_negative(entries)  # cash is fine, only suspense is wrong
    assert not suspense_never_negative(entries)
    assert not can_post(balances([dep]), entries[1])
    assert can_post(balances([dep]), ledger.suspense_assigned(100_00, booked_on=DAY, reference="a"))


def test_reversing_an_assigned_suspense_deposit_is_not_postable() -> None:
    dep = ledger.deposit(100_00, suspense=True, booked_on=DAY, reference="d")
    assigned = ledger.suspense_assigned(100_00, booked_on=DAY, reference="a")
    rev = ledger.reversal(dep, booked_on=DAY, reference="rev")
    assert not can_post(balances([dep, assigned]), rev)
    assert not suspense_never_negative([dep, assigned, rev])


def test_balance_equals_flows_detects_a_mis_signed_entry() -> None:
    dep = ledger.deposit(100_00, suspense=False, booked_on=DAY, reference="d")
    # Balanced, but labelled a deposit while it takes money out of the account.
    wrong = Entry(EntryKind.DEPOSIT, (Leg(Ledger.BUYER_FUNDS, 30_00), Leg(Ledger.CASH, -30_00)), DAY, "w")
    assert legs_sum_to_zero(wrong.legs)
    assert balance_equals_flows([dep])
    assert not balance_equals_flows([dep, wrong])


def test_balances_read_each_ledger_on_its_natural_side() -> None:
    entries = [
        ledger.deposit(1000, suspense=False, booked_on=DAY, reference="d1"),
        ledger.deposit(300, suspense=True, booked_on=DAY, reference="d2"),
        ledger.suspense_assigned(200, booked_on=DAY, reference="a"),
        ledger.suspense_returned(50, booked_on=DAY, reference="ret"),
        ledger.interest(7, booked_on=DAY, reference="i"),
        ledger.release(400, booked_on=DAY, reference="r"),
        ledger.refund(100, booked_on=DAY, reference="f"),
        ledger.court_deduction(20, booked_on=DAY, reference="c"),
    ]
    assert balances(entries) == Balances(
        cash=1000 + 300 - 50 + 7 - 400 - 100 - 20,
        buyer_funds=1200,
        suspense=50,
        interest=7,
        released=400,
        refunded=100,
        deducted=20,
    )
    _all_invariants_hold(entries)


def test_empty_books_satisfy_every_invariant() -> None:
    _all_invariants_hold([])
    assert balances([]) == Balances()
