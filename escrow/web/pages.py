"""What every signed-in page shares: who is signed in, the permission check, rendering, forms, error pages.

A page handler is `async`, reads its form with `await form(request)`, does its database work in a thread
with `await run(fn, …)` (one UnitOfWork per call, committed explicitly inside `fn`), and answers with
`render(request, "area/page.html", …)` or `redirect(…)`. Guards:

    @get("/projects", guards=[requires("projects.view")])

`requires` sends a visitor who is not signed in to /login (keeping where they wanted to go) and answers a
signed-in user without the permission with the 403 page. Inside a handler, `user(request)` is the
`SignedIn` record and `principal(request)` the Principal that services take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Template
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from escrow.domain.errors import DomainError, Forbidden, NotFound
from escrow.domain.principal import Principal
from escrow.services import signin
from escrow.services.context import Context
from escrow.store.db import UnitOfWork
from escrow.web import i18n, permissions

SESSION_COOKIE = "escrow_session"
T = TypeVar("T")


def N_(message: str) -> str:
    """Marks a message id for the catalog where it is translated later (at rendering)."""
    return message


ROLE_NAMES = {
    "admin": N_("Administrator"),
    "reviewer": N_("Reviewer"),
    "approver": N_("Approver"),
    "director": N_("Director"),
    "inspector": N_("Node inspector"),
    "auditor": N_("Auditor"),
    "developer": N_("Developer staff"),
}

# One-line confirmations shown after a successful form: `redirect(…, notice="key")` → `?done=key`.
# Only these keys are shown, so a link cannot put words of its own on the page. Page modules add theirs.
NOTICES: dict[str, str] = {}


def engine(request: Request | ASGIConnection) -> Engine:
    return request.app.state.runtime.engine


def ctx(request: Request | ASGIConnection) -> Context:
    return request.app.state.runtime.ctx


def now() -> datetime:
    return datetime.now(UTC)


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database work off the event loop."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


# --- who is signed in -------------------------------------------------------------------------------------


class SignInRequired(NotAuthorizedException):
    """Not signed in (or the session ended): go to the sign-in page."""

    def __init__(self, expired: bool = False):
        super().__init__("sign in first")
        self.expired = expired


def _load(connection: ASGIConnection) -> tuple[signin.SignedIn | None, bool]:
    cookie = connection.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None, False
    chosen = i18n.pick(connection.query_params.get("lang"))
    with UnitOfWork(engine(connection)) as uow:
        found, expired = signin.load_session(uow, cookie, now())
        if found is not None and chosen and chosen != found.lang:
            signin.set_language(uow, cookie, chosen)  # the switch holds for the rest of the session
        uow.commit()
    return found, expired


async def signed_in(connection: ASGIConnection) -> signin.SignedIn | None:
    """The signed-in user, loaded once per request."""
    state = connection.scope.setdefault("state", {})
    if "web_user" not in state:
        state["web_user"], state["web_session_expired"] = await run(_load, connection)
    return state["web_user"]


def user(request: Request) -> signin.SignedIn:
    found = request.scope.get("state", {}).get("web_user")
    if found is None:  # a handler without a `requires` guard asked: treat as not signed in
        raise SignInRequired()
    return found


def principal(request: Request) -> Principal:
    return user(request).principal()


def may(request: Request, action: str) -> bool:
    found = request.scope.get("state", {}).get("web_user")
    return found is not None and permissions.allowed(found.role, action)


def requires(*actions: str) -> Callable[[ASGIConnection, BaseRouteHandler], Any]:
    """A guard: signed in, and allowed every named action."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        found = await signed_in(connection)
        if found is None:
            raise SignInRequired(expired=connection.scope["state"].get("web_session_expired", False))
        for action in actions:
            if not permissions.allowed(found.role, action):
                raise PermissionDeniedException(f"{found.role} may not {action}")

    guard.__name__ = f"requires({', '.join(actions)})"
    return guard


# --- language ---------------------------------------------------------------------------------------------


def language(request: Request) -> str:
    """?lang= first, then the session's choice, then the cookie, then Chinese."""
    chosen = i18n.pick(request.query_params.get("lang"))
    if chosen:
        return chosen
    found = request.scope.get("state", {}).get("web_user")
    if found is not None:
        return found.lang
    return i18n.language(request)


