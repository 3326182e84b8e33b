"""`/admin/keys`: the admin lists API keys, creates one for a bank, a developer or a bureau user — the whole
key is on the answer page only, never again (only its hash is kept) — and revokes one after a confirmation
page. Each change is one audited transaction of escrow.services.admin."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import Conflict, DomainError, NotFound
from escrow.services import admin
from escrow.web.shell import pages, sessions
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

pages.NOTICES["key_revoked"] = N_("The API key is revoked: it no longer works.")
KINDS = ("bank", "developer", "user")
KIND_NAMES = {"bank": N_("Bank"), "developer": N_("Developer"), "user": N_("Bureau user")}


async def _list(request: Request, status: int = 200, **extra: Any) -> Response:
    ctx = pages.ctx(request)
    found = await pages.run(admin.keys, ctx)
    choices = await pages.run(admin.choices, ctx)
    extra.setdefault("values", {})
    extra.setdefault("errors", {})
    return pages.render(
        request,
        "admin/keys/list.html",
        status=status,
        keys=found,
        choices=choices,
        key_kinds=KIND_NAMES,
        **extra,
    )


async def _key(request: Request, key_id: int) -> admin.KeyRow:
    found = next((k for k in await pages.run(admin.keys, pages.ctx(request)) if k.key_id == key_id), None)
    if found is None:
        raise NotFound(f"no API key {key_id}")
    return found


class KeysController(Controller):
    path = "/admin/keys"
    include_in_schema = False
    guards = [requires("admin.keys")]

    @get("/", name="admin-keys")
    async def index(self, request: Request) -> Response:
        return await _list(request)

    @post("/", name="admin-key-create")
    async def create(self, request: Request) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        kind, _sep, owner = form.get("owner").partition(":")  # "bank:HSB", "developer:<code>", "user:<name>"
        if kind not in KINDS or not owner:
            form.error("owner", _("Choose whom the key acts for."))
        message = None
        if form.ok:
            try:
                issued = await pages.run(
                    admin.create_key, pages.ctx(request), kind, owner, sessions.principal(request)
                )
            except DomainError as exc:
                message = pages.field_errors(request, exc)[0]
                form.error("owner", message)
            else:
                # the only time the whole key is shown: the page is not cached (pages.HEADERS: no-store)
                return pages.render(request, "admin/keys/created.html", status=201, issued=issued)
        return await _list(
            request,
            status=422,
            values=form.values,
            errors=form.errors,
            create_message=message or _("Please correct the marked fields"),
        )

    @get("/{key_id:int}/revoke", name="admin-key-revoke-confirm")
    async def confirm(self, request: Request, key_id: FromPath[int]) -> Response:
        return pages.render(request, "admin/keys/revoke.html", key=await _key(request, key_id))

    @post("/{key_id:int}/revoke", name="admin-key-revoke")
    async def revoke(self, request: Request, key_id: FromPath[int]) -> Response:
        await pages.form(request)
        _ = pages.gettext(request)
        try:
            await pages.run(
                admin.revoke_key, pages.ctx(request), key_id, sessions.principal(request), pages.now()
            )
        except NotFound:
            raise
        except Conflict:
            return await _list(request, status=409, message=_("This key was already revoked."))
        return pages.redirect(request, "/admin/keys", notice="key_revoked")
