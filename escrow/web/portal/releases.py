"""Portal: release applications (拨付申请) — the list, the application form with its payees and documents,
and one application with its approval steps.

The form offers a node release (节点拨付) and, where the project's rule book has `[non_key_release]`, a
non-key release (非重点监管资金拨付, national opinion 2022): money received beyond the key supervised amount,
without a node, payable also to the developer's own settlement account. Each kind shows its own payee roles,
documents and cap, term by term (the non-key cap as the smaller of its two sums).

An application is checked here for form (amounts, rows, files) and by escrow.services.releases.apply for
the rules (confirmed node, payee roles, required documents, the cap). The uploaded files are stored in the
same unit of work as the release: a refused application leaves no document behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.catalog import words
from escrow.catalog.caps import stored_cap_sums, stored_cap_terms
from escrow.domain.errors import InvalidInput
from escrow.domain.money import to_wire
from escrow.rulebooks import RuleBook
from escrow.services import approvals, fund_plans, held_uploads, releases
from escrow.services.context import Context
from escrow.web.bureau.fund_plans import labellers
from escrow.web.portal.common import (
    PAYEE_ROLES,
    developer_id,
    labels,
    money,
    node_name,
    text,
)
from escrow.web.shell import filters, once, pages, sessions, uploads
from escrow.web.shell.labels import N_, named
from escrow.web.shell.sessions import requires

PAYEE_FIELDS = ("name", "account_no", "bank_name", "role", "amount")
PAYEE_ROWS = 3  # rows shown on an empty form; "add payee" adds more
MAX_PAYEES = 50
MAX_EXTRA_DOCUMENTS = 10
EXTRA_KIND = "other"

Held = dict[str, list[held_uploads.HeldFile]]  # files held for the form from an earlier refused submit
KINDS = ("node", "non_key")


def _render(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    return pages.render(
        request,
        template,
        status=status,
        accept=uploads.ACCEPT,
        max_upload=uploads.MAX_LABEL,
        **labels(pages.gettext(request)),
        release_kind=lambda code: named(pages.gettext(request), words.RELEASE_KINDS, code),
        **context,
    )


def _cap_words(request: Request, cap: Mapping[str, Any], book: RuleBook) -> dict[str, Any]:
    """A cap (`Cap.to_json()`) as the portal shows it: its terms in words (escrow.catalog.caps), what is
    releasable, and the rule book it was computed under."""
    _, lang = pages.gettext(request), pages.language(request)
    return {
        "terms": stored_cap_terms(_, cap, book, lang),
        "sums": stored_cap_sums(_, cap, book, lang),
        "kind": (cap.get("explanation", cap) or {}).get("kind", "node"),
        "releasable": cap["releasable"],
        "rulebook": cap.get("rulebook", book.id),
    }


# --- the form's surroundings: the developer's projects, the chosen one's nodes, roles, documents, cap ------


def _form_context(request: Request, project_id: str | None, kind: str | None = None) -> dict[str, Any]:
    """What the form shows for the chosen project (the only one, or the one asked for) and the kind of
    release asked for (a node release unless the rule book has non-key releases and one is asked for);
    NotFound if the project asked for is not the developer's."""
    lang = pages.language(request)
    ctx = pages.ctx(request)
    found = releases.application_form(ctx, developer_id(request), project_id)
    result: dict[str, Any] = {
        "projects": [(str(i), f"{name} · {permit_no}") for i, name, permit_no in found.projects],
        "project": None,
    }
    chosen = found.project
    if chosen is None:
        return result
    book = ctx.rulebook(chosen.rulebook)
    _ = pages.gettext(request)
    offered = [k for k in KINDS if k == "node" or chosen.non_key_cap is not None]
    kind = kind if kind in offered else "node"
    policy = book.release_policy(kind) or book.release
    cap = chosen.non_key_cap if kind == "non_key" and chosen.non_key_cap else chosen.cap
    result["project"] = {
        "project_id": chosen.project_id,
        "name": chosen.name,
        "permit_no": chosen.permit_no,
        "account_no": chosen.account_no,
        "kind": kind,
        "kinds": [(k, named(_, words.RELEASE_KINDS, k)) for k in offered],
        "releasable": to_wire(cap.releasable),
        "cap": _cap_words(request, cap.to_json(), book),
        "nodes": [(code, node_name(book, code, lang)) for code in chosen.confirmed_nodes],
        "roles": list(policy.payee_roles),
        "documents": list(policy.required_documents),
        "rulebook": book.id,
        # the fund plan in force against what was drawn (a node release is judged against it)
        "plan": fund_plans.project_table(ctx, chosen.project_id, book) if kind == "node" else None,
    }
    result.update(labellers(request, book.id))
    return result