def gettext(request: Request) -> Callable[..., str]:
    return i18n.gettext_for(language(request))


# --- rendering --------------------------------------------------------------------------------------------

HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> Template:
    """A page in the user's language. Base context: `lang`, `_`, `user`, `may(action)`, `path`, `htmx`
    (the request came from HTMX: render just the fragment), `csrf_input`/`csrf_token` (from Litestar)."""
    found = request.scope.get("state", {}).get("web_user")
    lang = language(request)
    done = request.query_params.get("done")
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
            **context,
        ),
        status_code=status,
        headers=HEADERS,
        cookies=i18n.remember(request),
    )


def redirect(request: Request, to: str, *, notice: str | None = None) -> Response:
    """After a successful form: see-other to the next page (an HTMX request gets HX-Redirect), with an
    optional one-line notice shown there (a key of NOTICES, translated on arrival)."""
    if notice:
        to = f"{to}{'&' if '?' in to else '?'}done={quote(notice)}"
    if request.headers.get("hx-request") == "true":
        return Response(content=b"", status_code=204, headers={"HX-Redirect": to})
    return Redirect(path=to, status_code=303)


# --- forms ------------------------------------------------------------------------------------------------


@dataclass
class Form:
    """A submitted form: its values (kept to refill the form), its files, and the errors found so far.
    Error messages are already translated."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadFile]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

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
    from escrow.web.errors import describe

    return describe(exc, gettext(request))


# --- error pages ------------------------------------------------------------------------------------------


def _error_page(request: Request, status: int, title: str, detail: str = "") -> Response:
    return render(request, "errors/error.html", status=status, title=title, detail=detail)


def _to_login(request: Request, exc: SignInRequired) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    to = f"/login?next={quote(target)}"
    if exc.expired:
        to += "&expired=1"
    if request.headers.get("hx-request") == "true":
        return Response(content=b"", status_code=401, headers={"HX-Redirect": to})
    return Redirect(path=to, status_code=303)


def _forbidden(request: Request, exc: Exception) -> Response:
    _ = gettext(request)
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return _error_page(
            request,
            403,
            _("This form has expired"),
            _("Reload the page and submit the form again."),
        )
    return _error_page(request, 403, _("You may not do this"), _("Your role does not allow this action."))


def _not_found(request: Request, exc: Exception) -> Response:
    _ = gettext(request)
    return _error_page(request, 404, _("Not found"), _("There is no such page, or it is not yours to see."))


def _http(request: Request, exc: HTTPException) -> Response:
    _ = gettext(request)
    if exc.status_code == 404:
        return _not_found(request, exc)
    if exc.status_code == 403:
        return _forbidden(request, exc)
    if exc.status_code == 413:
        return _error_page(request, 413, _("The upload is too large"))
    if exc.status_code == 405:
        return _error_page(request, 405, _("This page cannot be used that way"))
    return _error_page(request, exc.status_code, _("The request could not be understood"))


def _domain(request: Request, exc: DomainError) -> Response:
    if isinstance(exc, NotFound):
        return _not_found(request, exc)
    if isinstance(exc, Forbidden):
        return _forbidden(request, exc)
    headline, errors = field_errors(request, exc)
    return _error_page(request, exc.status, headline, "; ".join(errors.values()))


def _unexpected(request: Request, exc: Exception) -> Response:
    import logging

    _ = gettext(request)
    if isinstance(exc, OperationalError):
        logging.getLogger("escrow.web").warning("web page: database unavailable: %s", exc)
        return _error_page(request, 503, _("The system is busy"), _("Please try again in a moment."))
    logging.getLogger("escrow.web").exception("web page failed", exc_info=exc)
    return _error_page(request, 500, _("Something went wrong"), _("The error was logged. Nothing was saved."))


EXCEPTION_HANDLERS: Mapping[type[Exception], Callable[..., Response]] = {
    SignInRequired: _to_login,
    PermissionDeniedException: _forbidden,
    DomainError: _domain,
    HTTPException: _http,
    Exception: _unexpected,
}
