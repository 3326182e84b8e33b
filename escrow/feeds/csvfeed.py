"""Statement CSV (CONTRACT.md §4): a row per booking, optional opening/closing balance rows, any column order.

Banks send files of a million rows, so the path a plain row takes is kept short: ``csv.reader`` over a text
stream, column positions resolved once from the header, rows taken in chunks of a few hundred and checked
column by column with ``map()`` (cached dates, one regular expression over a chunk's amounts, one set
operation for its references), lines built without the frozen dataclass's slow ``__init__``, and the cyclic
garbage collector paused. Anything unusual in a chunk sends it through the row-by-row path, which reads every
accepted form and reports the first malformed row with its physical line.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from itertools import islice, repeat
from operator import itemgetter
from typing import BinaryIO, TextIO

from escrow.feeds.model import (
    CREDIT,
    DEBIT,
    FEE,
    FEE_WORDS,
    INTEREST,
    INTEREST_WORDS,
    KIND_DIRECTION,
    MAX_INTEGER_DIGITS,
    PAYMENT,
    FeedError,
    ParsedStatement,
    StatementLine,
    kind_from_words,
    new_line,
)
from escrow.feeds.text import looks_chinese, not_utf8

OPENING = "opening"
CLOSING = "closing"

REQUIRED = ("account_no", "bank_reference", "booked_on", "direction", "amount")
OPTIONAL = ("counterparty_name", "counterparty_account", "remittance")
_ALIASES = {
    "account_no": ("account_no", "账号", "本方账号", "账户", "账户账号"),
    "bank_reference": ("bank_reference", "交易流水号", "流水号", "银行流水号"),
    "booked_on": ("booked_on", "记账日期", "交易日期"),
    "direction": ("direction", "借贷标志", "借贷方向"),
    "amount": ("amount", "交易金额", "金额", "发生额"),
    "counterparty_name": ("counterparty_name", "对方户名", "对方名称"),
    "counterparty_account": ("counterparty_account", "对方账号"),
    "remittance": ("remittance", "摘要", "附言", "用途"),
    "currency": ("currency", "币种"),
    "kind": ("kind",),
}
_HEADER = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}

_DIRECTION_WORDS = {
    "credit": CREDIT,
    "cr": CREDIT,
    "c": CREDIT,
    "贷": CREDIT,
    "贷方": CREDIT,
    "debit": DEBIT,
    "dr": DEBIT,
    "d": DEBIT,
    "借": DEBIT,
    "借方": DEBIT,
    "opening": OPENING,
    "期初": OPENING,
    "期初余额": OPENING,
    "closing": CLOSING,
    "期末": CLOSING,
    "期末余额": CLOSING,
}
# Exact spellings looked up without any string work; anything else goes through strip().lower().
_DIRECTIONS = {**_DIRECTION_WORDS}
for _word, _value in _DIRECTION_WORDS.items():
    _DIRECTIONS[_word.upper()] = _value
    _DIRECTIONS[_word.capitalize()] = _value

# A line's kind (CONTRACT.md §9) as the `kind` column may write it; an empty cell: from the 摘要 words.
_KIND_WORDS = {
    "payment": PAYMENT,
    "interest": INTEREST,
    "fee": FEE,
    "款项": PAYMENT,
    "缴款": PAYMENT,
    **dict.fromkeys(INTEREST_WORDS, INTEREST),
    **dict.fromkeys(FEE_WORDS, FEE),
}
_KIND_HINTS = INTEREST_WORDS + FEE_WORDS


def line_kind(text: str, direction: str, remittance: str, line: int) -> str:
    """The kind of a line from its `kind` cell, or (empty) from its 摘要 words; a kind against the direction
    (interest is a credit, a fee a debit) or an unknown word is refused with the line."""
    word = text.strip()
    if not word:
        return kind_from_words(remittance, direction)
    kind = _KIND_WORDS.get(word.lower())
    if kind is None:
        raise FeedError(f"kind {_describe(text)} is not payment, interest (结息) or fee (手续费)", line=line)
    if KIND_DIRECTION.get(kind, direction) != direction:
        raise FeedError(f"a line of kind {kind} is a {KIND_DIRECTION[kind]}, not a {direction}", line=line)
    return kind


_THOUSANDS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,2})?")
_PLAIN = re.compile(r"[0-9]+(\.[0-9]{1,2})?|\.[0-9]{1,2}")


def _normal_header(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


_TITLE_ROWS = 10


def _is_header(row: list[str]) -> bool:
    names = {_HEADER.get(_normal_header(cell)) for cell in row}
    return all(name in names for name in REQUIRED)


def _resolve_header(header: list[str], line: int) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _HEADER.get(_normal_header(cell))
        if name is None:
            continue
        if name in columns:
            raise FeedError(f"column {name} appears twice in the header ({cell.strip()!r})", line=line)
        columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        names = ", ".join(f"{n} ({_ALIASES[n][1]})" for n in missing)
        noun = "column" if len(missing) == 1 else "columns"
        raise FeedError(f"the header lacks the required {noun} {names}", line=line)
    return columns


def parse_amount(text: str, *, signed: bool = False) -> Decimal | None:
    """A CSV amount: decimal text, at most two decimals, "," thousands separators allowed. None if malformed.

    Always returns a Decimal with exactly two places. Zero and (when ``signed``) negative values are returned;
    the caller decides whether they are allowed.
    """
    # Fast path: "1234.50" - the form nearly every row has.
    if len(text) > 3 and text[-3] == "." and text.isascii():
        head = text[:-3]
        if head.isdigit() and text[-2:].isdigit() and len(head) <= MAX_INTEGER_DIGITS:
            return Decimal(text)
    value = text.strip()
    negative = False
    if signed and value.startswith("-"):
        negative, value = True, value[1:].lstrip()
    if not value.isascii():
        return None
    if _THOUSANDS.fullmatch(value):
        value = value.replace(",", "")
    elif not _PLAIN.fullmatch(value):
        return None
    whole, _, fraction = value.partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        return None
    amount = Decimal(f"{whole}.{fraction.ljust(2, '0')}")
    return -amount if negative else amount


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD; None if malformed."""
    value = text.strip()
    n = len(value)
    if n == 10 and value[4] == value[7] and value[4] in "-/":
        y, m, d = value[:4], value[5:7], value[8:]
    elif n == 8:
        y, m, d = value[:4], value[4:6], value[6:]
    else:
        return None
    if not (y.isdigit() and m.isdigit() and d.isdigit() and value.isascii()):
        return None
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _describe(value: str) -> str:
    value = value.strip()
    return repr(value if len(value) <= 40 else value[:37] + "...")