# --- reading the form -------------------------------------------------------------------------------------


@dataclass
class Application:
    """The form as read: the rows to show again, the files checked, and the command if all was well."""

    rows: list[dict[str, str]] = field(default_factory=list)
    files: list[tuple[str, uploads.Upload]] = field(default_factory=list)
    fresh: list[tuple[str, uploads.Upload]] = field(default_factory=list)  # received now, by form field
    command: releases.ApplyRelease | None = None


def _payee_rows(form: pages.Form) -> list[dict[str, str]]:
    """The rows typed in, blank rows left out (a row whose role alone is chosen counts as blank)."""
    columns = [form.getall(f"payee_{name}") for name in PAYEE_FIELDS]
    rows = []
    for cells in zip_longest(*columns, fillvalue=""):
        row = dict(zip(PAYEE_FIELDS, cells, strict=True))
        if any(row[name] for name in PAYEE_FIELDS if name != "role"):
            rows.append(row)
    return rows


def _read_payees(
    form: pages.Form, rows: list[dict[str, str]], roles: list[str], _: Callable[..., str]
) -> list[releases.Payee]:
    if not rows:
        form.error("payees", _("Add at least one payee."))
    if len(rows) > MAX_PAYEES:
        form.error("payees", _("At most %(value)s payees.", value=MAX_PAYEES))
    allowed = ", ".join(_(PAYEE_ROLES.get(r, r)) for r in roles)
    payees = []
    for i, row in enumerate(rows):
        key = f"payees[{i}]"
        for name, limit in (("name", 200), ("account_no", 64), ("bank_name", 200)):
            if not row[name]:
                form.error(f"{key}.{name}", _("Required."))
            elif len(row[name]) > limit:
                form.error(f"{key}.{name}", _("At most %(value)s characters.", value=limit))
        if row["role"] not in roles:
            form.error(f"{key}.role", _("Choose one of: %(value)s.", value=allowed))
        amount = money(form, "", _, value=row["amount"], key=f"{key}.amount")
        if amount is not None:
            payees.append(
                releases.Payee(row["name"], row["account_no"], row["bank_name"], row["role"], amount)
            )
    return payees


async def _read_documents(
    form: pages.Form, kinds: list[str], held: Held, _: Callable[..., str]
) -> tuple[list[tuple[str, uploads.Upload]], list[tuple[str, uploads.Upload]]]:
    """Each required kind's file and the optional extra ones, checked by their content: a file chosen now,
    else the one held from an earlier refused submit of this form. (All documents, those received now by
    their form field.)"""
    found, fresh = [], []
    for kind in kinds:
        name = f"doc_{kind}"
        given = form.files.get(name, [])
        for upload in given[:1]:
            try:
                checked = await uploads.read_upload(upload, _)
            except uploads.UploadRefused as refused:
                form.error(name, refused.message)
            else:
                found.append((kind, checked))
                fresh.append((name, checked))
        if not given and held.get(name):
            found.append((kind, held[name][-1].upload))
        elif not given:
            form.error(name, _("Attach this document: the rule book requires it."))
    kept = [h.upload for h in held.get("doc_extra", [])]
    extra = form.files.get("doc_extra", [])
    if len(extra) + len(kept) > MAX_EXTRA_DOCUMENTS:
        form.error("doc_extra", _("At most %(value)s extra documents.", value=MAX_EXTRA_DOCUMENTS))
    found.extend((EXTRA_KIND, upload) for upload in kept[:MAX_EXTRA_DOCUMENTS])
    for upload in extra[: max(0, MAX_EXTRA_DOCUMENTS - len(kept))]:
        try:
            checked = await uploads.read_upload(upload, _)
        except uploads.UploadRefused as refused:
            form.error("doc_extra", refused.message)
        else:
            found.append((EXTRA_KIND, checked))
            fresh.append(("doc_extra", checked))
    return found, fresh


