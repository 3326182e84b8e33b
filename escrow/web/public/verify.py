"""The buyer's page: check a payment voucher on a phone (CONTRACT.md §3 Public, §6 `/verify/{voucher_no}`).

`/verify/{voucher_no}?code=…` is where the QR code on the voucher PDF points; `/verify` shows a form for
typing the number and code by hand (it submits to `/verify?voucher_no=…&code=…`). Both use the same
look-up and rate limit as `GET /api/v1/public/vouchers/{voucher_no}`. Whatever goes wrong — an unknown
number, a wrong or malformed code, too many look-ups, a busy database, a bug — the answer is this page with
a polite message, never a trace.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from escrow.api.public import run_lookup
from escrow.services.views import wire
from escrow.services.vouchers import DatabaseUnavailable
from escrow.web.shell import i18n

log = logging.getLogger("escrow.web")


HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the code is in the URL
    "X-Content-Type-Options": "nosniff",
}
TEMPLATE = "public/verify/index.html"


def _page(request: Request, status: int, **context: Any) -> Template:
    headers = dict(HEADERS)
    if context.get("retry_after") and status == 429:
        headers["Retry-After"] = str(context["retry_after"])
    context.setdefault("voucher_no", "")
    return Template(
        template_name=TEMPLATE,
        context=i18n.page_context(request, **context),
        status_code=status,
        headers=headers,
        cookies=i18n.remember(request),
    )


def _verify(request: Request, voucher_no: str | None) -> Template:
    code = request.query_params.get("code")
    lang = i18n.language(request)
    result = run_lookup(request, voucher_no, code)
    shown = (voucher_no or "").strip()[:64]
    if result.limited:
        return _page(request, 429, outcome="limited", retry_after=result.retry_after, voucher_no=shown)
    if result.found is None:
        return _page(request, 404, outcome="no_match", voucher_no=shown)
    return _page(request, 200, outcome="found", voucher=wire(result.found.view(lang)))


def _unavailable(request: Request, exc: Exception) -> Template:
    """Any failure on these pages: the polite page (a bug is logged; a busy database is a 503)."""
    from litestar.exceptions import HTTPException

    if isinstance(exc, DatabaseUnavailable):
        log.warning("voucher page: database unavailable: %s", exc)
        status = 503
    elif isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
        return _page(request, 404, outcome="no_match")
    else:
        log.exception("voucher page failed", exc_info=exc)
        status = 500
    try:
        return _page(request, status, outcome="unavailable")
    except Exception:  # the page itself cannot be built (e.g. a broken cookie): the plainest answer
        return Template(
            template_str="<p>系统暂时无法完成查询，请稍后再试。</p>", status_code=status, headers=HEADERS
        )


class VerifyController(Controller):
    path = "/verify"
    include_in_schema = False
    exception_handlers = {Exception: _unavailable}

    @get("/", sync_to_thread=True, name="verify-form")
    def form(self, request: Request) -> Template:
        """The form; submitted, it carries voucher_no and code and shows the answer here."""
        if "voucher_no" in request.query_params or "code" in request.query_params:
            return _verify(request, request.query_params.get("voucher_no"))
        return _page(request, 200, outcome="form")

    @get("/{voucher_no:path}", sync_to_thread=True, name="verify-voucher")
    def voucher(self, request: Request, voucher_no: FromPath[str]) -> Template:
        return _verify(request, voucher_no.lstrip("/"))
