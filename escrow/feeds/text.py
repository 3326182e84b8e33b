"""Decoding statement bytes: UTF-8 first, then the legacy encodings banks still export."""

from __future__ import annotations

import codecs

from escrow.feeds.model import FeedError

_SAMPLE = 1 << 20


def line_of_offset(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset (LF, CRLF and lone CR all end a line)."""
    head = data[:offset]
    lf = head.count(b"\n")
    lone_cr = head.count(b"\r") - head.count(b"\r\n")
    return lf + lone_cr + 1


def looks_chinese(data: bytes) -> bool:
    """Whether non-UTF-8 bytes read as GB18030 give mostly GB2312 characters (Chinese), not Latin-1 accents.

    Latin-1 accents are single high bytes, usually followed by ASCII; read as GB18030 they either fail to
    decode or land on rare characters outside GB2312. Chinese text is pairs of high bytes inside GB2312.
    """
    sample = data[:_SAMPLE]
    if len(data) > _SAMPLE:
        cut = sample.rfind(b"\n")
        sample = sample[: cut + 1] if cut > 0 else sample
    try:
        text = sample.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return False
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += 1
    return common >= 0.9 * len(wide)


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a content type, if it names a codec Python knows."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip('"').lower()
            try:
                return codecs.lookup(name).name
            except LookupError:
                return None
    return None


def decode_text(data: bytes, charset: str | None = None, *, allow_latin1: bool = True) -> str:
    """Decode a whole (small) file: BOM → declared charset → UTF-8 → GB18030 (Chinese) → Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        charset, data = "utf-8", data[3:]
    for encoding in (charset, "utf-8"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if looks_chinese(data):
        return data.decode("gb18030")
    if allow_latin1:
        return data.decode("latin-1")
    raise not_utf8(data)


def not_utf8(data: bytes) -> FeedError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FeedError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)",
            line=line_of_offset(data, exc.start),
        )
    return FeedError("the file is not UTF-8 text")  # pragma: no cover - only called after a failed decode
