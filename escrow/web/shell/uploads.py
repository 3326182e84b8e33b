"""Uploaded files (node evidence, release documents): checking, storing, and serving them back.

Shared by every page that takes a file. In a handler:

    from escrow.web.shell import uploads

    _ = pages.gettext(request)
    try:
        upload = await uploads.read_upload(form.files["evidence"][0], _)   # or check_upload(…) in a thread
    except uploads.UploadRefused as exc:
        form.error("evidence", exc.message)                              # already translated
    ...
    await pages.run(service.use_case, pages.ctx(request), …, files=(upload,))   # stored with its record

Checks (`check_bytes`): not empty, at most MAX_BYTES, the CONTENT is a PDF, PNG or JPEG (magic bytes), and
the file name's extension agrees with the content (a PNG named .pdf is refused). The content type stored
is the one found in the content, never the browser's claim. File names keep their base name only, without
path parts or control characters, capped at MAX_NAME characters (extension kept).

The files are stored by the use case that takes them, in its own transaction (escrow.services.documents).
`GET /documents/{document_id}` (escrow.web.bureau.nodes) serves a stored file: bureau users see every
document, developer staff only those of their own developer's accounts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import UploadFile

from escrow.services import held_uploads

# The checked file and its storing are the documents service's; named here too for the pages that take files.
from escrow.services.documents import (  # noqa: F401
    MAX_NAME,
    Upload,
    safe_filename,
    store_document,
    store_upload,
)
from escrow.web.shell import pages, sessions

MAX_BYTES = 10 * 1024 * 1024
MAX_LABEL = "10 MB"

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


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real (e.g. Chinese) name in RFC 5987 form."""
    name = safe_filename(filename)
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- files kept across a refused form (escrow.services.held_uploads) ----------------------------------------

HELD_REMOVE = "held_remove"  # the checkbox field naming a held file the user no longer wants


def holder(request: Request) -> str:
    """Who holds a form's files: the signed-in user and a digest of their session cookie, so neither another
    user nor another session of the same user can take them."""
    session = request.cookies.get(sessions.SESSION_COOKIE, "")
    digest = hashlib.sha256(session.encode()).hexdigest()[:24]
    return f"web-user:{sessions.user(request).user_id}/{digest}"


async def held_for(request: Request, form: pages.Form) -> dict[str, list[held_uploads.HeldFile]]:
    """The files held for this form by field, less those the user ticked to remove (dropped now)."""
    if not form.token:
        return {}
    who, ctx = holder(request), pages.ctx(request)
    removed = {int(v) for v in form.getall(HELD_REMOVE) if v.isdigit() and len(v) < 12}
    if removed:
        await pages.run(held_uploads.drop, ctx, who, form.token, removed)
    found: dict[str, list[held_uploads.HeldFile]] = {}
    for kept in await pages.run(held_uploads.held, ctx, who, form.token):
        if kept.held_id not in removed:
            found.setdefault(kept.field, []).append(kept)
    return found


async def hold(
    request: Request, form: pages.Form, fresh: list[tuple[str, Upload]], single: tuple[str, ...] = ()
) -> dict[str, list[held_uploads.HeldFile]]:
    """Hold the files just received with a refused form (a field of `single` keeps only its latest file) and
    return all held for it, by field, to show on the form as it comes back."""
    if not form.token:
        return {}
    who, ctx = holder(request), pages.ctx(request)
    if fresh:
        replaced = {name for name, _ in fresh if name in single}
        await pages.run(held_uploads.hold, ctx, who, form.token, fresh, replaced)
    found: dict[str, list[held_uploads.HeldFile]] = {}
    for kept in await pages.run(held_uploads.held, ctx, who, form.token):
        found.setdefault(kept.field, []).append(kept)
    return found


async def let_go(request: Request, form: pages.Form) -> None:
    """After the final submit: the use case stored its own copies, the held ones go."""
    if form.token:
        await pages.run(held_uploads.drop, pages.ctx(request), holder(request), form.token)
