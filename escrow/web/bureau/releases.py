"""Release applications for the bureau: the list, the review page, and the decision on one approval step.

The review page shows the application, the rule book's approval chain with what each step decided, and
the release cap twice: as recomputed now and as stored when the developer applied. The decision form is
shown only to the user who may take the next step; everyone else is told why not. `releases.decide`
re-checks the role, four eyes and the cap itself: its refusals come back here in the user's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from math import ceil
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import Conflict, DomainError, Forbidden, NotFound
from escrow.domain.money import from_fen, quantize
from escrow.domain.principal import Principal
from escrow.services import approvals, projects, releases
from escrow.store.db import UnitOfWork
from escrow.store.models import Developer, SupervisedAccount
from escrow.web.bureau.common import KIND_NAMES, chain_view
from escrow.web.shell import labels, pages, sessions
from escrow.web.shell.filters import local_time, money
from escrow.web.shell.labels import N_, named
from escrow.web.shell.sessions import requires

PAGE_SIZE = 20
MAX_COMMENT = 2000

STATUS_NAMES = {
    "submitted": N_("Under review"),
    "approved": N_("Approved, awaiting payment"),
    "rejected": N_("Rejected"),
    "executed": N_("Paid out by the bank"),
}
STATUS_BADGES = {"submitted": "warn", "approved": "good", "rejected": "bad", "executed": "good"}
PAYEE_ROLES = {
    "construction": N_("Construction contractor"),
    "equipment": N_("Equipment supplier"),
    "materials": N_("Materials supplier"),
}
TERM_NAMES = {
    "balance": N_("Balance of the supervised account"),
    "suspense": N_("Received but not yet assigned to a contract"),
    "required_retention": N_("Required retention"),
    "frozen": N_("Frozen by court orders"),
    "pending_out": N_("Approved releases and refunds not yet paid"),
}
TERM_WORDS = {
    "balance": N_("Cash in the account by the books."),
    "suspense": N_("Money received that no contract claims yet; it cannot be released."),
    "frozen": N_("Held by court orders in force."),
    "pending_out": N_("Already approved and reserved until the bank pays it."),
}

pages.NOTICES["release_step_approved"] = N_(
    "Your approval is recorded; the application goes to the next step."
)
pages.NOTICES["release_approved"] = N_("The release is approved; the bank has a payment instruction.")
pages.NOTICES["release_rejected"] = N_("The application is rejected.")


# --- the list ----------------------------------------------------------------------------------------------


def _listing(request: Request, status: str | None, project_id: int | None, page: int, lang: str):
    ctx = pages.ctx(request)
    with UnitOfWork(pages.engine(request), readonly=True) as uow:
        rows, total = uow.releases.search(
            status=status, project_id=project_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        taken = uow.releases.steps_taken([r.id for r, _, _ in rows])
        project_options = uow.releases.projects_with_releases()
    items = []
    for release, project_name, developer_name in rows:
        book = ctx.rulebook(release.rulebook_id)
        node = book.node(release.node_code)
        amount = from_fen(release.amount_fen)
        chain = book.approval_steps_for(amount)
        items.append(
            {
                "id": release.id,
                "project_id": release.project_id,
                "project_name": project_name,
                "developer_name": developer_name,
                "node": (node.name_zh if lang == "zh" else node.name_en) if node else release.node_code,
                "amount": amount,
                "status": release.status,
                "submitted_at": local_time(release.created_at),
                "next_step": approvals.next_step_view(chain, taken.get(release.id, 0), release.status),
            }
        )
    return items, total, project_options


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Viewer:
    """Who looks at a review page, as the page needs it."""

    principal: Principal
    user_id: int
    role: str
    lang: str
    gettext: Callable[..., str]
    may_decide: bool

    @classmethod
    def of(cls, request: Request) -> Viewer:
        found = sessions.user(request)
        return cls(
            principal=found.principal(),
            user_id=found.user_id,
            role=found.role,
            lang=pages.language(request),
            gettext=pages.gettext(request),
            may_decide=sessions.may(request, "releases.decide"),
        )


# --- the review page ---------------------------------------------------------------------------------------


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def _retention_words(
    _,
    *,
    supervised: Decimal,
    share: Decimal,
    surcharge: Decimal,
    node_name: str | None,
    guarantee: Decimal,
    rule: str,
) -> str:
    """The required retention in words: key amount × share at the highest node (+ surcharge − guarantee)."""
    if node_name:
        words = _(
            "Key supervised amount ¥%(amount)s × %(share)s retained once “%(node)s” is confirmed",
            amount=money(supervised),
            share=_percent(share),
            node=node_name,
        )
    else:
        words = _(
            "Key supervised amount ¥%(amount)s, all of it retained until the first node is confirmed",
            amount=money(supervised),
        )
    if surcharge:
        words += _(", plus %(share)s for finished housing", share=_percent(surcharge))
    if guarantee:
        words += _(", less the bank guarantee ¥%(amount)s", amount=money(guarantee))
    return words + _(" (rule %(rule)s).", rule=rule)


def _retention_now(_, book, project, cap, confirmed: set[str], lang: str) -> str:
    node = book.highest_node(confirmed)
    share = node.retention if node else Decimal("1")
    surcharge = book.surcharge_for(node, project.finish)
    supervised = from_fen(project.supervised_amount_fen)
    gross = quantize(supervised * min(Decimal("1"), share + surcharge))
    return _retention_words(
        _,
        supervised=supervised,
        share=share,
        surcharge=surcharge,
        node_name=(node.name_zh if lang == "zh" else node.name_en) if node else None,
        guarantee=max(Decimal("0"), gross - cap.required_retention),
        rule=next(t.rule for t in cap.terms if t.term == "required_retention"),
    )


# The domain's own wording of the retention term (escrow.domain.caps.required_retention), kept with a
# release: read back to say it again in the user's language.
STORED_RETENTION = re.compile(
    r"key supervised amount (?P<supervised>[\d.]+)"
    r" × \(share (?P<share>[\d.]+) \+ surcharge (?P<surcharge>[\d.]+)\)"
    r" at (?:node (?P<node>\w+)|no node confirmed yet)(?:, less guarantee (?P<guarantee>[\d.]+))?"
)


def _retention_then(_, book, term: dict[str, Any], lang: str) -> str:
    found = STORED_RETENTION.match(term.get("detail", ""))
    if found is None:
        return ""
    node = book.node(found["node"]) if found["node"] else None
    return _retention_words(
        _,
        supervised=Decimal(found["supervised"]),
        share=Decimal(found["share"]),
        surcharge=Decimal(found["surcharge"]),
        node_name=(node.name_zh if lang == "zh" else node.name_en) if node else found["node"],
        guarantee=Decimal(found["guarantee"] or "0"),
        rule=term.get("rule", ""),
    )


def _terms(_, terms: list[dict[str, Any]], retention: str) -> list[dict[str, Any]]:
    """The cap's terms named and explained in the user's language (the first added, the rest taken off);
    `retention` is the required retention in words. Only the retention refers to the rule book."""
    out = []
    for i, t in enumerate(terms):
        retained = t["term"] == "required_retention"
        out.append(
            {
                "name": named(_, TERM_NAMES, t["term"]),
                "value": t["value"],
                "sign": "" if i == 0 else "−",
                "rule": t.get("rule", "") if retained else "",
                "words": retention
                if retained
                else (named(_, TERM_WORDS, t["term"]) if t["term"] in TERM_WORDS else ""),
            }
        )
    return out


def _stored_terms(_, book, cap: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The terms of a cap kept with a release or a refusal (`{"releasable", "explanation": {"terms"}}`)."""
    terms = cap.get("explanation", {}).get("terms", [])
    retention = next((t for t in terms if t["term"] == "required_retention"), {})
    return _terms(_, terms, _retention_then(_, book, retention, lang))


