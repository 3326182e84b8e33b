"""The baseline of bench/public_lookup.py: a bare Litestar endpoint at the same path, answering a constant
body of the same shape, with no database. Served exactly as the real app is (uvicorn, same flags).

    python -m uvicorn bench.bare_litestar:app            # async handler (Litestar's default)
    python -m uvicorn bench.bare_litestar:threaded_app   # sync handler run in a thread, as the real one
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Litestar, get
from litestar.params import FromPath, QueryParameter

Code = Annotated[str | None, QueryParameter()]
BODY = {
    "voucher_no": "PZ202611220000001",
    "status": "issued",
    "status_text": "已入账：监管银行已将款项记入监管账户",
    "amount": "120000.00",
    "paid_on": "2026-11-22",
    "project_name": "桃城·安居花园一期",
    "account_no_masked": "6222********2222",
    "bank_name": "衡水银行",
}


@get("/api/v1/public/vouchers/{voucher_no:str}")
async def voucher(voucher_no: FromPath[str], code: Code = None) -> dict[str, Any]:
    return {**BODY, "voucher_no": voucher_no}


@get("/api/v1/public/vouchers/{voucher_no:str}", sync_to_thread=True)
def threaded_voucher(voucher_no: FromPath[str], code: Code = None) -> dict[str, Any]:
    return {**BODY, "voucher_no": voucher_no}


app = Litestar([voucher])
threaded_app = Litestar([threaded_voucher])
