"""A rule book version in words (`GET /rules/{jurisdiction}/{version}`): the measures' title, from when it
applies and what it supersedes, the key-amount formula, the node table with the share retained for shell and
finished housing, guarantees, court freezes, the approval chains and the time limits. Every row carries the
rule-book key as its anchor, so that a cap's reference (escrow.catalog.caps.rule_href) lands on it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from escrow.catalog.caps import percent
from escrow.catalog.words import (
    EVIDENCE_KINDS,
    FREEZE_EXEMPT,
    GUARANTEE_SHARE_OF,
    LIMIT_NAMES,
    PAYEE_ROLES,
    ROLE_NAMES,
    named,
    node_name,
    step_label,
)
from escrow.domain import approvals
from escrow.domain.errors import NotFound
from escrow.rulebooks import ApprovalStep, RuleBook
from escrow.web.shell import pages
from escrow.web.shell.sessions import requires


def _chain(_, steps: tuple[ApprovalStep, ...], lang: str) -> list[dict[str, Any]]:
    return [
        {"label": step_label(s, lang), "role": named(_, ROLE_NAMES, s.role), "min_amount": s.min_amount}
        for s in steps
    ]


def book_page(_, book: RuleBook, lang: str, known: set[str]) -> dict[str, Any]:
    """What the page shows of `book`, in `lang`; `known` the loaded book ids (a superseded one links)."""
    chains = [("release.approval_chain", _("Approval chain of a node release"), book.release.approval_chain)]
    if book.non_key_release is not None:
        chains.append(
            (
                "non_key_release.approval_chain",
                _("Approval chain of a non-key release"),
                book.non_key_release.approval_chain,
            )
        )
    chains.append(
        (
            "supervised_amount_change.approval_chain",
            _("Approval chain of a key supervised amount change"),
            approvals.supervised_amount_change_chain(book),
        )
    )
    chains.append(
        ("fund_plan.approval_chain", _("Approval chain of a fund plan"), approvals.fund_plan_chain(book))
    )
    supersedes = f"{book.jurisdiction}@{book.supersedes}" if book.supersedes else None
    return {
        "book": book,
        "title": book.title if lang == "zh" else (book.title_en or book.title),
        "supersedes": book.supersedes,
        "supersedes_href": f"/rules/{book.jurisdiction}/{book.supersedes}" if supersedes in known else None,
        "formula": book.supervised_amount,
        "nodes": [
            {
                "code": n.code,
                "name": node_name(book, n.code, lang),
                "shell": percent(n.retention + book.surcharge_for(n, "shell")),
                "finished": percent(n.retention + book.surcharge_for(n, "finished")),
                "evidence": [named(_, EVIDENCE_KINDS, k) for k in n.evidence],
            }
            for n in book.nodes
        ],
        "surcharge": percent(book.finish_surcharge.get("finished", 0)),
        "surcharge_until": node_name(book, book.surcharge_until, lang),
        "guarantee_share": percent(book.guarantee_max_share),
        "guarantee_of": named(_, GUARANTEE_SHARE_OF, book.guarantee_share_of),
        "exempt": [named(_, FREEZE_EXEMPT, k) for k in book.freeze_exempt],
        "deduction_exceptions": [named(_, PAYEE_ROLES, k) for k in book.court_deduction_exceptions],
        "chains": [(key, title, _chain(_, steps, lang)) for key, title, steps in chains],
        "payee_roles": [named(_, PAYEE_ROLES, r) for r in book.release.payee_roles],
        "limits": [(key, named(_, LIMIT_NAMES, key), value) for key, value in book.limits.items()],
    }


class RuleBookController(Controller):
    path = "/rules"
    include_in_schema = False

    @get("/{jurisdiction:str}/{version:str}", guards=[requires("rules.view")], name="rules-book")
    async def book(self, request: Request, jurisdiction: FromPath[str], version: FromPath[str]) -> Template:
        _, ctx, lang = pages.gettext(request), pages.ctx(request), pages.language(request)
        book = ctx.rulebooks.get(f"{jurisdiction}@{version}")
        if book is None:
            raise NotFound(f"no rule book {jurisdiction}@{version}")
        known = {b.id for b in ctx.rulebooks}
        return pages.render(request, "bureau/rules/book.html", **book_page(_, book, lang, known))


CONTROLLERS = [RuleBookController]
