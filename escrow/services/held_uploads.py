"""Files of a web form that came back with errors, held so the corrected form need not choose them again.

A holder (the web user and a digest of their session, made by the web shell) holds files for one form token;
every look-up and drop names both, so another user or session never sees or takes them. Files older than
HOLD_FOR have expired: they are neither shown nor taken, and are pruned whenever something new is held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from escrow.services.context import Context
from escrow.services.documents import Upload
from escrow.store.models import HeldUpload

HOLD_FOR = timedelta(days=1)


@dataclass(frozen=True)
class HeldFile:
    """One held file, with its content (for the final submit) and what the form shows of it."""

    held_id: int
    field: str
    upload: Upload

    @property
    def filename(self) -> str:
        return self.upload.filename


def _now() -> datetime:
    return datetime.now(UTC)


def hold(
    ctx: Context,
    holder: str,
    form_token: str,
    files: Sequence[tuple[str, Upload]],
    replace: Iterable[str] = (),
) -> None:
    """Hold checked files (field, upload) for the form, first dropping what was held for the fields of
    `replace` (a field that takes one file keeps only the latest)."""
    now = _now()
    with ctx.writing() as uow:
        uow.held_uploads.prune(now - HOLD_FOR)
        replaced = set(replace)
        if replaced:
            current = uow.held_uploads.of_form(holder, form_token, now - HOLD_FOR)
            uow.held_uploads.drop(holder, form_token, [h.id for h in current if h.field in replaced])
        for field, upload in files:
            uow.held_uploads.add(
                HeldUpload(
                    holder=holder,
                    form_token=form_token,
                    field=field,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    size=upload.size,
                    sha256=upload.sha256,
                    content=upload.content,
                    created_at=now,
                )
            )
        uow.commit()


def held(ctx: Context, holder: str, form_token: str) -> list[HeldFile]:
    """The holder's unexpired files for this form, oldest first."""
    with ctx.reading() as uow:
        return [
            HeldFile(h.id or 0, h.field, Upload(h.filename, h.content_type, h.content))
            for h in uow.held_uploads.of_form(holder, form_token, _now() - HOLD_FOR)
        ]


def drop(ctx: Context, holder: str, form_token: str, ids: Iterable[int] | None = None) -> None:
    """Drop the holder's files of this form: those of `ids`, or all of them (after the final submit)."""
    with ctx.writing() as uow:
        uow.held_uploads.drop(holder, form_token, None if ids is None else list(ids))
        uow.commit()
