"""The bureau's project list and project page (CONTRACT.md §6 `/projects`, `/projects/{project_id}`).

The list searches and filters in the database and shows one page of 25; its balances come from one grouped
query over the cash ledger (store/listings.py). The page shows the account, its nodes, and the release cap
explained in words by escrow.catalog.caps from the cap's terms (not from the cap's English text).

Its guarantees section lists the bank guarantees (保函) with what each counts for today; an admin registers
one there (`POST /projects/{id}/guarantees`, refused field by field on the same page) and releases one
(`POST /projects/{id}/guarantees/{guarantee_id}/release`): single admin actions, audited by the service.

Its end-of-supervision section shows a closure or bank change waiting for the bank, the date supervision
ended, the accounts the project had before a change of bank, and what still blocks a closure (in words from
the blockers' codes); an admin orders a closure (`POST /projects/{id}/closure`) or a change of supervising
bank (`POST /projects/{id}/bank-change`) there, each ticked to confirm, refused field by field or with the
blockers named on the same page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from escrow.catalog import statuses
from escrow.catalog.actors import actor_words
from escrow.catalog.caps import cap_terms, percent
from escrow.catalog.outcomes import check_rule
from escrow.catalog.words import PAYEE_ROLES, RELEASE_KINDS, named
from escrow.domain import lifecycle as rules
from escrow.domain.caps import Cap
from escrow.domain.errors import DomainError, Forbidden, NotFound
from escrow.domain.money import MoneyError, from_fen, parse_wire
from escrow.rulebooks import RuleBook
from escrow.services import guarantees, lifecycle, listings, projects
from escrow.services.context import Context
from escrow.services.listings import ProjectFilter
from escrow.web.bureau.common import KIND_NAMES
from escrow.web.shell import exports, once, pages, sessions
from escrow.web.shell.audit_words import event_lines
from escrow.web.shell.filters import local_time
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

PER_PAGE = 25
LATEST = 50  # deposits, statements and audit events shown on the project page

# Codes stored in the database, as a clerk reads them. `label(group, code)` translates; unknown codes show
# as they are.
LABELS: dict[str, dict[str, str]] = {
    "account": {"active": N_("Active"), "frozen": N_("Frozen"), "closed": N_("Closed")},
    "reconciliation": {
        "reconciled": N_("Reconciled"),
        "discrepancy": N_("Discrepancy"),
        "pending": N_("No statement yet"),
    },
    "finish": {"shell": N_("Shell housing"), "finished": N_("Finished interior")},
    "deposit": {
        "accepted": N_("Accepted"),
        "suspense": N_("In suspense"),
        "assigned": N_("Assigned from suspense"),
        "returned": N_("Returned to payer"),
        "returning": N_("Being returned to payer"),
        "reversed": N_("Reversed"),
    },
    "voucher": {
        "issued": N_("Issued"),
        "confirmed": N_("Confirmed by statement"),
        "receipted": N_("Receipted"),
        "reversed": N_("Reversed"),
        "refunded": N_("Refunded"),
    },
    "release": statuses.RELEASE_STATUS,  # the portal's words too
    "refund": statuses.REFUND_STATUS,
    "freeze": {"active": N_("In force"), "lifted": N_("Lifted")},
    "adoption": {"submitted": N_("Under review"), "approved": N_("Adopted"), "rejected": N_("Rejected")},
    "amount_change": {
        "submitted": N_("Under review"),
        "approved": N_("Approved: in effect"),
        "rejected": N_("Rejected"),
    },
    "guarantee": {"active": N_("In force"), "expired": N_("Expired"), "released": N_("Released")},
    "kind": {
        "earnest": N_("Earnest money"),
        "down_payment": N_("Down payment"),
        "mortgage": N_("Mortgage loan"),
        "provident_fund_loan": N_("Provident fund loan"),
        "combination_loan": N_("Combination loan"),
        "full": N_("Full payment"),
        "other": N_("Other"),
    },
    "channel": {
        "counter": N_("Counter"),
        "transfer": N_("Transfer"),
        "pos": N_("POS"),
        "mortgage": N_("Mortgage"),
        "provident_fund": N_("Provident fund"),
        "statement": N_("Bank statement"),
    },
}
TONES = {
    "good": {"active", "reconciled", "accepted", "assigned", "issued", "confirmed", "receipted", "executed"},
    "warn": {
        "suspense",
        "pending",
        "submitted",
        "approved",
        "frozen",
        "acknowledged",
        "warning",
        "returned",
        "returning",
    },
    "bad": {"discrepancy", "rejected", "reversed", "critical", "open", "refunded"},
}
SORT_LABELS = {
    "name": N_("Name"),
    "balance": N_("Balance"),
    "opened": N_("Opened on"),
}


def tone(code: str | None) -> str:
    return next((name for name, codes in TONES.items() if code in codes), "")


def labeller(_: Callable[..., str]) -> Callable[[str, str | None], str]:
    def label(group: str, code: str | None) -> str:
        text = LABELS.get(group, {}).get(code or "")
        return _(text) if text else (code or "")

    return label


def node_name(node: Any, lang: str) -> str:
    return node.name_zh if lang == "zh" else node.name_en


def query_url(path: str, params: Mapping[str, str], **changes: Any) -> str:
    """`path?query` with `changes` applied and empty values left out."""
    merged = {**params, **{k: str(v) for k, v in changes.items()}}
    clean = [(k, v) for k, v in merged.items() if v not in ("", None)]
    return f"{path}?{urlencode(clean)}" if clean else path


# --- the project list -------------------------------------------------------------------------------------

FILTERS = ("q", "status", "recon", "finish", "node", "sort", "page")


def node_options(ctx: Context, lang: str) -> list[tuple[str, str]]:
    """Every node code of the loaded rule books, in rule-book order, named in the user's language."""
    seen: dict[str, str] = {}
    for book in ctx.rulebooks:
        for node in book.nodes:
            seen.setdefault(node.code, node_name(node, lang))
    return list(seen.items())


