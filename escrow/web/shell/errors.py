"""The error pages of the signed-in UI, in the user's language, instead of problem+json: who is not signed
in goes to /login; a refusal, a missing record, a forbidden action, a busy database or a bug each get the
page `shell/error.html` with the right status. Only the router of the signed-in pages uses these handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Redirect

from escrow.domain.errors import DomainError, Forbidden, NotFound
from escrow.services.database import DatabaseUnavailable
from escrow.web.shell.exports import Refused as DownloadRefused
from escrow.web.shell.pages import field_errors, gettext, render
from escrow.web.shell.sessions import SignInRequired

log = logging.getLogger("escrow.web")


def _error_page(request: Request, status: int, title: str, detail: str = "") -> Response:
    return render(request, "shell/error.html", status=status, title=title, detail=detail)


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


def _download_refused(request: Request, exc: DownloadRefused) -> Response:
    return _error_page(request, 400, exc.title, exc.detail)


def _unexpected(request: Request, exc: Exception) -> Response:
    _ = gettext(request)
    if isinstance(exc, DatabaseUnavailable):
        log.warning("web page: database unavailable: %s", exc)
        return _error_page(request, 503, _("The system is busy"), _("Please try again in a moment."))
    log.exception("web page failed", exc_info=exc)
    return _error_page(request, 500, _("Something went wrong"), _("The error was logged. Nothing was saved."))


EXCEPTION_HANDLERS: Mapping[type[Exception], Callable[..., Response]] = {
    SignInRequired: _to_login,
    PermissionDeniedException: _forbidden,
    DomainError: _domain,
    HTTPException: _http,
    DownloadRefused: _download_refused,
    Exception: _unexpected,
}
