"""Portal: contracts (list, register, one contract, cancel) and payment notices (issue, print, PDF).

Every handler acts as the signed-in developer (`sessions.principal`) through the services the developer API
calls (escrow.services.sales, refunds); another developer's contract or notice is NotFound → the 404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from math import ceil
from typing import Any
from urllib.parse import quote_plus

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from escrow.domain.identity import id_problem, mask_name
from escrow.domain.money import from_fen, to_wire
from escrow.services import refunds, sales
from escrow.services.context import Context
from escrow.services.views import wire
from escrow.web.portal.common import (
    NOTICE_KINDS,
    PER_PAGE,
    area,
    day,
    developer_id,
    identifier,
    labels,
    mask_id,
    money,
    page_number,
    text,
    url_part,
)
from escrow.web.shell import exports, once, pages, sessions
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

CONTRACT_FIELDS = (
    "permit_no",
    "contract_no",
    "buyer_name",
    "buyer_id_no",
    "unit",
    "area_m2",
    "total_price",
    "signed_on",
)


def _render(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    return pages.render(request, template, status=status, **labels(pages.gettext(request)), **context)


def _refusal(request: Request, form: pages.Form, exc: DomainError) -> tuple[str, int]:
    """A service's refusal as field errors on `form` and a headline; the status to answer with."""
    headline, errors = pages.field_errors(request, exc)
    for name, message in errors.items():
        form.error(name, message)
    return headline, (409 if isinstance(exc, Conflict) else 422)


# --- queries (each a service read in its own read-only unit of work) --------------------------------------


def _project_options(request: Request) -> list[tuple[str, str]]:
    rows = sales.projects_of(pages.ctx(request), developer_id(request))
    return [(p.permit_no, f"{p.name} · {p.permit_no}") for p, _ in rows]


def _listing(request: Request, q: str, page: int) -> dict[str, Any]:
    rows, total, paid = sales.contracts_of(
        pages.ctx(request), developer_id(request), q, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
    )
    return {
        "total": total,
        "pages": max(1, ceil(total / PER_PAGE)),
        "contracts": [
            {
                "contract_no": c.contract_no,
                "url": f"/developer/contracts/{url_part(c.contract_no)}",
                "project_name": p.name,
                "buyer_name": mask_name(c.buyer_name),
                "buyer_id_no": mask_id(c.buyer_id_no),
                "unit": c.unit,
                "area_m2": to_wire(Decimal(c.area_x100) / 100),
                "total_price": to_wire(from_fen(c.total_price_fen)),
                "paid": to_wire(from_fen(paid.get(c.id, 0))),
                "signed_on": c.signed_on,
                "status": c.status,
            }
            for c, p in rows
        ],
    }


def _contract_table(request: Request, q: str) -> exports.Table:
    """Every contract of this developer that the search selects, as the download holds them."""
    _ = pages.gettext(request)
    rows, total, paid = sales.contracts_of(
        pages.ctx(request), developer_id(request), q, offset=0, limit=exports.MAX_ROWS
    )
    exports.check_size(total, _)
    status = labels(_)["status_label"]
    headings = (
        N_("Contract no."), N_("Project"), N_("Buyer"), N_("ID number"), N_("Unit"), N_("Area (m²)"),
        N_("Total price"), N_("Paid"), N_("Signed on"), N_("Status"),
    )  # fmt: skip
    cells = [
        (
            c.contract_no,
            p.name,
            mask_name(c.buyer_name),  # masked, as the page shows them
            mask_id(c.buyer_id_no),
            c.unit,
            Decimal(c.area_x100).scaleb(-2),
            from_fen(c.total_price_fen),
            from_fen(paid.get(c.id, 0)),
            c.signed_on,
            status(c.status),
        )
        for c, p in rows
    ]
    return exports.Table([_(h) for h in headings], cells)


def _contract(request: Request, contract_no: str) -> dict[str, Any]:
    """The contract with what was paid, its notices, vouchers and refund; NotFound unless it is ours."""
    record = sales.contract_record(pages.ctx(request), contract_no, sessions.principal(request))
    contract, refund = record.contract, record.refund
    view = wire(record.view)
    view.update(
        url=f"/developer/contracts/{url_part(contract.contract_no)}",
        project_name=record.project.name,
        buyer_name=mask_name(contract.buyer_name),
        buyer_id_no=mask_id(contract.buyer_id_no),
        paid=to_wire(from_fen(record.paid_fen)),
        has_paid=record.paid_fen > 0,
        asked=to_wire(from_fen(record.asked_fen)),
        still_owed=to_wire(from_fen(max(0, contract.total_price_fen - record.asked_fen))),
        notices=[
            {
                "notice_no": n.notice_no,
                "kind": n.kind,
                "amount": to_wire(from_fen(n.amount_fen)),
                "due_on": n.due_on,
                "status": n.status,
            }
            for n in record.notices
        ],
        vouchers=[
            {
                "voucher_no": v.voucher_no,
                "status": v.status,
                "amount": to_wire(from_fen(d.amount_fen)),
                "value_date": d.value_date,
            }
            for v, d in record.vouchers
        ],
        refund=(
            {
                "refund_id": refund.id,
                "amount": to_wire(from_fen(refund.amount_fen)),
                "status": refund.status,
                "reason": refund.reason,
            }
            if refund
            else None
        ),
    )
    return view