def node_levels(ctx: Context, node: str) -> dict[str, int]:
    """For the filter "highest confirmed node is X": per rule book, how many nodes that means confirmed."""
    if node == "none":
        return {book.id: 0 for book in ctx.rulebooks}
    return {book.id: book.node_index(node) + 1 for book in ctx.rulebooks if book.node(node)}


def _page_number(text: str) -> int:
    return max(1, int(text)) if text.isdigit() and len(text) < 7 else 1


def _highest_node(ctx: Context, row: listings.ProjectRow, lang: str) -> str:
    """The name of the project's highest confirmed node ("" before the first)."""
    book = ctx.rulebooks.get(row.rulebook_id)
    n = row.nodes_confirmed
    return node_name(book.nodes[n - 1], lang) if book and 0 < n <= len(book.nodes) else ""


def _list_projects(ctx: Context, f: ProjectFilter, page: int, lang: str) -> dict[str, Any]:
    found = listings.projects(ctx, f, page, PER_PAGE)
    items = [
        {"row": r, "balance": from_fen(r.balance_fen), "node": _highest_node(ctx, r, lang)}
        for r in found.rows
    ]
    return {"items": items, "total": found.total, "page": found.page, "pages": found.pages}


def _project_table(ctx: Context, f: ProjectFilter, lang: str, _) -> exports.Table:
    """Every project the filters select, as the download holds them (the same query as the page)."""
    found = listings.projects(ctx, f, 1, exports.MAX_ROWS)
    exports.check_size(found.total, _)
    label = labeller(_)
    headings = (
        N_("Project"), N_("Pre-sale permit no."), N_("Developer"), N_("Finish"), N_("Account no."),
        N_("Account status"), N_("Reconciliation"), N_("Highest confirmed node"), N_("Opened on"),
        N_("Balance (¥)"),
    )  # fmt: skip
    rows = [
        (
            r.name,
            r.permit_no,
            r.developer_name,
            label("finish", r.finish),
            r.account_no,
            label("account", r.account_status),
            label("reconciliation", r.reconciliation),
            _highest_node(ctx, r, lang),
            r.opened_on,
            from_fen(r.balance_fen),
        )
        for r in found.rows
    ]
    return exports.Table([_(h) for h in headings], rows)


# --- the project page -------------------------------------------------------------------------------------


