"""Public voucher verification for buyers (CONTRACT.md §3, Public): no key, rate-limited per client.

`GET /api/v1/public/vouchers/{voucher_no}?code=CODE` answers 200 with the voucher, or one identical 404 for
"no such voucher", "wrong code" and a malformed number or code, or 429 with Retry-After once the client
has made too many look-ups (or too many failed ones) in the current minute. The phone page at
`/verify/{voucher_no}` (escrow.web.public) shares the same look-up and the same count.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from escrow.api.deps import runtime
from escrow.api.problems import PROBLEM, problem
from escrow.api.responses import DocumentedOperation, Problem, answers
from escrow.services import ratelimit, vouchers

LIMIT_STATE = "voucher_lookup_limit"
NO_MATCH = "no voucher matches this number and verification code"
NO_STORE = {"Cache-Control": "no-store"}


RATE_LIMITED = ResponseSpec(
    data_container=Problem,
    description="Too many look-ups (or failed look-ups) from this client in the current minute; retry after "
    "the Retry-After seconds",
    media_type=PROBLEM,
    generate_examples=False,
)


def lookup_limit(request: Request) -> ratelimit.Limit:
    """The limit set on the application (`create_app`), else the environment's."""
    limit = request.app.state.get(LIMIT_STATE)
    if limit is None:
        limit = ratelimit.Limit.from_env()
        request.app.state[LIMIT_STATE] = limit
    return limit


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (uvicorn applies X-Forwarded-For only from the proxies it
    trusts: `--forwarded-allow-ips`, loopback by default)."""
    return request.client.host if request.client else None


def run_lookup(request: Request, voucher_no: str | None, code: str | None) -> vouchers.Lookup:
    ctx = runtime(request).ctx
    return vouchers.verify(ctx, voucher_no, code, client_address(request), lookup_limit(request))


def language(lang: str | None) -> str:
    return "en" if (lang or "").strip().lower().startswith("en") else "zh"


class PublicController(Controller):
    path = "/api/v1/public"
    tags = ["public"]

    @get(
        "/vouchers/{voucher_no:str}",
        sync_to_thread=True,
        summary="Verify a payment voucher (缴款凭证) by its number and verification code; no key needed",
        description="Answers the same 404 for an unknown voucher, a wrong code and malformed input. Every "
        "look-up counts against the client's limit (default 60 a minute, 10 of them failed); over it: 429 "
        "with Retry-After. The phone page /verify/{voucher_no}?code=… shares the count.",
        operation_class=DocumentedOperation,
        responses={
            **answers({200: (vouchers.PublicVoucher, "The voucher, with its status in words")}, 404),
            429: RATE_LIMITED,
        },
    )
    def voucher(
        self,
        request: Request,
        voucher_no: FromPath[str],
        code: Annotated[
            str | None, QueryParameter(description="the verification code printed on the voucher")
        ] = None,
        lang: Annotated[str | None, QueryParameter(description="zh (default) or en")] = None,
    ) -> Response:
        result = run_lookup(request, voucher_no, code)
        if result.limited:
            return problem(
                429,
                "rate-limited",
                f"too many voucher look-ups from this address; try again in {result.retry_after} seconds",
                headers={"Retry-After": str(result.retry_after), **NO_STORE},
            )
        if result.found is None:
            return problem(404, "not-found", NO_MATCH, headers=NO_STORE)
        return Response(content=result.found.view(language(lang)), status_code=200, headers=NO_STORE)
