"""Stored documents (node evidence, release documents): a checked upload kept with its SHA-256 in the
database, and handed back to whoever may see it.

The checks of a file's content are the web's (escrow.web.shell.uploads); what passed them is an `Upload`. A
use case that takes files stores them in its own transaction with `store_upload`, so a refused request keeps
no file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from escrow.domain.errors import NotFound
from escrow.domain.ids import valid_id
from escrow.services.context import Context
from escrow.store.db import UnitOfWork
from escrow.store.models import Project, StoredDocument, SupervisedAccount

MAX_NAME = 120


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


def store_document(
    uow: UnitOfWork,
    *,
    content: bytes,
    filename: str,
    content_type: str,
    uploaded_by: str,
    account_id: int | None,
) -> StoredDocument:
    """Keeps one file with its SHA-256 in the caller's transaction (the use case that took it commits)."""
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


def _visible_to(uow: UnitOfWork, document: StoredDocument, developer_id: int | None) -> bool:
    """Bureau users (developer_id None) see every document; developer staff only documents of their own
    developer's accounts."""
    if developer_id is None:
        return True
    if document.account_id is None:
        return False
    account = uow.session.get(SupervisedAccount, document.account_id)
    project = uow.session.get(Project, account.project_id) if account else None
    return project is not None and project.developer_id == developer_id


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    content: bytes


def download(ctx: Context, document_id: int, developer_id: int | None) -> Download:
    """A stored file for a bureau user (`developer_id` None) or a developer's staff; NotFound for a
    document they may not see (whether it exists is not said either)."""
    with ctx.reading() as uow:
        document = uow.documents.get(document_id) if valid_id(document_id) else None
        if document is None or not _visible_to(uow, document, developer_id):
            raise NotFound(f"no document {document_id}")
        return Download(document.filename, document.content_type, document.content)