def cap_in_words(cap: Cap, book: RuleBook, _, lang: str) -> dict[str, Any]:
    """The cap's terms said in the user's language (escrow.catalog.caps): each term with its value, what it
    is and the rule-book keys it rests on (the page heads them with the rule book, linked, in words)."""
    lines = cap_terms(_, cap.terms, book, lang)
    return {
        "lines": lines,
        "releasable": cap.releasable,
        "floored": sum((-ln.value if ln.sign else ln.value for ln in lines), Decimal("0")) < 0,
    }


def _confirmer(_, confirmed: tuple[Any, str | None] | None, names: Mapping[tuple[str, int], Any]) -> str:
    """Who confirmed a node, by name and role ("陈磊（节点核验员）")."""
    if not confirmed:
        return ""
    return actor_words(_, f"user:{confirmed[0].confirmed_by}", names)


def _project_page(ctx: Context, project_id: int, lang: str, with_audit: bool, _) -> dict[str, Any]:
    found = listings.project_page(ctx, project_id, latest=LATEST, with_audit=with_audit)
    project, book, cap, confirmations = found.project, found.book, found.cap, found.confirmations
    latest = found.statements[0] if found.statements else None
    nodes = [
        {
            "code": n.code,
            "name": node_name(n, lang),
            "retention": percent(n.retention),
            "confirmation": confirmations.get(n.code, (None, None))[0],
            "confirmed_by": _confirmer(_, confirmations.get(n.code), found.actor_names),
        }
        for n in book.nodes
    ]
    node_names = {n["code"]: n["name"] for n in nodes}
    held = found.guarantees
    buildings = [
        {
            "figures": b.figures,
            "permit_no": b.permit_no,
            "nodes": [
                {
                    "code": n.code,
                    "name": node_names[n.code],
                    "confirmation": b.confirmations.get(n.code, (None, None))[0],
                    "confirmed_by": _confirmer(_, b.confirmations.get(n.code), found.actor_names),
                }
                for n in book.nodes
            ],
            "next_node": next((n.code for n in book.nodes if n.code not in b.confirmations), None),
        }
        for b in found.buildings
    ]
    ending = found.ending
    return {
        "project": project,
        "account": found.account,
        "bank": found.bank,
        "developer": found.developer,
        "book": book,
        "terms": {t.term: t.value for t in cap.terms},
        "cap": cap,
        "words": cap_in_words(cap, book, _, lang),
        "supervised": from_fen(project.supervised_amount_fen),
        "area": Decimal(project.presale_area_x100) / 100,
        "nodes": nodes,
        "next_node": next((n.code for n in book.nodes if n.code not in confirmations), None),
        "buildings": buildings,
        "node_names": node_names,
        # nodes are confirmed building by building (else for the project, the buildings shown for reference)
        "by_building": bool(buildings) and book.by_building,
        "buildings_open": book.by_building,  # a building may be added with a new permit area
        "unlocks": [
            {
                "unlock": u,
                "node": node_names.get(u.node_code, u.node_code),
                "evidence": [_(KIND_NAMES[k]) if k in KIND_NAMES else k for k in u.evidence],
            }
            for u in cap.unlocks
        ],
        "deposits": found.deposits,
        "deposit_count": found.deposit_count,
        "suspense": found.suspense,
        # Each with the column the page shows for it alone: a release's node, a refund's contract number.
        "releases": [
            (r, node_names.get(r.node_code, r.node_code) if r.node_code else _(RELEASE_KINDS["non_key"]))
            for r in found.releases
        ],
        "refunds": found.refunds,
        "freezes": found.freezes,
        "statements": found.statements,
        "statement_count": found.statement_count,
        "interest": found.interest,
        "fees": found.fees,
        "reconciliation": latest.status if latest else "pending",
        "audit": event_lines(_, lang, found.audit, found.actor_names, book),
        "adoptions": found.adoptions,
        "amount_changes": found.amount_changes,
        "guarantees": held,
        "guarantee_share": percent(held.max_share),
        "fund_plan": found.fund_plan,
        "node_label": lambda code: node_names.get(code, code),
        "role_label": lambda code: named(_, PAYEE_ROLES, code),
        "check_label": lambda rule: check_rule(_, rule),  # a deposit check of the rule book, in words
        "ending": ending,
        "closure_blockers": [blocker_in_words(b, _, node_names) for b in ending.closure_blockers],
        "bank_change_blockers": [blocker_in_words(b, _, node_names) for b in ending.bank_change_blockers],
    }


