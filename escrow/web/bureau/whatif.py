"""`/rules/what-if`: the live projects of a jurisdiction under another version of their rule book; and
`/rules/adoptions`: adopting that version for chosen projects, decided with four eyes.

Per project, the key supervised amount, the required retention and the releasable amount under its pinned
version and under the chosen one, largest change first, with totals; and what differs between the versions,
in words. The what-if itself changes nothing (services/whatif.py). A user who may apply for an adoption
ticks projects and says why (`POST /rules/adoptions`); the adoption's review page
(`/rules/adoptions/{id}`) shows the chosen projects and the approval chain, with the decision form for the
one person who may take the next step (services/adoptions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from escrow.catalog.caps import percent
from escrow.domain import approvals as rules
from escrow.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from escrow.domain.ids import valid_id
from escrow.domain.principal import Principal
from escrow.rulebooks import ApprovalStep, RuleBook
from escrow.services import adoptions, approvals, whatif
from escrow.web.bureau.common import DecisionForm, answer_decision, chain_view, decision_view
from escrow.web.shell import books, pages, sessions
from escrow.web.shell.filters import long_date, money
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

PAGE_SIZE = 50  # rows per page; the totals cover every project

FINISHES = {"shell": N_("shell"), "finished": N_("finished-interior")}


def _node_name(book: RuleBook, code: str, lang: str) -> str:
    node = book.node(code)
    if node is None:
        return code
    return node.name_en if lang == "en" else node.name_zh


def _chain(steps: tuple[ApprovalStep, ...], lang: str, _: Callable[..., str]) -> str:
    words = []
    for step in steps:
        label = step.label_en if lang == "en" else step.label_zh
        if step.min_amount is not None:
            label = _("%(step)s (from ¥%(amount)s)", step=label, amount=money(step.min_amount))
        words.append(label)
    return " → ".join(words)


def describe(diff: whatif.Difference, old: RuleBook, new: RuleBook, lang: str, _: Callable[..., str]) -> str:
    """One difference between two versions as a sentence in the user's language."""
    if diff.kind == "node_retention":
        return _(
            "%(node)s: retention %(before)s → %(after)s of the key supervised amount.",
            node=_node_name(new, diff.subject, lang),
            before=percent(diff.before),
            after=percent(diff.after),
        )
    if diff.kind == "node_added":
        return _(
            "%(node)s: a new node, retention %(after)s.",
            node=_node_name(new, diff.subject, lang),
            after=percent(diff.after),
        )
    if diff.kind == "node_removed":
        return _(
            "%(node)s: no longer a node; its confirmations do not count under the new version.",
            node=_node_name(old, diff.subject, lang),
        )
    if diff.kind == "surcharge":
        return _(
            "Surcharge for %(finish)s housing: %(before)s → %(after)s.",
            finish=_(FINISHES[diff.subject]) if diff.subject in FINISHES else diff.subject,
            before=percent(diff.before),
            after=percent(diff.after),
        )
    if diff.kind == "surcharge_until":
        return _(
            "The surcharge ends at node %(after)s instead of %(before)s.",
            before=_node_name(old, diff.before, lang),
            after=_node_name(new, diff.after, lang),
        )
    if diff.kind == "guarantee_share":
        return _(
            "A bank guarantee may replace at most %(before)s → %(after)s of the key supervised amount.",
            before=percent(diff.before),
            after=percent(diff.after),
        )
    if diff.kind == "guarantee_full_amount":
        if diff.after:
            return _(
                "A guarantee counts only once deposits reach the key supervised amount (before: at once)."
            )
        return _("A guarantee counts at once (before: only once deposits reach the key supervised amount).")
    if diff.kind == "approval_chain":
        return _(
            "Approval chain: %(before)s becomes %(after)s.",
            before=_chain(diff.before, lang, _),
            after=_chain(diff.after, lang, _),
        )
    if diff.kind == "supervised_amount":
        return _(
            "Key supervised amount: cost per m² ¥%(before_cost)s × coefficient %(before_coef)s becomes "
            "¥%(after_cost)s × %(after_coef)s. The table shows the key amount the new formula gives each "
            "project; adopting the version keeps each project's own key amount until a change of it is "
            "approved.",
            before_cost=money(diff.before.cost_per_m2),
            before_coef=diff.before.coefficient,
            after_cost=money(diff.after.cost_per_m2),
            after_coef=diff.after.coefficient,
        )
    if diff.kind == "credit_grade_factor":
        return _(
            "Key supervised amount of developers of credit grade %(grade)s: factor %(before)s → %(after)s.",
            grade=diff.subject,
            before=diff.before,
            after=diff.after,
        )
    return diff.kind


def _page_number(raw: str | None, pages_count: int) -> int:
    try:
        number = int(raw or "1")
    except ValueError:
        number = 1
    return min(max(number, 1), max(pages_count, 1))


