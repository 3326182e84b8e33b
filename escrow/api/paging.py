"""Lists answer a page at a time (CONTRACT.md §10), all alike: `limit` (default 100, at most 1000) and an
opaque `cursor` in the query; the body stays a JSON array; when more follow, the answer's
`Link: </api/v1/…?…&cursor=…&limit=N>; rel="next"` keeps the request's other query parameters. A handler
declares its route with `list_route` (escrow.api.routes), takes `page: Page` and answers `paged(request, …)`
with what its use case read (escrow.domain.paging: a keyset on the list's order, in the store query)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.di import Provide
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Parameter, Schema

from escrow.api.responses import DocumentedOperation
from escrow.domain.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, Paged, decode_cursor, encode_cursor, limit_of

T = TypeVar("T")

LIMIT = Parameter(
    name="limit",
    param_in=ParamType.QUERY,
    required=False,
    description=f"At most this many items (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}); outside: 422.",
    schema=Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT),
)
CURSOR = Parameter(
    name="cursor",
    param_in=ParamType.QUERY,
    required=False,
    description='Where the page starts: the cursor of the previous page\'s `Link: <…>; rel="next"` header, '
    "passed back as it came (opaque). Absent: the first page. One this list did not give: 422.",
    schema=Schema(type=OpenAPIType.STRING, max_length=200),
)
LINK = OpenAPIHeader(
    description='When more items follow: `<path?query&cursor=…&limit=N>; rel="next"`, the URL of the next '
    "page (the request's other query parameters kept). Absent on the last page.",
    schema=Schema(type=OpenAPIType.STRING),
)


def page_from(keys: int) -> Callable[[Request], Page]:
    """The `page` dependency of a list ordered by `keys` order keys: the query's limit and cursor."""

    def page(request: Request) -> Page:
        query = request.query_params
        limit = limit_of(query.get("limit"))
        cursor = query.get("cursor")
        return Page(limit, decode_cursor(cursor, keys) if cursor is not None else None)

    return page


def paged(request: Request, result: Paged[T]) -> Response[list[T]]:
    """The page as a JSON array, with the Link to the next one when more follow."""
    headers = {}
    if result.next is not None:
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")]
        query += [
            ("cursor", encode_cursor(result.next)),
            ("limit", str(limit_of(request.query_params.get("limit")))),
        ]
        headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
    return Response(content=result.items, headers=headers)


@dataclass
class ListOperation(DocumentedOperation):
    """A list: documents `limit`, `cursor` and the `Link` header of its answer."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.parameters = [*(self.parameters or []), LIMIT, CURSOR]
        for status, response in self.responses.items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), "Link": LINK}


def list_options(keys: int) -> dict[str, Any]:
    """What a list's route adds to a read route (escrow.api.routes.list_route)."""
    return {
        "operation_class": ListOperation,
        "dependencies": {"page": Provide(page_from(keys), sync_to_thread=False)},
    }
