"""Reconciling the books against the bank's statement. The statement prevails:

- a credit line matches a deposit by bank reference, else by a voucher or notice number in the remittance text
  and the amount; a credit with no deposit is booked as a suspense deposit (the money is in the bank);
- a debit line matches an executed payment instruction by bank reference, or the reversal of a deposit;
- a credit line with the bank reference of the transfer that opened the account (a change of supervising
  bank) matches that transfer;
- a booked deposit up to the statement date that no statement has shown, an unexplained debit, or a closing
  balance that differs from the books marks the account `discrepancy`, which pauses releases until a later
  statement reconciles;
- matching a deposit confirms its voucher; importing the same statement again changes nothing;
- the bank's own movements - interest it credits (结息) and fees it debits (手续费), CONTRACT.md §9 - are
  booked as their own journal entries (kinds `interest` and `fee`, referenced `interest:<bank reference>` and
  `fee:<bank reference>`), never as deposits or suspense; a later statement showing the same line matches
  that entry. They count as matched lines, so a statement whose only differences are interest and fees
  reconciles. A fee that would take the books below zero is not booked and stays unexplained;
- a camt.054 notification reports single movements, not the day's end: its lines are booked or matched as a
  statement's are, but it never counts deposits it does not show (books only) nor compares balances. It
  marks the account `discrepancy` only for a line it cannot explain, or when the account's latest statement
  before it was in discrepancy (a notification of a few movements cannot clear an end-of-day difference);
- a statement dated before the account was opened, or for a closed account, is refused.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import InitVar, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Literal

from escrow.domain import checks, ledger, money
from escrow.domain.errors import Conflict, FieldError, InvalidInput
from escrow.domain.money import SignedMoney, from_fen, to_fen
from escrow.domain.principal import Principal
from escrow.feeds import FeedError, ParsedStatement, StatementLine
from escrow.feeds.model import FEE, INTEREST, PAYMENT
from escrow.ops import metrics
from escrow.services import deposits, webhooks
from escrow.services.context import Context
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Deposit, Project, Statement, SupervisedAccount
from escrow.store.repos.stagings import PENDING, staged_row
from escrow.store.repos.statements import BANK_REFERENCE_MAX as REFERENCE_MAX

TOKEN = re.compile(r"\b((?:PZ|TZ)\d{15})\b")
CHUNK = 10_000  # lines a batch: matched with one look-up of their deposits, written at once
Progress = Callable[[int, int], None]


class StatementRefused(InvalidInput):
    """The file cannot be reconciled against our books (unknown account, wrong currency)."""


class _Lines:
    """What is checked of a statement's lines before anything changes, gathered batch by batch as they are
    read: their count, the text of their digest, the first line the books cannot keep, their currencies and
    the earliest booking."""

    __slots__ = ("count", "currencies", "digested", "earliest", "problem")

    def __init__(self) -> None:
        self.count = 0
        self.digested = bytearray()
        self.problem: tuple[str, StatementLine, str] | None = None
        self.currencies: set[str | None] = set()
        self.earliest: StatementLine | None = None

    def add(self, lines: list[StatementLine]) -> None:
        if not lines:
            return
        self.count += len(lines)
        out = self.digested
        for line in lines:
            kind = "" if line.kind == PAYMENT else f"|{line.kind}"  # a payment's digest is as it always was
            out += f"{line.bank_reference}|{line.booked_on}|{line.amount}|{line.direction}{kind}\n".encode()
        if self.problem is None and _may_have_a_problem(lines):
            self.problem = next(filter(None, map(_line_problem, lines)), None)
        self.currencies.update({line.currency for line in lines})
        first = min(lines, key=_booked)  # the first of the earliest, as min() over all lines would give
        if self.earliest is None or first.booked_on < self.earliest.booked_on:
            self.earliest = first

    def digest(self, s: ParsedStatement) -> str:
        h = hashlib.sha256()
        h.update(f"{s.account_no}|{s.statement_date}|{s.opening_balance}|{s.closing_balance}\n".encode())
        h.update(self.digested)
        return h.hexdigest()


Batches = Callable[[int, Callable[[list[StatementLine]], None]], None]


@dataclass(frozen=True)
class Source:
    """One statement of a file, read and checked: its head (without lines when the file is read in batches),
    what was gathered of its lines, and `each(size, use)`, which hands its lines to `use` in batches of about
    `size`, in file order (reading the file again when it is not held)."""

    head: ParsedStatement
    lines: _Lines
    each: Batches


def _held(s: ParsedStatement) -> Source:
    """A statement parsed whole (every format but CSV, whose files are the large ones)."""

    def each(size: int, use: Callable[[list[StatementLine]], None]) -> None:
        for start in range(0, len(s.lines), size):
            use(s.lines[start : start + size])

    gathered = _Lines()
    each(CHUNK, gathered.add)
    return Source(s, gathered, each)


def read_file(
    data: bytes | Path,
    *,
    content_type: str | None = None,
    fmt: str | None = None,
    filename: str | None = None,
) -> tuple[list[Source], str]:
    """Parse and check a statement file before any transaction (FeedError names a malformed line): its
    statements and its format. A CSV (bytes or a file) is read in batches and never held as lines: every row
    is checked in one pass that keeps only each statement's head and digest; its lines are read again as
    they are reconciled. Other formats are parsed whole."""
    from escrow import feeds

    if isinstance(data, Path):
        path = data
        with path.open("rb") as f:
            head = f.read(1 << 20)

        def open_binary() -> BinaryIO:
            return path.open("rb")
    else:
        data = bytes(data)  # no copy of bytes
        head = data

        def open_binary() -> BinaryIO:
            return io.BytesIO(data)

    csv_file = feeds.csv_file(open_binary, head, fmt, content_type=content_type, filename=filename)
    if csv_file is None:
        whole = data.read_bytes() if isinstance(data, Path) else data
        kind = fmt or feeds.detect_format(whole, content_type, filename)
        statements = feeds.parse(whole, kind, content_type=content_type, filename=filename)
        return [_held(s) for s in statements], statements[0].format if statements else kind
    gathered: dict[str, _Lines] = {}

    def gather(account_no: str, lines: list[StatementLine]) -> None:
        found = gathered.get(account_no)
        if found is None:
            found = gathered[account_no] = _Lines()
        found.add(lines)

    heads = csv_file.scan(gather, CHUNK)
    return [
        Source(h, gathered.get(h.account_no) or _Lines(), partial(_each_of, csv_file, h.account_no))
        for h in heads
    ], "csv"


def _each_of(csv_file: Any, account_no: str, size: int, use: Callable[[list[StatementLine]], None]) -> None:
    csv_file.each(account_no, size, use)


@dataclass(frozen=True)
class StatementResult:
    statement_id: int
    account_no: str
    statement_date: date
    matched: int
    bank_only: int
    books_only: int
    balance_difference: SignedMoney
    status: Literal["reconciled", "discrepancy"]


@dataclass(frozen=True)
class StatementImport(StatementResult):
    """The first statement of a file. `imported_now` (not on the wire) is false when every statement of the
    file was imported before: these are the earlier results, and nothing changed."""

    fresh: InitVar[bool] = field(default=True, kw_only=True)

    def __post_init__(self, fresh: bool) -> None:
        object.__setattr__(self, "imported_now", fresh)


@dataclass(frozen=True)
class StatementsImport(StatementImport):
    """A file of several statements: the first, and every one in `statements` (a member only such a file's
    answer has: optional in the documented schema)."""

    statements: list[StatementResult] = field(default_factory=list)


def statement_view(account_no: str, row: Statement) -> StatementResult:
    return StatementResult(
        statement_id=row.id,
        account_no=account_no,
        statement_date=row.statement_date,
        matched=row.matched,
        bank_only=row.bank_only,
        books_only=row.books_only,
        balance_difference=from_fen(row.balance_difference_fen),
        status=row.status,
    )


def import_file(
    ctx: Context,
    data: bytes | Path,
    actor: Principal,
    *,
    content_type: str | None = None,
    fmt: str | None = None,
    filename: str | None = None,
    progress: Progress | None = None,
) -> StatementImport:
    """Parse and check one statement file (its bytes, or the file: a CSV is then read in batches, never
    whole), stage its lines in short transactions, then publish and reconcile it in one short transaction
    (FeedError and refusals propagate).

    Nothing holds the database's write lock for the whole file (a 437,832-line statement once held SQLite's
    for minutes, and every other write waited): the file is read before any transaction; its lines are
    matched and written to a staging (statement_staged_lines) STAGE_LINES at a time, each batch its own
    transaction; the last transaction checks that the account's books did not move meanwhile, books what
    needs booking (credits nobody posted, the bank's interest and fees: few lines), copies the staged lines
    into the statement with one INSERT … SELECT and records the result. From the outside it is all or
    nothing still: a staging is read by nothing but its import, and is deleted whether the import is
    published or refused (one an interrupted import leaves is pruned after STAGING_KEPT). Had the books
    moved (a deposit, a reversal or a statement of the same account), the lines are staged again; after
    STAGING_ATTEMPTS they are matched inside the last transaction, as before staging."""
    try:
        imported = _import_staged(ctx, data, actor, content_type, fmt, filename, progress)
    except Exception:
        metrics.statement_imported("refused")  # a malformed file or a refusal: nothing was kept
        raise
    for one in getattr(imported, "statements", None) or [imported]:  # after the commit
        metrics.statement_imported(one.status if imported.imported_now else "duplicate")
    return imported


def _import_staged(
    ctx: Context,
    data: bytes | Path,
    actor: Principal,
    content_type: str | None,
    fmt: str | None,
    filename: str | None,
    progress: Progress | None,
) -> StatementImport:
    sources, kind = read_file(data, content_type=content_type, fmt=fmt, filename=filename)
    refuse_unstorable(sources)
    with ctx.reading() as uow:  # a file for an unknown or closed account is refused before any write
        accounts = [resolve_account(uow, src, actor) for src in sources]
    prune_stagings(ctx)
    for _attempt in range(STAGING_ATTEMPTS):
        staged = _stage_all(ctx, sources, accounts, progress)
        try:
            return ctx.run(_import_read, sources, kind, actor, progress, staged)
        except _BooksMoved:
            continue
        finally:
            for item in staged:
                if item is not None:
                    drop_staging(ctx, item[0])
    return ctx.run(_import_read, sources, kind, actor, progress)


def import_file_in(
    uow: UnitOfWork,
    ctx: Context,
    data: bytes | Path,
    actor: Principal,
    *,
    content_type: str | None = None,
    fmt: str | None = None,
    filename: str | None = None,
    progress: Progress | None = None,
) -> StatementImport:
    """`import_file` in the caller's unit of work."""
    sources, kind = read_file(data, content_type=content_type, fmt=fmt, filename=filename)
    return _import_read(uow, ctx, sources, kind, actor, progress)


def _import_read(
    uow: UnitOfWork,
    ctx: Context,
    sources: list[Source],
    kind: str,
    actor: Principal,
    progress: Progress | None = None,
    staged: list[Staged | None] | None = None,
) -> StatementImport:
    fresh, results = _import(uow, ctx, sources, kind, actor, progress, staged)
    if len(results) > 1:
        return StatementsImport(**vars(results[0]), statements=results, fresh=fresh)
    return StatementImport(**vars(results[0]), fresh=fresh)


def resolve_account(uow: UnitOfWork, src: Source, actor: Principal) -> SupervisedAccount:
    s = src.head
    account = uow.projects.account_by_no(s.account_no)
    if account is None or account.bank_id != actor.bank_id:
        raise StatementRefused(
            f"unknown account {s.account_no}: not an account this bank supervises",
            errors=[FieldError("account_no", "not an account this bank supervises")],
        )
    currencies = {s.currency} | src.lines.currencies
    foreign = sorted(c for c in currencies if c and c != account.currency)
    if foreign:
        raise StatementRefused(
            f"currency {', '.join(foreign)}, account is {account.currency}",
            errors=[FieldError("currency", f"{', '.join(foreign)}: the account is in {account.currency}")],
        )
    if account.status == "closed":  # a conflict with the account's state (CONTRACT.md §8: 409)
        refused = StatementRefused(
            f"account {account.account_no} is closed: supervision has ended, it takes no more statements",
            rule="account_closed",
            errors=[FieldError("account_no", "the account is closed")],
        )
        refused.status, refused.kind, refused.title = Conflict.status, Conflict.kind, Conflict.title
        raise refused
    early = s.statement_date < account.opened_on
    first = src.lines.earliest
    if first is not None and first.booked_on >= account.opened_on:
        first = None
    if early or first is not None:
        what = f"the statement date {s.statement_date}" if early else f"a line booked on {first.booked_on}"
        field = "statement_date" if early else _where(s, first)
        raise StatementRefused(
            f"{what} is before account {account.account_no} was opened on {account.opened_on}",
            rule="statement_before_opening",
            errors=[FieldError.coded(field, "before_opening", opened_on=account.opened_on)],
        )
    return account


def _booked(line: StatementLine) -> date:
    return line.booked_on


def _where(s: ParsedStatement, line: StatementLine) -> str:
    """A line's place as an error names it: its member in JSON, its line elsewhere."""
    return f"lines[{line.line_no - 1}]" if s.format == "json" else f"line {line.line_no}"


def _unstorable(s: ParsedStatement) -> tuple[str, StatementLine | None, str] | None:
    if "\x00" in s.account_no:
        return "the account number contains the NUL character (U+0000)", None, "account_no"
    for member in ("opening_balance", "closing_balance"):  # the bounds of escrow.domain.money
        value = getattr(s, member)
        if value is not None and (problem := money.statement_amount_problem(value, balance=True)):
            return problem, None, member
    return None


def _may_have_a_problem(lines: list[StatementLine]) -> bool:
    """Whether some line of a batch may be one the books cannot keep: the batch looked at whole (its largest
    amount, its longest reference, a NUL anywhere), so that a million good lines are not checked one by
    one."""
    texts = "".join(
        f"{line.bank_reference}{line.counterparty_name}{line.counterparty_account}{line.remittance or ''}"
        for line in lines
    )
    return (
        "\x00" in texts
        or money.statement_amount_problem(max(line.amount for line in lines)) is not None
        or max(len(line.bank_reference) for line in lines) > REFERENCE_MAX
    )


def _line_problem(line: StatementLine) -> tuple[str, StatementLine, str] | None:
    if problem := money.statement_amount_problem(line.amount):
        return problem, line, "amount"
    for member in ("bank_reference", "counterparty_name", "counterparty_account", "remittance"):
        if "\x00" in (getattr(line, member) or ""):
            return f"{member} contains the NUL character (U+0000)", line, member
    if len(line.bank_reference) > REFERENCE_MAX:
        return f"the bank reference is longer than {REFERENCE_MAX} characters", line, "bank_reference"
    return None


def refuse_unstorable(sources: list[Source]) -> None:
    """What the books cannot keep is refused before anything changes, alike on both engines: PostgreSQL
    refuses the NUL character in any text and a bank reference longer than its column (SQLite keeps both)."""
    for i, src in enumerate(sources):
        s = src.head
        found = _unstorable(s) or src.lines.problem
        if found is None:
            continue
        detail, line, member = found
        if s.format == "json":  # JSON names the member; a JSON line_no is the position in `lines`, from 1
            where = f"lines[{line.line_no - 1}].{member}" if line else member
            raise FeedError(detail, field=(f"[{i}]." if len(sources) > 1 else "") + where)
        raise FeedError(detail, line=line.line_no if line else None)


def import_statements(
    uow: UnitOfWork,
    ctx: Context,
    statements: list[ParsedStatement],
    fmt: str,
    actor: Principal,
    progress: Progress | None = None,
) -> list[StatementResult]:
    """Reconcile every statement of one file in the caller's transaction (the demo's batch): a refused file
    keeps nothing. Each statement's result (the earlier ones when the file was imported before)."""
    return _import(uow, ctx, [_held(s) for s in statements], fmt, actor, progress)[1]


# Lines staged a transaction (configured, not from any rule): each batch holds SQLite's write lock for a small
# fraction of a second, so other writes go through between batches.
STAGE_LINES = 5_000
STAGING_ATTEMPTS = 3  # stagings made stale by the books moving before matching inside the last transaction
STAGING_KEPT = timedelta(days=1)  # a staging older than this was left by an interrupted import
DROP_LINES = 20_000  # staged lines deleted a transaction


class _BooksMoved(Exception):
    """The account's books changed between staging its statement and publishing it: stage again."""


Staged = tuple[int, tuple[Any, ...]]  # a staging's id, and the account's watermark when it was matched


def _writing(ctx: Context) -> AbstractContextManager[UnitOfWork]:
    """A short write transaction of the import's own (never the request's idempotency record)."""
    return ctx.guarded(None).writing()


def _stage_all(
    ctx: Context, sources: list[Source], accounts: list[SupervisedAccount], progress: Progress | None
) -> list[Staged | None]:
    """Each statement's lines matched and staged, a batch a transaction; None for a statement imported
    before (its digest is known)."""
    total = sum(src.lines.count for src in sources)
    done = 0
    staged: list[Staged | None] = []
    try:
        for src, account in zip(sources, accounts, strict=True):
            with ctx.reading() as uow:
                uow.snapshot()
                if uow.statements.by_digest(account.id, src.lines.digest(src.head)) is not None:
                    staged.append(None)
                    done += src.lines.count
                    continue
                mark = uow.stagings.watermark(account.id)
                matcher = _Matcher(uow, account, notification=src.head.format == "camt054")
            with _writing(ctx) as uow:
                staging_id = uow.stagings.open(account.id)
                uow.commit()
            staged.append((staging_id, mark))

            def batch(lines: list[StatementLine], staging_id: int = staging_id, m: Any = matcher) -> None:
                nonlocal done
                with _writing(ctx) as uow:
                    m.stage(uow, staging_id, lines)
                    uow.commit()
                done += len(lines)
                if progress:
                    progress(done, total)

            src.each(STAGE_LINES, batch)
    except BaseException:
        for item in staged:
            if item is not None:
                drop_staging(ctx, item[0])
        raise
    return staged


def drop_staging(ctx: Context, staging_id: int) -> None:
    """Delete a staging, DROP_LINES lines a transaction."""
    while True:
        with _writing(ctx) as uow:
            deleted = uow.stagings.drop(staging_id, DROP_LINES)
            uow.commit()
        if deleted < DROP_LINES:
            return


def prune_stagings(ctx: Context) -> int:
    """Delete the stagings that interrupted imports left (older than STAGING_KEPT); how many."""
    with ctx.reading() as uow:
        stale = uow.stagings.stale(datetime.now(UTC) - STAGING_KEPT)
    for staging_id in stale:
        drop_staging(ctx, staging_id)
    return len(stale)


def _import(
    uow: UnitOfWork,
    ctx: Context,
    sources: list[Source],
    fmt: str,
    actor: Principal,
    progress: Progress | None = None,
    staged: list[Staged | None] | None = None,
) -> tuple[bool, list[StatementResult]]:
    """Whether any statement was new, and each statement's result. With `staged` (import_file), the lines
    were staged before; without, they are matched and staged here, in the caller's transaction."""
    refuse_unstorable(sources)
    accounts = [resolve_account(uow, src, actor) for src in sources]  # refuse before changing anything
    total = sum(src.lines.count for src in sources)
    done = 0
    results, fresh = [], False
    for i, (src, account) in enumerate(zip(sources, accounts, strict=True)):
        s = src.head
        uow.projects.lock_account(account.id)
        digest = src.lines.digest(s)
        existing = uow.statements.by_digest(account.id, digest)
        if existing is not None:
            results.append(statement_view(account.account_no, existing))
            done += src.lines.count
            continue
        fresh = True
        made = staged[i] if staged is not None else None
        if made is not None:
            staging_id, mark = made
            if uow.stagings.watermark(account.id) != mark:
                raise _BooksMoved
        else:
            staging_id = uow.stagings.open(account.id)
            matcher = _Matcher(uow, account, notification=s.format == "camt054")

            def batch(lines: list[StatementLine], staging_id: int = staging_id, m: Any = matcher) -> None:
                nonlocal done
                m.stage(uow, staging_id, lines)
                done += len(lines)
                if progress:
                    progress(done, total)

            src.each(CHUNK, batch)
        results.append(_publish(uow, src, digest, s.format or fmt, account, actor, staging_id))
        if made is None:
            uow.stagings.drop(staging_id)
    return fresh, results


class _Matcher:
    """Matches a statement's lines against the books as read when it starts, a batch at a time, and stages
    them with the outcome (escrow.store.repos.stagings). A line whose outcome needs a write - a credit that
    matches no deposit (booked to suspense), the bank's interest or fee not booked before - is staged
    `pending` and decided when the statement is published."""

    def __init__(self, uow: UnitOfWork, account: SupervisedAccount, *, notification: bool) -> None:
        self.account = account
        # Deposits a line may no longer match: one an end-of-day statement showed. A notification and the
        # day's statement both show the same movement.
        self.taken: set[int] = set() if notification else uow.statements.deposits_shown(account.id)
        self.executed = uow.instructions.executed_amounts(account.id)
        # the balance moved in from the previous supervising bank (a change of bank): matched, never new money
        self.transferred_in = uow.instructions.transferred_into(account.id)
        # court deductions leave through the bank too; the journal keeps them as deduction:<bank reference>
        for reference, fen in uow.journal.amounts_by_reference(account.id, ledger.EntryKind.COURT_DEDUCTION):
            self.executed[reference.removeprefix("deduction:")] = fen
        self.own = own_movements(uow, account.id)

    def stage(self, uow: UnitOfWork, staging_id: int, lines: list[StatementLine]) -> None:
        booked = self._booked_for(uow, lines)
        stored_date = uow.statements.driver_date()
        rows = []
        for line in lines:
            fen = to_fen(line.amount)
            match, deposit_id = self._outcome(uow, booked, line, fen)
            rows.append(staged_row(staging_id, stored_date, line, fen, match, deposit_id))
        uow.stagings.insert(rows)

    def _outcome(
        self, uow: UnitOfWork, booked: dict[str, tuple[int, int, str]], line: StatementLine, fen: int
    ) -> tuple[str, int | None]:
        if line.kind != PAYMENT:
            reference = f"{line.kind}:{line.bank_reference}"
            if reference not in self.own:
                return PENDING, None  # booked when published
            return ("matched" if self.own[reference] == fen else "unexplained"), None
        if line.direction == "credit" and self.transferred_in.get(line.bank_reference) == fen:
            return "matched", None  # the transfer that opened the account (its transfer_in journal entry)
        if line.direction == "credit":
            deposit_id = self._match_credit(uow, booked, line, fen)
            if deposit_id is None:
                return PENDING, None  # booked to suspense when published
            self.taken.add(deposit_id)
            return "matched", deposit_id
        if self.executed.get(line.bank_reference) != fen and not _reverses_a_deposit(booked, line, fen):
            return "unexplained", None
        return "matched", None

    def _match_credit(
        self, uow: UnitOfWork, booked: dict[str, tuple[int, int, str]], line: StatementLine, fen: int
    ) -> int | None:
        hit = booked.get(line.bank_reference)
        if hit and hit[1] == fen and hit[0] not in self.taken:  # a reversed deposit's credit did happen too
            return hit[0]
        for token in TOKEN.findall(line.remittance or ""):
            dep_id = _deposit_for_token(uow, self.account.id, token, fen)
            if dep_id is not None and dep_id not in self.taken:
                return dep_id
        return None

    def _booked_for(self, uow: UnitOfWork, lines: list[StatementLine]) -> dict[str, tuple[int, int, str]]:
        """bank reference → (deposit id, amount in fen, status) for the references a batch of lines may
        name. Looked up per batch through the unique (bank, reference) index, so that a million-line
        statement never holds a million deposits in memory."""
        wanted: set[str] = set()
        for line in lines:
            wanted.add(line.bank_reference)
            if line.direction == "debit":
                wanted.add(line.bank_reference.split("#", 1)[0])
                wanted.update((line.remittance or "").split())
        found: dict[str, tuple[int, int, str]] = {}
        account = self.account
        for refs in _chunks(iter(wanted), CHUNK):
            for dep_id, ref, fen, status in uow.deposits.by_references(account.bank_id, account.id, refs):
                found[ref] = (dep_id, fen, status)
        return found


def _reverses_a_deposit(booked: dict[str, tuple[int, int, str]], line: StatementLine, fen: int) -> bool:
    """A debit that takes back a reversed deposit: it carries the deposit's reference (parsers suffix a
    repeated reference with #2) or quotes it in the remittance text."""
    candidates = [line.bank_reference, line.bank_reference.split("#", 1)[0], *(line.remittance or "").split()]
    return any(
        (hit := booked.get(c)) is not None and hit[2] == "reversed" and hit[1] == fen for c in candidates
    )


def own_movements(uow: UnitOfWork, account_id: int) -> dict[str, int]:
    """The bank's own movements booked before (by an earlier statement or notification): reference → fen."""
    own: dict[str, int] = {}
    for kind in (ledger.EntryKind.INTEREST, ledger.EntryKind.FEE):
        own.update(uow.journal.amounts_by_reference(account_id, kind))
    return own


def _publish(
    uow: UnitOfWork,
    src: Source,
    digest: str,
    fmt: str,
    account: SupervisedAccount,
    actor: Principal,
    staging_id: int,
) -> StatementResult:
    """The statement of a staging, in the caller's (short) transaction: its pending lines decided in file
    order (credits booked to suspense, interest and fees booked), every staged line copied into it, its
    vouchers confirmed, and its result."""
    s = src.head
    project = uow.projects.get(account.project_id)
    notification = s.format == "camt054"
    room = deposits.Room(uow, account)  # the largest account total, for the credits booked below
    own = own_movements(uow, account.id)
    before = uow.statements.latest(account.id) if notification else None
    row = Statement(
        account_id=account.id,
        bank_id=account.bank_id,
        statement_date=s.statement_date,
        opening_fen=to_fen(s.opening_balance) if s.opening_balance is not None else None,
        closing_fen=to_fen(s.closing_balance) if s.closing_balance is not None else None,
        digest=digest,
        format=fmt,
        status="pending",
    )
    uow.statements.add(row)
    booked_own = {INTEREST: 0, FEE: 0}

    def own_movement(line: StatementLine, fen: int) -> bool:
        """Interest or a fee: matched to its entry, or booked now; False when it cannot be (a reference
        booked before with another amount, or a fee the books cannot pay)."""
        reference = f"{line.kind}:{line.bank_reference}"
        if reference in own:
            return own[reference] == fen
        make = ledger.interest if line.kind == INTEREST else ledger.fee
        entry = make(fen, booked_on=line.booked_on, reference=reference)
        if not ledger.can_post(uow.journal.balances(account.id), entry):
            return False
        uow.journal.post(account.id, entry)
        own[reference] = fen
        booked_own[line.kind] += 1
        return True

    for staged in uow.stagings.pending(staging_id):
        line = StatementLine(
            line_no=staged.line_no,
            bank_reference=staged.bank_reference,
            booked_on=staged.booked_on,
            amount=from_fen(staged.amount_fen),
            direction=staged.direction,
            counterparty_name=staged.counterparty_name,
            counterparty_account=staged.counterparty_account,
            remittance=staged.remittance,
            kind=staged.kind,
        )
        deposit_id = None
        if staged.kind != PAYMENT:
            match = "matched" if own_movement(line, staged.amount_fen) else "unexplained"
        else:
            deposit_id = _book_statement_credit(uow, project, account, line, staged.amount_fen, actor, room)
            match = "bank_only" if deposit_id else "unexplained"
        uow.stagings.decide(staged.id, match, deposit_id)
    uow.stagings.publish(staging_id, row.id, account.id)
    vouchers_confirmed = uow.stagings.confirm_vouchers(staging_id)
    outcomes = uow.stagings.outcomes(staging_id)
    unexplained = outcomes.get("unexplained", 0)

    books_only = difference = 0
    if not notification:  # a notification shows single movements: what it does not show is not missing
        books_only = uow.deposits.unshown_until(account.id, s.statement_date)  # after this one's lines
        if s.closing_balance is not None:
            difference = to_fen(s.closing_balance) - uow.journal.cash_until(account.id, s.statement_date)
    row.matched = outcomes.get("matched", 0)
    row.bank_only = outcomes.get("bank_only", 0) + unexplained
    row.books_only = books_only
    row.balance_difference_fen = difference
    carried = notification and before is not None and before.status == "discrepancy"
    troubled = books_only or unexplained or difference or carried
    row.status = "discrepancy" if troubled else "reconciled"
    uow.session.flush()
    view = statement_view(account.account_no, row)
    audit.record(
        uow.session,
        actor=actor.ref,
        action=f"statement.{row.status}",
        subject_type="statement",
        subject_id=row.id,
        account_id=account.id,
        after=wire(view),
        details={
            "vouchers_confirmed": vouchers_confirmed,  # issued → confirmed by this statement
            "interest_booked": booked_own[INTEREST],  # the bank's own movements this statement booked
            "fees_booked": booked_own[FEE],
        },
    )
    return view


def _deposit_for_token(uow: UnitOfWork, account_id: int, token: str, fen: int) -> int | None:
    """A voucher or notice number quoted in the remittance text, with the same amount."""
    if token.startswith("PZ"):
        return uow.deposits.unreversed_by_voucher_no(account_id, token, fen)
    return uow.deposits.unreversed_by_notice_no(account_id, token, fen)


def _book_statement_credit(
    uow: UnitOfWork,
    project: Project,
    account: SupervisedAccount,
    line: StatementLine,
    fen: int,
    actor: Principal,
    room: deposits.Room,
) -> int | None:
    """Money the bank shows but nobody posted: it is in the account, so book it to suspense. A reference
    already used by another deposit of this bank cannot be booked again and stays unexplained."""
    if uow.deposits.by_reference(account.bank_id, line.bank_reference) is not None:
        return None
    room.take(fen)  # above the largest account total: the whole file is refused
    deposit = uow.deposits.add(
        Deposit(
            account_id=account.id,
            bank_id=account.bank_id,
            bank_reference=line.bank_reference,
            amount_fen=fen,
            payer_name=(line.counterparty_name or "unknown payer")[:200],
            payer_account=line.counterparty_account[:64],
            channel="statement",
            value_date=line.booked_on,
            status="suspense",
            rulebook_id=project.rulebook_id,
            checks=[
                {
                    "rule": "statement_only",
                    "result": "fail",
                    **checks.said(False, "statement_only").record(),
                }
            ],
        )
    )
    uow.journal.post(
        account.id,
        ledger.deposit(fen, suspense=True, booked_on=line.booked_on, reference=f"deposit:{deposit.id}"),
    )
    audit.record(
        uow.session,
        actor=actor.ref,
        action="deposit.suspense",
        subject_type="deposit",
        subject_id=deposit.id,
        account_id=account.id,
        details={"source": "statement"},
    )
    webhooks.deposit_posted(uow, account.id, lambda: deposits.deposit_view(uow, deposit))
    return deposit.id


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