def _form(request: Request, jurisdiction: str, version: str) -> dict:
    """The choice of rule book and version, with the versions of the chosen jurisdiction to pick from."""
    _, lang, ctx = pages.gettext(request), pages.language(request), pages.ctx(request)
    books = whatif.versions(ctx, jurisdiction)
    return {
        "values": {"jurisdiction": jurisdiction, "version": version},
        "errors": {},
        "jurisdictions": [(j, j) for j in sorted(ctx.rulebooks.jurisdictions())],
        "books": books,
        "version_options": [
            (
                b.version,
                _(
                    "%(version)s (in force from %(date)s)",
                    version=b.version,
                    date=long_date(b.effective_from, lang),
                ),
            )
            for b in books
        ],
        "comparison": None,
        "only": None,
    }


def _results(request: Request, comparison: whatif.Comparison) -> dict:
    """The comparison as the template shows it: one page of rows, totals of all, differences in words."""
    _, lang, ctx = pages.gettext(request), pages.language(request), pages.ctx(request)
    book = comparison.book
    count = max(1, -(-len(comparison.rows) // PAGE_SIZE))
    number = _page_number(request.query_params.get("page"), count)

    def url(n: int) -> str:
        return "/rules/what-if?" + urlencode(
            {"jurisdiction": book.jurisdiction, "version": book.version, "page": n}
        )

    def node_name(row: whatif.Row) -> str:
        if row.node_code is None:
            return _("No node confirmed yet")
        return _node_name(ctx.rulebook(row.pinned), row.node_code, lang)

    return {
        "book": book,
        "may_adopt": sessions.may(request, "rules.adopt"),
        "comparison": comparison,
        "rows": comparison.rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
        "page_no": number,
        "page_count": count,
        "url": url,
        "node_name": node_name,
        "differences": [
            (ctx.rulebook(old_id), [describe(d, ctx.rulebook(old_id), book, lang, _) for d in found])
            for old_id, found in comparison.differences.items()
        ],
        "totals": {name: comparison.total(name) for name in TOTALS},
    }


TOTALS = (
    "supervised_now",
    "supervised_then",
    "supervised_delta",
    "retention_now",
    "retention_then",
    "retention_delta",
    "releasable_now",
    "releasable_then",
    "releasable_delta",
)


class WhatIfController(Controller):
    path = "/rules"
    include_in_schema = False

    @get("/what-if", guards=[requires("rules.what_if")], name="rules-what-if")
    async def what_if(self, request: Request) -> Template:
        _, ctx = pages.gettext(request), pages.ctx(request)
        jurisdictions = ctx.rulebooks.jurisdictions()
        default = (
            ctx.settings.jurisdiction if ctx.settings.jurisdiction in jurisdictions else min(jurisdictions)
        )
        jurisdiction = (request.query_params.get("jurisdiction") or default).strip()
        page = _form(request, jurisdiction, (request.query_params.get("version") or "").strip())
        if len(page["books"]) == 1:  # nothing to compare with: say so rather than show an empty table
            page["only"] = page["books"][0]
            return pages.render(request, "bureau/whatif/index.html", **page)
        if page["books"] and not page["values"]["version"]:
            page["values"]["version"] = whatif.newest(ctx, jurisdiction).version
        try:
            book = whatif.choose(ctx, jurisdiction, page["values"]["version"])
        except InvalidInput as exc:
            for error in exc.errors:
                if error.field == "jurisdiction":
                    page["errors"]["jurisdiction"] = _("No rule book is loaded for this jurisdiction.")
                else:
                    page["errors"]["version"] = _(
                        "This rule book has no such version; choose one of the list."
                    )
            return pages.render(request, "bureau/whatif/index.html", status=422, **page)
        comparison = await pages.run(whatif.live, ctx, book)
        return pages.render(request, "bureau/whatif/index.html", **{**page, **_results(request, comparison)})


# --- adoptions ------------------------------------------------------------------------------------------

pages.NOTICES["adoption_submitted"] = N_("The adoption is submitted for review.")
pages.NOTICES["adoption_step_approved"] = N_("Your approval is recorded; the adoption goes to the next step.")
pages.NOTICES["adoption_approved"] = N_(
    "The adoption is approved: the chosen projects are on the new version."
)
pages.NOTICES["adoption_rejected"] = N_("The adoption is rejected.")

ADOPTION_STATUS = {
    "submitted": N_("Under review"),
    "approved": N_("Adopted"),
    "rejected": N_("Rejected"),
}
ADOPTION_BADGES = {"submitted": "warn", "approved": "good", "rejected": "bad"}
REASONS = {
    rules.DECIDED: N_("Decided: this adoption is %(status)s."),
    rules.ROLE_CANNOT_DECIDE: N_("Your role views adoptions but does not decide them."),
    rules.ALREADY_TOOK_A_STEP: N_(
        "You already took a step of this adoption; another person (%(role)s) must take step %(step)s."
    ),
    rules.WRONG_ROLE: N_("Waiting for %(role)s (step %(step)s)."),
    rules.APPLICANT: N_("You applied for this adoption; another person (%(role)s) must take step %(step)s."),
}
# The rules an adoption is refused by, in words (services/adoptions.py names them).
ADOPTION_RULES = {
    adoptions.RULE_VERSION: N_("No such rule book version is loaded."),
    adoptions.RULE_PROJECTS: N_("Choose at least one project."),
    adoptions.RULE_REASON: N_("Say why the version is adopted (at most 2000 characters)."),
    adoptions.RULE_NO_PROJECT: N_("A chosen project does not exist."),
    adoptions.RULE_JURISDICTION: N_("A chosen project belongs to another jurisdiction."),
    adoptions.RULE_LIVE: N_("A chosen project's account is closed: only live projects adopt a version."),
    adoptions.RULE_ALREADY: N_("A chosen project is already on this version."),
    adoptions.RULE_LATER: N_("Only a later version of the project's rule book may be adopted."),
    adoptions.RULE_OPEN: N_("A chosen project is already in another adoption under review."),
}


def _adoption_refusal(_: Callable[..., str], exc: DomainError) -> str:
    rule = exc.rule or ""
    if rule in ADOPTION_RULES:
        return _(ADOPTION_RULES[rule])
    if rule.endswith("release.distinct_people"):
        return _("Another person must take this step.")
    if isinstance(exc, Forbidden):
        return _("This step needs another role.")
    if isinstance(exc, Conflict):
        return _("This adoption has already been decided.")
    return _("The request breaks a rule")


def _adoption_page(request: Request, adoption_id: int) -> dict[str, Any]:
    _, lang = pages.gettext(request), pages.language(request)
    found = adoptions.review(pages.ctx(request), adoption_id, sessions.user(request).principal())
    view = found.adoption
    return {
        "adoption": view,
        "book": found.book,
        "chain": chain_view(view, lang),
        "status_badge": ADOPTION_BADGES.get(view.status, ""),
        "decision": decision_view(_, found.decision, REASONS, ADOPTION_STATUS, lang),
    }


def _decide(request: Request, adoption_id: int, decision: approvals.Decision, actor: Principal) -> str:
    return adoptions.decide(pages.ctx(request), adoption_id, decision, actor).status


def _submit(request: Request, cmd: adoptions.Adopt) -> int:
    return adoptions.submit(pages.ctx(request), cmd, sessions.principal(request)).adoption_id


class AdoptionsController(Controller):
    path = "/rules/adoptions"
    include_in_schema = False

    @post("/", guards=[requires("rules.adopt")], name="rules-adopt")
    async def adopt(self, request: Request) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        ids = [pages.optional_int(v) for v in form.getall("project_id")]
        cmd = adoptions.Adopt(
            form.get("rulebook"), tuple(i for i in ids if i is not None), form.get("reason")
        )
        try:
            adoption_id = await pages.run(_submit, request, cmd)
        except NotFound:
            raise
        except DomainError as exc:
            message = _adoption_refusal(_, exc)
            return pages.render(
                request,
                "bureau/whatif/refused.html",
                status=exc.status,
                message=message,
                # the rule in words (a bare key of the adoption service: its message says it), and the
                # version applied for when it is loaded (an unknown one has no words and no page)
                rule=books.rule_link(_, pages.ctx(request).rulebooks, exc.rule, pages.language(request)),
                rulebook=cmd.rulebook if pages.ctx(request).rulebooks.get(cmd.rulebook or "") else None,
                back="/rules/what-if?"
                + urlencode(
                    {
                        "jurisdiction": cmd.rulebook.partition("@")[0],
                        "version": cmd.rulebook.partition("@")[2],
                    }
                ),
            )
        return pages.redirect(request, f"/rules/adoptions/{adoption_id}", notice="adoption_submitted")

    @get("/{adoption_id:int}", guards=[requires("rules.what_if")], name="rules-adoption")
    async def page(self, request: Request, adoption_id: FromPath[int]) -> Response:
        if not valid_id(adoption_id):
            raise NotFound(f"no adoption {adoption_id}")
        return self._render(request, await pages.run(_adoption_page, request, adoption_id))

    @post("/{adoption_id:int}/decision", guards=[requires("rules.decide")], name="rules-adoption-decision")
    async def decide(self, request: Request, adoption_id: FromPath[int]) -> Response:
        if not valid_id(adoption_id):
            raise NotFound(f"no adoption {adoption_id}")
        return await answer_decision(
            request,
            adoption_id,
            DecisionForm(
                "adoption",
                "/rules/adoptions/{}",
                _decide,
                lambda _, exc, request: (_adoption_refusal(_, exc), {}),
                _adoption_page,
                self._render,
            ),
        )

    @staticmethod
    def _render(request: Request, page: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        extra.setdefault("values", {})
        extra.setdefault("errors", {})
        return pages.render(
            request,
            "bureau/whatif/adoption.html",
            status=status,
            status_names=ADOPTION_STATUS,
            **page,
            **extra,
        )


CONTROLLERS = [WhatIfController, AdoptionsController]
