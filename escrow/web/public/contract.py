"""The buyer's page: their own contract on a phone (CONTRACT.md §10, `/verify/contract`).

`/verify/contract` shows a form for the contract number and the last six characters of the buyer's ID
number; submitted, it carries them in the query (`?contract_no=…&id_last6=…`) and shows the answer here:
the payments with their voucher status, the paid total and the building's nodes with the dates reached.
The same look-up and the same rate limit as `GET /api/v1/public/contracts/{contract_no}` (and so as the
voucher look-up). An unknown contract and a wrong suffix get one polite message; a suffix that is not six
letters or digits is a field error on the form; whatever else goes wrong, this page with a polite message,
never a trace. The suffix is never written back into the form.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from escrow.api.public import run_contract_lookup
from escrow.catalog.outcomes import field_message
from escrow.domain.errors import InvalidInput
from escrow.services.views import wire
from escrow.services.vouchers import DatabaseUnavailable
from escrow.web.public.verify import HEADERS
from escrow.web.shell import i18n

log = logging.getLogger("escrow.web")

TEMPLATE = "public/contract/index.html"


def _page(request: Request, status: int, **context: Any) -> Template:
    headers = dict(HEADERS)
    if context.get("retry_after") and status == 429:
        headers["Retry-After"] = str(context["retry_after"])
    context.setdefault("contract_no", (request.query_params.get("contract_no") or "").strip()[:64])
    context.setdefault("errors", {})
    return Template(
        template_name=TEMPLATE,
        context=i18n.page_context(request, **context),
        status_code=status,
        headers=headers,
        cookies=i18n.remember(request),
    )


def _look_up(request: Request) -> Template:
    lang = i18n.language(request)
    try:
        result = run_contract_lookup(
            request, request.query_params.get("contract_no"), request.query_params.get("id_last6")
        )
    except InvalidInput as refused:
        _ = i18n.gettext_for(lang)
        errors = {e.field: field_message(_, e) for e in refused.errors}
        return _page(request, 422, outcome="form", errors=errors)
    if result.limited:
        return _page(request, 429, outcome="limited", retry_after=result.retry_after)
    if result.found is None:
        return _page(request, 404, outcome="no_match")
    return _page(request, 200, outcome="found", contract=wire(result.found.view(lang)))


def _unavailable(request: Request, exc: Exception) -> Template:
    """Any failure on this page: the polite page (a bug is logged; a busy database is a 503)."""
    from litestar.exceptions import HTTPException

    if isinstance(exc, DatabaseUnavailable):
        log.warning("contract page: database unavailable: %s", exc)
        status = 503
    elif isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
        return _page(request, 404, outcome="no_match")
    else:
        log.exception("contract page failed", exc_info=exc)
        status = 500
    try:
        return _page(request, status, outcome="unavailable")
    except Exception:  # the page itself cannot be built (e.g. a broken cookie): the plainest answer
        return Template(
            template_str="<p>系统暂时无法完成查询，请稍后再试。</p>", status_code=status, headers=HEADERS
        )


class ContractController(Controller):
    path = "/verify/contract"
    include_in_schema = False
    exception_handlers = {Exception: _unavailable}

    @get("/", sync_to_thread=True, name="verify-contract")
    def contract(self, request: Request) -> Template:
        """The form; submitted, it carries contract_no and id_last6 and shows the answer here."""
        if "contract_no" in request.query_params or "id_last6" in request.query_params:
            return _look_up(request)
        return _page(request, 200, outcome="form")
