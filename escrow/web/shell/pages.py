"""What every signed-in page shares: rendering in the user's language, forms, redirects, running database
work off the event loop.

A page handler is `async`, reads its form with `await form(request)`, calls its use cases in a thread with
`await run(fn, …)` (each use case opens and commits its own unit of work; `ctx(request)` is their context),
and answers with `render(request, "room/area/page.html", …)` or `redirect(…)`. Who is signed in and the
guards that check permissions are in `sessions`; the error pages in `errors`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from escrow.catalog.actors import person_words
from escrow.domain.errors import DomainError
from escrow.domain.ids import valid_id  # noqa: F401  (pages.valid_id for the page modules)
from escrow.services import signin
from escrow.services.context import Context
from escrow.web.shell import books, i18n, permissions, refusals
from escrow.web.shell.labels import ROLE_NAMES

T = TypeVar("T")

FORM_TOKEN = "_form_token"  # the hidden field of a create form's one-time token (escrow.web.shell.once)
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,48}")

# One-line confirmations shown after a successful form: `redirect(…, notice="key")` → `?done=key`.
# Only these keys are shown, so a link cannot put words of its own on the page. Page modules add theirs.
NOTICES: dict[str, str] = {}


def ctx(request: Request | ASGIConnection) -> Context:
    return request.app.state.runtime.ctx


def now() -> datetime:
    return datetime.now(UTC)


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database work off the event loop."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def current_user(connection: Request | ASGIConnection) -> signin.SignedIn | None:
    """Who is signed in, as the `sessions.requires` guard loaded it for this request (None if nobody is, or
    no guard ran)."""
    return connection.scope.get("state", {}).get(USER_STATE)


USER_STATE = "web_user"  # where the guard keeps the signed-in user in the request's state


# --- language ---------------------------------------------------------------------------------------------


def language(request: Request) -> str:
    """?lang= first, then the session's choice, then the cookie, then Chinese."""
    chosen = i18n.pick(request.query_params.get("lang"))
    if chosen:
        return chosen
    found = current_user(request)
    if found is not None:
        return found.lang
    return i18n.language(request)


def gettext(request: Request) -> Callable[..., str]:
    return i18n.gettext_for(language(request))


# --- rendering --------------------------------------------------------------------------------------------

HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> Template:
    """A page in the user's language. Base context: `lang`, `_`, `user`, `may(action)`, `path`, `htmx`
    (the request came from HTMX: render just the fragment), `csrf_input`/`csrf_token` (from Litestar),
    `form_token` (a create form's one-time token: new, or the posted one when the form comes back),
    `book_link(book_id)` / `with_book(_('… %(book)s …'), book_id)` (a rule book in words linking to its
    page)."""
    found = current_user(request)
    lang = language(request)
    _ = i18n.gettext_for(lang)
    done = request.query_params.get("done")
    if "form_token" not in context:
        context["form_token"] = request.scope.get("state", {}).get(FORM_TOKEN) or secrets.token_urlsafe(24)
    if done in NOTICES and "notice" not in context:
        context["notice"] = i18n.gettext_for(lang)(NOTICES[done])
    return Template(
        template_name=template,
        context=i18n.page_context(
            request,
            lang=lang,
            user=found,
            may=lambda action: found is not None and permissions.allowed(found.role, action),
            path=request.url.path,
            htmx=request.headers.get("hx-request") == "true",
            role_names=ROLE_NAMES,
            # a person by name and role word, as approval steps and node cards name who acted
            person=lambda name, role: person_words(i18n.gettext_for(lang), name, role) if name else "—",
            book_link=lambda book_id: books.book_link(_, ctx(request).rulebooks, book_id, lang),
            with_book=lambda sentence, book_id: books.with_book(
                _, ctx(request).rulebooks, sentence, book_id, lang
            ),
            **context,
        ),
        status_code=status,
        headers=HEADERS,
        cookies=i18n.remember(request),
    )


def redirect(request: Request, to: str, *, notice: str | None = None) -> Response:
    """After a successful form: see-other to the next page (an HTMX request gets HX-Redirect), with an
    optional one-line notice shown there (a key of NOTICES, translated on arrival)."""
    to = with_notice(to, notice)
    if request.headers.get("hx-request") == "true":
        return Response(content=b"", status_code=204, headers={"HX-Redirect": to})
    return Redirect(path=to, status_code=303)


def with_notice(to: str, notice: str | None) -> str:
    return f"{to}{'&' if '?' in to else '?'}done={quote(notice)}" if notice else to


# --- forms ------------------------------------------------------------------------------------------------


@dataclass
class Form:
    """A submitted form: its values (kept to refill the form), its files, and the errors found so far.
    Error messages are already translated."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadFile]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    token: str = ""  # the form's one-time token (escrow.web.shell.once), "" when it carried none

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getall(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


async def form(request: Request) -> Form:
    """The posted form with surrounding whitespace trimmed; NUL characters are refused as a field error."""
    data = await request.form()
    result = Form()
    for key, value in data.multi_items():
        if key == "_csrf_token":
            continue
        if key == FORM_TOKEN:
            if isinstance(value, str) and TOKEN_SHAPE.fullmatch(value):
                result.token = value
                # a form shown again keeps its token: the corrected submit is still the same one
                request.scope.setdefault("state", {})[FORM_TOKEN] = value
            continue
        if isinstance(value, UploadFile):
            if value.filename:
                result.files.setdefault(key, []).append(value)
            continue
        text = value.strip()
        if "\x00" in text:
            text = text.replace("\x00", "")
            result.errors.setdefault(key, gettext(request)("Contains characters that are not allowed."))
        result.values.setdefault(key, text)
        result.lists.setdefault(key, []).append(text)
    return result


def field_errors(request: Request, exc: DomainError) -> tuple[str, dict[str, str]]:
    """A refusal from a service as a headline and per-field messages in the user's language."""
    return refusals.describe(exc, gettext(request))


def optional_int(text: str | None) -> int | None:
    """A number from the query string, or None when it is missing or not a number."""
    try:
        return int(text) if text else None
    except ValueError:
        return None
