"""`/rules/what-if`: the live projects of a jurisdiction under another version of their rule book.

Per project, the required retention and the releasable amount under its pinned version and under the chosen
one, largest change first, with totals; and what differs between the versions, in words. Read-only: the
page changes no pin and writes nothing (services/whatif.py).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template

from escrow.catalog.caps import percent
from escrow.domain.errors import InvalidInput
from escrow.rulebooks import ApprovalStep, RuleBook
from escrow.services import whatif
from escrow.web.shell import pages
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
            "¥%(after_cost)s × %(after_coef)s; fixed when a project opens, so open projects keep theirs.",
            before_cost=money(diff.before.cost_per_m2),
            before_coef=diff.before.coefficient,
            after_cost=money(diff.after.cost_per_m2),
            after_coef=diff.after.coefficient,
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


CONTROLLERS = [WhatIfController]
