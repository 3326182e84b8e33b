"""Public voucher verification and contract look-up for buyers (CONTRACT.md §3 Public, §10): no key,
rate-limited per client (one limit for both look-ups).

`GET /api/v1/public/vouchers/{voucher_no}?code=CODE` answers 200 with the voucher, or one identical 404 for
"no such voucher", "wrong code" and a malformed number or code, or 429 with Retry-After once the client
has made too many look-ups (or too many failed ones) in the current minute. The phone page at
`/verify/{voucher_no}` (escrow.web.public) shares the same look-up and the same count.

`GET /api/v1/public/contracts/{contract_no}?id_last6=XXXXXX` answers 200 with the buyer's contract, or one
identical 404 for "no such contract" and "wrong ID suffix", 422 for a suffix that is not six letters or
digits, or 429 — counted in the same bucket as the voucher look-up. The phone page is `/verify/contract`.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.concurrency import sync_to_thread
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from escrow.api.deps import runtime
from escrow.api.problems import PROBLEM, problem
from escrow.api.responses import DocumentedOperation, Problem, answers
from escrow.services import contract_lookup, ratelimit, vouchers

LIMIT_STATE = "voucher_lookup_limit"
NO_MATCH = "no voucher matches this number and verification code"
NO_CONTRACT = "no contract matches this number and ID number suffix"
NO_STORE = {"Cache-Control": "no-store"}


RATE_LIMITED = ResponseSpec(
    data_container=Problem,
    description="Too many look-ups (or failed look-ups) from this client in the current minute; retry after "
    "the Retry-After seconds",
    media_type=PROBLEM,
    generate_examples=False,
)


_SUFFIX_IN_QUERY = re.compile(r"(?i)(\bid_last6=)[^&\s\"]*")


def hide_id_suffix(text: str) -> str:
    """`…?id_last6=00011X&lang=en` → `…?id_last6=******&lang=en`: no log line keeps a buyer's ID suffix."""
    return _SUFFIX_IN_QUERY.sub(r"\1******", text)


class HideIdSuffix(logging.Filter):
    """On the server's access log (uvicorn's `"%s - "%s %s HTTP/%s" %d'`, the path with its query among the
    arguments) and on any record whose message holds a request line: the ID suffix is masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(a, str) and "id_last6" in a for a in record.args
        ):
            record.args = tuple(hide_id_suffix(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "id_last6" in record.msg:
            record.msg = hide_id_suffix(record.msg)
        return True


def hide_id_suffix_in_logs(*names: str) -> None:
    """Put `HideIdSuffix` on the named loggers (uvicorn's access and error logs by default), once."""
    for name in names or ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, HideIdSuffix) for f in logger.filters):
            logger.addFilter(HideIdSuffix())


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


async def look_up_voucher(request: Request, voucher_no: str | None, code: str | None) -> vouchers.Lookup:
    """`run_lookup`, where it costs least. On SQLite the look-up and its count are two statements in this
    process, well under a millisecond: they run on the event loop (`verify_at_once`), sparing the hop to a
    worker thread and back, unless another writer holds the file. PostgreSQL's round trips, and a SQLite
    file that is busy, wait in a worker thread, so that the loop serves other requests meanwhile."""
    ctx = runtime(request).ctx
    if ctx.engine is not None and ctx.engine.dialect.name == "sqlite":
        found = vouchers.verify_at_once(ctx, voucher_no, code, client_address(request), lookup_limit(request))
        if found is not None:
            return found
    return await sync_to_thread(run_lookup, request, voucher_no, code)


def language(lang: str | None) -> str:
    return "en" if (lang or "").strip().lower().startswith("en") else "zh"


def asked_language(request: Request, lang: str | None) -> str:
    """`lang` when given, else the first language of Accept-Language that is Chinese or English; Chinese by
    default."""
    if (lang or "").strip():
        return language(lang)
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith(("en", "zh")):
            return "en" if tag.startswith("en") else "zh"
    return "zh"


def run_contract_lookup(
    request: Request, contract_no: str | None, id_last6: str | None
) -> contract_lookup.Lookup:
    ctx = runtime(request).ctx
    return contract_lookup.look_up(ctx, contract_no, id_last6, client_address(request), lookup_limit(request))


def rate_limited(result: vouchers.Lookup | contract_lookup.Lookup) -> Response:
    return problem(
        429,
        "rate-limited",
        f"too many look-ups from this address; try again in {result.retry_after} seconds",
        headers={"Retry-After": str(result.retry_after), **NO_STORE},
    )


class PublicController(Controller):
    path = "/api/v1/public"
    tags = ["public"]

    @get(
        "/vouchers/{voucher_no:str}",
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
    async def voucher(
        self,
        request: Request,
        voucher_no: FromPath[str],
        code: Annotated[
            str | None, QueryParameter(description="the verification code printed on the voucher")
        ] = None,
        lang: Annotated[str | None, QueryParameter(description="zh (default) or en")] = None,
    ) -> Response:
        result = await look_up_voucher(request, voucher_no, code)
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

    @get(
        "/contracts/{contract_no:str}",
        sync_to_thread=True,
        operation_id="getPublicContract",
        summary="A buyer's own contract: payments with their voucher status, the paid total and the nodes "
        "reached; no key needed",
        description="The contract number and the last 6 characters of the buyer's ID number (`id_last6`, "
        "X in either case) stand in for a key. An unknown contract and a wrong suffix answer the same 404; "
        "a suffix that is not 6 letters or digits answers 422. `paid_total` counts the payments neither "
        "reversed nor refunded. Node names in `lang` (or Accept-Language): zh (default) or en. Every look-up "
        "counts against the client's limit shared with the voucher look-up (default 60 a minute, 10 of "
        "them failed); over it: 429 with Retry-After. The phone page is /verify/contract.",
        operation_class=DocumentedOperation,
        responses={
            **answers(
                {200: (contract_lookup.PublicContract, "The contract, its payments and nodes")}, 404, 422
            ),
            429: RATE_LIMITED,
        },
    )
    def contract(
        self,
        request: Request,
        contract_no: FromPath[str],
        id_last6: Annotated[
            str | None,
            QueryParameter(description="the last 6 characters of the buyer's ID number"),
        ] = None,
        lang: Annotated[str | None, QueryParameter(description="zh (default) or en")] = None,
    ) -> Response:
        result = run_contract_lookup(request, contract_no, id_last6)
        if result.limited:
            return rate_limited(result)
        if result.found is None:
            return problem(404, "not-found", NO_CONTRACT, headers=NO_STORE)
        view = result.found.view(asked_language(request, lang))
        return Response(content=view, status_code=200, headers=NO_STORE)
