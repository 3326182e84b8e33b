"""PDF reports (CONTRACT.md §5): `render(kind, uow, ctx, **params) -> (filename, PDF bytes)`.

- `voucher` (`voucher_no`): 缴款凭证, with the QR code of its verify URL;
- `notice` (`notice_no`): 缴款通知书;
- `release` (`release_id`): 拨付审批表, with the cap explanation and every approval step;
- `monthly` (`account_no`, `year`, `month`): one account's month, 月度对账单;
- `city` (`start`, `end`: dates): a period's figures across all accounts.

Parameters may be given typed (int, date) or as strings (`"2026"`, `"2026-10-01"`); `month` may also be
`"2026-10"` when `year` is left out. An unknown kind or a bad parameter raises InvalidInput; an unknown
voucher, notice, release or account raises NotFound; a month before the account opened or in the future,
or a city period with no accounts, raises InvalidInput — each with a message a person can act on.

`render` reads through the unit of work and writes nothing; it does not check who may see the report (the
API and the report jobs do: `escrow.services.reportjobs.check_access`). Templates are reports/<kind>.html
sharing reports/style.css (`ctx.settings.reports_dir`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from escrow.domain.errors import FieldError, InvalidInput, NotFound
from escrow.domain.identifiers import identifier_problem
from escrow.services.context import Context
from escrow.store.db import UnitOfWork

from . import data, pdf
from .numerals import capital_amount

__all__ = ["KINDS", "PARAMS", "capital_amount", "check", "filename", "html", "normalise", "render"]

KINDS = ("voucher", "notice", "release", "monthly", "city")
PARAMS: dict[str, tuple[str, ...]] = {
    "voucher": ("voucher_no",),
    "notice": ("notice_no",),
    "release": ("release_id",),
    "monthly": ("account_no", "year", "month"),
    "city": ("start", "end"),
}
_SAFE = re.compile(r"[^0-9A-Za-z._-]+")


def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{name}: {message}", errors=[FieldError(name, message)])


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or not str(value).strip():
        raise _invalid(name, "required")
    text = str(value).strip()
    if len(text) > 64:
        raise _invalid(name, "too long")
    return text


def _int(params: dict[str, Any], name: str, low: int, high: int) -> int:
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _invalid(name, "required")
    if isinstance(value, bool):
        raise _invalid(name, "must be a whole number")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise _invalid(name, "must be a whole number") from None
    if not low <= number <= high:
        raise _invalid(name, f"must be between {low} and {high}")
    return number


def _date(params: dict[str, Any], name: str) -> date:
    value = params.get(name)
    if isinstance(value, date):
        return value
    if value is None or not str(value).strip():
        raise _invalid(name, "required")
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _invalid(name, "must be a date such as 2026-11-22") from None


def normalise(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `kind`, checked and typed. Unknown names are refused (a typo must not be ignored)."""
    if kind not in KINDS:
        raise InvalidInput(
            f"unknown report kind {kind!r}; known: {', '.join(KINDS)}", errors=[FieldError("kind", "unknown")]
        )
    params = {k: v for k, v in params.items() if v is not None}
    if kind == "monthly" and "year" not in params and isinstance(params.get("month"), str):
        match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", params["month"])
        if match is None:
            raise _invalid("month", "must be YYYY-MM, or give year and month")
        params["year"], params["month"] = match.group(1), match.group(2)
    unknown = sorted(set(params) - set(PARAMS[kind]))
    if unknown:
        raise InvalidInput(
            f"a {kind} report takes {', '.join(PARAMS[kind])}; not {', '.join(unknown)}",
            errors=[FieldError(name, "not a parameter of this report") for name in unknown],
        )
    if kind in ("voucher", "notice"):  # document numbers, from the CLI or the API: the one rule
        name = f"{kind}_no"
        number = _text(params, name)
        refused = identifier_problem(number)
        if refused is not None:
            raise _invalid(name, refused.message)
        return {name: number.upper()}
    if kind == "release":
        return {"release_id": _int(params, "release_id", 1, 2**31 - 1)}
    if kind == "monthly":
        account_no, month = _text(params, "account_no"), _int(params, "month", 1, 12)
        return {"account_no": account_no, "year": _int(params, "year", 2000, 2999), "month": month}
    return {"start": _date(params, "start"), "end": _date(params, "end")}


def filename(kind: str, params: dict[str, Any]) -> str:
    """An ASCII file name for the report: voucher-PZ202611220000001.pdf, monthly-6222…-2026-10.pdf."""
    p = normalise(kind, params)
    if kind == "voucher":
        stem = f"voucher-{p['voucher_no']}"
    elif kind == "notice":
        stem = f"notice-{p['notice_no']}"
    elif kind == "release":
        stem = f"release-{p['release_id']}"
    elif kind == "monthly":
        stem = f"monthly-{p['account_no']}-{p['year']}-{p['month']:02d}"
    else:
        stem = f"city-{p['start']}-to-{p['end']}"
    return _SAFE.sub("_", stem) + ".pdf"


def check(kind: str, uow: UnitOfWork, ctx: Context, **params: Any) -> dict[str, Any]:
    """What `render` would refuse, found without rendering (to refuse a report job when it is asked for):
    the typed parameters, or NotFound / InvalidInput."""
    from escrow.store.reads.reports import ReportQueries

    p = normalise(kind, params)
    q = ReportQueries(uow.session)
    if kind == "voucher" and q.voucher(p["voucher_no"]) is None:
        raise NotFound(f"no voucher {p['voucher_no']}")
    if kind == "notice" and q.notice(p["notice_no"]) is None:
        raise NotFound(f"no payment notice {p['notice_no']}")
    if kind == "release" and uow.releases.get(p["release_id"]) is None:
        raise NotFound(f"no release {p['release_id']}")
    if kind == "monthly":
        data.check_monthly(uow, ctx, **p)
    if kind == "city":
        data.check_city(uow, ctx, **p)
    return p


def _values(kind: str, uow: UnitOfWork, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    builders: dict[str, Callable[..., dict[str, Any]]] = {
        "voucher": data.voucher,
        "notice": data.notice,
        "release": data.release,
        "monthly": data.monthly,
        "city": data.city,
    }
    values = builders[kind](uow, ctx, **p)
    if kind == "voucher":
        values["qr"] = pdf.qr_svg(values["verify_url"])
    values.setdefault("generated_on", ctx.today())
    return values


def html(kind: str, uow: UnitOfWork, ctx: Context, **params: Any) -> str:
    """The report as HTML (what `render` turns into PDF): for previews and tests."""
    p = normalise(kind, params)
    return pdf.html(ctx.settings.reports_dir, f"{kind}.html", _values(kind, uow, ctx, p))


def render(kind: str, uow: UnitOfWork, ctx: Context, **params: Any) -> tuple[str, bytes]:
    """(file name, PDF bytes) of the report `kind` for `params` (see the module's table)."""
    p = normalise(kind, params)
    values = _values(kind, uow, ctx, p)
    return filename(kind, p), pdf.render(ctx.settings.reports_dir, f"{kind}.html", values)