class _Account:
    __slots__ = (
        "closing",
        "closing_on",
        "count",
        "currency",
        "first_line",
        "last_booked",
        "lines",
        "opening",
        "opening_on",
    )

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.lines: list[StatementLine] = []  # when streamed: the lines not yet handed on
        self.count = 0  # lines handed on (streamed)
        self.last_booked: date | None = None  # the latest booked_on of the lines handed on
        self.opening: Decimal | None = None
        self.opening_on: date | None = None
        self.closing: Decimal | None = None
        self.closing_on: date | None = None
        self.currency: str | None = None


Sink = Callable[[str, list[StatementLine]], None]


def parse_csv_stream(stream: TextIO | Iterable[str]) -> list[ParsedStatement]:
    """Parse a statement CSV from a text stream opened with ``newline=""`` (or any iterable of lines).

    Raises FeedError naming the physical line (the header is line 1) of the first malformed row; nothing is
    returned then.
    """
    return _parse_rows(stream)


def _parse_rows(
    stream: TextIO | Iterable[str], sink: Sink | None = None, batch: int = 0, rescan=None
) -> list[ParsedStatement]:
    """The statements of the stream; with a `sink`, their lines are handed to it in batches of about `batch`
    lines in file order (account by account within a batch) and not kept: the statements come back without
    lines. `rescan(ref)` finds the first line of a reference whose lines were handed on."""
    reader = csv.reader(stream)
    line_end = 0
    header: list[str] | None = None
    header_line = 1
    first: tuple[list[str], int] | None = None
    # The header is the first row; title rows above it ("交易明细", "账号: …", as some bank exports have) are
    # passed over when a later row among the first few is a complete header.
    for row in reader:
        header_line, line_end = line_end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if first is None:
            first = (row, header_line)
        if _is_header(row):
            header = row
            break
        if header_line >= _TITLE_ROWS:
            break
    if first is None:
        raise FeedError("the file is empty: there is no header row", line=1)
    if header is None:
        _resolve_header(*first)  # raises, naming the missing columns
        raise AssertionError  # pragma: no cover
    columns = _resolve_header(header, header_line)
    ncols = len(header)
    pad = 0
    for name in OPTIONAL:
        if name not in columns:
            columns[name] = ncols + pad
            pad += 1

    # The loop allocates no reference cycles; pausing the collector saves it from rescanning the growing list
    # of lines every few hundred rows (about a fifth of the time on a million rows).
    paused = gc.isenabled()
    gc.disable()
    try:
        rows = _Rows(ncols, columns)
        rows.rescan = rescan
        accounts = rows.read(reader, line_end, sink, batch)
    finally:
        if paused:
            gc.enable()
    if not accounts:
        raise FeedError("the file has a header but no rows", line=header_line)
    return _statements(accounts)


