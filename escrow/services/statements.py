"""One imported bank statement explained line by line (the bureau's statement page): what each line matched
in the books, or why it did not (in the bank's statement and not in our books, or the amount differs), the
deposits in our books the statement did not show, the balances compared, and whether releases are paused
because of it. Outcomes are codes; the page says them in words (escrow.web.bureau.statements).

The reconciliation itself is escrow.services.reconcile: this reads what it stored and looks up again what a
line names (a deposit, a payment instruction, the bank's own movement) to say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from escrow.domain.errors import NotFound
from escrow.domain.ids import valid_id
from escrow.domain.money import from_fen
from escrow.services.context import Context
from escrow.store.models import StatementLine
from escrow.store.reads.statements import StatementReads

LIMIT = 500  # lines and deposits shown on one page; the differences come first

# A line's outcome, by code.
MATCHED_DEPOSIT = "matched_deposit"  # a deposit in our books (its voucher confirmed)
MATCHED_PAYMENT = "matched_payment"  # a payment instruction the bank executed
MATCHED_OWN = "matched_own"  # the bank's own movement (interest, fee) or a court deduction, in the journal
MATCHED = "matched"  # another movement of the books (a reversal, the transfer from the previous bank)
SUSPENSE = "bank_only_suspense"  # not in our books: booked to suspense from the statement
NOT_IN_BOOKS = "not_in_books"  # not in our books, and could not be booked
AMOUNT_DIFFERS = "amount_differs"  # the books have the reference with another amount


@dataclass(frozen=True)
class LineExplained:
    line_no: int
    booked_on: date
    direction: str  # credit | debit
    amount: Decimal
    bank_reference: str
    counterparty: str
    remittance: str
    outcome: str
    deposit_id: int | None = None
    voucher_no: str | None = None
    payment_kind: str | None = None  # release | refund | return | closure | transfer
    subject_id: int | None = None  # the release or refund paid
    own_kind: str | None = None  # interest | fee | court_deduction
    books_amount: Decimal | None = None  # where the amount differs: what the books have
    difference: Decimal | None = None  # the statement's amount less the books'


@dataclass(frozen=True)
class BooksOnlyDeposit:
    deposit_id: int
    value_date: date
    amount: Decimal
    bank_reference: str
    payer_name: str
    voucher_no: str | None
    differing_line: int | None = None  # the statement's line with its reference and another amount


@dataclass(frozen=True)
class StatementExplained:
    statement_id: int
    project_id: int
    project_name: str
    account_no: str
    statement_date: date
    format: str
    status: str  # reconciled | discrepancy
    matched: int
    bank_only: int
    books_only: int
    lines: tuple[LineExplained, ...]
    line_count: int
    books_only_deposits: tuple[BooksOnlyDeposit, ...]
    opening_stated: Decimal | None
    opening_books: Decimal  # the books at the end of the day before
    closing_stated: Decimal | None
    closing_books: Decimal | None  # the books at the statement date, when it was reconciled
    difference: Decimal  # closing stated less the books
    latest: bool  # the account's latest statement: the one releases follow
    paused: bool  # releases are paused because of this statement
    latest_on: date | None  # the latest statement's date, when it is another one
    latest_status: str | None


def explain(ctx: Context, statement_id: int) -> StatementExplained:
    """NotFound for an unknown statement."""
    with ctx.reading() as uow:
        q = StatementReads(uow.session)
        found = q.statement(statement_id) if valid_id(statement_id) else None
        if found is None:
            raise NotFound(f"no statement {statement_id}")
        statement, account, project = found
        lines, count = q.lines(statement.id, LIMIT)
        deposits = q.deposits([ln.deposit_id for ln in lines if ln.deposit_id])
        references = sorted({ln.bank_reference for ln in lines})
        by_reference = q.deposits_by_reference(account.bank_id, references)
        paid = q.instructions_by_reference(account.id, references)
        own = q.own_entries(
            account.id, [f"{k}:{r}" for r in references for k in ("interest", "fee", "deduction")]
        )
        explained = tuple(_line(ln, deposits, by_reference, paid, own) for ln in lines)
        differing = {ln.deposit_id: ln.line_no for ln in explained if ln.outcome == AMOUNT_DIFFERS}
        books_only = tuple(
            BooksOnlyDeposit(
                d.id,
                d.value_date,
                from_fen(d.amount_fen),
                d.bank_reference,
                d.payer_name,
                v,
                differing.get(d.id),
            )
            for d, v in q.books_only(statement, LIMIT)
        )
        latest = q.latest_statement(account.id)
        is_latest = latest is not None and latest.id == statement.id
        difference = from_fen(statement.balance_difference_fen)
        closing_stated = from_fen(statement.closing_fen) if statement.closing_fen is not None else None
        return StatementExplained(
            statement_id=statement.id,
            project_id=project.id,
            project_name=project.name,
            account_no=account.account_no,
            statement_date=statement.statement_date,
            format=statement.format,
            status=statement.status,
            matched=statement.matched,
            bank_only=statement.bank_only,
            books_only=statement.books_only,
            lines=explained,
            line_count=count,
            books_only_deposits=books_only,
            opening_stated=from_fen(statement.opening_fen) if statement.opening_fen is not None else None,
            opening_books=from_fen(q.cash_until(account.id, statement.statement_date - timedelta(days=1))),
            closing_stated=closing_stated,
            closing_books=closing_stated - difference if closing_stated is not None else None,
            difference=difference,
            latest=is_latest,
            paused=is_latest and statement.status == "discrepancy",
            latest_on=latest.statement_date if latest is not None and not is_latest else None,
            latest_status=latest.status if latest is not None and not is_latest else None,
        )


def _line(line: StatementLine, deposits, by_reference, paid, own) -> LineExplained:
    amount = from_fen(line.amount_fen)
    base = {
        "line_no": line.line_no,
        "booked_on": line.booked_on,
        "direction": line.direction,
        "amount": amount,
        "bank_reference": line.bank_reference,
        "counterparty": line.counterparty_name,
        "remittance": line.remittance,
    }
    if line.match == "bank_only" and line.deposit_id:
        return LineExplained(**base, outcome=SUSPENSE, deposit_id=line.deposit_id)
    if line.match == "matched":
        if line.deposit_id in deposits:
            _, voucher_no = deposits[line.deposit_id]
            return LineExplained(
                **base, outcome=MATCHED_DEPOSIT, deposit_id=line.deposit_id, voucher_no=voucher_no
            )
        instruction = paid.get(line.bank_reference) if line.direction == "debit" else None
        if instruction is not None:
            return LineExplained(
                **base,
                outcome=MATCHED_PAYMENT,
                payment_kind=instruction.kind,
                subject_id=instruction.release_id or instruction.refund_id,
            )
        for prefix in ("interest", "fee", "deduction"):
            kind = own.get(f"{prefix}:{line.bank_reference}")
            if kind is not None:
                return LineExplained(**base, outcome=MATCHED_OWN, own_kind=kind)
        return LineExplained(**base, outcome=MATCHED)
    # unexplained: does the books have the reference with another amount?
    if line.direction == "credit":
        booked = by_reference.get(line.bank_reference)
        books_fen = booked.amount_fen if booked is not None else None
    else:
        instruction = paid.get(line.bank_reference)
        books_fen = instruction.amount_fen if instruction is not None else None
    if books_fen is not None and books_fen != line.amount_fen:
        books = from_fen(books_fen)
        return LineExplained(
            **base,
            outcome=AMOUNT_DIFFERS,
            deposit_id=booked.id if line.direction == "credit" else None,
            books_amount=books,
            difference=amount - books,
        )
    return LineExplained(**base, outcome=NOT_IN_BOOKS)
