"""One effect per form: a create form carries a one-time token, and its use case runs once per token.

Every page renders with a fresh `form_token` (pages.render); a create form puts it in a hidden field with
`{% include "shell/_form_token.html" %}`, and a form that comes back with errors keeps the token it was
posted with. In the handler:

    return await once.submit(request, form, lambda ctx: service.create(ctx, cmd, who),
                             lambda view: f"/developer/things/{view.id}", notice="thing_created")

The token is claimed in the use case's own transaction, as the API's Idempotency-Key is (the same guard,
escrow.services.idempotency, and the same table with its unique index, so two workers cannot both claim
it): the first POST does the work and records where it led; a second POST with the token (a double click,
a resubmit after the back button) creates nothing and is sent to that first result. A refusal rolls the
claim back with everything else, so the corrected form may use the token again. Tokens are per user and per
form address (one page's several forms share its token).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from litestar import Request, Response

from escrow.domain.errors import Conflict
from escrow.services.context import Context
from escrow.services.idempotency import ClaimLost, IdempotencyGuard, Replay
from escrow.web.shell import pages, sessions

V = TypeVar("V")

TRIES = 3
FORM_REQUEST = "web-form"  # the guard's request digest: a repeat is the same form whatever it now holds


def guard(
    request: Request, token: str, target: Callable[[object], str], notice: str | None
) -> IdempotencyGuard:
    """The guard of one form token of the signed-in user; what it keeps is the page the work led to."""
    # the form's address is part of the key: a page rendered with one token may hold several forms
    where = hashlib.sha256(f"{request.url.path}\n{token}".encode()).hexdigest()[:48]
    return IdempotencyGuard(
        principal_ref=f"web-user:{sessions.user(request).user_id}",
        key=f"form:{where}",
        request_hash=FORM_REQUEST,
        answer=lambda view: (303, pages.with_notice(target(view), notice).encode()),
    )


async def submit(
    request: Request,
    form: pages.Form,
    work: Callable[[Context], V],
    target: Callable[[V], str],
    *,
    notice: str | None = None,
) -> Response:
    """Run `work(ctx)` (one write use case) once for the form's token and redirect to `target(view)`; a
    repeat of the token redirects to the first result. A refusal (DomainError) propagates, nothing kept.
    A form without a token (an old page) simply runs."""
    if not form.token:
        view = await pages.run(work, pages.ctx(request))
        return pages.redirect(request, target(view), notice=notice)
    kept = guard(request, form.token, target, notice)  # type: ignore[arg-type]
    ctx = pages.ctx(request).guarded(kept)
    for _try in range(TRIES):
        try:
            await pages.run(work, ctx)
        except Replay as replay:
            return pages.redirect(request, replay.body.decode())
        except ClaimLost:
            continue  # a concurrent submit of this form won; read where it led
        if kept.answered is None:  # the work wrote without the guarded context: a bug, never an answer
            raise RuntimeError("the form's use case did not write through the context it was given")
        return pages.redirect(request, kept.answered[1].decode())
    raise Conflict("the form was submitted twice at once; open the result from the list")