def _page(request: Request, release_id: int, viewer: Viewer) -> dict[str, Any]:
    ctx = pages.ctx(request)
    _ = viewer.gettext
    lang = viewer.lang
    with UnitOfWork(pages.engine(request), readonly=True) as uow:
        release = releases.visible_release(uow, viewer.principal, release_id)
        view = releases.release_view(uow, ctx, release)
        project = uow.projects.get(release.project_id)
        account = uow.session.get(SupervisedAccount, release.account_id)
        developer = uow.session.get(Developer, release.developer_id)
        cap = projects.release_cap(uow, ctx, project, account)
        confirmed = {c.node_code for c in uow.projects.confirmed_nodes(project.id)}
        deciders = [s.decided_by for s in uow.releases.steps(release.id)]
        documents = []
        for d in view["documents"]:
            stored = uow.documents.by_sha256_for_account(d["sha256"], account.id)
            documents.append({**d, "document_id": stored.id if stored else None})
    book = ctx.rulebook(release.rulebook_id)
    node = book.node(release.node_code)
    amount = from_fen(release.amount_fen)
    chain = chain_view(view, lang, local_time)
    now_terms = [t.to_json() for t in cap.terms]
    stored_cap = view["cap"] or {}
    return {
        "release": view,
        "status_badge": STATUS_BADGES.get(view["status"], ""),
        "amount": amount,
        "node_name": (node.name_zh if lang == "zh" else node.name_en) if node else release.node_code,
        "developer_name": developer.name,
        "submitted_at": local_time(release.created_at),
        "documents": documents,
        "chain": chain,
        "cap_now": cap.releasable,
        "cap_now_terms": _terms(_, now_terms, _retention_now(_, book, project, cap, confirmed, lang)),
        "within_cap": amount <= cap.releasable,
        "cap_then": stored_cap.get("releasable"),
        "cap_then_terms": _stored_terms(_, book, stored_cap, lang),
        "decision": _may_decide(_, view, book, viewer, deciders),
    }


