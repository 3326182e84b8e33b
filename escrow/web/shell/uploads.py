"""Uploaded files (node evidence, release documents): checking, storing, and serving them back.

Shared by every page that takes a file. In a handler:

    from escrow.web.shell import uploads

    _ = pages.gettext(request)
    try:
        upload = await uploads.read_upload(form.files["evidence"][0], _)   # or check_upload(…) in a thread
    except uploads.UploadRefused as exc:
        form.error("evidence", exc.message)                              # already translated
    ...
    def work():                                                          # in `await pages.run(work)`
        with UnitOfWork(pages.engine(request)) as uow:
            doc = uploads.store_document(uow, content=upload.content, filename=upload.filename,
                                         content_type=upload.content_type, uploaded_by=principal.ref,
                                         account_id=account.id)
            ...                                                          # the service call using doc.sha256
            uow.commit()                                                 # document and record together

Checks (`check_bytes`): not empty, at most MAX_BYTES, the CONTENT is a PDF, PNG or JPEG (magic bytes), and
the file name's extension agrees with the content (a PNG named .pdf is refused). The content type stored
is the one found in the content, never the browser's claim. File names keep their base name only, without
path parts or control characters, capped at MAX_NAME characters (extension kept).

`GET /documents/{document_id}` (escrow.web.workflows) serves a stored file; `visible_to` decides who may
see it: bureau users every document, developer staff only those of their own developer's accounts.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from litestar.datastructures import UploadFile

from escrow.store.db import UnitOfWork
from escrow.store.models import Project, StoredDocument, SupervisedAccount

MAX_BYTES = 10 * 1024 * 1024
MAX_LABEL = "10 MB"
MAX_NAME = 120

# (magic prefix, content type, allowed extensions)
KINDS: tuple[tuple[bytes, str, tuple[str, ...]], ...] = (
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
)
EXTENSIONS = tuple(ext for _, _, exts in KINDS for ext in exts)
ACCEPT = ",".join(EXTENSIONS)  # for <input type="file" accept="…">


class UploadRefused(Exception):
    """A file that cannot be taken; `message` is in the user's language, for the field's error."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Upload:
    """A checked file, ready to store."""

    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content)


def safe_filename(name: str | None, fallback: str = "document") -> str:
    """The base name only (a browser may send a full Windows path), without control characters or
    surrounding dots and spaces, at most MAX_NAME characters with the extension kept."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(". ").strip()
    if not base:
        return fallback
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            base = stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            base = base[:MAX_NAME]
    return base


def sniff(content: bytes) -> tuple[str, tuple[str, ...]] | None:
    """The content type and its extensions by the file's first bytes, or None for anything else."""
    for magic, content_type, exts in KINDS:
        if content.startswith(magic):
            return content_type, exts
    return None


def check_bytes(filename: str | None, content: bytes, _: Callable[..., str]) -> Upload:
    """The Upload, or UploadRefused with the reason in the user's language (`_` from pages.gettext)."""
    name = safe_filename(filename)
    if not content:
        raise UploadRefused(_("The file %(name)s is empty.", name=name))
    if len(content) > MAX_BYTES:
        raise UploadRefused(_("The file %(name)s is larger than %(limit)s.", name=name, limit=MAX_LABEL))
    found = sniff(content)
    if found is None:
        raise UploadRefused(
            _("The file %(name)s is not a PDF, PNG or JPEG file (judged by its content).", name=name)
        )
    content_type, exts = found
    if not name.lower().endswith(exts):
        raise UploadRefused(
            _(
                "The name of %(name)s does not match its content; it should end in %(ext)s.",
                name=name,
                ext=" / ".join(exts),
            )
        )
    return Upload(filename=name, content_type=content_type, content=content)


def check_upload(upload: UploadFile, _: Callable[..., str]) -> Upload:
    """Synchronous: read at most MAX_BYTES + 1 from the upload and check it (use inside `pages.run`)."""
    upload.file.seek(0)
    return check_bytes(upload.filename, upload.file.read(MAX_BYTES + 1), _)


async def read_upload(upload: UploadFile, _: Callable[..., str]) -> Upload:
    """Asynchronous: read at most MAX_BYTES + 1 from the upload and check it."""
    await upload.seek(0)
    return check_bytes(upload.filename, await upload.read(MAX_BYTES + 1), _)


def store_document(
    uow: UnitOfWork,
    *,
    content: bytes,
    filename: str,
    content_type: str,
    uploaded_by: str,
    account_id: int | None,
) -> StoredDocument:
    """Keeps one file with its SHA-256 in the caller's transaction (the caller commits)."""
    return uow.documents.add(
        StoredDocument(
            sha256=hashlib.sha256(content).hexdigest(),
            filename=safe_filename(filename)[:255],
            content_type=content_type[:100],
            size=len(content),
            content=content,
            uploaded_by=uploaded_by[:80],
            account_id=account_id,
        )
    )


def store_upload(
    uow: UnitOfWork, upload: Upload, *, uploaded_by: str, account_id: int | None
) -> StoredDocument:
    return store_document(
        uow,
        content=upload.content,
        filename=upload.filename,
        content_type=upload.content_type,
        uploaded_by=uploaded_by,
        account_id=account_id,
    )


def visible_to(uow: UnitOfWork, document: StoredDocument, developer_id: int | None) -> bool:
    """Bureau users (developer_id None) see every document; developer staff only documents of their own
    developer's accounts."""
    if developer_id is None:
        return True
    if document.account_id is None:
        return False
    account = uow.session.get(SupervisedAccount, document.account_id)
    project = uow.session.get(Project, account.project_id) if account else None
    return project is not None and project.developer_id == developer_id


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real (e.g. Chinese) name in RFC 5987 form."""
    name = safe_filename(filename)
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