def _notice(request: Request, notice_no: str) -> dict[str, Any]:
    """The notice with its contract, project and the account to pay into; NotFound unless it is ours."""
    record = sales.notice_record(pages.ctx(request), notice_no, sessions.principal(request))
    contract, project = record.contract, record.project
    view = wire(record.view)
    view.update(
        contract_url=f"/developer/contracts/{url_part(contract.contract_no)}",
        buyer_name=contract.buyer_name,  # the notice is handed to the buyer: their own name in full
        unit=contract.unit,
        project_name=project.name,
        permit_no=project.permit_no,
        developer_name=sessions.user(request).developer_name or "",
        issued_on=record.notice.created_at.date(),
    )
    return view


def _notice_pdf(request: Request, notice_no: str) -> tuple[str, bytes]:
    return sales.notice_pdf(pages.ctx(request), notice_no, sessions.principal(request))


# --- commands (each one use case in its own unit of work) ------------------------------------------------


def _register(request: Request, cmd: sales.RegisterContract) -> Callable[[Context], sales.ContractView]:
    actor = sessions.principal(request)
    return lambda ctx: sales.register(ctx, cmd, actor)


def _issue(request: Request, cmd: sales.IssueNotice) -> Callable[[Context], sales.NoticeView]:
    actor = sessions.principal(request)
    return lambda ctx: sales.issue(ctx, cmd, actor)


def _cancel(request: Request, cmd: refunds.CancelContract) -> Callable[[Context], object]:
    """The cancellation and the refund it starts (the refund application), as the form's work."""
    actor = sessions.principal(request)
    return lambda ctx: refunds.cancel(ctx, cmd, actor)


# --- form reading -----------------------------------------------------------------------------------------


def _buyer_id(form: pages.Form, _: Callable[..., str]) -> str:
    value = form.get("buyer_id_no").upper()
    if not value:
        form.error("buyer_id_no", _("Required."))
        return value
    problem = id_problem(value)
    if problem is None:
        return value
    if problem.startswith("resident ID check character"):
        form.error(
            "buyer_id_no",
            _("The check character (the last one) does not match this resident ID number: please check it."),
        )
    elif problem.startswith("resident ID must end"):
        form.error("buyer_id_no", _("A resident ID number ends in a digit or the letter X."))
    else:
        form.error(
            "buyer_id_no",
            _("Enter an 18-character resident ID number, or a passport or permit number of 6–20 letters."),
        )
    return value


def _contract_command(form: pages.Form, _: Callable[..., str]) -> sales.RegisterContract | None:
    permit_no = identifier(form, "permit_no", _)
    contract_no = identifier(form, "contract_no", _)
    buyer_name = text(form, "buyer_name", _, limit=200)
    buyer_id_no = _buyer_id(form, _)
    unit = text(form, "unit", _, limit=64)
    area_m2 = area(form, "area_m2", _)
    total_price = money(form, "total_price", _)
    signed_on = day(form, "signed_on", _)
    if not form.ok:
        return None
    return sales.RegisterContract(
        permit_no=permit_no,
        contract_no=contract_no,
        buyer_name=buyer_name,
        buyer_id_no=buyer_id_no,
        unit=unit,
        area_m2=area_m2,
        total_price=total_price,
        signed_on=signed_on,
    )


def _notice_kinds(_: Callable[..., str]) -> list[tuple[str, str]]:
    return [(kind, _(label)) for kind, label in NOTICE_KINDS.items()]


