"""Bank statement parsers: camt.053/camt.054 (ISO 20022 XML, also a ZIP of such files), MT940, statement
CSV and JSON.

A pure package - no database, no web framework. ``parse(data)`` turns the bytes of one file into a list of
``ParsedStatement`` (one file may carry several statements, e.g. a camt message with several Stmt, or a CSV
with several accounts) or raises ``FeedError`` with one readable sentence and, for line-based formats, the
line. A file is accepted whole or not at all: nothing is returned for a file with a malformed row.

Conventions shared by every format: amounts are ``Decimal`` with exactly two places, never float; a line's
``amount`` is > 0 and ``direction`` is ``"credit"`` (money in) or ``"debit"`` (money out); balances are
signed. ``bank_reference`` is unique within a statement: camt and MT940 references that repeat get a ``#2``
suffix, missing ones are made from the statement id and the entry's position (CSV and JSON refuse a repeat).
``line_no`` is 1-based and unique within a statement: the physical line for CSV and MT940 (the ``:61:``
line), the position of the line in its statement for camt and JSON (JSON ``lines[0]`` is line_no 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import BinaryIO

from escrow.feeds.camt import parse_camt, sniff_kind
from escrow.feeds.csvfeed import CsvFile, parse_csv, parse_csv_stream
from escrow.feeds.jsonfeed import parse_json
from escrow.feeds.model import FORMATS, KINDS, FeedError, ParsedStatement, StatementLine, UnsupportedMedia
from escrow.feeds.swift import parse_mt940
from escrow.feeds.text import charset_of
from escrow.feeds.zipfeed import looks_like_zip, parse_zip

__all__ = [
    "FORMATS",
    "KINDS",
    "CsvFile",
    "FeedError",
    "ParsedStatement",
    "StatementLine",
    "UnsupportedMedia",
    "csv_file",
    "detect_format",
    "parse",
    "parse_csv_stream",
]

_XML_TYPES = {"application/xml", "text/xml"}
_CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values"}
_ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
# No word on the format: read it (Windows browsers and mail clients label a CSV file as an Excel one).
_SNIFFED_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/vnd.ms-excel"}
_READABLE = (
    "camt XML (application/xml), a ZIP of camt XML files (application/zip), MT940 (text/plain), CSV or JSON"
)
# File signatures of what no statement is: a PDF, images, office documents (an Excel export is not the CSV).
_UNREADABLE_MAGIC = {
    b"%PDF-": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\xd0\xcf\x11\xe0": "an old Office document (an Excel .xls?)",
    b"\x1f\x8b": "a gzip file",
}
_EXTENSIONS = {
    "xml": "camt",
    "camt": "camt",
    "sta": "mt940",
    "mt940": "mt940",
    "940": "mt940",
    "swi": "mt940",
    "csv": "csv",
    "json": "json",
    "zip": "zip",
}
_ALIASES = {
    "camt": "camt",
    "xml": "camt",
    "camt053": "camt053",
    "camt.053": "camt053",
    "camt054": "camt054",
    "camt.054": "camt054",
    "mt940": "mt940",
    "swift": "mt940",
    "csv": "csv",
    "json": "json",
    "zip": "zip",
}
_MT940_FIELD = re.compile(rb"(?m)^:(20|25|60F):")


def _camt(data: bytes) -> str:
    kind = sniff_kind(data)
    if kind is None:
        raise FeedError("the XML is not a camt.053 or camt.054 document (it has no ISO 20022 camt namespace)")
    if kind == "camt052":
        raise FeedError("camt.052 is not supported; send a camt.053 statement or a camt.054 notification")
    return kind


def _unsupported(mime: str, data: bytes) -> UnsupportedMedia | None:
    """Why the body cannot be a statement, when its type or its signature says so."""
    for magic, what in _UNREADABLE_MAGIC.items():
        if data.startswith(magic):
            return UnsupportedMedia(f"the body is {what}, not a statement; send {_READABLE}")
    if mime and not mime.startswith("text/") and mime not in _SNIFFED_TYPES:
        return UnsupportedMedia(f"the media type {mime} cannot be read as a statement; send {_READABLE}")
    return None


def detect_format(data: bytes, content_type: str | None = None, filename: str | None = None) -> str:
    """One of FORMATS or "zip": from the content type where it says, else from the content, else from the file
    name. A media type or a file signature no parser reads (a PDF, an image) raises UnsupportedMedia."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in _ZIP_TYPES or (mime in _SNIFFED_TYPES and looks_like_zip(data)):
        return "zip"
    if mime in _XML_TYPES or mime.endswith("+xml"):
        return _camt(data)
    if mime == "text/plain":
        return "mt940"
    if mime in _CSV_TYPES:
        return "csv"
    if mime == "application/json" or mime.endswith("+json"):
        return "json"
    refused = _unsupported(mime, data)
    if refused is not None:
        raise refused

    head = data[:8192]
    for bom in (b"\xef\xbb\xbf",):
        head = head.removeprefix(bom)
    head = head.lstrip()
    if head.startswith(b"<"):
        return _camt(data)
    if head.startswith(b"{1:") or _MT940_FIELD.search(head) or re.match(rb":\d\d[A-Z]?:", head):
        return "mt940"
    if head.startswith((b"{", b"[")):
        return "json"
    if filename and "." in filename:
        hinted = _EXTENSIONS.get(filename.rsplit(".", 1)[1].lower())
        if hinted == "camt":
            return _camt(data)
        if hinted == "zip":
            return "zip" if looks_like_zip(data) else "csv"
        if hinted:
            return hinted
    return "csv"


def parse(
    data: bytes,
    fmt: str | None = None,
    *,
    content_type: str | None = None,
    filename: str | None = None,
) -> list[ParsedStatement]:
    """Parse one statement file. ``fmt`` may be one of FORMATS or "camt" (either camt kind); None detects it.

    One file may carry several statements (camt with several Stmt/Ntfctn, a CSV with several account_no
    values, MT940 with several :20: blocks, a JSON list). Raises FeedError: then nothing of it is usable.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse() takes the file's bytes")
    data = bytes(data)
    if not data or data.isspace():  # isspace() stops at the first other byte; strip() would copy the file
        raise FeedError("the file is empty")
    if fmt is None:
        fmt = detect_format(data, content_type, filename)
    kind = _ALIASES.get(fmt.strip().lower())
    if kind is None:
        raise FeedError(f"unknown statement format {fmt!r}; expected camt, zip, mt940, csv or json")
    charset = charset_of(content_type)
    if kind == "zip":
        return parse_zip(data)
    if kind.startswith("camt"):
        return parse_camt(data, expected=kind)
    if kind == "mt940":
        return parse_mt940(data, charset)
    if kind == "csv":
        return parse_csv(data, charset)
    return parse_json(data)


def csv_file(
    open_binary: Callable[[], BinaryIO],
    head: bytes,
    fmt: str | None = None,
    *,
    content_type: str | None = None,
    filename: str | None = None,
) -> CsvFile | None:
    """The file as a `CsvFile`, read in batches of lines, when it is a statement CSV (by ``fmt``, else as its
    first bytes ``head`` say); None for any other format, which `parse` reads whole (so also when the head
    alone cannot tell: `parse` then decides, or names the problem)."""
    if not head or head.isspace():
        raise FeedError("the file is empty")
    if fmt is None:
        try:
            fmt = detect_format(head, content_type, filename)
        except FeedError:
            return None
    if _ALIASES.get(fmt.strip().lower()) != "csv":
        return None
    return CsvFile(open_binary, charset_of(content_type))
