"""Fund demand plans (资金需求计划), for the bureau.

`/fund-plans`: the versions waiting for a decision, oldest first. `/fund-plans/{plan_id}`: the project, the
version's items month by month, plan against actual by node × role, the approval chain with each step, and
the decision form — the shared approval pieces of the release and refund pages (shell/approvals.html,
bureau/common.py); `fund_plans.decide` re-checks who may take the step and its refusals come back here.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.catalog import words
from escrow.domain import approvals as rules
from escrow.domain.errors import Conflict, DomainError, Forbidden, NotFound
from escrow.domain.ids import valid_id
from escrow.domain.principal import Principal
from escrow.services import approvals, fund_plans
from escrow.web.bureau.common import DecisionForm, answer_decision, chain_view, decision_view
from escrow.web.shell import pages, sessions
from escrow.web.shell.labels import N_, named
from escrow.web.shell.sessions import requires

pages.NOTICES["fund_plan_step_approved"] = N_("Your approval is recorded; the plan goes to the next step.")
pages.NOTICES["fund_plan_approved"] = N_("The fund plan is approved; it is the plan in force.")
pages.NOTICES["fund_plan_rejected"] = N_("The fund plan is rejected.")

STATUS_NAMES = {
    "submitted": N_("Under review"),
    "approved": N_("In force"),
    "rejected": N_("Rejected"),
    "superseded": N_("Superseded"),
}
STATUS_BADGES = {"submitted": "warn", "approved": "good", "rejected": "bad", "superseded": ""}
REASONS = {
    rules.DECIDED: N_("Decided: this fund plan is %(status)s."),
    rules.ROLE_CANNOT_DECIDE: N_("Your role views fund plans but does not decide them."),
    rules.ALREADY_TOOK_A_STEP: N_(
        "You already took a step of this fund plan; another person (%(role)s) must take step %(step)s."
    ),
    rules.WRONG_ROLE: N_("Waiting for %(role)s (step %(step)s)."),
}


def labellers(request: Request, rulebook: str) -> dict[str, Any]:
    """Node and payee role codes in words of the page's language (the plan tables' `node_label`,
    `role_label`)."""
    _, lang = pages.gettext(request), pages.language(request)
    book = pages.ctx(request).rulebook(rulebook)
    return {
        "node_label": lambda code: words.node_name(book, code, lang),
        "role_label": lambda code: named(_, words.PAYEE_ROLES, code),
    }


def _plan_page(request: Request, plan_id: int) -> dict[str, Any]:
    _ = pages.gettext(request)
    lang = pages.language(request)
    found = fund_plans.review(pages.ctx(request), plan_id, sessions.user(request).principal())
    view = found.plan
    return {
        "plan": view,
        "developer_name": found.developer_name,
        "chain": chain_view(view, lang),
        "status_badge": STATUS_BADGES.get(view.status, ""),
        "decision": decision_view(_, found.decision, REASONS, STATUS_NAMES, lang),
        **labellers(request, view.rulebook),
    }


def _decide(request: Request, plan_id: int, decision: approvals.Decision, actor: Principal) -> str:
    return fund_plans.decide(pages.ctx(request), plan_id, decision, actor).status


def _refusal(_, exc: DomainError, request: Request) -> tuple[str, dict[str, str]]:
    rule = exc.rule or ""
    if rule.endswith("release.distinct_people"):
        return _("You already took a step of this fund plan; another person must take this one."), {}
    if isinstance(exc, Forbidden):
        return _("This step needs another role."), {}
    if isinstance(exc, Conflict):
        return _("This fund plan has already been decided."), {}
    return pages.field_errors(request, exc)


class FundPlansController(Controller):
    path = "/fund-plans"
    include_in_schema = False
    guards = [requires("fund_plans.view")]

    @get("/", name="fund-plans")
    async def listing(self, request: Request) -> Response:
        found = await pages.run(fund_plans.waiting, pages.ctx(request))
        return pages.render(request, "bureau/fund_plans/list.html", items=found)

    @get("/{plan_id:int}", name="fund-plan")
    async def page(self, request: Request, plan_id: FromPath[int]) -> Response:
        if not valid_id(plan_id):
            raise NotFound(f"no fund plan {plan_id}")
        return self._render(request, await pages.run(_plan_page, request, plan_id))

    @post("/{plan_id:int}/decision", name="fund-plan-decision", guards=[requires("fund_plans.decide")])
    async def decide(self, request: Request, plan_id: FromPath[int]) -> Response:
        if not valid_id(plan_id):
            raise NotFound(f"no fund plan {plan_id}")
        return await answer_decision(
            request,
            plan_id,
            DecisionForm("fund_plan", "/fund-plans/{}", _decide, _refusal, _plan_page, self._render),
        )

    @staticmethod
    def _render(request: Request, page: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        extra.setdefault("values", {})
        extra.setdefault("errors", {})
        return pages.render(
            request,
            "bureau/fund_plans/detail.html",
            status=status,
            status_names=STATUS_NAMES,
            **page,
            **extra,
        )


CONTROLLERS = [FundPlansController]
