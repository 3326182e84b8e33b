"""The inbox of every signed-in user, bureau and developer staff alike: their notifications newest first,
the unread ones marked; opening one marks it read and goes to its case; "mark all read". Only the user's own
notifications are found (another user's answers 404)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.catalog import N_
from escrow.domain.errors import NotFound
from escrow.services import notifications
from escrow.web.shell import notifications as words
from escrow.web.shell import pages, sessions
from escrow.web.shell.sessions import requires

pages.NOTICES["inbox_read"] = N_("All notifications are marked read.")


class InboxController(Controller):
    path = "/inbox"
    include_in_schema = False
    guards = [requires("inbox.view")]

    @get("/", name="inbox")
    async def listing(self, request: Request) -> Response:
        page = max(1, pages.optional_int(request.query_params.get("page")) or 1)
        found = await pages.run(notifications.inbox, pages.ctx(request), sessions.principal(request), page)
        _ = pages.gettext(request)
        lang = pages.language(request)
        staff = sessions.user(request).is_developer_staff
        items = [
            {
                "n": n,
                "sentence": words.sentence(n, _, lang),
                "amount": words.amount(n, _),
                "link": words.link(n, staff),
            }
            for n in found.items
        ]
        return pages.render(
            request, "shell/inbox.html", inbox=found, items=items, page_url=lambda n: f"/inbox?page={n}"
        )

    @get("/{notification_id:int}", name="inbox-open")
    async def open_one(self, request: Request, notification_id: FromPath[int]) -> Response:
        if not pages.valid_id(notification_id):
            raise NotFound(f"no notification {notification_id}")
        seen = await pages.run(
            notifications.open_one, pages.ctx(request), sessions.principal(request), notification_id
        )
        return pages.redirect(request, words.link(seen, sessions.user(request).is_developer_staff))

    @post("/read", name="inbox-read-all", status_code=303)
    async def read_all(self, request: Request) -> Response:
        await pages.run(notifications.mark_all_read, pages.ctx(request), sessions.principal(request))
        return pages.redirect(request, "/inbox", notice="inbox_read")


CONTROLLERS = [InboxController]