def _hand_on(accounts: dict[str, _Account], sink: Sink) -> None:
    for account_no, acc in accounts.items():
        lines = acc.lines
        if not lines:
            continue
        acc.lines = []
        acc.count += len(lines)
        latest = max(line.booked_on for line in lines)
        if acc.last_booked is None or latest > acc.last_booked:
            acc.last_booked = latest
        sink(account_no, lines)


_CHUNK = 512
# Amounts with two decimals and at most 16 integer digits, one per line: what nearly every row carries.
_PLAIN_AMOUNTS = re.compile(r"(?:[0-9]{1,16}\.[0-9]{2}\n)*").fullmatch
_LINE_DIRECTIONS = frozenset((CREDIT, DEBIT))


class _Rows:
    """The rows after the header, read in chunks of ``_CHUNK`` (small enough to stay in the CPU cache).

    A chunk where every row is plain - one physical line each, the header's column count, exact direction
    words, valid dates, amounts like "1234.50", new references - is taken column by column with ``map()``,
    at C speed. Any other chunk goes row by row through ``_slow``, which accepts the same files and finds
    the first malformed row with its line. The fast path changes nothing (but the cache of parsed dates)
    before it has checked the whole chunk, so handing a chunk over is always safe.
    """

    def __init__(self, ncols: int, columns: dict[str, int]) -> None:
        self.ncols = ncols
        self.index = {name: columns[name] for name in REQUIRED + OPTIONAL}
        self.pad = sum(1 for i in self.index.values() if i >= ncols)
        self.getter = itemgetter(*(columns[name] for name in REQUIRED + OPTIONAL))
        self.i_currency = columns.get("currency", -1)
        self.i_kind = columns.get("kind", -1)
        self.accounts: dict[str, _Account] = {}
        self.seen: set[str] = set()
        self.dates: dict[str, date] = {}
        self.rescan: Callable[[str], int | None] | None = None

    def read(self, reader, line_end: int, sink: Sink | None = None, batch: int = 0) -> dict[str, _Account]:
        pending = 0
        while True:
            chunk = list(islice(reader, _CHUNK))
            if not chunk:
                if sink is not None:
                    _hand_on(self.accounts, sink)
                return self.accounts
            end = reader.line_num
            if end - line_end != len(chunk) or not self._fast(chunk, line_end + 1):
                self._slow(chunk, _line_numbers(chunk, line_end))
            line_end = end
            pending += len(chunk)
            if sink is not None and pending >= batch:
                _hand_on(self.accounts, sink)
                pending = 0

    def first_line_of(self, ref: str) -> int | None:
        """The line a reference first appeared on: among the lines kept, else (streamed) by reading again."""
        found = next(
            (ln.line_no for acc in self.accounts.values() for ln in acc.lines if ln.bank_reference == ref),
            None,
        )
        if found is None and self.rescan is not None:
            return self.rescan(ref)
        return found

    def _column(self, chunk: list[list[str]], name: str):
        """One column of the chunk, lazily (a ``map``); "" for an optional column the file does not have."""
        i = self.index[name]
        return map(itemgetter(i), chunk) if i < self.ncols else repeat("")

    def _fast(self, chunk: list[list[str]], first_line: int) -> bool:
        n = len(chunk)
        if set(map(len, chunk)) != {self.ncols}:
            return False
        column = self._column
        directions = list(map(_DIRECTIONS.get, column(chunk, "direction")))
        if not _LINE_DIRECTIONS.issuperset(directions):
            return False  # balance rows, unusual spellings, errors
        refs = list(map(str.strip, column(chunk, "bank_reference")))
        ref_set = set(refs)
        if "" in ref_set or len(ref_set) != n or not self.seen.isdisjoint(ref_set):
            return False
        date_texts = list(column(chunk, "booked_on"))
        dates = self.dates
        booked = list(map(dates.get, date_texts))
        if None in booked:
            for text in set(date_texts) - dates.keys():
                parsed = parse_date(text)
                if parsed is None:
                    return False
                dates[text] = parsed
            booked = list(map(dates.get, date_texts))
        amount_texts = list(column(chunk, "amount"))
        # One regular-expression pass over the whole column (no value holds a line break in a fast chunk).
        if not _PLAIN_AMOUNTS("\n".join(amount_texts) + "\n"):
            return False
        amounts = list(map(Decimal, amount_texts))
        if not all(amounts):
            return False  # a zero amount
        currency = None
        if self.i_currency >= 0:
            currencies = set(map(itemgetter(self.i_currency), chunk))
            if len(currencies) != 1:
                return False
            currency = currencies.pop()
            if currency != currency.strip().upper():
                return False
            currency = currency or None
        distinct = set(column(chunk, "account_no"))
        single = len(distinct) == 1
        if single:
            account_no = distinct.pop().strip()
            if not account_no:
                return False
            bucket = self.accounts.get(account_no)
            if currency is not None and bucket is not None and bucket.currency not in (None, currency):
                return False
        else:
            if currency is not None:
                return False
            account_nos = list(map(str.strip, column(chunk, "account_no")))
            if "" in account_nos:
                return False

        if self.i_kind >= 0 and any(map(str.strip, map(itemgetter(self.i_kind), chunk))):
            return False  # kinds written out: checked row by row
        remittances = list(islice(map(str.strip, column(chunk, "remittance")), n))  # repeat("") if no column
        joined = "\n".join(remittances)
        if any(hint in joined for hint in _KIND_HINTS):
            kinds = list(map(kind_from_words, remittances, directions))
        else:
            kinds = repeat(PAYMENT)

        # Checked: from here on the chunk is taken.
        lines = list(
            map(
                new_line,
                range(first_line, first_line + n),
                refs,
                booked,
                amounts,
                directions,
                map(str.strip, column(chunk, "counterparty_name")),
                map(str.strip, column(chunk, "counterparty_account")),
                remittances,
                repeat(currency),
                kinds,
            )
        )
        self.seen.update(ref_set)
        if single:
            if bucket is None:
                bucket = self.accounts[account_no] = _Account(first_line)
            if currency is not None:
                bucket.currency = currency
            bucket.lines.extend(lines)
        else:
            accounts = self.accounts
            for account_no, line in zip(account_nos, lines, strict=True):
                bucket = accounts.get(account_no)
                if bucket is None:
                    bucket = accounts[account_no] = _Account(line.line_no)
                bucket.lines.append(line)
        return True

    def _slow(self, chunk: list[list[str]], numbers) -> None:
        """Row by row: every accepted form, and the first malformed row reported with its line."""
        ncols, pad, getter, i_currency = self.ncols, self.pad, self.getter, self.i_currency
        i_kind = self.i_kind
        accounts, seen = self.accounts, self.seen
        seen_add = seen.add
        dates = self.dates
        dates_get = dates.get
        directions_get = _DIRECTIONS.get
        make_line = new_line
        amount_of = parse_amount
        to_decimal = Decimal
        digits = "0123456789"
        padding = [""] * pad
        credit, debit = CREDIT, DEBIT
        last_account = None
        bucket: _Account | None = None
        append = None

        for line, row in zip(numbers, chunk, strict=True):
            if len(row) != ncols:
                row = _fit_row(row, ncols, line)
                if row is None:
                    continue
            if pad:
                row.extend(padding)
            account_no, ref, booked_text, direction_text, amount_text, name, their_account, remittance = (
                getter(row)
            )

            direction = directions_get(direction_text)
            if direction is None:
                direction = _DIRECTIONS.get(direction_text.strip().lower())
                if direction is None:
                    if not any(cell.strip() for cell in row):
                        continue  # a row of empty cells, as spreadsheets leave at the end
                    if not direction_text.strip():
                        raise FeedError("direction is empty", line=line)
                    raise FeedError(
                        f"direction {_describe(direction_text)} is not credit/debit (贷/借) or "
                        "opening/closing",
                        line=line,
                    )

            if account_no != last_account:
                account_no = account_no.strip()
                if not account_no:
                    raise FeedError("account_no is empty", line=line)
                bucket = accounts.get(account_no)
                if bucket is None:
                    bucket = accounts[account_no] = _Account(line)
                append = bucket.lines.append
                last_account = account_no

            currency = None
            if i_currency >= 0:
                currency = row[i_currency].strip().upper() or None
                if currency is not None:
                    if bucket.currency is None:
                        bucket.currency = currency
                    elif bucket.currency != currency:
                        raise FeedError(
                            f"account {account_no} mixes currencies {bucket.currency} and {currency}",
                            line=line,
                        )

            if direction is credit or direction is debit:
                ref = ref.strip()
                if not ref:
                    raise FeedError("bank_reference is empty", line=line)
                booked_on = dates_get(booked_text)
                if booked_on is None:
                    booked_on = parse_date(booked_text)
                    if booked_on is None:
                        raise _bad_date(booked_text, line)
                    dates[booked_text] = booked_on
                if amount_text[-3:-2] == "." and amount_text.strip(digits) == "." and len(amount_text) <= 19:
                    amount = to_decimal(amount_text)  # the common "1234.50", checked without a regex
                else:
                    amount = amount_of(amount_text)
                if not amount:  # None (malformed) or zero
                    raise _bad_amount(amount_text, amount, line)
                count = len(seen)
                seen_add(ref)  # one probe of a table of a million references, instead of "in" and then add()
                if len(seen) == count:
                    raise _duplicate(ref, line, self.first_line_of(ref))
                remittance = remittance.strip()
                kind = line_kind(row[i_kind] if i_kind >= 0 else "", direction, remittance, line)
                append(
                    make_line(
                        line,
                        ref,
                        booked_on,
                        amount,
                        direction,
                        name.strip(),
                        their_account.strip(),
                        remittance,
                        currency,
                        kind,
                    )
                )
            else:
                _balance_row(bucket, direction, account_no, booked_text, amount_text, line)


