"""Refunds of cancelled contracts and suspense items, for the bureau.

`/refunds`: every refund, newest first, filtered by status. `/refunds/{refund_id}`: the contract, the buyer
(name masked), what is paid back to whom, the money free to pay it now, the approval chain with each step,
and the decision form — shown only to the user whose role the next step names and who took no step yet;
`refunds.decide` re-checks all of it and its refusals come back here in the user's language.

`/projects/{project_id}/suspense/{deposit_id}`: money no contract claims yet. The reviewer or approver
assigns it to a contract (the rule book's deposit checks run again; "Check" previews them without booking)
or returns it to its payer through the bank (services/suspense.py). Each is one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from math import ceil
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import Conflict, DomainError, Forbidden, NotFound
from escrow.domain.identity import mask_name
from escrow.domain.money import from_fen
from escrow.domain.principal import Principal
from escrow.services import approvals, refunds, suspense
from escrow.services.projects import release_cap
from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, Project
from escrow.store.repos.base import MAX_ID
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
pages.NOTICES["suspense_assigned"] = N_(
    "The money is assigned to the contract and the buyer's voucher issued."
)
pages.NOTICES["suspense_returning"] = N_(
    "The bank is instructed to return the money to its payer; the books move when it has paid."
)

STATUS_NAMES = {
    "submitted": N_("Under review"),
    "approved": N_("Approved, awaiting payment"),
    "rejected": N_("Rejected"),
    "executed": N_("Paid back"),
}
STATUS_BADGES = {"submitted": "warn", "approved": "good", "rejected": "bad", "executed": "good"}
PAYEE_ROLES = {"buyer": N_("Buyer"), "lender": N_("Mortgage lender"), "payer": N_("Payer")}
DEPOSIT_STATUS = {
    "accepted": N_("Accepted"),
    "suspense": N_("In suspense"),
    "assigned": N_("Assigned from suspense"),
    "returning": N_("Being returned to the payer"),
    "returned": N_("Returned to payer"),
    "reversed": N_("Reversed"),
}
DEPOSIT_BADGES = {"suspense": "warn", "returning": "warn", "assigned": "good", "returned": "good"}
CHANNELS = {
    "counter": N_("Counter"),
    "transfer": N_("Transfer"),
    "pos": N_("POS"),
    "mortgage": N_("Mortgage"),
    "statement": N_("Bank statement"),
}
RESULTS = {"pass": N_("Passed"), "fail": N_("Failed"), "warn": N_("Warning")}
RESULT_BADGES = {"pass": "good", "fail": "bad", "warn": "warn"}

# The deposit checks of the rule books (escrow.domain.checks), and what they say, in words. A check a later
# rule book adds shows under its code, with its message as the service wrote it.
CHECK_NAMES = {
    "account_matches_project": N_("Paid into the account the notice names"),
    "notice_exists_and_open": N_("Payment notice exists and is open"),
    "amount_equals_notice": N_("Amount equals the notice"),
    "payer_matches_buyer": N_("Payer is the buyer"),
    "bank_reference_unseen": N_("Bank reference not booked before"),
    "contract_not_cancelled": N_("Contract in force"),
    "within_contract_price": N_("Within the contract price"),
    "value_date_within_days": N_("Value date recent enough"),
    "statement_only": N_("Posted by the bank"),
}
_V = r"(?P<{}>.+?)"
CHECK_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile("^" + pattern.format(**{k: _V.format(k) for k in ("a", "b", "c")}) + "$"), text)
    for pattern, text in (
        (
            "no notice names an account; the payment stays in the account it reached",
            N_("No notice names an account; the money stays in the account it reached."),
        ),
        (
            "the notice names account {a}, the one paid into",
            N_("The notice names account %(a)s, the one paid."),
        ),
        ("the notice names account {a}, not {b}", N_("The notice names account %(a)s, not %(b)s.")),
        ("no payment notice number was given", N_("No payment notice number was given.")),
        ("no such payment notice", N_("There is no such payment notice.")),
        ("the payment notice is {a}, not open", N_("The payment notice is no longer open (%(a)s).")),
        ("the payment notice exists and is open", N_("The payment notice exists and is open.")),
        ("there is no notice amount to compare with", N_("There is no notice amount to compare with.")),
        ("the amount {a} equals the notice", N_("The amount %(a)s equals the notice.")),
        (
            "the amount {a} differs from the notice's {b}",
            N_("The amount %(a)s differs from the notice's %(b)s."),
        ),
        (
            "there is no contract buyer to compare the payer with",
            N_("There is no contract buyer to compare the payer with."),
        ),
        ("the payer is the buyer on the contract", N_("The payer is the buyer on the contract.")),
        (
            "a mortgage lender pays the buyer's mortgage notice",
            N_("A mortgage lender pays the mortgage notice."),
        ),
        ("the payer {a} is not the buyer {b}", N_("The payer %(a)s is not the buyer %(b)s.")),
        ("this bank reference was already booked", N_("This bank reference was already booked.")),
        ("the bank reference is new", N_("The bank reference is new.")),
        ("the contract was cancelled", N_("The contract was cancelled.")),
        ("no contract is linked to the payment", N_("No contract is linked to the payment.")),
        ("the contract is in force", N_("The contract is in force.")),
        ("no contract price to compare with", N_("There is no contract price to compare with.")),
        (
            "payments would total {a}, above the price {b}",
            N_("Payments would total %(a)s, above the price %(b)s."),
        ),
        ("payments would total {a} of {b}", N_("Payments would total %(a)s of %(b)s.")),
        ("the value date {a} is in the future", N_("The value date %(a)s is in the future.")),
        (
            "the value date {a} is {b} days old; at most {c} allowed",
            N_("The value date %(a)s is %(b)s days old; at most %(c)s allowed."),
        ),
        ("the value date {a} is within {b} days", N_("The value date %(a)s is within %(b)s days.")),
        (
            "credited on the bank statement with no deposit posted",
            N_("Credited on the bank statement with no deposit posted."),
        ),
    )
)
NOTICE_STATUS = {"paid": N_("paid"), "cancelled": N_("cancelled"), "open": N_("open")}


def check_rule(_: Callable[..., str], rule: str) -> str:
    return _(CHECK_NAMES[rule]) if rule in CHECK_NAMES else rule


def check_message(_: Callable[..., str], message: str) -> str:
    """A check's sentence in the user's language; amounts, dates and numbers stay as they are. A buyer's
    name in it is masked, as everywhere buyers are named to the bureau."""
    for pattern, text in CHECK_MESSAGES:
        found = pattern.match(message)
        if not found:
            continue
        values = found.groupdict()
        if text.endswith("is not the buyer %(b)s."):
            values["b"] = mask_name(values["b"])
        if text.startswith("The payment notice is no longer open"):
            values["a"] = _named(_, NOTICE_STATUS, values["a"])
        return _(text, **values)
    return message


def checks_in_words(_: Callable[..., str], results: list[dict[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "rule": c.get("rule", ""),
            "name": check_rule(_, c.get("rule", "")),
            "result": c.get("result", ""),
            "result_name": _named(_, RESULTS, c.get("result")),
            "badge": RESULT_BADGES.get(c.get("result", ""), ""),
            "message": check_message(_, c.get("message", "")),
        }
        for c in results
    ]


def _valid(value: int) -> bool:
    return 0 < value <= MAX_ID


def _named(_: Callable[..., str], names: dict[str, str], key: str | None) -> str:
    return _(names[key]) if key in names else (key or "")


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
        status = _named(_, STATUS_NAMES, view["status"])
        return {"open": False, "reason": _("Decided: this refund is %(status)s.", status=status)}
    if not permissions.allowed(found.role, "refunds.decide"):
        return {"open": False, "reason": _("Your role views refunds but does not decide them.")}
    wanted = _named(_, labels.ROLE_NAMES, nxt["role"])
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
        if not _valid(refund_id):
            raise NotFound(f"no refund {refund_id}")
        return self._render(request, await pages.run(_refund_page, request, refund_id))

    @post("/{refund_id:int}/decision", name="refund-decision", guards=[requires("refunds.decide")])
    async def decide(self, request: Request, refund_id: FromPath[int]) -> Response:
        if not _valid(refund_id):
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


# --- suspense items ----------------------------------------------------------------------------------------


def _item(request: Request, project_id: int, deposit_id: int) -> dict[str, Any]:
    with UnitOfWork(pages.engine(request), readonly=True) as uow:
        return suspense.item_view(uow, pages.ctx(request), project_id, deposit_id)


def _preview(request: Request, project_id: int, deposit_id: int, cmd: suspense.AssignToContract) -> dict:
    with UnitOfWork(pages.engine(request), readonly=True) as uow:
        suspense.item_view(uow, pages.ctx(request), project_id, deposit_id)
        return suspense.preview(uow, pages.ctx(request), deposit_id, cmd, sessions.principal(request))


def _resolve(request: Request, project_id: int, deposit_id: int, fn: Callable, cmd: Any) -> dict[str, Any]:
    """Assign or return in one transaction, for a deposit of this project only."""
    with UnitOfWork(pages.engine(request)) as uow:
        suspense.item_view(uow, pages.ctx(request), project_id, deposit_id)
        result = fn(uow, pages.ctx(request), deposit_id, cmd, sessions.principal(request))
        uow.commit()
    return result


# Refusals the service names by rule, said next to their field.
FIELD_REFUSALS = {
    "contract_of_account": ("contract_no", N_("No such contract on this project's account.")),
    "notice_of_contract": ("notice_no", N_("This payment notice belongs to another contract.")),
}


def _suspense_refusal(_, exc: DomainError, request: Request) -> tuple[str, dict[str, str]]:
    """A refusal of assign or return as (message, {field: message}) in the user's language."""
    if isinstance(exc, approvals.Refused) and "checks" in exc.facts:
        errors: dict[str, str] = {}
        for c in exc.facts["checks"]:
            if c["result"] == "fail":
                field = suspense.CHECK_FIELDS.get(c["rule"], "contract_no")
                text = _(
                    "%(check)s: %(why)s", check=check_rule(_, c["rule"]), why=check_message(_, c["message"])
                )
                errors[field] = f"{errors[field]} {text}" if field in errors else text
        return _("A blocking check still fails: the money cannot be assigned to this contract."), errors
    if exc.rule in FIELD_REFUSALS:
        field, text = FIELD_REFUSALS[exc.rule]
        return _("Please correct the marked fields"), {field: _(text)}
    if isinstance(exc, Conflict):
        return _("This item is no longer in suspense: someone resolved it meanwhile."), {}
    if exc.rule == "balance":
        return _("The books do not show this much money in suspense."), {}
    return pages.field_errors(request, exc)


