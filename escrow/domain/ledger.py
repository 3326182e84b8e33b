"""Double-entry books of one supervised account.

Every movement is an entry whose legs sum to zero; entries are appended, never changed (a correction is a
new, reversing entry). Legs are signed integer fen: a debit is positive, a credit negative.

Ledgers of a supervised account:
    cash         the money in the supervised bank account (debit balance)
    buyer_funds  buyers' payments assigned to a contract (credit)
    suspense     money received but not yet assigned (credit)
    interest     interest the bank credited (credit)
    fees         the bank's own charges it debited (手续费; debit)
    released     paid out to contractors and suppliers (debit)
    refunded     paid back to buyers of cancelled contracts (debit)
    deducted     taken by a court order (debit)
    closed_out   the whole balance paid out when supervision ends (解除监管; debit)
    transferred  the whole balance moved to the project's account at its new supervising bank (debit at the
                 old account; a credit at the new one, whose books open with it)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Ledger(StrEnum):
    CASH = "cash"
    BUYER_FUNDS = "buyer_funds"
    SUSPENSE = "suspense"
    INTEREST = "interest"
    RELEASED = "released"
    REFUNDED = "refunded"
    DEDUCTED = "deducted"
    FEES = "fees"
    CLOSED_OUT = "closed_out"
    TRANSFERRED = "transferred"


class EntryKind(StrEnum):
    DEPOSIT = "deposit"  # a checked deposit, assigned to its contract
    DEPOSIT_SUSPENSE = "deposit_suspense"  # money in the bank that is not (yet) assigned
    REVERSAL = "reversal"  # same-day correction of a wrong posting
    SUSPENSE_ASSIGNED = "suspense_assigned"
    SUSPENSE_RETURNED = "suspense_returned"  # unassigned money sent back to its payer
    RELEASE = "release"
    REFUND = "refund"
    INTEREST = "interest"  # 结息: the bank's interest credit, booked from its statement
    COURT_DEDUCTION = "court_deduction"
    FEE = "fee"  # 手续费: the bank's charge debited from the account, booked from its statement
    CLOSURE = "closure"  # 解除监管: the whole balance paid to the payee the bureau named
    TRANSFER_OUT = "transfer_out"  # the whole balance moved to the new supervising bank's account
    TRANSFER_IN = "transfer_in"  # the new account's books open with the balance moved to it


# How each kind of entry moves the account's cash: +1 in, −1 out, 0 not at all (INV-2, the audit's replay).
CASH_DIRECTION: dict[EntryKind, int] = {
    EntryKind.DEPOSIT: 1,
    EntryKind.DEPOSIT_SUSPENSE: 1,
    EntryKind.INTEREST: 1,
    EntryKind.REVERSAL: -1,
    EntryKind.RELEASE: -1,
    EntryKind.REFUND: -1,
    EntryKind.COURT_DEDUCTION: -1,
    EntryKind.SUSPENSE_RETURNED: -1,
    EntryKind.FEE: -1,
    EntryKind.CLOSURE: -1,
    EntryKind.TRANSFER_OUT: -1,
    EntryKind.TRANSFER_IN: 1,
    EntryKind.SUSPENSE_ASSIGNED: 0,
}

# Money *received* for the project (city statistics, reports, the guarantee precondition): what payers sent,
# net of same-day reversals and of unidentified money returned to its payer. Interest is the bank's, not
# received from payers, and the bank's fees are not paid out of what was received (neither is ever a buyer's
# money, and neither counts in the city's deposit figures); releases, refunds and deductions spend what was
# received.
RECEIVED_SIGN: dict[EntryKind, int] = {
    EntryKind.DEPOSIT: 1,
    EntryKind.DEPOSIT_SUSPENSE: 1,
    EntryKind.REVERSAL: -1,
    EntryKind.SUSPENSE_RETURNED: -1,
}


def received_fen(totals_by_kind: Mapping[str, int]) -> int:
    """Money received, from the absolute fen totals of entries by kind (as the store sums them)."""
    return sum(sign * totals_by_kind.get(kind, 0) for kind, sign in RECEIVED_SIGN.items())


class LedgerError(ValueError):
    """An entry that would break the books."""


@dataclass(frozen=True)
class Leg:
    ledger: Ledger
    amount_fen: int


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    legs: tuple[Leg, ...]
    booked_on: date
    reference: str

    def __post_init__(self) -> None:
        if len(self.legs) < 2:
            raise LedgerError("an entry needs at least two legs")
        if any(leg.amount_fen == 0 for leg in self.legs):
            raise LedgerError("a leg of zero moves nothing")
        if not legs_sum_to_zero(self.legs):
            raise LedgerError("the legs of an entry must sum to zero")

    @property
    def amount_fen(self) -> int:
        """What the entry moves: the sum of its positive legs (the journal row's amount)."""
        return sum(leg.amount_fen for leg in self.legs if leg.amount_fen > 0)

    @property
    def cash_effect_fen(self) -> int:
        return sum(leg.amount_fen for leg in self.legs if leg.ledger is Ledger.CASH)


def _pair(kind: EntryKind, debit: Ledger, credit: Ledger, fen: int, booked_on: date, reference: str) -> Entry:
    if fen <= 0:
        raise LedgerError("an amount that moves money must be positive")
    return Entry(kind, (Leg(debit, fen), Leg(credit, -fen)), booked_on, reference)


def deposit(fen: int, *, suspense: bool, booked_on: date, reference: str) -> Entry:
    if suspense:
        return _pair(EntryKind.DEPOSIT_SUSPENSE, Ledger.CASH, Ledger.SUSPENSE, fen, booked_on, reference)
    return _pair(EntryKind.DEPOSIT, Ledger.CASH, Ledger.BUYER_FUNDS, fen, booked_on, reference)


def reversal(original: Entry, *, booked_on: date, reference: str) -> Entry:
    if original.kind not in (EntryKind.DEPOSIT, EntryKind.DEPOSIT_SUSPENSE):
        raise LedgerError("only a deposit can be reversed")
    legs = tuple(Leg(leg.ledger, -leg.amount_fen) for leg in original.legs)
    return Entry(EntryKind.REVERSAL, legs, booked_on, reference)


def suspense_assigned(fen: int, *, booked_on: date, reference: str) -> Entry:
    return _pair(EntryKind.SUSPENSE_ASSIGNED, Ledger.SUSPENSE, Ledger.BUYER_FUNDS, fen, booked_on, reference)


def suspense_returned(fen: int, *, booked_on: date, reference: str) -> Entry:
    return _pair(EntryKind.SUSPENSE_RETURNED, Ledger.SUSPENSE, Ledger.CASH, fen, booked_on, reference)


def release(fen: int, *, booked_on: date, reference: str) -> Entry:
    return _pair(EntryKind.RELEASE, Ledger.RELEASED, Ledger.CASH, fen, booked_on, reference)


def refund(fen: int, *, booked_on: date, reference: str) -> Entry:
    return _pair(EntryKind.REFUND, Ledger.REFUNDED, Ledger.CASH, fen, booked_on, reference)


def interest(fen: int, *, booked_on: date, reference: str) -> Entry:
    return _pair(EntryKind.INTEREST, Ledger.CASH, Ledger.INTEREST, fen, booked_on, reference)


def fee(fen: int, *, booked_on: date, reference: str) -> Entry:
    """The bank's own charge (手续费) taken from the account: cash out, to the fees ledger."""
    return _pair(EntryKind.FEE, Ledger.FEES, Ledger.CASH, fen, booked_on, reference)


def closure(fen: int, *, booked_on: date, reference: str) -> Entry:
    """Supervision ends (解除监管): the whole balance paid out."""
    return _pair(EntryKind.CLOSURE, Ledger.CLOSED_OUT, Ledger.CASH, fen, booked_on, reference)


def transfer_out(fen: int, *, booked_on: date, reference: str) -> Entry:
    """The old bank moves the whole balance to the project's new supervised account."""
    return _pair(EntryKind.TRANSFER_OUT, Ledger.TRANSFERRED, Ledger.CASH, fen, booked_on, reference)


def transfer_in(fen: int, *, booked_on: date, reference: str) -> Entry:
    """The new account's opening entry: the balance moved from the old bank."""
    return _pair(EntryKind.TRANSFER_IN, Ledger.CASH, Ledger.TRANSFERRED, fen, booked_on, reference)


def court_deduction(fen: int, *, booked_on: date, reference: str) -> Entry:
    return _pair(EntryKind.COURT_DEDUCTION, Ledger.DEDUCTED, Ledger.CASH, fen, booked_on, reference)


@dataclass(frozen=True)
class Balances:
    """Ledger balances of one account, each as a positive count of fen on its natural side."""

    cash: int = 0
    buyer_funds: int = 0
    suspense: int = 0
    interest: int = 0
    released: int = 0
    refunded: int = 0
    deducted: int = 0
    fees: int = 0
    closed_out: int = 0
    transferred: int = 0  # net: moved out (positive) at the old account, moved in (negative) at the new

    @classmethod
    def from_ledger_sums(cls, sums: dict[Ledger, int]) -> Balances:
        return cls(
            cash=sums.get(Ledger.CASH, 0),
            buyer_funds=-sums.get(Ledger.BUYER_FUNDS, 0),
            suspense=-sums.get(Ledger.SUSPENSE, 0),
            interest=-sums.get(Ledger.INTEREST, 0),
            released=sums.get(Ledger.RELEASED, 0),
            refunded=sums.get(Ledger.REFUNDED, 0),
            deducted=sums.get(Ledger.DEDUCTED, 0),
            fees=sums.get(Ledger.FEES, 0),
            closed_out=sums.get(Ledger.CLOSED_OUT, 0),
            transferred=sums.get(Ledger.TRANSFERRED, 0),
        )


def ledger_sums(legs: Iterable[Leg]) -> dict[Ledger, int]:
    sums: dict[Ledger, int] = {}
    for leg in legs:
        sums[leg.ledger] = sums.get(leg.ledger, 0) + leg.amount_fen
    return sums


def balances(entries: Iterable[Entry]) -> Balances:
    return Balances.from_ledger_sums(ledger_sums(leg for e in entries for leg in e.legs))


# --- Invariants (DESIGN.md §4). Each is checked by tests, by `escrow audit verify` and before posting. ---


def legs_sum_to_zero(legs: Iterable[Leg]) -> bool:
    """INV-1: every entry balances."""
    return sum(leg.amount_fen for leg in legs) == 0


def balance_equals_flows(entries: Iterable[Entry]) -> bool:
    """INV-2: balance = deposits − reversals − releases − refunds + interest − fees − deductions − returns
    − the closing payout ± the balance moved between banks."""
    entries = list(entries)
    flows = {kind: 0 for kind in EntryKind}
    for e in entries:
        flows[e.kind] += abs(e.cash_effect_fen)
    return balances(entries).cash == sum(CASH_DIRECTION[kind] * total for kind, total in flows.items())


def balance_never_negative(entries: Iterable[Entry]) -> bool:
    """INV-3: the cash balance is ≥ 0 after every entry, in booking order."""
    running = 0
    for e in entries:
        running += e.cash_effect_fen
        if running < 0:
            return False
    return True


def suspense_never_negative(entries: Iterable[Entry]) -> bool:
    """INV-4: more unassigned money can never be assigned or returned than was received."""
    running = 0
    for e in entries:
        running -= sum(leg.amount_fen for leg in e.legs if leg.ledger is Ledger.SUSPENSE)
        if running < 0:
            return False
    return True


def can_post(current: Balances, entry: Entry) -> bool:
    """Whether posting `entry` on top of `current` keeps cash and suspense at or above zero."""
    cash = current.cash + entry.cash_effect_fen
    suspense = current.suspense - sum(leg.amount_fen for leg in entry.legs if leg.ledger is Ledger.SUSPENSE)
    return cash >= 0 and suspense >= 0