async def _read(
    form: pages.Form, project: dict[str, Any] | None, held: Held, _: Callable[..., str]
) -> Application:
    app = Application(rows=_payee_rows(form))
    if project is None:
        form.error("project_id", _("Choose one of your projects."))
        return app
    kind = project["kind"]
    if (form.get("kind") or "node") != kind:  # a kind the project's rule book does not offer
        form.error("kind", _("The project's rule book does not allow this."))
    if kind == "node" and not form.get("node_code"):
        form.error("node_code", _("Required."))
    amount = money(form, "amount", _)
    purpose = text(form, "purpose", _, limit=2000)
    payees = _read_payees(form, app.rows, project["roles"], _)
    if amount is not None and len(payees) == len(app.rows) and payees:
        total = sum((p.amount for p in payees), Decimal("0.00"))
        if total != amount:
            form.error(
                "payees",
                _(
                    "The payee amounts add up to %(total)s, not the amount applied for (%(amount)s).",
                    total=to_wire(total),
                    amount=to_wire(amount),
                ),
            )
    app.files, app.fresh = await _read_documents(form, project["documents"], held, _)
    reason = text(form, "beyond_plan_reason", _, limit=2000, required=False)
    if form.ok:
        app.command = releases.ApplyRelease(
            project_id=project["project_id"],
            kind=kind,
            node_code=form.get("node_code") if kind == "node" else None,
            amount=amount,
            purpose=purpose,
            payees=tuple(payees),
            documents=tuple(releases.Document(kind, u.filename, u.sha256) for kind, u in app.files),
            beyond_plan_reason=reason or None,
        )
    return app


# --- the refusals of the service, next to the fields they concern -----------------------------------------


RULE_HEADLINES = {
    "reconciliation": N_("Releases are paused: the latest bank statement does not reconcile with the books."),
    "account_open": N_("The supervised account is closed."),
}


def _refused(request: Request, form: pages.Form, exc: InvalidInput) -> tuple[str, dict[str, Any] | None]:
    """(headline, the cap it was judged on, in words, or None); field errors go onto `form`."""
    _ = pages.gettext(request)
    headline, errors = pages.field_errors(request, exc)
    cap = None
    if isinstance(exc, approvals.Refused) and exc.rule == "release_cap":
        headline = _("The amount is above what may be released now.")
        judged = exc.facts["cap"]["explanation"]
        cap = _cap_words(request, judged, pages.ctx(request).rulebook(judged["rulebook"]))
        form.error(
            "amount", _("At most ¥%(value)s can be released now.", value=filters.money(cap["releasable"]))
        )
    for error in exc.errors:
        if error.field == "documents" and error.code == "missing":
            form.error(f"doc_{error.params['kind']}", _("Attach this document: the rule book requires it."))
        elif error.field in errors:
            form.error(error.field, errors[error.field])
    rule = (exc.rule or "").split(" ")[-1]
    if rule in RULE_HEADLINES and not exc.errors:
        headline = _(RULE_HEADLINES[rule])
    if rule == "fund_plan.beyond_plan_reason":
        headline = _("The release goes beyond the approved fund plan: state the reason below.")
    return headline, cap


# --- the service calls ------------------------------------------------------------------------------------


def _apply(
    request: Request, cmd: releases.ApplyRelease, files: list[tuple[str, uploads.Upload]]
) -> Callable[[Context], releases.ReleaseView]:
    """The release and its documents in one transaction (refused → nothing stored), as the form's work."""
    kept = [
        releases.File(uploads.safe_filename(u.filename), u.content_type, u.content, u.sha256)
        for _, u in files
    ]
    actor = sessions.principal(request)
    return lambda ctx: releases.apply(ctx, cmd, actor, kept)