class ProjectsController(Controller):
    path = "/projects"
    include_in_schema = False

    @get("/", guards=[requires("projects.view")], name="projects")
    async def index(self, request: Request) -> Response:
        _ = pages.gettext(request)
        ctx, lang = pages.ctx(request), pages.language(request)
        values = {k: request.query_params.get(k, "").strip() for k in FILTERS}
        errors: dict[str, str] = {}
        choices = {
            "status": LABELS["account"],
            "recon": LABELS["reconciliation"],
            "finish": LABELS["finish"],
            "node": {"none": "", **dict(node_options(ctx, lang))},
            "sort": {s: "" for s in ("name", "-name", "balance", "-balance", "opened", "-opened")},
        }
        for name, allowed in choices.items():
            if values[name] and values[name] not in allowed:
                errors[name] = _("Choose one of the listed values.")
        if len(values["q"]) > 100:
            errors["q"] = _("At most %(value)s characters.", value=100)
        f = ProjectFilter(
            q=values["q"] if "q" not in errors else "",
            status=values["status"] if "status" not in errors else "",
            reconciliation=values["recon"] if "recon" not in errors else "",
            finish=values["finish"] if "finish" not in errors else "",
            node_levels=node_levels(ctx, values["node"]) if values["node"] and "node" not in errors else None,
            sort=values["sort"] if values["sort"] and "sort" not in errors else "name",
        )
        fmt = exports.requested(request)
        if fmt and not errors:
            table = await pages.run(_project_table, ctx, f, lang, _)
            return await exports.download(request, "projects", fmt, table)
        found = await pages.run(_list_projects, ctx, f, _page_number(values["page"]), lang)
        params = {k: v for k, v in values.items() if k != "page" and k not in errors}
        fragment = (
            request.headers.get("hx-request") == "true"
            and request.headers.get("hx-history-restore-request") != "true"
        )
        return pages.render(
            request,
            "bureau/projects/_results.html" if fragment else "bureau/projects/list.html",
            status=400 if errors else 200,
            values=values,
            errors=errors,
            sort=f.sort,
            url=lambda **changes: query_url("/projects", params, **changes),
            page_url=lambda n: query_url("/projects", params, page=n),
            label=labeller(_),
            tone=tone,
            sort_labels=SORT_LABELS,
            options={
                "status": [("", _("Any")), *((k, _(v)) for k, v in LABELS["account"].items())],
                "recon": [("", _("Any")), *((k, _(v)) for k, v in LABELS["reconciliation"].items())],
                "finish": [("", _("Any")), *((k, _(v)) for k, v in LABELS["finish"].items())],
                "node": [("", _("Any")), ("none", _("No node confirmed yet")), *node_options(ctx, lang)],
            },
            **found,
        )

    @get("/{project_id:int}", guards=[requires("projects.view")], name="project")
    async def page(self, request: Request, project_id: FromPath[int]) -> Template:
        return await render_project(request, project_id)

    @get("/{project_id:int}/deposits", guards=[requires("projects.view")], name="project-deposits")
    async def deposits(self, request: Request, project_id: FromPath[int]) -> Response:
        """All the project's deposits as a file; without a format, its page's deposits section."""
        fmt = exports.requested(request)
        if not fmt:
            return pages.redirect(request, f"/projects/{project_id}#deposits")
        table = await pages.run(_deposit_table, pages.ctx(request), project_id, pages.gettext(request))
        return await exports.download(request, f"deposits-{project_id}", fmt, table)


def _deposit_table(ctx: Context, project_id: int, _) -> exports.Table:
    found = listings.project_deposits(ctx, project_id, exports.MAX_ROWS)
    exports.check_size(found.total, _)
    label = labeller(_)
    headings = (
        N_("Value date"), N_("Bank reference"), N_("Payer"), N_("Kind"), N_("Channel"), N_("Amount (¥)"),
        N_("Status"), N_("Voucher no."), N_("Voucher"),
    )  # fmt: skip
    rows = [
        (
            d.value_date,
            d.bank_reference,
            d.payer_name,
            label("kind", d.kind),
            label("channel", d.channel),
            from_fen(d.amount_fen),
            label("deposit", d.status),
            v.voucher_no if v else "",
            label("voucher", v.status) if v else "",
        )
        for d, v in found.rows
    ]
    return exports.Table([_(h) for h in headings], rows)