def _line_numbers(chunk: list[list[str]], line_end: int):
    """The physical line each row starts on, for a chunk where some quoted value spans lines."""
    if not any("\n" in cell or "\r" in cell for row in chunk for cell in row):
        return range(line_end + 1, line_end + 1 + len(chunk))
    numbers = []
    line = line_end
    for row in chunk:
        numbers.append(line + 1)
        line += 1 + sum(cell.count("\n") + cell.count("\r") - cell.count("\r\n") for cell in row)
    return numbers


def _statements(accounts: dict[str, _Account]) -> list[ParsedStatement]:
    statements = []
    for account_no, acc in accounts.items():
        statement_date = acc.closing_on
        if statement_date is None and acc.lines:
            statement_date = max(line.booked_on for line in acc.lines)
        if statement_date is None:
            statement_date = acc.last_booked  # streamed: the lines were handed on
        if statement_date is None:
            statement_date = acc.opening_on
        if statement_date is None:
            raise FeedError(
                f"account {account_no} has no bookings and no dated balance row: the statement has no date",
                line=acc.first_line,
            )
        statements.append(
            ParsedStatement(
                format="csv",
                account_no=account_no,
                currency=acc.currency,
                statement_date=statement_date,
                opening_balance=acc.opening,
                closing_balance=acc.closing,
                lines=acc.lines,
            )
        )
    return statements


