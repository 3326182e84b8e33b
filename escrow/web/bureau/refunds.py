"""Refunds of cancelled contracts, for the bureau.

`/refunds`: every refund, newest first, filtered by status. `/refunds/{refund_id}`: the contract, the buyer
(name masked), what is paid back to whom, the money free to pay it now, the approval chain with each step,
and the decision form — shown only to the user whose role the next step names and who took no step yet;
`refunds.decide` re-checks all of it and its refusals come back here in the user's language.
"""

from __future__ import annotations

from math import ceil
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import Conflict, DomainError, Forbidden, NotFound
from escrow.domain.identity import mask_name
from escrow.domain.ids import valid_id
from escrow.domain.money import from_fen
from escrow.domain.principal import Principal
from escrow.services import approvals, refunds
from escrow.services.projects import release_cap
from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, Project
from escrow.web.bureau.common import chain_view
from escrow.web.shell import labels, pages, permissions, sessions
from escrow.web.shell.filters import money
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

PAGE_SIZE = 20
MAX_COMMENT = 2000

pages.NOTICES["refund_step_approved"] = N_("Your approval is recorded; the refund goes to the next step.")
pages.NOTICES["refund_approved"] = N_("The refund is approved; the bank has a payment instruction.")
pages.NOTICES["refund_rejected"] = N_("The refund is rejected.")

STATUS_NAMES = {
    "submitted": N_("Under review"),
    "approved": N_("Approved, awaiting payment"),
    "rejected": N_("Rejected"),
    "executed": N_("Paid back"),
}
STATUS_BADGES = {"submitted": "warn", "approved": "good", "rejected": "bad", "executed": "good"}
PAYEE_ROLES = {"buyer": N_("Buyer"), "lender": N_("Mortgage lender"), "payer": N_("Payer")}


# --- refunds: the list -------------------------------------------------------------------------------------


