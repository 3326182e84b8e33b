"""Refunds of cancelled contracts, for the bureau.

`/refunds`: every refund, newest first, filtered by status. `/refunds/{refund_id}`: the contract, the buyer
(name masked), what is paid back to whom, the money free to pay it now, the approval chain with each step,
and the decision form — shown only to the user whose role the next step names and who took no step yet;
`refunds.decide` re-checks all of it and its refusals come back here in the user's language.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.catalog import statuses
from escrow.domain import approvals as rules
from escrow.domain.errors import Conflict, DomainError, Forbidden, NotFound
from escrow.domain.identity import mask_name
from escrow.domain.ids import valid_id
from escrow.domain.principal import Principal
from escrow.services import approvals, refunds
from escrow.web.bureau.common import (
    DecisionForm,
    answer_decision,
    chain_view,
    decision_view,
    download_url,
    next_step_words,
    pager,
)
from escrow.web.shell import exports, pages, sessions
from escrow.web.shell.filters import local_time, money
from escrow.web.shell.labels import N_, named
from escrow.web.shell.sessions import requires

PAGE_SIZE = 20

pages.NOTICES["refund_step_approved"] = N_("Your approval is recorded; the refund goes to the next step.")
pages.NOTICES["refund_approved"] = N_("The refund is approved; the bank has a payment instruction.")
pages.NOTICES["refund_rejected"] = N_("The refund is rejected.")

STATUS_NAMES = statuses.REFUND_STATUS  # the portal's words too
STATUS_BADGES = statuses.STATUS_BADGES
PAYEE_ROLES = {"buyer": N_("Buyer"), "lender": N_("Mortgage lender"), "payer": N_("Payer")}
# Why the reader may not take the next step (escrow.domain.approvals reason codes), in words.
REASONS = {
    rules.DECIDED: N_("Decided: this refund is %(status)s."),
    rules.ROLE_CANNOT_DECIDE: N_("Your role views refunds but does not decide them."),
    rules.ALREADY_TOOK_A_STEP: N_(
        "You already took a step of this refund; another person (%(role)s) must take step %(step)s."
    ),
    rules.WRONG_ROLE: N_("Waiting for %(role)s (step %(step)s)."),
}


# --- refunds: the list -------------------------------------------------------------------------------------


def _listing(request: Request, status: str | None, page: int) -> tuple[list[dict[str, Any]], int]:
    rows, total = refunds.search(
        pages.ctx(request), status=status, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return [{**vars(r), "id": r.refund_id} for r in rows], total


def _refund_table(request: Request, status: str | None, lang: str) -> exports.Table:
    """Every refund the filter selects, as the download holds them (the page's own query)."""
    _ = pages.gettext(request)
    rows, total = refunds.search(pages.ctx(request), status=status, offset=0, limit=exports.MAX_ROWS)
    exports.check_size(total, _)
    headings = (
        N_("No."), N_("Contract"), N_("Buyer"), N_("Project"), N_("Amount (yuan)"), N_("Cancelled"),
        N_("Status"), N_("Next step"),
    )  # fmt: skip
    cells = [
        (
            r.refund_id,
            r.contract_no,
            r.buyer_name,  # masked, as the page shows it
            r.project_name,
            r.amount,
            local_time(r.created_at),
            named(_, STATUS_NAMES, r.status),
            next_step_words(_, r.next_step, lang),
        )
        for r in rows
    ]
    return exports.Table([_(h) for h in headings], cells)


# --- refunds: the page and the decision --------------------------------------------------------------------


def _refund_page(request: Request, refund_id: int) -> dict[str, Any]:
    _ = pages.gettext(request)
    lang = pages.language(request)
    found = refunds.review(pages.ctx(request), refund_id, sessions.user(request).principal())
    view = found.refund
    payees = [{**vars(p), "name": mask_name(p.name) if p.role == "buyer" else p.name} for p in view.payees]
    return {
        "refund": view,
        "amount": view.amount,
        "project": {"id": found.project_id, "name": found.project_name, "permit_no": found.permit_no},
        "contract": found.contract,
        "payees": payees,
        "available": found.available,
        "available_terms": found.available_terms,
        "within": view.amount <= found.available,
        "chain": chain_view(view, lang),
        "status_badge": STATUS_BADGES.get(view.status, ""),
        "decision": decision_view(_, found.decision, REASONS, STATUS_NAMES, lang),
    }


def _decide(request: Request, refund_id: int, decision: approvals.Decision, actor: Principal) -> str:
    return refunds.decide(pages.ctx(request), refund_id, decision, actor).status


def _refund_refusal(_, exc: DomainError, request: Request) -> tuple[str, dict[str, str]]:
    rule = exc.rule or ""
    if isinstance(exc, approvals.Refused) and "available" in exc.facts:
        available = exc.facts["available"]["available"]
        return _(
            "The refund is above the money free to pay it now: ¥%(amount)s.", amount=money(available)
        ), {}
    if rule.endswith("release.distinct_people"):
        return _("You already took a step of this refund; another person must take this one."), {}
    if rule.endswith("refund.requires_contract_record"):
        return _("The refund no longer matches what the contract record shows as paid."), {}
    if isinstance(exc, Forbidden):
        return _("This step needs another role."), {}
    if isinstance(exc, Conflict):
        return _("This refund has already been decided."), {}
    return pages.field_errors(request, exc)


class RefundsController(Controller):
    path = "/refunds"
    include_in_schema = False
    guards = [requires("refunds.view")]

    @get("/", name="refunds")
    async def listing(self, request: Request) -> Response:
        params = request.query_params
        status = params.get("status") if params.get("status") in STATUS_NAMES else None
        page = max(1, pages.optional_int(params.get("page")) or 1)
        fmt = exports.requested(request)
        if fmt:
            table = await pages.run(_refund_table, request, status, pages.language(request))
            return await exports.download(request, "refunds", fmt, table)
        items, total = await pages.run(_listing, request, status, page)
        query = [("status", status)] if status else []
        return pages.render(
            request,
            "bureau/refunds/list.html",
            items=items,
            total=total,
            **pager("/refunds", query, page, total, PAGE_SIZE),
            download_url=download_url("/refunds", query),
            values={"status": status or ""},
            status_names=STATUS_NAMES,
            status_badges=STATUS_BADGES,
        )

    @get("/{refund_id:int}", name="refund")
    async def page(self, request: Request, refund_id: FromPath[int]) -> Response:
        if not valid_id(refund_id):
            raise NotFound(f"no refund {refund_id}")
        return self._render(request, await pages.run(_refund_page, request, refund_id))

    @post("/{refund_id:int}/decision", name="refund-decision", guards=[requires("refunds.decide")])
    async def decide(self, request: Request, refund_id: FromPath[int]) -> Response:
        if not valid_id(refund_id):
            raise NotFound(f"no refund {refund_id}")
        return await answer_decision(
            request,
            refund_id,
            DecisionForm("refund", "/refunds/{}", _decide, _refund_refusal, _refund_page, self._render),
        )

    @staticmethod
    def _render(request: Request, page: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        extra.setdefault("values", {})
        extra.setdefault("errors", {})
        return pages.render(
            request,
            "bureau/refunds/detail.html",
            status=status,
            status_names=STATUS_NAMES,
            payee_roles=PAYEE_ROLES,
            **page,
            **extra,
        )


CONTROLLERS = [RefundsController]