async def render_project(
    request: Request,
    project_id: int,
    *,
    status: int = 200,
    amount_form: dict[str, Any] | None = None,
    end_form: dict[str, Any] | None = None,
    building_form: dict[str, Any] | None = None,
    **guarantee_form: Any,
) -> Template:
    """The project page; a refused form of it (a guarantee, a key amount change) shows its errors."""
    _ = pages.gettext(request)
    data = await pages.run(
        _project_page,
        pages.ctx(request),
        project_id,
        pages.language(request),
        sessions.may(request, "audit.view"),
        _,
    )
    return pages.render(
        request,
        "bureau/projects/page.html",
        status=status,
        label=labeller(_),
        tone=tone,
        local_time=local_time,
        fen=from_fen,
        guarantee_form={"values": {}, "errors": {}, "message": None, **guarantee_form},
        amount_form={"values": {}, "errors": {}, "message": None, **(amount_form or {})},
        building_form={"values": {}, "errors": {}, "message": None, **(building_form or {})},
        end_form={
            "which": None,
            "values": {},
            "errors": {},
            "message": None,
            **(end_form or {}),
            # what refused the order, in words (a node by its name in the page's language)
            "blockers": [
                blocker_in_words(b, _, data["node_names"]) for b in (end_form or {}).get("blockers", [])
            ],
        },
        **data,
    )


# --- guarantees -------------------------------------------------------------------------------------------

pages.NOTICES["guarantee_registered"] = N_("The bank guarantee is registered; the release cap is recomputed.")
pages.NOTICES["guarantee_released"] = N_("The bank guarantee is released; it counts no more.")
GUARANTEE_FIELDS = ("guarantee_no", "issuer", "amount", "valid_from", "valid_until")
GUARANTEE_LIMITS = {"guarantee_no": 64, "issuer": 200}


def _guarantee_command(form: pages.Form, project_id: int, _) -> guarantees.RegisterGuarantee | None:
    """The command from the form, or None with the form's errors marked."""
    for name in GUARANTEE_FIELDS:
        if not form.get(name):
            form.error(name, _("Required."))
    for name, most in GUARANTEE_LIMITS.items():
        if len(form.get(name)) > most:
            form.error(name, _("At most %(value)s characters.", value=most))
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in form.get("guarantee_no")) or ".." in form.get(
        "guarantee_no"
    ):
        form.error("guarantee_no", _("Contains characters that are not allowed."))
    amount = None
    if form.get("amount"):
        try:
            amount = parse_wire(form.get("amount"))
        except MoneyError:
            form.error("amount", _("Enter an amount in yuan, such as 1234.50."))
    days: dict[str, date] = {}
    for name in ("valid_from", "valid_until"):
        if form.get(name):
            try:
                days[name] = date.fromisoformat(form.get(name))
            except ValueError:
                form.error(name, _("Enter a date as YYYY-MM-DD."))
    if not form.ok or amount is None:
        return None
    return guarantees.RegisterGuarantee(
        project_id=project_id,
        guarantee_no=form.get("guarantee_no"),
        issuer=form.get("issuer"),
        amount=amount,
        valid_from=days["valid_from"],
        valid_until=days["valid_until"],
    )


