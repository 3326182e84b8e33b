"""ISO 20022 camt.053 (bank to customer statement) and camt.054 (debit/credit notification), any version.

Parsed with lxml, safely: no entity expansion, no network, no huge trees, and a document that declares a DTD
is refused outright (statement files never have one; it is how XXE and entity bombs arrive).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from lxml import etree

from escrow.feeds.model import (
    CREDIT,
    DEBIT,
    FEE,
    INTEREST,
    PAYMENT,
    FeedError,
    ParsedStatement,
    StatementLine,
    kind_from_code,
    money,
    with_references,
)
from escrow.feeds.text import line_of_offset

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(05[2-4])\.001\.\d+$")
_NAMESPACE_BYTES = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.(05[2-4])\.001\.\d+")
_KINDS = {
    "053": ("camt053", "BkToCstmrStmt", "Stmt"),
    "054": ("camt054", "BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")
_NOT_BOOKED = {"PDNG", "INFO", "FUTR"}
_NO_REFERENCE = {"", "NOTPROVIDED", "NONREF"}
# ISO 20022 bank transaction codes (Domn/Fmly/Cd, Fmly/SubFmlyCd) naming interest and the bank's charges.
_INTEREST_CODES = {"INTR"}
_FEE_CODES = {"CHRG", "FEES"}


def sniff_kind(data: bytes) -> str | None:
    """camt053 / camt054 from the namespace near the top of the document, without parsing it."""
    match = _NAMESPACE_BYTES.search(data[:65536])
    if match is None:
        return None
    number = match.group(1).decode()
    if number not in _KINDS:
        return "camt052"
    return _KINDS[number][0]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_camt(data: bytes, expected: str | None = None) -> list[ParsedStatement]:
    """Parse camt.053/camt.054 bytes. ``expected`` ("camt053"/"camt054") refuses the other kind."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno and exc.lineno > 0 else None
        message = str(exc.msg or exc).split(", line ")[0]
        raise FeedError(f"the XML is not well-formed: {message}", line=line) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise FeedError(
            "the XML declares a DTD (<!DOCTYPE ...>); statement files never do, and it is refused for safety",
            line=line_of_offset(data, max(data.find(b"<!DOCTYPE"), 0)),
        )
    document = _find_document(root)
    namespace = etree.QName(document).namespace or ""
    number = _NAMESPACE.match(namespace).group(1)
    if number not in _KINDS:
        raise FeedError(
            f"camt.{number} is not supported; send a camt.053 statement or a camt.054 notification",
            line=document.sourceline,
        )
    fmt, message_tag, statement_tag = _KINDS[number]
    if expected and expected not in ("camt", fmt):
        raise FeedError(f"the document is {fmt[:4]}.{fmt[4:]}, not {expected[:4]}.{expected[4:]}")
    reader = _Reader(namespace, fmt)
    message = document  # a bare BkToCstmrStmt without the Document wrapper
    if etree.QName(document).localname != message_tag:
        message = reader.child(document, message_tag)
    if message is None:
        raise FeedError(
            f"the {fmt[:4]}.{fmt[4:]} document has no {message_tag} element", line=document.sourceline
        )
    statements = reader.children(message, statement_tag)
    if not statements:
        raise FeedError(
            f"the {fmt[:4]}.{fmt[4:]} document has no {statement_tag} element: it carries no "
            f"{'statement' if fmt == 'camt053' else 'notification'}",
            line=message.sourceline,
        )
    header_created = _date_of(reader.text(message, "GrpHdr/CreDtTm"))
    return [reader.statement(el, index, header_created) for index, el in enumerate(statements, 1)]


def _find_document(root: etree._Element) -> etree._Element:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        namespace = etree.QName(element).namespace or ""
        if _NAMESPACE.match(namespace):
            return element
    namespace = etree.QName(root).namespace
    found = f"namespace {namespace}" if namespace else "no namespace"
    raise FeedError(
        f"the XML is not a camt.053 or camt.054 document (root {etree.QName(root).localname}, {found})",
        line=root.sourceline,
    )