def _listing(request: Request) -> list[dict[str, Any]]:
    lang, ctx = pages.language(request), pages.ctx(request)
    return [
        {**vars(view), "node_name": _node(ctx.rulebook(view.rulebook), view.node_code, lang)}
        for view in releases.listing(ctx, sessions.principal(request))
    ]


def _node(book: RuleBook, code: str | None, lang: str) -> str | None:
    """The node of a node release in words; None for a non-key release (it has none)."""
    return node_name(book, code, lang) if code else None


def _release(request: Request, release_id: int) -> dict[str, Any]:
    lang, ctx = pages.language(request), pages.ctx(request)
    found = releases.review(ctx, release_id, sessions.principal(request))
    view = found.release
    book = ctx.rulebook(view.rulebook)
    taken = {s.step_no: s for s in view.steps}
    stored_cap = (view.cap or {}).get("explanation")
    return {
        **vars(view),
        "node_name": _node(book, view.node_code, lang),
        "cap_words": _cap_words(request, stored_cap, book) if stored_cap else None,
        "chain": [
            {
                **vars(link),
                "label": link.label_en if lang == "en" else link.label_zh,
                "taken": taken.get(link.step_no),
            }
            for link in view.approval_chain
        ],
        "documents": [{**vars(d), "document_id": found.document_ids.get(d.sha256)} for d in view.documents],
        **labellers(request, view.rulebook),
    }


class ReleasesController(Controller):
    path = "/developer/releases"
    include_in_schema = False
    guards = [requires("portal.view", "portal.releases")]

    @get("/")
    async def releases(self, request: Request) -> Response:
        found = await pages.run(_listing, request)
        return _render(request, "portal/releases/list.html", releases=found)

    @get("/new")
    async def new_release(self, request: Request) -> Response:
        params = request.query_params
        context = await pages.run(_form_context, request, params.get("project_id"), params.get("kind"))
        project = context["project"]
        values = {"project_id": str(project["project_id"])} if project else {}
        if project and project["kind"] == "node" and len(project["nodes"]) == 1:
            values["node_code"] = project["nodes"][0][0]
        return _render(
            request,
            "portal/releases/new.html",
            values=values,
            errors={},
            rows=[{}] * PAYEE_ROWS,
            **context,
        )

    @get("/new/payee")
    async def payee_row(self, request: Request) -> Response:
        """One more empty payee row (the form's "add payee" button asks for it with HTMX)."""
        params = request.query_params
        context = await pages.run(_form_context, request, params.get("project_id"), params.get("kind"))
        roles = context["project"]["roles"] if context["project"] else list(PAYEE_ROLES)
        return _render(request, "portal/releases/_payee_row.html", row={}, i=None, roles=roles, errors={})

    @post("/new", status_code=303)
    async def apply(self, request: Request) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        context = await pages.run(
            _form_context, request, form.get("project_id") or None, form.get("kind") or None
        )
        held = await uploads.held_for(request, form)
        application = await _read(form, context["project"], held, _)
        headline, cap, status = _("Please correct the marked fields"), None, 422
        if application.command is not None:
            try:
                answer = await once.submit(
                    request,
                    form,
                    _apply(request, application.command, application.files),
                    lambda view: f"/developer/releases/{view.release_id}",
                    notice="release_submitted",
                )
            except InvalidInput as exc:
                headline, cap = _refused(request, form, exc)
            else:
                await uploads.let_go(request, form)
                return answer
        single = tuple(f"doc_{kind}" for kind in (context["project"] or {}).get("documents", ()))
        held = await uploads.hold(request, form, application.fresh, single)
        rows = application.rows + [{}] * max(0, PAYEE_ROWS - len(application.rows))
        return _render(
            request,
            "portal/releases/new.html",
            status=status,
            values=form.values,
            errors=form.errors,
            rows=rows,
            message=headline,
            refused_cap=cap,
            held=held,
            files_dropped=not form.token and (bool(application.files) or bool(form.files)),
            **context,
        )

    @get("/{release_id:int}")
    async def release(self, request: Request, release_id: FromPath[int]) -> Response:
        found = await pages.run(_release, request, release_id)
        return _render(request, "portal/releases/detail.html", release=found)