def _may_decide(_, view, book, viewer: Viewer, deciders: list[int]) -> dict[str, Any]:
    """Whether this user may take the next step now, and if not, why not (in words)."""
    nxt = view["next_step"]
    if view["status"] != "submitted" or nxt is None:
        status = named(_, STATUS_NAMES, view["status"])
        return {"open": False, "reason": _("Decided: this application is %(status)s.", status=status)}
    if not viewer.may_decide:
        return {"open": False, "reason": _("Your role views release applications but does not decide them.")}
    wanted = named(_, labels.ROLE_NAMES, nxt["role"])
    if book.release.distinct_people and viewer.user_id in deciders:
        mine = deciders.index(viewer.user_id) + 1
        return {
            "open": False,
            "reason": _(
                "You already took step %(mine)s; another person (%(role)s) must take step %(step)s.",
                mine=mine,
                role=wanted,
                step=nxt["step_no"],
            ),
        }
    if viewer.role != nxt["role"]:
        return {
            "open": False,
            "reason": _("Waiting for %(role)s (step %(step)s).", role=wanted, step=nxt["step_no"]),
        }
    label = nxt["label_zh"] if viewer.lang == "zh" else nxt["label_en"]
    return {"open": True, "reason": None, "step": nxt["step_no"], "label": label}


def _decide(request: Request, release_id: int, decision: approvals.Decision, actor: Principal) -> str:
    with UnitOfWork(pages.engine(request)) as uow:
        result = releases.decide(uow, pages.ctx(request), release_id, decision, actor)
        uow.commit()
    return result["status"]


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
        project_id = _int(params.get("project"))
        page = max(1, _int(params.get("page")) or 1)
        lang = pages.language(request)
        items, total, project_options = await pages.run(_listing, request, status, project_id, page, lang)
        pages_count = max(1, ceil(total / PAGE_SIZE))
        query = [(k, v) for k, v in (("status", status), ("project", project_id)) if v]

        def url(n: int) -> str:
            return "/releases?" + urlencode([*query, ("page", n)])

        return pages.render(
            request,
            "bureau/releases/list.html",
            items=items,
            total=total,
            page=page,
            pages=pages_count,
            url=url,
            values={"status": status or "", "project": str(project_id or "")},
            status_names=STATUS_NAMES,
            status_badges=STATUS_BADGES,
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
        choice, comment = form.get("decision"), form.get("comment")
        if choice not in approvals.DECISIONS:
            form.error("decision", _("Choose approve or reject."))
        elif choice == "reject" and not comment:
            form.error("comment", _("Say why when rejecting."))
        if len(comment) > MAX_COMMENT:
            form.error("comment", _("At most %(value)s characters.", value=MAX_COMMENT))
        message, refused_cap, status = None, None, 422
        if form.ok:
            decision = approvals.Decision(choice, comment)
            try:
                outcome = await pages.run(_decide, request, release_id, decision, sessions.principal(request))
            except NotFound:
                raise
            except DomainError as exc:
                message, errors, refused_cap = _refusal(_, exc, request)
                for name, text in errors.items():
                    form.error(name if name in ("decision", "comment") else "decision", text)
                status = exc.status
            else:
                notice = {"approved": "release_approved", "rejected": "release_rejected"}.get(
                    outcome, "release_step_approved"
                )
                return pages.redirect(request, f"/releases/{release_id}", notice=notice)
        page = await pages.run(_page, request, release_id, Viewer.of(request))
        if refused_cap is not None:
            book = pages.ctx(request).rulebook(page["release"]["rulebook"])
            page["refused_terms"] = _stored_terms(_, book, refused_cap, pages.language(request))
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
            kind_names=KIND_NAMES,
            **page,
            **extra,
        )
