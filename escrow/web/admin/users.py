"""`/admin/users`: the admin lists users, creates them (a bureau role, developer staff of a developer, or bank
staff of a bank), disables and enables them, resets a password (typed, or generated and shown once) and
unlocks a locked account. Each change is one audited transaction of escrow.services.admin."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import Conflict, DomainError, NotFound
from escrow.domain.principal import USER_ROLES
from escrow.services import admin
from escrow.web.shell import pages, sessions
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

pages.NOTICES.update(
    {
        "user_created": N_("The user is created and may sign in."),
        "user_disabled": N_("The user is disabled: their sessions have ended."),
        "user_enabled": N_("The user is enabled again."),
        "user_unlocked": N_("The user is unlocked."),
        "password_reset": N_("The new password is set; the user's sessions have ended."),
    }
)
FIELDS = ("username", "display_name", "role", "developer", "bank", "password")


async def _list(request: Request, status: int = 200, **extra: Any) -> Response:
    ctx = pages.ctx(request)
    found = await pages.run(admin.users, ctx, pages.now())
    choices = await pages.run(admin.choices, ctx)
    extra.setdefault("values", {"role": "reviewer"})
    extra.setdefault("errors", {})
    me = sessions.user(request).user_id
    return pages.render(
        request,
        "admin/users/list.html",
        status=status,
        users=found,
        choices=choices,
        roles=USER_ROLES,
        me=me,
        **extra,
    )


def _refusal(request: Request, exc: DomainError, form: pages.Form) -> str:
    message, errors = pages.field_errors(request, exc)
    for name, text in errors.items():
        form.error(name if name in FIELDS else "username", text)
    return message


class UsersController(Controller):
    path = "/admin/users"
    include_in_schema = False
    guards = [requires("admin.users")]

    @get("/", name="admin-users")
    async def index(self, request: Request) -> Response:
        return await _list(request)

    @post("/", name="admin-user-create")
    async def create(self, request: Request) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        if not form.get("username"):
            form.error("username", _("Enter a user name."))
        if not form.get("password"):
            form.error("password", _("Enter an initial password."))
        message = None
        if form.ok:
            cmd = admin.NewUser(
                username=form.get("username"),
                display_name=form.get("display_name"),
                role=form.get("role"),
                password=form.values.get("password", ""),
                developer_code=form.get("developer") or None,
                bank_code=form.get("bank") or None,
            )
            try:
                await pages.run(admin.create_user, pages.ctx(request), cmd, sessions.principal(request))
                return pages.redirect(request, "/admin/users", notice="user_created")
            except DomainError as exc:
                message = _refusal(request, exc, form)
        values = {k: v for k, v in form.values.items() if k != "password"}  # a password is never echoed
        return await _list(
            request,
            status=422,
            values=values,
            errors=form.errors,
            create_message=message or _("Please correct the marked fields"),
        )

    @post("/{user_id:int}/disable", name="admin-user-disable")
    async def disable(self, request: Request, user_id: FromPath[int]) -> Response:
        return await self._change(request, admin.set_active, user_id, False, notice="user_disabled")

    @post("/{user_id:int}/enable", name="admin-user-enable")
    async def enable(self, request: Request, user_id: FromPath[int]) -> Response:
        return await self._change(request, admin.set_active, user_id, True, notice="user_enabled")

    @post("/{user_id:int}/unlock", name="admin-user-unlock")
    async def unlock(self, request: Request, user_id: FromPath[int]) -> Response:
        return await self._change(request, admin.unlock, user_id, notice="user_unlocked")

    async def _change(self, request: Request, use_case, user_id: int, *args: Any, notice: str) -> Response:
        await pages.form(request)  # the CSRF token was checked on the way in; nothing else is read
        _ = pages.gettext(request)
        try:
            await pages.run(use_case, pages.ctx(request), user_id, *args, sessions.principal(request))
        except NotFound:
            raise
        except Conflict as exc:
            text = (
                _("You cannot disable your own account.")
                if exc.rule == "admin.not_self"
                else pages.field_errors(request, exc)[0]
            )
            return await _list(request, status=409, message=text)
        return pages.redirect(request, "/admin/users", notice=notice)

    @get("/{user_id:int}/password", name="admin-user-password")
    async def password_form(self, request: Request, user_id: FromPath[int]) -> Response:
        return await self._password_page(request, user_id)

    @post("/{user_id:int}/password", name="admin-user-password-reset")
    async def reset_password(self, request: Request, user_id: FromPath[int]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        generate = form.get("action") == "generate"
        typed = form.values.get("password", "")
        if not generate and not typed:
            form.error("password", _("Enter the new password, or have one generated."))
        message = None
        if form.ok:
            try:
                done = await pages.run(
                    admin.reset_password,
                    pages.ctx(request),
                    user_id,
                    None if generate else typed,
                    sessions.principal(request),
                )
            except NotFound:
                raise
            except DomainError as exc:
                message = _refusal(request, exc, form)
            else:
                if done.generated is None:
                    return pages.redirect(request, "/admin/users", notice="password_reset")
                # shown on this answer only: it is stored nowhere in clear
                return pages.render(request, "admin/users/generated.html", reset=done)
        return await self._password_page(
            request,
            user_id,
            status=422,
            errors=form.errors,
            message=message or _("Please correct the marked fields"),
        )

    async def _password_page(
        self, request: Request, user_id: int, status: int = 200, **extra: Any
    ) -> Response:
        found = await pages.run(admin.users, pages.ctx(request), pages.now())
        target = next((u for u in found if u.user_id == user_id), None)
        if target is None:
            raise NotFound(f"no user {user_id}")
        extra.setdefault("errors", {})
        return pages.render(request, "admin/users/password.html", status=status, target=target, **extra)