class SuspenseController(Controller):
    path = "/projects/{project_id:int}/suspense"
    include_in_schema = False
    guards = [requires("suspense.resolve")]

    @get("/{deposit_id:int}", name="suspense-item")
    async def item(self, request: Request, project_id: FromPath[int], deposit_id: FromPath[int]) -> Response:
        item = await pages.run(_item, request, project_id, deposit_id)
        return self._render(request, item)

    @post("/{deposit_id:int}", name="suspense-resolve")
    async def resolve(
        self, request: Request, project_id: FromPath[int], deposit_id: FromPath[int]
    ) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        action = form.get("action")
        if action == "return":
            return await self._return(request, form, project_id, deposit_id)
        if action != "assign":
            action = "check"  # anything but the two buttons only looks: it books nothing
        contract_no, notice_no = form.get("contract_no"), form.get("notice_no")
        if not contract_no:
            form.error("contract_no", _("Required."))
        for name, value in (("contract_no", contract_no), ("notice_no", notice_no)):
            if len(value) > 64:
                form.error(name, _("At most %(value)s characters.", value=64))
        cmd = suspense.AssignToContract(contract_no, notice_no or None)
        message, status, preview = None, 422, None
        if form.ok:
            try:
                if action == "check":
                    preview = await pages.run(_preview, request, project_id, deposit_id, cmd)
                    status = 200
                else:
                    await pages.run(_resolve, request, project_id, deposit_id, suspense.assign, cmd)
                    return pages.redirect(request, f"/projects/{project_id}", notice="suspense_assigned")
            except NotFound:
                raise
            except DomainError as exc:
                message, errors = _suspense_refusal(_, exc, request)
                for name, text in errors.items():
                    form.error(name, text)
                status = exc.status
                if isinstance(exc, approvals.Refused) and "checks" in exc.facts:
                    preview = {"ok": False, "checks": exc.facts["checks"], "rulebook": exc.rule}
        checks = (
            {
                "ok": preview["ok"],
                "checks": checks_in_words(_, preview["checks"]),
                "rulebook": preview["rulebook"],
            }
            if preview
            else None
        )
        item = await pages.run(_item, request, project_id, deposit_id)
        extra = {
            "values": form.values,
            "errors": form.errors,
            "assign_message": message or (_("Please correct the marked fields") if not form.ok else None),
            "preview": checks,
        }
        if action == "check" and request.headers.get("hx-request") == "true":
            # HTMX swaps only a successful answer: the form comes back with its checks or its field errors
            return pages.render(request, "bureau/suspense/_assign.html", item=item, **extra)
        return self._render(request, item, status=status, **extra)

    async def _return(self, request: Request, form: pages.Form, project_id: int, deposit_id: int) -> Response:
        _ = pages.gettext(request)
        reason = form.get("reason")
        if not reason:
            form.error("reason", _("Say why the money goes back."))
        elif len(reason) > suspense.REASON_MAX:
            form.error("reason", _("At most %(value)s characters.", value=suspense.REASON_MAX))
        message, status = None, 422
        if form.ok:
            try:
                cmd = suspense.ReturnToPayer(reason)
                await pages.run(_resolve, request, project_id, deposit_id, suspense.return_to_payer, cmd)
                return pages.redirect(request, f"/projects/{project_id}", notice="suspense_returning")
            except NotFound:
                raise
            except DomainError as exc:
                message, errors = _suspense_refusal(_, exc, request)
                for text in errors.values():
                    form.error("reason", text)
                status = exc.status
        item = await pages.run(_item, request, project_id, deposit_id)
        return self._render(
            request,
            item,
            status=status,
            values=form.values,
            errors=form.errors,
            return_message=message or _("Please correct the marked fields"),
        )

    @staticmethod
    def _render(request: Request, item: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        _ = pages.gettext(request)
        extra.setdefault("values", {})
        extra.setdefault("errors", {})
        return pages.render(
            request,
            "bureau/suspense/item.html",
            status=status,
            item=item,
            checks=checks_in_words(_, item["checks"]),
            deposit_status=DEPOSIT_STATUS,
            deposit_badges=DEPOSIT_BADGES,
            channels=CHANNELS,
            **extra,
        )


CONTROLLERS = [RefundsController, SuspenseController]
