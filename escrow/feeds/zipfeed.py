"""A ZIP file of camt XML files (CONTRACT.md §9), as banks bundle a day's statements and notifications.

Every member is read and parsed before anything is returned: one unreadable member refuses the whole file,
naming the member. Bombs are refused before they are inflated: at most MAX_MEMBERS members and MAX_TOTAL_BYTES
uncompressed in all, checked against the sizes the archive declares and again while reading (a member that
inflates beyond what it declared is refused as well). Nested archives are not opened.
"""

from __future__ import annotations

import io
import zipfile

from escrow.feeds.camt import parse_camt, sniff_kind
from escrow.feeds.model import FeedError, ParsedStatement

MAX_MEMBERS = 500  # configured, not quoted: a bank's bundle of a day's files, with a wide margin
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # the statement endpoint's own body limit, uncompressed
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; the end record of an empty archive
_SKIPPED = ("__MACOSX/",)  # resource forks an archiver on a Mac adds


def looks_like_zip(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC)


def _member_error(name: str, error: FeedError) -> FeedError:
    where = f", line {error.line}" if error.line is not None else ""
    return FeedError(f"ZIP member {name!r}{where}: {error.detail}", field=name)


def parse_zip(data: bytes) -> list[ParsedStatement]:
    """The statements of every camt member, in archive order; FeedError naming the member otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise FeedError(f"the ZIP file cannot be read ({exc})") from None
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith(_SKIPPED)
        ]
        if not members:
            raise FeedError("the ZIP file holds no file; it should hold camt.053 or camt.054 XML files")
        if len(members) > MAX_MEMBERS:
            raise FeedError(f"the ZIP file holds {len(members)} files; at most {MAX_MEMBERS} are read")
        declared = sum(info.file_size for info in members)
        if declared > MAX_TOTAL_BYTES:
            raise FeedError(
                f"the ZIP file would inflate to {declared} bytes; at most {MAX_TOTAL_BYTES} are read"
            )
        statements: list[ParsedStatement] = []
        budget = MAX_TOTAL_BYTES
        for info in members:
            name = info.filename
            try:
                with archive.open(info) as member:
                    content = member.read(min(info.file_size, budget) + 1)
            except (
                zipfile.BadZipFile,
                RuntimeError,
                NotImplementedError,
                ValueError,
                OSError,
                EOFError,
            ) as exc:
                raise FeedError(f"ZIP member {name!r} cannot be read ({exc})", field=name) from None
            if len(content) > info.file_size or len(content) > budget:
                raise FeedError(
                    f"ZIP member {name!r} inflates beyond the size the archive declares for it", field=name
                )
            budget -= len(content)
            if looks_like_zip(content):
                raise FeedError(f"ZIP member {name!r} is itself a ZIP file; send the XML files", field=name)
            kind = sniff_kind(content)
            if kind not in ("camt053", "camt054"):
                what = "camt.052, which is not supported" if kind == "camt052" else "not a camt XML document"
                raise FeedError(
                    f"ZIP member {name!r} is {what}; a ZIP file must hold camt.053 or camt.054 XML files",
                    field=name,
                )
            try:
                statements.extend(parse_camt(content))
            except FeedError as exc:
                raise _member_error(name, exc) from None
        return statements