def _date_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


class _Reader:
    def __init__(self, namespace: str, fmt: str) -> None:
        self.ns = "{" + namespace + "}"
        self.fmt = fmt
        self._paths: dict[str, str] = {}

    def _path(self, path: str) -> str:
        full = self._paths.get(path)
        if full is None:
            full = self._paths[path] = "/".join(self.ns + part for part in path.split("/"))
        return full

    def child(self, element: etree._Element, path: str) -> etree._Element | None:
        return element.find(self._path(path))

    def children(self, element: etree._Element, path: str) -> list[etree._Element]:
        return element.findall(self._path(path))

    def text(self, element: etree._Element | None, *paths: str) -> str | None:
        """The stripped text of the first of ``paths`` that has some."""
        if element is None:
            return None
        for path in paths:
            found = element.find(self._path(path))
            if found is not None and found.text and found.text.strip():
                return " ".join(found.text.split())
        return None

    # -- statement -------------------------------------------------------------------------------------------

    def statement(self, stmt: etree._Element, index: int, header_created: date | None) -> ParsedStatement:
        kind = "Stmt" if self.fmt == "camt053" else "Ntfctn"
        where = f"{kind} {index}"
        acct = self.child(stmt, "Acct")
        account_no = self.text(acct, "Id/IBAN", "Id/Othr/Id")
        if not account_no:
            raise FeedError(
                f"{where} names no account (Acct/Id/IBAN or Acct/Id/Othr/Id)",
                line=(acct if acct is not None else stmt).sourceline,
            )
        opening = closing = None
        opening_currency = closing_currency = None
        closing_on = None
        for bal in self.children(stmt, "Bal"):
            code = self.text(bal, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry")
            if code in ("OPBD", "PRCD") and opening is None:
                opening, opening_currency = self._signed(bal, f"{where}: the {code} balance")
            elif code == "CLBD" and closing is None:
                closing, closing_currency = self._signed(bal, f"{where}: the CLBD balance")
                closing_on = _date_of(self.text(bal, "Dt/Dt", "Dt/DtTm"))

        lines: list[StatementLine] = []
        refs: list[str] = []
        reference = self.text(stmt, "Id")
        for entry_index, entry in enumerate(self.children(stmt, "Ntry"), 1):
            status = self.text(entry, "Sts/Cd", "Sts")
            if status in _NOT_BOOKED:
                continue
            for line, ref in self._entry(entry, f"{where}, Ntry {entry_index}", reference, entry_index):
                lines.append(line)
                refs.append(ref)
        lines = with_references(lines, refs, renumber=True)

        currency = (
            self.text(acct, "Ccy")
            or opening_currency
            or closing_currency
            or next((ln.currency for ln in lines if ln.currency), None)
        )
        statement_date = (
            _date_of(self.text(stmt, "FrToDt/ToDtTm", "FrToDt/ToDt"))
            or closing_on
            or _date_of(self.text(stmt, "CreDtTm"))
            or header_created
            or max((ln.booked_on for ln in lines), default=None)
        )
        if statement_date is None:
            raise FeedError(
                f"{where} has no date (FrToDt/ToDtTm, CLBD balance date or CreDtTm)", line=stmt.sourceline
            )
        return ParsedStatement(
            format=self.fmt,
            account_no=account_no,
            currency=currency,
            statement_date=statement_date,
            opening_balance=opening,
            closing_balance=closing,
            lines=lines,
            reference=reference,
        )

    def _amount(self, element: etree._Element, what: str) -> tuple[Decimal, str | None]:
        text = element.text.strip() if element.text else ""
        if not _DECIMAL.fullmatch(text):
            raise FeedError(f"{what} {text!r} is not a decimal amount", line=element.sourceline)
        return Decimal(text), element.get("Ccy")

    def _signed(self, bal: etree._Element, what: str) -> tuple[Decimal, str | None]:
        amt = self.child(bal, "Amt")
        if amt is None:
            raise FeedError(f"{what} has no Amt", line=bal.sourceline)
        value, currency = self._amount(amt, f"{what} amount")
        value = money(value, f"{what} amount", line=amt.sourceline, positive=False)
        indicator = self.text(bal, "CdtDbtInd")
        if indicator == "DBIT":
            value = -value
        elif indicator != "CRDT":
            raise FeedError(f"{what} has CdtDbtInd {indicator!r}, not CRDT or DBIT", line=bal.sourceline)
        return value, currency

    def _direction(self, element: etree._Element, what: str) -> str | None:
        indicator = self.text(element, "CdtDbtInd")
        if indicator is None:
            return None
        if indicator == "CRDT":
            return CREDIT
        if indicator == "DBIT":
            return DEBIT
        raise FeedError(f"{what}: CdtDbtInd {indicator!r} is not CRDT or DBIT", line=element.sourceline)

    # -- entries ---------------------------------------------------------------------------------------------

    def _entry(self, entry: etree._Element, where: str, stmt_ref: str | None, entry_index: int):
        """Yield (line with a provisional line_no, bank reference) for one Ntry."""
        amt = self.child(entry, "Amt")
        if amt is None:
            raise FeedError(f"{where} has no Amt", line=entry.sourceline)
        raw_amount, currency = self._amount(amt, f"{where}: amount")
        amount = money(raw_amount, f"{where}: amount", line=amt.sourceline)
        direction = self._direction(entry, where)
        if direction is None:
            raise FeedError(f"{where} has no CdtDbtInd", line=entry.sourceline)
        booked_text = self.text(entry, "BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm")
        booked_on = _date_of(booked_text)
        if booked_on is None:
            raise FeedError(
                f"{where} has no booking date (BookgDt/Dt or BookgDt/DtTm)"
                if booked_text is None
                else f"{where}: booking date {booked_text!r} is not a date",
                line=entry.sourceline,
            )
        reversal = (self.text(entry, "RvslInd") or "").lower() in ("true", "1")
        entry_ref = self.text(entry, "AcctSvcrRef")
        ntry_ref = self.text(entry, "NtryRef")
        entry_info = self.text(entry, "AddtlNtryInf") or ""
        details = self.children(entry, "NtryDtls/TxDtls")

        split = []
        if len(details) > 1:
            for tx in details:
                tx_amt = self.child(tx, "Amt")
                if tx_amt is None:
                    tx_amt = self.child(tx, "AmtDtls/TxAmt/Amt")
                if tx_amt is None:
                    split = []
                    break
                value, tx_currency = self._amount(tx_amt, f"{where}: TxDtls amount")
                if value <= 0:
                    split = []
                    break
                value = money(value, f"{where}: TxDtls amount", line=tx_amt.sourceline)
                split.append((tx, value, tx_currency))

        if split:
            # A transaction's own CdtDbtInd counts when the transactions net to the entry (a netted batch);
            # otherwise the entry's indicator - the booking on the account - decides.
            directions = [
                self._direction(tx, f"{where}, TxDtls {number}") or direction
                for number, (tx, _, _) in enumerate(split, 1)
            ]
            net = sum(
                (a if d == CREDIT else -a for (_, a, _), d in zip(split, directions, strict=True)), Decimal(0)
            )
            if net != (amount if direction == CREDIT else -amount):
                directions = [direction] * len(split)
            for number, ((tx, tx_amount, tx_currency), tx_direction) in enumerate(
                zip(split, directions, strict=True), 1
            ):
                name, account = self._party(tx, tx_direction)
                remittance = self._remittance([tx]) or entry_info
                ref = (
                    self._tx_reference(tx)
                    or (f"{entry_ref}/{number}" if entry_ref else None)
                    or (f"{ntry_ref}/{number}" if ntry_ref else None)
                    or f"{stmt_ref or 'camt'}/{entry_index}/{number}"
                )
                yield (
                    self._line(
                        tx_amount,
                        tx_direction,
                        booked_on,
                        name,
                        account,
                        remittance,
                        reversal,
                        tx_currency or currency,
                        self._kind(tx_direction, tx, entry),
                    ),
                    ref,
                )
            return

        name, account = "", ""
        for tx in details:
            name, account = self._party(tx, direction)
            if name or account:
                break
        remittance = self._remittance(details) or entry_info
        single_ref = self._tx_reference(details[0]) if len(details) == 1 else None
        ref = entry_ref or single_ref or ntry_ref or f"{stmt_ref or 'camt'}/{entry_index}"
        kind = (
            self._kind(direction, *details[:1], entry) if len(details) == 1 else self._kind(direction, entry)
        )
        line = self._line(amount, direction, booked_on, name, account, remittance, reversal, currency, kind)
        yield line, ref

    @staticmethod
    def _line(
        amount, direction, booked_on, name, account, remittance, reversal, currency, kind=PAYMENT
    ) -> StatementLine:
        if reversal:
            remittance = f"{remittance} [reversal]" if remittance else "[reversal]"
            kind = PAYMENT  # a reversed interest credit or charge is shown to a person, not booked as one
        return StatementLine(0, "", booked_on, amount, direction, name, account, remittance, currency, kind)

    def _kind(self, direction: str, *elements: etree._Element) -> str:
        """The line's kind from the first bank transaction code (BkTxCd) among `elements` (a transaction's
        own, then its entry's): family or sub-family INTR is interest, CHRG or FEES a charge; else the
        proprietary code read as an MT940 type code (NINT, NCHG…). Only where the direction fits the kind."""
        for element in elements:
            code = self.child(element, "BkTxCd")
            if code is None:
                continue
            family = self.text(code, "Domn/Fmly/Cd")
            sub = self.text(code, "Domn/Fmly/SubFmlyCd")
            codes = {c.upper() for c in (family, sub) if c}
            if codes & _INTEREST_CODES:
                return INTEREST if direction == CREDIT else PAYMENT
            if codes & _FEE_CODES:
                return FEE if direction == DEBIT else PAYMENT
            proprietary = self.text(code, "Prtry/Cd")
            if proprietary:
                return kind_from_code(proprietary, direction)
            if codes:
                return PAYMENT
        return PAYMENT

    def _tx_reference(self, tx: etree._Element) -> str | None:
        for path in ("Refs/AcctSvcrRef", "Refs/EndToEndId", "Refs/TxId"):
            value = self.text(tx, path)
            if value and value.upper() not in _NO_REFERENCE:
                return value
        return None

    def _party(self, tx: etree._Element, direction: str) -> tuple[str, str]:
        """The other side: the debtor of a credit, the creditor of a debit (v2 Nm, v8+ Pty/Nm)."""
        role = "Dbtr" if direction == CREDIT else "Cdtr"
        parties = self.child(tx, "RltdPties")
        if parties is None:
            return "", ""
        names = (f"{role}/Nm", f"{role}/Pty/Nm", f"Ultmt{role}/Nm", f"Ultmt{role}/Pty/Nm")
        name = self.text(parties, *names) or ""
        account = (
            self.text(
                parties,
                f"{role}Acct/Id/IBAN",
                f"{role}Acct/Id/Othr/Id",
            )
            or ""
        )
        return name, account

    def _remittance(self, details: list[etree._Element]) -> str:
        """Unstructured remittance (Ustrd, joined); else the structured creditor references."""
        parts: list[str] = []
        for tx in details:
            texts = [t for el in self.children(tx, "RmtInf/Ustrd") if (t := _clean(el.text))]
            if not texts:
                for strd in self.children(tx, "RmtInf/Strd"):
                    texts.extend(
                        t
                        for t in (
                            self.text(strd, "CdtrRefInf/Ref"),
                            self.text(strd, "AddtlRmtInf"),
                        )
                        if t
                    )
            if not texts:
                info = self.text(tx, "AddtlTxInf")
                if info:
                    texts.append(info)
            text = " ".join(texts)
            if text and text not in parts:
                parts.append(text)
        return "; ".join(parts)


def _clean(text: str | None) -> str:
    return " ".join(text.split()) if text else ""