def _fit_row(row: list[str], ncols: int, line: int) -> list[str] | None:
    """A row whose length differs from the header's: blank → skip (None); trailing empty cells → trimmed."""
    if not any(cell.strip() for cell in row):
        return None
    if len(row) > ncols and not any(cell.strip() for cell in row[ncols:]):
        return row[:ncols]
    hint = " (an unquoted comma inside a value?)" if len(row) > ncols else ""
    raise FeedError(f"the row has {len(row)} columns but the header has {ncols}{hint}", line=line)


def _balance_row(
    acc: _Account, direction: str, account_no: str, booked_text: str, amount_text: str, line: int
) -> None:
    on = None
    if booked_text.strip():
        on = parse_date(booked_text)
        if on is None:
            raise _bad_date(booked_text, line)
    if not amount_text.strip():
        raise FeedError(f"the {direction} balance row has no amount", line=line)
    amount = parse_amount(amount_text, signed=True)
    if amount is None:
        raise FeedError(
            f"{direction} balance {_describe(amount_text)} is not a decimal amount with at most two decimals",
            line=line,
        )
    if direction == OPENING:
        if acc.opening is not None:
            raise FeedError(f"a second opening balance row for account {account_no}", line=line)
        acc.opening, acc.opening_on = amount, on
    else:
        if acc.closing is not None:
            raise FeedError(f"a second closing balance row for account {account_no}", line=line)
        acc.closing, acc.closing_on = amount, on


