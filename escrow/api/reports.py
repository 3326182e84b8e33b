"""PDF downloads and report jobs (CONTRACT.md §5).

Quick documents render on the request (well under a second): a voucher (`GET /vouchers/{voucher_no}/pdf`),
a payment notice (`GET /notices/{notice_no}/pdf`), a release approval form (`GET /releases/{id}/pdf`).
Reports that may take seconds — an account's month, the city — are jobs: `POST /reports` answers 202 with
the job, a worker process renders it, `GET /reports/{job_id}` tells its status and `GET
/reports/{job_id}/file` hands over the PDF once it is done. Any kind may be asked for as a job.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from escrow.api.deps import Id, runtime, services
from escrow.api.idempotency import idempotent
from escrow.api.problems import ProblemException
from escrow.api.routes import KeyedController, read_route, write_route
from escrow.api.schemas import line, said
from escrow.domain.principal import Principal
from escrow.services import reportjobs

RUNNER_STATE = "report_runner"
PDF = "application/pdf"


_MONTH = r"^[0-9]{4}-[0-9]{2}$"


class ReportIn(BaseModel):
    """What to render. `kind` picks the report; give the parameters it takes and no others."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["voucher", "notice", "release", "monthly", "city"]
    voucher_no: line(64) | None = Field(None, description="voucher", json_schema_extra=said(line(64)))
    notice_no: line(64) | None = Field(None, description="notice", json_schema_extra=said(line(64)))
    release_id: Annotated[int | None, Field(ge=1, le=2**31 - 1, description="release")] = None
    account_no: line(40) | None = Field(None, description="monthly", json_schema_extra=said(line(40)))
    year: Annotated[int | None, Field(ge=2000, le=2999, description="monthly")] = None
    month: Annotated[
        int | Annotated[str, StringConstraints(pattern=_MONTH)] | None,
        # a pattern applies to strings only (JSON Schema): said beside the oneOf, where Litestar keeps it
        Field(
            description="monthly: 1–12 with `year`, or YYYY-MM",
            examples=["2026-10"],
            json_schema_extra={"pattern": _MONTH},
        ),
    ] = None
    start: Annotated[date | None, Field(alias="from", description="city: first day")] = None
    end: Annotated[date | None, Field(alias="to", description="city: last day")] = None

    def params(self) -> dict[str, Any]:
        return self.model_dump(exclude={"kind"}, exclude_none=True)


def _pdf_spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=bytes, description=description, media_type=PDF, generate_examples=False
    )


def pdf_response(pdf: reportjobs.Pdf) -> Response:
    return Response(
        content=pdf.content,
        media_type=PDF,
        headers={
            "Content-Disposition": f'attachment; filename="{pdf.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def runner(request: Request) -> reportjobs.ReportRunner:
    found = request.app.state.get(RUNNER_STATE)
    if found is None:
        rt = runtime(request)
        found = reportjobs.ReportRunner(rt.ctx.engine, rt.ctx.settings)
        request.app.state[RUNNER_STATE] = found
    return found


def _render_now(request: Request, principal: Principal, kind: str, **params: Any) -> Response:
    return pdf_response(reportjobs.render_now(services(request), principal, kind, **params))


class ReportController(KeyedController):
    tags = ["reports"]

    @read_route(
        "/vouchers/{voucher_no:str}/pdf",
        "The payment voucher (缴款凭证) as PDF, with the QR code of its verify page",
        errors=(404,),
        success={200: _pdf_spec("The voucher")},
        description="For the bank that supervises the account, the project's developer and bureau users.",
    )
    def voucher_pdf(
        self, request: Request, voucher_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> Response:
        return _render_now(request, principal, "voucher", voucher_no=voucher_no)

    @read_route(
        "/notices/{notice_no:str}/pdf",
        "The payment notice (缴款通知书) as PDF",
        errors=(404,),
        success={200: _pdf_spec("The notice")},
        description="For the bank that supervises the account, the project's developer and bureau users.",
    )
    def notice_pdf(
        self, request: Request, notice_no: FromPath[str], principal: NamedDependency[Principal]
    ) -> Response:
        return _render_now(request, principal, "notice", notice_no=notice_no)

    @read_route(
        "/releases/{release_id:int}/pdf",
        "The release approval form (拨付审批表) as PDF: the cap explanation and every approval step",
        errors=(404,),
        success={200: _pdf_spec("The approval form")},
        description="For the developer who applied and bureau users.",
    )
    def release_pdf(
        self, request: Request, release_id: Id, principal: NamedDependency[Principal]
    ) -> Response:
        return _render_now(request, principal, "release", release_id=release_id)

    @write_route(
        "/reports",
        "Ask for a report; it renders in the background",
        "The job, queued",
        status_code=202,
        description="`monthly` (account_no with year and month, or month as YYYY-MM) for the account's bank, "
        "developer and bureau users; `city` (from, to) for bureau users; `voucher`, `notice`, `release` as "
        "their download links allow. Answers 202 with the job; poll GET /reports/{job_id}.",
    )
    @idempotent
    def request_report(
        self, request: Request, data: JSONBody[ReportIn], principal: NamedDependency[Principal]
    ) -> reportjobs.ReportJobView:
        ctx = services(request)
        job = reportjobs.request(ctx, principal, data.kind, data.params())
        runner(request).submit(job.job_id, ctx.today())  # committed: hand it to the worker
        return job

    @read_route("/reports/{job_id:int}", "A report job's status", "The job", (404,))
    def job(
        self, request: Request, job_id: Id, principal: NamedDependency[Principal]
    ) -> reportjobs.ReportJobView:
        return reportjobs.job(services(request), principal, job_id)

    @read_route(
        "/reports/{job_id:int}/file",
        "A finished report job's PDF",
        errors=(404, 409),
        success={200: _pdf_spec("The report")},
        description="409 while the job is queued or running (retry after Retry-After seconds), or if "
        "it failed.",
    )
    def job_file(self, request: Request, job_id: Id, principal: NamedDependency[Principal]) -> Response:
        try:
            return pdf_response(reportjobs.job_file(services(request), principal, job_id))
        except reportjobs.ReportNotReady as exc:
            if exc.retry:
                raise ProblemException(
                    409, "report-not-ready", exc.detail, headers={"Retry-After": "2"}
                ) from None
            raise ProblemException(409, "report-failed", exc.detail) from None