async def _contract_page(
    request: Request,
    template: str,
    contract_no: str,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page about one contract with a form on it: blank, or as it was sent with what is wrong in it."""
    found = await pages.run(_contract, request, contract_no)
    return _render(request, template, contract=found, values=values, errors=errors or {}, **context)


def _blank_notice(request: Request) -> dict[str, Any]:
    """The payment-notice form before anything is typed (the contract page carries one too)."""
    return {"values": {"kind": "down_payment"}, "kinds": _notice_kinds(pages.gettext(request))}


class ContractsController(Controller):
    path = "/developer/contracts"
    include_in_schema = False
    guards = [requires("portal.view", "portal.contracts")]

    @get("/")
    async def contracts(self, request: Request) -> Response:
        q = (request.query_params.get("q") or "").strip()[:100]
        page = page_number(request.query_params.get("page"))
        fmt = exports.requested(request)
        if fmt:
            table = await pages.run(_contract_table, request, q)
            return await exports.download(request, "contracts", fmt, table)
        found = await pages.run(_listing, request, q, page)
        search = f"&q={quote_plus(q)}" if q else ""
        return _render(
            request,
            "portal/contracts/list.html",
            q=q,
            page=page,
            page_url=lambda n: f"/developer/contracts?page={n}{search}",
            **found,
        )

    @get("/new")
    async def new_contract(self, request: Request) -> Response:
        options = await pages.run(_project_options, request)
        values = {"permit_no": options[0][0]} if len(options) == 1 else {}
        return _render(request, "portal/contracts/new.html", values=values, errors={}, projects=options)

    @post("/new", status_code=303)
    async def register_contract(self, request: Request) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        cmd = _contract_command(form, _)
        headline, status = _("Please correct the marked fields"), 422
        if cmd is not None:
            try:
                return await once.submit(
                    request,
                    form,
                    _register(request, cmd),
                    lambda view: f"/developer/contracts/{url_part(view.contract_no)}",
                    notice="contract_registered",
                )
            except NotFound:
                form.error("permit_no", _("Choose one of your projects."))
            except Conflict as exc:
                headline, status = _refusal(request, form, exc)
                form.error("contract_no", _("A contract with this number is already registered."))
            except InvalidInput as exc:
                headline, status = _refusal(request, form, exc)
        options = await pages.run(_project_options, request)
        values = {name: form.get(name) for name in CONTRACT_FIELDS}
        return _render(
            request,
            "portal/contracts/new.html",
            status=status,
            values=values,
            errors=form.errors,
            message=headline,
            projects=options,
        )

    @get("/{contract_no:str}")
    async def contract(self, request: Request, contract_no: FromPath[str]) -> Response:
        return await _contract_page(
            request, "portal/contracts/detail.html", contract_no, **_blank_notice(request)
        )

    @get("/{contract_no:str}/cancellation")
    async def cancellation_form(self, request: Request, contract_no: FromPath[str]) -> Response:
        return await _contract_page(request, "portal/contracts/cancel.html", contract_no, values={})

    @post("/{contract_no:str}/cancellation", status_code=303)
    async def cancel(self, request: Request, contract_no: FromPath[str]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        reason = text(form, "reason", _, limit=500)
        headline, status = _("Please correct the marked fields"), 422
        if form.ok:
            try:
                return await once.submit(
                    request,
                    form,
                    _cancel(request, refunds.CancelContract(contract_no, reason)),
                    lambda _view: f"/developer/contracts/{url_part(contract_no)}",
                    notice="contract_cancelled",
                )
            except (InvalidInput, Conflict) as exc:
                headline, status = _refusal(request, form, exc)
                if isinstance(exc, Conflict):
                    headline = _("This contract is already cancelled.")
        return await _contract_page(
            request,
            "portal/contracts/cancel.html",
            contract_no,
            values={"reason": reason},
            errors=form.errors,
            status=status,
            message=headline,
        )


class NoticesController(Controller):
    path = "/developer"
    include_in_schema = False
    guards = [requires("portal.view", "portal.notices")]

    @get("/contracts/{contract_no:str}/notices/new")
    async def new_notice(self, request: Request, contract_no: FromPath[str]) -> Response:
        return await _contract_page(
            request, "portal/contracts/notice_new.html", contract_no, **_blank_notice(request)
        )

    @post("/contracts/{contract_no:str}/notices/new", status_code=303)
    async def issue_notice(self, request: Request, contract_no: FromPath[str]) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        kind = form.get("kind")
        if kind not in NOTICE_KINDS:
            form.error("kind", _("Choose the kind of payment."))
        amount = money(form, "amount", _)
        due_on = day(form, "due_on", _)
        headline, status = _("Please correct the marked fields"), 422
        if form.ok:
            try:
                return await once.submit(
                    request,
                    form,
                    _issue(request, sales.IssueNotice(contract_no, kind, amount, due_on)),
                    lambda view: f"/developer/notices/{url_part(view.notice_no)}",
                    notice="notice_issued",
                )
            except InvalidInput as exc:
                headline, status = _refusal(request, form, exc)
                if exc.rule == "contract_not_cancelled":
                    headline = _("This contract is cancelled: no more notices can be issued for it.")
        return await _contract_page(
            request,
            "portal/contracts/notice_new.html",
            contract_no,
            values={name: form.get(name) for name in ("kind", "amount", "due_on")},
            errors=form.errors,
            status=status,
            message=headline,
            kinds=_notice_kinds(_),
        )

    @get("/notices/{notice_no:str}")
    async def notice(self, request: Request, notice_no: FromPath[str]) -> Response:
        # `/developer/notices/{notice_no}.pdf` is the same notice as PDF (notice numbers never end in .pdf)
        if notice_no.lower().endswith(".pdf"):
            name, content = await pages.run(_notice_pdf, request, notice_no[:-4])
            return Response(
                content=content,
                media_type="application/pdf",
                headers={
                    "Content-Disposition": f'inline; filename="{name}"',
                    "Cache-Control": "private, no-store",
                    "X-Content-Type-Options": "nosniff",
                },
            )
        found = await pages.run(_notice, request, notice_no)
        return _render(request, "portal/contracts/notice.html", payment=found)