def _bad_date(text: str, line: int) -> FeedError:
    if not text.strip():
        return FeedError("booked_on is empty", line=line)
    return FeedError(f"booked_on {_describe(text)} is not a date (YYYY-MM-DD)", line=line)


def _bad_amount(text: str, amount: Decimal | None, line: int) -> FeedError:
    value = text.strip()
    if not value:
        return FeedError("amount is empty", line=line)
    if amount is not None:
        return FeedError(f"amount {_describe(text)} must be greater than zero", line=line)
    if value.startswith("-"):
        return FeedError(
            f"amount {_describe(text)} must be greater than zero (the direction gives the sign)", line=line
        )
    if re.fullmatch(r"[0-9,]*\.[0-9]{3,}", value):
        return FeedError(f"amount {_describe(text)} has more than two decimals", line=line)
    if _PLAIN.fullmatch(value) or _THOUSANDS.fullmatch(value):  # well-formed, so only too many digits
        return FeedError(f"amount {_describe(text)} is too large", line=line)
    return FeedError(f"amount {_describe(text)} is not a decimal amount such as 1234.50", line=line)


def _duplicate(ref: str, line: int, first: int | None) -> FeedError:
    where = f" (first on line {first})" if first is not None else ""
    error = FeedError(f"bank_reference {ref!r} appears twice in the file{where}", line=line)
    error.first_line = first  # type: ignore[attr-defined]  # for CsvFile's reading again
    return error


