"""Key supervised amount changes in the bureau's pages (CONTRACT §8, services/amount_changes.py).

An admin files a change on the project page (`POST /projects/{id}/supervised-amount`, refused field by field
on the same page); the change's review page (`/supervised-amount-changes/{id}`) shows the amounts, the caps
before and after, the approval chain, and the decision form for the one person who may take the next step —
the same pieces (shell/approvals.html, bureau/common.py) the release, refund and adoption pages use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain import approvals as rules
from escrow.domain.errors import Conflict, DomainError, Forbidden, NotFound
from escrow.domain.ids import valid_id
from escrow.domain.money import MoneyError, parse_wire
from escrow.domain.principal import Principal
from escrow.services import amount_changes, approvals
from escrow.services.context import Context
from escrow.web.bureau.common import DecisionForm, answer_decision, chain_view, decision_view
from escrow.web.bureau.projects import LABELS, render_project
from escrow.web.shell import once, pages, sessions
from escrow.web.shell.filters import money
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

STATUS_NAMES = LABELS["amount_change"]
STATUS_BADGES = {"submitted": "warn", "approved": "good", "rejected": "bad"}
REASONS = {
    rules.DECIDED: N_("Decided: this change is %(status)s."),
    rules.ROLE_CANNOT_DECIDE: N_("Your role views key supervised amount changes but does not decide them."),
    rules.ALREADY_TOOK_A_STEP: N_(
        "You already took a step of this change; another person (%(role)s) must take step %(step)s."
    ),
    rules.WRONG_ROLE: N_("Waiting for %(role)s (step %(step)s)."),
    rules.APPLICANT: N_("You applied for this change; another person (%(role)s) must take step %(step)s."),
}
RULES = {
    amount_changes.RULE_OPEN: N_("This project already has a key supervised amount change under review."),
    amount_changes.RULE_UNCHANGED: N_("The new amount is the key supervised amount already."),
    amount_changes.RULE_REASON: N_("Say why the key supervised amount changes (at most 2000 characters)."),
    amount_changes.RULE_CLOSED: N_("The supervised account is closed."),
}
MAX_REASON = amount_changes.MAX_REASON

pages.NOTICES["amount_change_submitted"] = N_("The key supervised amount change is submitted for review.")
pages.NOTICES["amount_change_step_approved"] = N_(
    "Your approval is recorded; the change goes to the next step."
)
pages.NOTICES["amount_change_approved"] = N_(
    "The change is approved: the project's key supervised amount is the new one."
)
pages.NOTICES["amount_change_rejected"] = N_("The change is rejected; the key supervised amount stays.")


def refusal(_: Callable[..., str], exc: DomainError, request: Request) -> tuple[str, dict[str, str]]:
    """A refusal of the service as (message, field errors) in the reader's language."""
    rule = exc.rule or ""
    if isinstance(exc, approvals.Refused) and rule == amount_changes.RULE_PENDING:
        cap = exc.facts.get("cap", {})
        message = _(
            "With this amount, release %(release)s would be above what may be released: at most ¥%(cap)s.",
            release=exc.facts.get("release_id"),
            cap=money(cap.get("releasable", "0.00")),
        )
        return message, {"amount": message}
    if rule in RULES:
        return _(RULES[rule]), {}
    if rule.endswith("release.distinct_people"):
        return _("Another person must take this step."), {}
    if isinstance(exc, Forbidden):
        return _("This step needs another role."), {}
    if isinstance(exc, Conflict):
        return _("This change has already been decided."), {}
    return pages.field_errors(request, exc)


# --- filing, on the project page ----------------------------------------------------------------------------


def _file(request: Request, cmd: amount_changes.FileChange) -> Callable[[Context], amount_changes.ChangeView]:
    actor = sessions.principal(request)
    return lambda ctx: amount_changes.file(ctx, cmd, actor)


class FileController(Controller):
    path = "/projects/{project_id:int}/supervised-amount"
    include_in_schema = False
    guards = [requires("amounts.change")]

    @post("/", name="amount-change-file", status_code=303)
    async def file(self, request: Request, project_id: FromPath[int]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        amount = None
        if not form.get("amount"):
            form.error("amount", _("Required."))
        else:
            try:
                amount = parse_wire(form.get("amount"))
            except MoneyError:
                form.error("amount", _("Enter an amount in yuan, such as 1234.50."))
        if not form.get("reason"):
            form.error("reason", _("Required."))
        elif len(form.get("reason")) > MAX_REASON:
            form.error("reason", _("At most %(value)s characters.", value=MAX_REASON))
        message, status = None, 422
        if form.ok and amount is not None:
            cmd = amount_changes.FileChange(project_id, amount, form.get("reason"))
            try:
                return await once.submit(
                    request,
                    form,
                    _file(request, cmd),
                    lambda view: f"/supervised-amount-changes/{view.change_id}",
                    notice="amount_change_submitted",
                )
            except (NotFound, Forbidden):
                raise
            except DomainError as exc:
                message, errors = refusal(_, exc, request)
                status = exc.status
                for name, text in errors.items():
                    form.error(name if name in ("amount", "reason") else "amount", text)
        return await render_project(
            request,
            project_id,
            status=status,
            amount_form={
                "values": form.values,
                "errors": form.errors,
                "message": message or _("Please correct the marked fields"),
            },
        )


# --- the review page and the decision ----------------------------------------------------------------------


def _page(request: Request, change_id: int) -> dict[str, Any]:
    _, lang = pages.gettext(request), pages.language(request)
    found = amount_changes.review(pages.ctx(request), change_id, sessions.user(request).principal())
    view = found.change
    return {
        "change": view,
        "chain": chain_view(view, lang),
        "status_badge": STATUS_BADGES.get(view.status, ""),
        "decision": decision_view(_, found.decision, REASONS, STATUS_NAMES, lang),
    }


def _decide(request: Request, change_id: int, decision: approvals.Decision, actor: Principal) -> str:
    return amount_changes.decide(pages.ctx(request), change_id, decision, actor).status


class ChangesController(Controller):
    path = "/supervised-amount-changes"
    include_in_schema = False

    @get("/{change_id:int}", guards=[requires("projects.view")], name="amount-change")
    async def page(self, request: Request, change_id: FromPath[int]) -> Response:
        if not valid_id(change_id):
            raise NotFound(f"no supervised amount change {change_id}")
        return self._render(request, await pages.run(_page, request, change_id))

    @post("/{change_id:int}/decision", guards=[requires("amounts.decide")], name="amount-change-decision")
    async def decide(self, request: Request, change_id: FromPath[int]) -> Response:
        if not valid_id(change_id):
            raise NotFound(f"no supervised amount change {change_id}")
        return await answer_decision(
            request,
            change_id,
            DecisionForm(
                "amount_change",
                "/supervised-amount-changes/{}",
                _decide,
                lambda _, exc, request: (refusal(_, exc, request)[0], {}),
                _page,
                self._render,
            ),
        )

    @staticmethod
    def _render(request: Request, page: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        extra.setdefault("values", {})
        extra.setdefault("errors", {})
        return pages.render(
            request,
            "bureau/amount_changes/detail.html",
            status=status,
            status_names=STATUS_NAMES,
            **page,
            **extra,
        )


CONTROLLERS = [FileController, ChangesController]
