"""Sign-in and sign-out (CONTRACT.md §6 `/login`): the form, the session cookie, the way back to the page
the visitor wanted. Who is signed in on later requests is `sessions`."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect

from escrow.api.public import client_address
from escrow.services import ratelimit, signin
from escrow.web.shell import cookies, pages, permissions, sessions
from escrow.web.shell.filters import local_time


def _safe_next(target: str | None, role: str) -> str:
    """Only a path of this site (no scheme, no `//host`) may follow sign-in."""
    local = target and target.startswith("/") and not target.startswith("//") and "\\" not in target
    if local and not target.startswith(("/login", "/logout")):
        return target
    return permissions.home(role)


def _cookie(request: Request, value: str, max_age: int) -> Cookie:
    """HttpOnly, SameSite=Lax; `__Host-` and Secure over HTTPS (escrow.web.shell.cookies)."""
    return cookies.make(request, cookies.SESSION, value, max_age=max_age)


SIGN_IN_LIMIT_STATE = "sign_in_limit"  # the app's ratelimit.Limit for failed sign-ins per address


def sign_in_limit(request: Request) -> ratelimit.Limit:
    """The limit on failed sign-ins per client address (ESCROW_SIGNIN_FAILURES per
    ESCROW_SIGNIN_WINDOW_SECONDS), set by create_app from the settings."""
    return request.app.state[SIGN_IN_LIMIT_STATE]


def _too_many(request: Request, form: pages.Form, retry_after: int) -> Response:
    """429 with Retry-After and the sign-in page saying, politely, when to try again."""
    _ = pages.gettext(request)
    minutes = max(1, (retry_after + 59) // 60)
    page = pages.render(
        request,
        "shell/login.html",
        status=429,
        values={"username": form.get("username"), "next": form.get("next")},
        errors={},
        message=_(
            "Too many failed sign-ins from your network. Please wait %(minutes)s minutes and try again.",
            minutes=minutes,
        ),
        expired=False,
    )
    page.headers["Retry-After"] = str(retry_after)
    return page


class AuthController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login", name="login")
    async def login_form(self, request: Request) -> Response:
        found = await sessions.signed_in(request)
        if found is not None:
            return Redirect(path=permissions.home(found.role), status_code=303)
        return pages.render(
            request,
            "shell/login.html",
            values={"username": "", "next": request.query_params.get("next", "")},
            errors={},
            expired=request.query_params.get("expired") == "1",
        )

    @post("/login", name="login-submit", status_code=303)
    async def login(self, request: Request) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        username, password = form.get("username"), form.values.get("password", "")
        if not username:
            form.error("username", _("Enter your user name."))
        if not password:
            form.error("password", _("Enter your password."))
        message = None
        if form.ok:
            try:
                started = await pages.run(
                    signin.sign_in,
                    pages.ctx(request),
                    username,
                    password,
                    pages.language(request),
                    pages.now(),
                    client_address(request),
                    sign_in_limit(request),
                )
            except signin.Refusal as refusal:
                if refusal.reason == "too_many":
                    return _too_many(request, form, refusal.retry_after or 60)
                if refusal.reason == "locked":
                    message = _(
                        "Too many failed sign-ins: this account is locked until %(time)s.",
                        time=local_time(refusal.locked_until, "%H:%M"),
                    )
                else:
                    message = _("The user name or the password is not right.")
            else:
                response = Redirect(path=_safe_next(form.get("next"), started.role), status_code=303)
                response.set_cookie(
                    _cookie(request, started.cookie, int(signin.MAX_LIFETIME.total_seconds()))
                )
                return response
        return pages.render(
            request,
            "shell/login.html",
            status=400 if not form.ok else 401,
            values={"username": username, "next": form.get("next")},
            errors=form.errors,
            message=message,
            expired=False,
        )

    @post("/logout", name="logout", status_code=303)
    async def logout(self, request: Request) -> Response:
        cookie = cookies.read(request, cookies.SESSION)
        if cookie:
            await pages.run(signin.sign_out, pages.ctx(request), cookie)
        response = Redirect(path="/login", status_code=303)
        response.set_cookie(cookies.make(request, cookies.SESSION, "", max_age=0))
        return response
