"""The request an Idempotency-Key stands for includes its path (escrow/api/idempotency.py `request_hash`): the
same key with the same body on another path — another contract's notices — is another request, refused
(422 idempotency-key-reused) and creating nothing, never answered with the first contract's notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, IdempotencyRecord, PaymentNotice

NOTICE = {"kind": "down_payment", "amount": "100000.00", "due_on": "2025-05-01"}


def _notices(engine) -> list[tuple[str, str]]:
    """(contract number, notice number) of every notice in the database."""
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.execute(
            select(Contract.contract_no, PaymentNotice.notice_no)
            .join(Contract, Contract.id == PaymentNotice.contract_id)
            .order_by(PaymentNotice.id)
        )
        return [tuple(row) for row in rows]


def _records(engine) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return len(list(uow.session.scalars(select(IdempotencyRecord.id))))


@pytest.mark.parametrize(
    "first, other",
    [
        ("HT-2025-0001", "HT-2025-0002"),
        ("HT/2025/0001", "HT/2025/0002"),  # numbers with `/`, sent as %2F (CONTRACT.md §7)
    ],
)
def test_the_same_key_and_body_on_another_contracts_notices_is_refused(
    client, world, engine, project, flow, first, other
):
    flow.contract(contract_no=first, unit="3-2-1801")
    flow.contract(contract_no=other, unit="3-2-1802")
    headers = world.headers("developer", "one-notice-key")

    def post(contract_no: str):
        path = f"/api/v1/contracts/{contract_no.replace('/', '%2F')}/notices"
        return client.post(path, json=NOTICE, headers=headers)

    issued = post(first)
    assert issued.status_code == 201, issued.text
    assert issued.json()["contract_no"] == first
    records = _records(engine)

    refused = post(other)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/idempotency-key-reused")
    assert "idempotent-replayed" not in refused.headers
    # nothing created: no notice for the other contract, no second record of the key
    assert _notices(engine) == [(first, issued.json()["notice_no"])]
    assert _records(engine) == records

    # the key still stands for its first request: sent there again, it replays the first answer
    again = post(first)
    assert (again.status_code, again.content) == (issued.status_code, issued.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert _notices(engine) == [(first, issued.json()["notice_no"])]
