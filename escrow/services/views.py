"""Views as plain values: what the API writes for a view (money as decimal strings, dates in ISO 8601),
for audit records, pages and callers that want a dict."""

from __future__ import annotations

from typing import Any

import msgspec


def wire(view: Any) -> Any:
    return msgspec.to_builtins(view)
