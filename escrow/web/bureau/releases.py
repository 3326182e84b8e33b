"""Release applications for the bureau: the list, the review page, and the decision on one approval step.

The review page shows the application, the rule book's approval chain with what each step decided, and the
release cap twice: as recomputed now and as stored when the developer applied, each for the release's kind (a
node release, or a non-key release of money received beyond the key supervised amount, whose cap is the
smaller of two sums), with what each kind could take at application where the stored cap keeps both. The
decision form is shown only to the user who may take the next step; everyone else is told why not.
`releases.decide` re-checks the role, four eyes and the cap itself: its refusals come back here in the user's
language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.catalog import statuses, words
from escrow.catalog.caps import CapSum, RuleRef, cap_sums, cap_terms, stored_cap_sums
from escrow.domain import approvals as rules
from escrow.domain.errors import Conflict, DomainError, Forbidden, NotFound
from escrow.domain.principal import Principal
from escrow.services import approvals, releases
from escrow.web.bureau.common import (
    KIND_NAMES,
    chain_view,
    checked_decision,
    decision_view,
    download_url,
    mark_refusal,
    next_step_words,
    pager,
)
from escrow.web.shell import exports, pages, sessions
from escrow.web.shell.filters import local_time, money
from escrow.web.shell.labels import N_, named, node_name
from escrow.web.shell.sessions import requires

PAGE_SIZE = 20

STATUS_NAMES = statuses.RELEASE_STATUS  # the portal's words too
STATUS_BADGES = statuses.STATUS_BADGES
PAYEE_ROLES = {
    "construction": N_("Construction contractor"),
    "equipment": N_("Equipment supplier"),
    "materials": N_("Materials supplier"),
    "developer": N_("Developer's own settlement account"),  # non-key releases (the rule book says)
}
DOCUMENT_NAMES = {**words.DOCUMENTS, **KIND_NAMES}
# Why the reader may not take the next step (escrow.domain.approvals reason codes), in words.
REASONS = {
    rules.DECIDED: N_("Decided: this application is %(status)s."),
    rules.ROLE_CANNOT_DECIDE: N_("Your role views release applications but does not decide them."),
    rules.ALREADY_TOOK_A_STEP: N_(
        "You already took step %(mine)s; another person (%(role)s) must take step %(step)s."
    ),
    rules.WRONG_ROLE: N_("Waiting for %(role)s (step %(step)s)."),
}

pages.NOTICES["release_step_approved"] = N_(
    "Your approval is recorded; the application goes to the next step."
)
pages.NOTICES["release_approved"] = N_("The release is approved; the bank has a payment instruction.")
pages.NOTICES["release_rejected"] = N_("The application is rejected.")


# --- the list ----------------------------------------------------------------------------------------------


def _listing(request: Request, status: str | None, project_id: int | None, page: int, lang: str):
    ctx = pages.ctx(request)
    found = releases.search(
        ctx, status=status, project_id=project_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    items = [
        {
            "id": r.release_id,
            "project_id": r.project_id,
            "project_name": r.project_name,
            "developer_name": r.developer_name,
            "kind": r.kind,
            "node": node_name(ctx.rulebook(r.rulebook), r.node_code, lang) if r.node_code else None,
            "amount": r.amount,
            "status": r.status,
            "submitted_at": local_time(r.created_at),
            "next_step": r.next_step,
        }
        for r in found.rows
    ]
    return items, found.total, list(found.projects)


def _release_table(request: Request, status: str | None, project_id: int | None, lang: str) -> exports.Table:
    """Every application the filters select, as the download holds them (the page's own query)."""
    _ = pages.gettext(request)
    ctx = pages.ctx(request)
    found = releases.search(ctx, status=status, project_id=project_id, offset=0, limit=exports.MAX_ROWS)
    exports.check_size(found.total, _)
    headings = (
        N_("No."), N_("Project"), N_("Developer"), N_("Kind of release"), N_("Node"), N_("Amount (yuan)"),
        N_("Submitted at"), N_("Status"), N_("Next step"),
    )  # fmt: skip
    rows = [
        (
            r.release_id,
            r.project_name,
            r.developer_name,
            named(_, words.RELEASE_KINDS, r.kind),
            node_name(ctx.rulebook(r.rulebook), r.node_code, lang) if r.node_code else "",
            r.amount,
            local_time(r.created_at),
            named(_, STATUS_NAMES, r.status),
            next_step_words(_, r.next_step, lang),
        )
        for r in found.rows
    ]
    return exports.Table([_(h) for h in headings], rows)


@dataclass(frozen=True)
class Viewer:
    """Who looks at a review page, as the page needs it."""

    principal: Principal
    lang: str
    gettext: Callable[..., str]

    @classmethod
    def of(cls, request: Request) -> Viewer:
        return cls(
            principal=sessions.user(request).principal(),
            lang=pages.language(request),
            gettext=pages.gettext(request),
        )


@dataclass(frozen=True)
class CapRow:
    """One line of the review page's cap table: a term (or a sum) at application and now, side by side."""

    sign: str
    name: str
    then: Decimal | None
    now: Decimal | None
    words: str = ""
    rules: tuple[str, ...] = ()
    subtotal: bool = False
    references: tuple[RuleRef, ...] = ()  # `rules` in words, each linking to its row of the book's page

    @property
    def differs(self) -> bool:
        return self.then != self.now


def cap_rows(then_sums: list[CapSum], now_sums: list[CapSum]) -> list[CapRow]:
    """The cap's terms at application and now as one table: the terms matched by their code, sum by sum (a
    term found on one side only shows "—" on the other); each bounded sum closes with its subtotal."""
    rows: list[CapRow] = []
    for i in range(max(len(then_sums), len(now_sums))):
        then = then_sums[i] if i < len(then_sums) else None
        now = now_sums[i] if i < len(now_sums) else None
        then_terms = {t.term: t for t in then.terms} if then else {}
        now_terms = {t.term: t for t in now.terms} if now else {}
        for key in [*now_terms, *(k for k in then_terms if k not in now_terms)]:
            shown = now_terms.get(key) or then_terms[key]
            was = then_terms[key].value if key in then_terms else None
            is_ = now_terms[key].value if key in now_terms else None
            rows.append(
                CapRow(
                    shown.sign,
                    shown.name,
                    was,
                    is_,
                    shown.words,
                    shown.rules,
                    references=shown.references,
                )
            )
        bounded = now if now and now.bound else then if then and then.bound else None
        if bounded is not None:
            rows.append(
                CapRow(
                    "=",
                    bounded.name,
                    then.value if then and then.bound else None,
                    now.value if now and now.bound else None,
                    subtotal=True,
                )
            )
    return rows


# --- the review page ---------------------------------------------------------------------------------------


def _page(request: Request, release_id: int, viewer: Viewer) -> dict[str, Any]:
    ctx = pages.ctx(request)
    _ = viewer.gettext
    lang = viewer.lang
    found = releases.review(ctx, release_id, viewer.principal)
    view = found.release
    book = ctx.rulebook(view.rulebook)
    cap = found.cap_now
    stored_cap = view.cap or {}
    both_then = (stored_cap or {}).get("caps") or {}
    return {
        "release": view,
        "status_badge": STATUS_BADGES.get(view.status, ""),
        "amount": view.amount,
        "kind_name": named(_, words.RELEASE_KINDS, view.kind),
        "node_name": node_name(book, view.node_code, lang) if view.node_code else None,
        "developer_name": found.developer_name,
        "submitted_at": local_time(view.created_at),
        "documents": [{**vars(d), "document_id": found.document_ids.get(d.sha256)} for d in view.documents],
        "chain": chain_view(view, lang, local_time),
        "cap_now": cap.releasable,
        "cap_rows": cap_rows(
            stored_cap_sums(_, stored_cap, book, lang) if stored_cap else [],
            cap_sums(_, cap_terms(_, cap.terms, book, lang), dict(cap.parts)),
        ),
        "two_sums": bool(cap.parts),
        "within_cap": view.amount <= cap.releasable,
        "cap_then": Decimal(str(stored_cap["releasable"])) if "releasable" in stored_cap else None,
        "caps_then": [
            (named(_, words.RELEASE_KINDS, kind), both_then[kind]["releasable"], kind == view.kind)
            for kind in ("node", "non_key")
            if kind in both_then
        ],
        "decision": decision_view(_, found.decision, REASONS, STATUS_NAMES, lang),
    }


def _decide(request: Request, release_id: int, decision: approvals.Decision, actor: Principal) -> str:
    return releases.decide(pages.ctx(request), release_id, decision, actor).status


def _refusal(_, exc: DomainError, request: Request) -> tuple[str, dict[str, str], dict[str, Any] | None]:
    """A refusal from `decide` as (message, field errors, the cap it was judged on)."""
    if isinstance(exc, approvals.Refused) and "cap" in exc.facts:
        cap = exc.facts["cap"]
        message = _(
            "The amount is above what may be released now: at most ¥%(cap)s.", cap=money(cap["releasable"])
        )
        return message, {}, cap
    rule = exc.rule or ""
    if rule.endswith("release.distinct_people"):
        return _("You already took a step of this application; another person must take this one."), {}, None
    if rule == "reconciliation":
        return (
            _("Releases are paused: the latest bank statement does not reconcile with the books."),
            {},
            None,
        )
    if isinstance(exc, Forbidden):
        return _("This step needs another role."), {}, None
    if isinstance(exc, Conflict):
        return _("This application has already been decided."), {}, None
    return (*pages.field_errors(request, exc), None)


class ReleasesController(Controller):
    path = "/releases"
    include_in_schema = False
    guards = [requires("releases.view")]

    @get("/", name="releases")
    async def listing(self, request: Request) -> Response:
        params = request.query_params
        status = params.get("status") if params.get("status") in STATUS_NAMES else None
        project_id = pages.optional_int(params.get("project"))
        page = max(1, pages.optional_int(params.get("page")) or 1)
        lang = pages.language(request)
        fmt = exports.requested(request)
        if fmt:
            table = await pages.run(_release_table, request, status, project_id, lang)
            return await exports.download(request, "releases", fmt, table)
        items, total, project_options = await pages.run(_listing, request, status, project_id, page, lang)
        query = [(k, v) for k, v in (("status", status), ("project", project_id)) if v]
        return pages.render(
            request,
            "bureau/releases/list.html",
            items=items,
            total=total,
            **pager("/releases", query, page, total, PAGE_SIZE),
            download_url=download_url("/releases", query),
            values={"status": status or "", "project": str(project_id or "")},
            status_names=STATUS_NAMES,
            status_badges=STATUS_BADGES,
            release_kinds=words.RELEASE_KINDS,
            project_options=project_options,
        )

    @get("/{release_id:int}", name="release")
    async def review(self, request: Request, release_id: FromPath[int]) -> Response:
        page = await pages.run(_page, request, release_id, Viewer.of(request))
        return self._render(request, page)

    @post("/{release_id:int}/decision", name="release-decision", guards=[requires("releases.decide")])
    async def decide(self, request: Request, release_id: FromPath[int]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        decision = checked_decision(form, _)
        message, refused_cap, status = None, None, 422
        if decision is not None:
            try:
                outcome = await pages.run(_decide, request, release_id, decision, sessions.principal(request))
            except NotFound:
                raise
            except DomainError as exc:
                message, errors, refused_cap = _refusal(_, exc, request)
                mark_refusal(form, errors)
                status = exc.status
            else:
                notice = {"approved": "release_approved", "rejected": "release_rejected"}.get(
                    outcome, "release_step_approved"
                )
                return pages.redirect(request, f"/releases/{release_id}", notice=notice)
        page = await pages.run(_page, request, release_id, Viewer.of(request))
        if refused_cap is not None:
            book = pages.ctx(request).rulebook(page["release"].rulebook)
            page["refused_sums"] = stored_cap_sums(_, refused_cap, book, pages.language(request))
            page["refused_releasable"] = refused_cap.get("releasable")
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
            "bureau/releases/detail.html",
            status=status,
            status_names=STATUS_NAMES,
            payee_roles=PAYEE_ROLES,
            kind_names=DOCUMENT_NAMES,
            **page,
            **extra,
        )