class GuaranteesController(Controller):
    path = "/projects/{project_id:int}/guarantees"
    include_in_schema = False
    guards = [requires("guarantees.manage")]

    @post("/", name="guarantee-register", status_code=303)
    async def register(self, request: Request, project_id: FromPath[int]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        cmd = _guarantee_command(form, project_id, _)
        status, message = 422, None
        if cmd is not None:
            actor = sessions.principal(request)
            try:
                return await once.submit(
                    request,
                    form,
                    lambda ctx: guarantees.register(ctx, cmd, actor),
                    lambda _view: f"/projects/{project_id}",
                    notice="guarantee_registered",
                )
            except (NotFound, Forbidden):
                raise
            except DomainError as exc:
                message, errors = pages.field_errors(request, exc)
                status = exc.status
                for name, text in errors.items():
                    form.error(name, text)
        return await render_project(
            request,
            project_id,
            status=status,
            values=form.values,
            errors=form.errors,
            message=message or _("Please correct the marked fields"),
        )

    @post("/{guarantee_id:int}/release", name="guarantee-release", status_code=303)
    async def release(
        self, request: Request, project_id: FromPath[int], guarantee_id: FromPath[int]
    ) -> Response:
        await pages.form(request)
        ctx = pages.ctx(request)
        found = await pages.run(guarantees.overview, ctx, project_id)
        if all(g.guarantee_id != guarantee_id for g in found.items):
            raise NotFound(f"no guarantee {guarantee_id} on project {project_id}")
        try:
            await pages.run(guarantees.release, ctx, guarantee_id, sessions.principal(request))
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            message, _errors = pages.field_errors(request, exc)
            return await render_project(request, project_id, status=exc.status, message=message)
        return pages.redirect(request, f"/projects/{project_id}", notice="guarantee_released")


# --- a building added with a new permit area ------------------------------------------------------------

pages.NOTICES["building_added"] = N_(
    "The building is added; the key supervised amount grew by the rule book's formula for its area."
)
BUILDING_FIELDS = {"code": 32, "name": 200, "presale_area_m2": 20, "permit_no": 64}


class BuildingsController(Controller):
    path = "/projects/{project_id:int}/buildings"
    include_in_schema = False
    guards = [requires("buildings.add")]

    @post("/", name="building-add", status_code=303)
    async def add(self, request: Request, project_id: FromPath[int]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        for name, most in BUILDING_FIELDS.items():
            if not form.get(name):
                form.error(name, _("Required."))
            elif len(form.get(name)) > most:
                form.error(name, _("At most %(value)s characters.", value=most))
        area = None
        if form.get("presale_area_m2"):
            try:
                area = parse_wire(form.get("presale_area_m2"))
            except MoneyError:
                form.error("presale_area_m2", _("Enter an area in m², such as 1234.50."))
        message, status = None, 422
        if form.ok and area is not None:
            building = projects.NewBuilding(form.get("code"), form.get("name"), area)
            cmd = projects.AddBuilding(project_id, building, form.get("permit_no"))
            actor = sessions.principal(request)
            try:
                return await once.submit(
                    request,
                    form,
                    lambda ctx: projects.add_building(ctx, cmd, actor),
                    lambda _view: f"/projects/{project_id}#buildings",
                    notice="building_added",
                )
            except (NotFound, Forbidden):
                raise
            except DomainError as exc:
                message, errors = pages.field_errors(request, exc)
                status = exc.status
                for name, text in errors.items():
                    form.error(name if name in BUILDING_FIELDS else "code", text)
        return await render_project(
            request,
            project_id,
            status=status,
            building_form={
                "values": form.values,
                "errors": form.errors,
                "message": message or _("Please correct the marked fields"),
            },
        )


# --- the end of supervision: closure (解除监管) and a change of supervising bank ------------------------

pages.NOTICES["closure_ordered"] = N_(
    "The closing payout is ordered; the bank pays it and the account closes."
)
pages.NOTICES["bank_change_ordered"] = N_(
    "The transfer to the new supervising bank is ordered; the old bank moves the balance."
)
# What blocks a closure or a bank change (escrow.domain.lifecycle codes), with the code's params.
BLOCKER_WORDS = {
    rules.ACCOUNT_CLOSED: N_("Account %(account_no)s is closed."),
    rules.ENDING_PENDING: N_(
        "A closure or bank change already waits for the bank (instruction %(instruction_id)s)."
    ),
    rules.NODE_MISSING: N_("Node %(node)s is not confirmed yet."),
    rules.SUSPENSE_OPEN: N_("¥%(amount)s of unassigned money is in the account."),
    rules.REFUNDS_OPEN: N_("%(count)s refund(s) are not decided or paid yet."),
    rules.RELEASES_OPEN: N_("%(count)s release(s) are not decided or paid yet."),
    rules.INSTRUCTIONS_PENDING: N_("%(count)s payment instruction(s) wait for the bank."),
    rules.FREEZE_IN_FORCE: N_("%(count)s court freeze(s) are in force."),
    rules.GUARANTEES_IN_FORCE: N_("%(count)s bank guarantee(s) are in force."),
    rules.NOTHING_TO_PAY: N_("The balance is zero: there is nothing to move."),
}
BUILDING_NODE_MISSING = N_("Building %(building)s: node %(node)s is not confirmed yet.")
CLOSURE_FIELDS = {"payee_name": 200, "payee_account_no": 64, "payee_bank_name": 200, "reason": 2000}
BANK_CHANGE_FIELDS = {"bank_code": 32, "account_no": 40, "account_name": 200, "change_reason": 2000}
# The service's field names → the form's
END_FIELD_NAMES = {
    "reason": "reason",
    "payee.name": "payee_name",
    "payee.account_no": "payee_account_no",
    "payee.bank_name": "payee_bank_name",
}


def blocker_in_words(blocker: rules.Blocker, _: Callable[..., str], node_names: Mapping[str, str]) -> str:
    params = dict(blocker.params)
    if "node" in params:
        params["node"] = node_names.get(params["node"], params["node"])
    if blocker.code == rules.NODE_MISSING and params.get("building"):
        return _(BUILDING_NODE_MISSING, **params)
    return _(BLOCKER_WORDS[blocker.code], **params) if blocker.code in BLOCKER_WORDS else blocker.code


def _end_form(form: pages.Form, fields: Mapping[str, int], optional: tuple[str, ...], _) -> bool:
    """Mark the form's own errors (required, too long, not confirmed); whether it may go to the service."""
    for name, most in fields.items():
        if not form.get(name) and name not in optional:
            form.error(name, _("Required."))
        elif len(form.get(name)) > most:
            form.error(name, _("At most %(value)s characters.", value=most))
    if form.get("confirm") != "yes":
        form.error("confirm", _("Tick the box to confirm."))
    return form.ok


class AccountEndController(Controller):
    path = "/projects/{project_id:int}"
    include_in_schema = False
    guards = [requires("accounts.end")]

    @post("/closure", name="project-closure", status_code=303)
    async def closure(self, request: Request, project_id: FromPath[int]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        if _end_form(form, CLOSURE_FIELDS, (), _):
            payee = lifecycle.Payee(
                form.get("payee_name"), form.get("payee_account_no"), form.get("payee_bank_name")
            )
            cmd = lifecycle.CloseAccount(project_id=project_id, payee=payee, reason=form.get("reason"))
            return await self._order(request, project_id, form, "closure", lifecycle.close, cmd)
        return await self._refused(request, project_id, form, "closure", 422, None, [])

    @post("/bank-change", name="project-bank-change", status_code=303)
    async def bank_change(self, request: Request, project_id: FromPath[int]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        if _end_form(form, BANK_CHANGE_FIELDS, ("change_reason",), _):
            cmd = lifecycle.ChangeBank(
                project_id=project_id,
                bank_code=form.get("bank_code"),
                account_no=form.get("account_no"),
                account_name=form.get("account_name"),
                reason=form.get("change_reason"),
            )
            return await self._order(request, project_id, form, "bank_change", lifecycle.change_bank, cmd)
        return await self._refused(request, project_id, form, "bank_change", 422, None, [])

    async def _order(
        self, request: Request, project_id: int, form: pages.Form, which: str, use_case, cmd
    ) -> Response:
        _ = pages.gettext(request)
        try:
            await pages.run(use_case, pages.ctx(request), cmd, sessions.principal(request))
        except (NotFound, Forbidden):
            raise
        except rules.Refused as exc:
            message = _("Not possible now:") if exc.status == 409 else _("Not possible yet:")
            return await self._refused(request, project_id, form, which, exc.status, message, exc.blockers)
        except DomainError as exc:
            message, errors = pages.field_errors(request, exc)
            for name, text in errors.items():
                form.error(END_FIELD_NAMES.get(name, name), text)
            return await self._refused(request, project_id, form, which, exc.status, message, [])
        notice = "closure_ordered" if which == "closure" else "bank_change_ordered"
        return pages.redirect(request, f"/projects/{project_id}", notice=notice)

    async def _refused(self, request, project_id, form, which, status, message, blockers) -> Response:
        _ = pages.gettext(request)
        end_form = {
            "which": which,
            "values": form.values,
            "errors": form.errors,
            "message": message or _("Please correct the marked fields"),
            "blockers": blockers,
        }
        return await render_project(request, project_id, status=status, end_form=end_form)


CONTROLLERS = [ProjectsController, GuaranteesController, BuildingsController, AccountEndController]