def parse_csv(data: bytes, charset: str | None = None) -> list[ParsedStatement]:
    """Parse statement CSV bytes: UTF-8 with or without BOM (a Chinese bank's GB18030 export is also read)."""
    encoding = charset or "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        encoding, start = "utf-8", 3
    else:
        start = 0
    try:
        return _parse_bytes(data, start, encoding)
    except UnicodeDecodeError:
        if encoding not in ("utf-8", "utf_8"):
            raise FeedError(f"the file is not {encoding} text") from None
        if not looks_chinese(data[start:]):
            raise not_utf8(data) from None
        try:
            return _parse_bytes(data, start, "gb18030")
        except UnicodeDecodeError:
            raise not_utf8(data) from None


def _parse_bytes(data: bytes, start: int, encoding: str) -> list[ParsedStatement]:
    raw = io.BytesIO(data)
    raw.seek(start)
    with io.TextIOWrapper(raw, encoding=encoding, newline="") as stream:
        return parse_csv_stream(stream)


class _Found(Exception):
    def __init__(self, line: int | None) -> None:
        self.line = line


class CsvFile:
    """A statement CSV read from a file (or bytes) in batches of lines, never whole: `scan` checks every row
    as `parse_csv` does and returns the statements without their lines, handing the lines to a sink; `each`
    reads one account's lines again, batch by batch. A file of a million lines never has them all in memory.
    """

    def __init__(self, open_binary: Callable[[], BinaryIO], charset: str | None = None) -> None:
        self.open_binary = open_binary
        self.encoding, self.start = self._encoding(charset)

    def _encoding(self, charset: str | None) -> tuple[str, int]:
        """The file's encoding, decoded once through without keeping it: UTF-8 (a BOM, or by default), the
        declared charset, or GB18030 where the bytes read as Chinese (what `parse_csv` accepts)."""
        with self.open_binary() as f:
            head = f.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8", 3
        encoding = charset or "utf-8"
        if self._decodes(encoding):
            return encoding, 0
        if encoding not in ("utf-8", "utf_8"):
            raise FeedError(f"the file is not {encoding} text")
        with self.open_binary() as f:
            sample = f.read(2 << 20)
        if looks_chinese(sample) and self._decodes("gb18030"):
            return "gb18030", 0
        with self.open_binary() as f:  # the error names the line of the first bad byte
            raise not_utf8(f.read())

    def _decodes(self, encoding: str) -> bool:
        decoder = codecs.getincrementaldecoder(encoding)()
        with self.open_binary() as f:
            try:
                while block := f.read(1 << 20):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return False
        return True

    def _read(self, sink: Sink, batch: int, rescan=None) -> list[ParsedStatement]:
        raw = self.open_binary()
        raw.seek(self.start)
        with io.TextIOWrapper(raw, encoding=self.encoding, newline="") as stream:
            return _parse_rows(stream, sink, batch, rescan)

    def scan(self, sink: Sink, batch: int = 10_000) -> list[ParsedStatement]:
        """Every row checked (FeedError names the first malformed one); the statements, with no lines."""
        return self._read(sink, batch, self._first_line)

    def each(self, account_no: str, batch: int, use: Callable[[list[StatementLine]], None]) -> None:
        """`use` on each batch of one account's lines, in file order."""

        def sink(account: str, lines: list[StatementLine]) -> None:
            if account == account_no:
                use(lines)

        self._read(sink, batch)

    def _first_line(self, ref: str) -> int | None:
        def sink(account: str, lines: list[StatementLine]) -> None:
            for line in lines:
                if line.bank_reference == ref:
                    raise _Found(line.line_no)

        try:  # lines are handed on after every chunk, so the first is seen before the repeat raises
            self._read(sink, 1)
        except _Found as found:
            return found.line
        except FeedError as exc:  # both in one chunk: the repeat named the first from the lines kept
            return getattr(exc, "first_line", None)
        return None  # pragma: no cover
