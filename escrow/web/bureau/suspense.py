"""Suspense items, for the bureau: `/projects/{project_id}/suspense/{deposit_id}` shows money no contract
claims yet. The reviewer or approver assigns it to a contract (the rule book's deposit checks run again;
"Check" previews them without booking) or returns it to its payer through the bank (services/suspense.py).
Each is one transaction.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import Conflict, DomainError, NotFound
from escrow.services import approvals, suspense
from escrow.web.bureau.checks import (
    CHANNELS,
    DEPOSIT_BADGES,
    DEPOSIT_STATUS,
    check_message,
    check_rule,
    checks_in_words,
)
from escrow.web.shell import pages, sessions
from escrow.web.shell.identifiers import identifier
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

pages.NOTICES["suspense_assigned"] = N_(
    "The money is assigned to the contract and the buyer's voucher issued."
)
pages.NOTICES["suspense_returning"] = N_(
    "The bank is instructed to return the money to its payer; the books move when it has paid."
)


def _item(request: Request, project_id: int, deposit_id: int) -> dict[str, Any]:
    return suspense.item(pages.ctx(request), project_id, deposit_id)


def _preview(request: Request, project_id: int, deposit_id: int, cmd: suspense.AssignToContract) -> dict:
    found = suspense.check_item(pages.ctx(request), project_id, deposit_id, cmd, sessions.principal(request))
    return {"ok": found.ok, "checks": [vars(c) for c in found.checks], "rulebook": found.rulebook}


def _assign(request: Request, project_id: int, deposit_id: int, cmd: suspense.AssignToContract) -> None:
    suspense.assign_item(pages.ctx(request), project_id, deposit_id, cmd, sessions.principal(request))


def _return(request: Request, project_id: int, deposit_id: int, cmd: suspense.ReturnToPayer) -> None:
    suspense.return_item(pages.ctx(request), project_id, deposit_id, cmd, sessions.principal(request))


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
                text = _("%(check)s: %(why)s", check=check_rule(_, c["rule"]), why=check_message(_, c))
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
        contract_no = identifier(form, "contract_no", _)
        notice_no = identifier(form, "notice_no", _, required=False)
        cmd = suspense.AssignToContract(contract_no, notice_no or None)
        message, status, preview = None, 422, None
        if form.ok:
            try:
                if action == "check":
                    preview = await pages.run(_preview, request, project_id, deposit_id, cmd)
                    status = 200
                else:
                    await pages.run(_assign, request, project_id, deposit_id, cmd)
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
                await pages.run(_return, request, project_id, deposit_id, cmd)
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


CONTROLLERS = [SuspenseController]