def _listing(request: Request, status: str | None, page: int) -> tuple[list[dict[str, Any]], int]:
    with UnitOfWork(pages.engine(request), readonly=True) as uow:
        total = uow.refunds.count(status=status)
        rows = uow.refunds.listing(status=status, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        items = []
        for refund in rows:
            contract = uow.session.get(Contract, refund.contract_id)
            project = uow.session.get(Project, contract.project_id)
            chain = approvals.refund_chain(pages.ctx(request).rulebook(refund.rulebook_id))
            taken = len(uow.refunds.steps(refund.id))
            items.append(
                {
                    "id": refund.id,
                    "contract_no": contract.contract_no,
                    "buyer_name": mask_name(contract.buyer_name),
                    "project_id": project.id,
                    "project_name": project.name,
                    "amount": from_fen(refund.amount_fen),
                    "status": refund.status,
                    "created_at": refund.created_at,
                    "next_step": approvals.next_step_view(chain, taken, refund.status),
                }
            )
    return items, total


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


# --- refunds: the page and the decision --------------------------------------------------------------------


def _refund_page(request: Request, refund_id: int) -> dict[str, Any]:
    ctx = pages.ctx(request)
    found = sessions.user(request)
    _ = pages.gettext(request)
    lang = pages.language(request)
    with UnitOfWork(pages.engine(request), readonly=True) as uow:
        refund, contract = refunds.visible_refund(uow, found.principal(), refund_id)
        view = refunds.refund_view(uow, ctx, refund)
        project = uow.projects.get(contract.project_id)
        account = uow.projects.account_for(project.id)
        available, facts = refunds.available(release_cap(uow, ctx, project, account))
        deciders = [s.decided_by for s in uow.refunds.steps(refund.id)]
    book = ctx.rulebook(refund.rulebook_id)
    chain = chain_view(view, lang)
    payees = [
        {**p, "name": mask_name(p["name"]) if p["role"] == "buyer" else p["name"]} for p in view["payees"]
    ]
    amount = from_fen(refund.amount_fen)
    terms = {t["term"]: t["value"] for t in facts["terms"]}
    return {
        "refund": view,
        "amount": amount,
        "project": {"id": project.id, "name": project.name, "permit_no": project.permit_no},
        "contract": {
            "contract_no": contract.contract_no,
            "buyer_name": mask_name(contract.buyer_name),
            "unit": contract.unit,
            "price": from_fen(contract.total_price_fen),
            "signed_on": contract.signed_on,
            "status": contract.status,
        },
        "payees": payees,
        "available": available,
        "available_terms": terms,
        "within": amount <= available,
        "chain": chain,
        "status_badge": STATUS_BADGES.get(view["status"], ""),
        "decision": _may_decide(_, view, book, found, deciders, lang),
    }


def _may_decide(_, view, book, found, deciders: list[int], lang: str) -> dict[str, Any]:
    """Whether this user may take the next step now, and if not, why not (in words)."""
    nxt = view["next_step"]
    if view["status"] != "submitted" or nxt is None:
        status = labels.named(_, STATUS_NAMES, view["status"])
        return {"open": False, "reason": _("Decided: this refund is %(status)s.", status=status)}
    if not permissions.allowed(found.role, "refunds.decide"):
        return {"open": False, "reason": _("Your role views refunds but does not decide them.")}
    wanted = labels.named(_, labels.ROLE_NAMES, nxt["role"])
    if book.release.distinct_people and found.user_id in deciders:
        return {
            "open": False,
            "reason": _(
                "You already took a step of this refund; another person (%(role)s) must take step %(step)s.",
                role=wanted,
                step=nxt["step_no"],
            ),
        }
    if found.role != nxt["role"]:
        return {
            "open": False,
            "reason": _("Waiting for %(role)s (step %(step)s).", role=wanted, step=nxt["step_no"]),
        }
    label = nxt["label_zh"] if lang == "zh" else nxt["label_en"]
    return {"open": True, "step": nxt["step_no"], "label": label}


def _decide(request: Request, refund_id: int, decision: approvals.Decision, actor: Principal) -> str:
    with UnitOfWork(pages.engine(request)) as uow:
        result = refunds.decide(uow, pages.ctx(request), refund_id, decision, actor)
        uow.commit()
    return result["status"]


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
        page = max(1, _int(params.get("page")) or 1)
        items, total = await pages.run(_listing, request, status, page)
        count = max(1, ceil(total / PAGE_SIZE))

        def url(n: int) -> str:
            return "/refunds?" + urlencode([*([("status", status)] if status else []), ("page", n)])

        return pages.render(
            request,
            "bureau/refunds/list.html",
            items=items,
            total=total,
            page=page,
            pages=count,
            url=url,
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
        form = await pages.form(request)
        _ = pages.gettext(request)
        choice, comment = form.get("decision"), form.get("comment")
        if choice not in approvals.DECISIONS:
            form.error("decision", _("Choose approve or reject."))
        elif choice == "reject" and not comment:
            form.error("comment", _("Say why when rejecting."))
        if len(comment) > MAX_COMMENT:
            form.error("comment", _("At most %(value)s characters.", value=MAX_COMMENT))
        message, status = None, 422
        if form.ok:
            decision = approvals.Decision(choice, comment)
            try:
                outcome = await pages.run(_decide, request, refund_id, decision, sessions.principal(request))
            except NotFound:
                raise
            except DomainError as exc:
                message, errors = _refund_refusal(_, exc, request)
                for name, text in errors.items():
                    form.error(name if name in ("decision", "comment") else "decision", text)
                status = exc.status
            else:
                notice = {"approved": "refund_approved", "rejected": "refund_rejected"}.get(
                    outcome, "refund_step_approved"
                )
                return pages.redirect(request, f"/refunds/{refund_id}", notice=notice)
        page = await pages.run(_refund_page, request, refund_id)
        return self._render(
            request,
            page,
            status=status,
            message=message or _("Please correct the marked fields"),
            values=form.values,
            errors=form.errors,
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
