"""Names and small helpers shared by the workflow pages (node confirmation, documents, releases, refunds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response

from escrow.catalog import words
from escrow.domain.approvals import ALREADY_TOOK_A_STEP, DECIDED, DECISIONS, WRONG_ROLE, MayDecide
from escrow.domain.errors import DomainError, NotFound
from escrow.domain.principal import Principal
from escrow.services import approvals
from escrow.web.shell import pages, sessions
from escrow.web.shell.labels import ROLE_NAMES, named
from escrow.web.shell.pages import Form

MAX_COMMENT = 2000

# Evidence and document kinds named in the rule books, in words (escrow.catalog.words.EVIDENCE_KINDS).
KIND_NAMES = words.EVIDENCE_KINDS


def chain_view(
    view: Any, lang: str, when: Callable[[Any], Any] = lambda value: value
) -> list[dict[str, Any]]:
    """The rule book's approval chain of a release or refund view, each link with its state (the decision
    taken, `next`, `later`, or `not_needed` once decided), its label in `lang`, and who decided it when
    (`when` formats the stored time)."""
    steps = {s.step_no: s for s in view.steps}
    next_no = view.next_step.step_no if view.next_step else None
    chain = []
    for link in view.approval_chain:
        taken = steps.get(link.step_no)
        if taken:
            state = taken.decision
        elif link.step_no == next_no:
            state = "next"
        elif view.status == "submitted":
            state = "later"
        else:
            state = "not_needed"
        chain.append(
            {
                **vars(link),
                "label": link.label_zh if lang == "zh" else link.label_en,
                "state": state,
                "decided_by": taken.decided_by if taken else None,
                "decided_at": when(taken.decided_at) if taken else None,
                "comment": taken.comment if taken else "",
            }
        )
    return chain


def decision_view(
    _: Callable[..., str], may: MayDecide, reasons: dict[str, str], status_names: dict[str, str], lang: str
) -> dict[str, Any]:
    """The decision form's state from the service's answer (escrow.domain.approvals.may_decide): open with
    its step, or closed with the reason in words (`reasons`: reason code → message id; `already_took_a_step`
    also says it when the next step names another role and this person took an earlier one)."""
    step = may.step
    if may.allowed and step is not None:
        return {
            "open": True,
            "reason": None,
            "step": step.step_no,
            "label": step.label_zh if lang == "zh" else step.label_en,
        }
    if may.reason == DECIDED or step is None:
        return {"open": False, "reason": _(reasons[DECIDED], status=named(_, status_names, may.status))}
    reason = ALREADY_TOOK_A_STEP if may.reason == WRONG_ROLE and may.own_step else may.reason
    words = _(
        reasons[reason], role=named(_, ROLE_NAMES, step.role), step=step.step_no, mine=may.own_step or 0
    )
    return {"open": False, "reason": words}


def pager(path: str, query: list[tuple[str, Any]], page: int, total: int, page_size: int) -> dict[str, Any]:
    """A list page's pager: this page, how many there are, and `url(n)` for page n with the same filters."""

    def url(n: int) -> str:
        return f"{path}?" + urlencode([*query, ("page", n)])

    return {"page": page, "pages": max(1, ceil(total / page_size)), "url": url}


def download_url(path: str, query: list[tuple[str, Any]]) -> Callable[..., str]:
    """`url(format=…)` for a list page's download links: its path with its filters (no page: all rows)."""

    def url(**changes: Any) -> str:
        return f"{path}?" + urlencode([*query, *changes.items()])

    return url


def next_step_words(_: Callable[..., str], step: Any, lang: str) -> str:
    """The step a release or refund waits for, as the list shows it: the role (the step's label)."""
    if step is None:
        return ""
    label = step.label_zh if lang == "zh" else step.label_en
    return f"{named(_, ROLE_NAMES, step.role)} ({label})"


def checked_decision(form: Form, _: Callable[..., str]) -> approvals.Decision | None:
    """The decision form's choice and comment, or None with the form's errors marked."""
    choice, comment = form.get("decision"), form.get("comment")
    if choice not in DECISIONS:
        form.error("decision", _("Choose approve or reject."))
    elif choice == "reject" and not comment:
        form.error("comment", _("Say why when rejecting."))
    if len(comment) > MAX_COMMENT:
        form.error("comment", _("At most %(value)s characters.", value=MAX_COMMENT))
    return approvals.Decision(choice, comment) if form.ok else None


def mark_refusal(form: Form, errors: dict[str, str]) -> None:
    """A refusal's field errors on the decision form: one about any other field shows at the decision."""
    for name, text in errors.items():
        form.error(name if name in ("decision", "comment") else "decision", text)


@dataclass(frozen=True)
class DecisionForm:
    """How one kind of subject's decision form is answered (a refund, a rule book adoption, a fund plan, a
    key amount change): the step is taken through the shared approvals workflow, a refusal said in words on
    the page again, a success redirected to the subject's page with its notice."""

    notice: str  # "refund": the notices refund_approved, refund_rejected, refund_step_approved
    path: str  # the subject's page, "/refunds/{}"
    decide: Callable[[Request, int, approvals.Decision, Principal], str]  # → the subject's status after it
    refusal: Callable[[Callable[..., str], DomainError, Request], tuple[str, dict[str, str]]]
    page: Callable[[Request, int], dict[str, Any]]
    render: Callable[..., Response]


async def answer_decision(request: Request, subject_id: int, spec: DecisionForm) -> Response:
    """The decision form posted: the step taken (303 to the subject's page), or the page again saying why."""
    form = await pages.form(request)
    _ = pages.gettext(request)
    decision = checked_decision(form, _)
    message, status = None, 422
    if decision is not None:
        try:
            outcome = await pages.run(spec.decide, request, subject_id, decision, sessions.principal(request))
        except NotFound:
            raise
        except DomainError as exc:
            message, errors = spec.refusal(_, exc, request)
            mark_refusal(form, errors)
            status = exc.status
        else:
            step = {"approved": "approved", "rejected": "rejected"}.get(outcome, "step_approved")
            return pages.redirect(request, spec.path.format(subject_id), notice=f"{spec.notice}_{step}")
    page = await pages.run(spec.page, request, subject_id)
    return spec.render(
        request,
        page,
        status=status,
        message=message or _("Please correct the marked fields"),
        values=form.values,
        errors=form.errors,
    )
