"""Bounds on sizes and dates through the real app on both engines (issue 11, bullet 7): the largest single
amount and the largest account total (escrow.domain.money), dates within the account's life and outflows
covered on their date (escrow.domain.dates). Every refusal is a 422 naming the rule, and nothing is kept."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from escrow.domain.money import LARGEST_ACCOUNT_TOTAL, LARGEST_AMOUNT
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    Contract,
    Deposit,
    Freeze,
    JournalEntry,
    PaymentNotice,
    Project,
    Release,
    Statement,
)
from tests.conftest import project_body
from tests.http import test_api_releases as rel
from tests.http import test_web_portal as portal
from tests.http.test_api_releases import TODAY, account, problem, release_body

site, steps = rel.site, rel.steps  # fixtures shared with the release tests
dev = portal.dev  # a developer staff member signed in to the portal

BIGGEST = str(LARGEST_AMOUNT)  # "10000000000.00"
JUST_ABOVE = "10000000000.01"
OPENED_ON = "2025-03-05"  # tests.conftest.project_body


def _count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def _journal_size(engine) -> int:
    return _count(engine, JournalEntry)


def _coded(body: dict, field: str, code: str) -> dict:
    found = [e for e in body.get("errors", []) if e["field"] == field and e.get("code") == code]
    assert found, body
    return found[0]


def _deposit(flow, account_no: str, ref: str, amount: str, value_date: str = TODAY, expect: int = 201):
    return flow.deposit(
        expect=expect,
        account_no=account_no,
        bank_reference=ref,
        amount=amount,
        payer_name="张伟",
        channel="transfer",
        value_date=value_date,
    )


def _statement(client, world, account_no: str, lines: list[tuple[str, str]], key: str, **balances):
    body = {
        "account_no": account_no,
        "statement_date": TODAY,
        "lines": [
            {"bank_reference": ref, "booked_on": TODAY, "amount": amount, "direction": "credit"}
            for ref, amount in lines
        ],
        **balances,
    }
    return client.post(
        "/api/v1/statements",
        content=json.dumps(body).encode(),
        headers={**world.headers("bank", key), "Content-Type": "application/json"},
    )


# --- the largest single amount ---------------------------------------------------------------------------


def test_a_deposit_above_the_largest_single_amount_is_refused_naming_the_limit(
    client, world, engine, project
):
    before = _journal_size(engine)
    r = client.post(
        "/api/v1/deposits",
        json={
            "account_no": project["account_no"],
            "bank_reference": "BIG-1",
            "amount": "9999999999999999.99",  # what the issue booked eleven times
            "payer_name": "张伟",
            "channel": "transfer",
            "value_date": TODAY,
        },
        headers=world.headers("bank", "big-1"),
    )
    error = _coded(problem(r, 422), "amount", "above_largest_amount")
    assert error["params"] == {"limit": BIGGEST}
    assert BIGGEST in error["message"]
    assert _count(engine, Deposit) == 0 and _journal_size(engine) == before


def test_the_largest_single_amount_itself_is_taken(flow, project):
    assert _deposit(flow, project["account_no"], "BIG-2", BIGGEST)["amount"] == BIGGEST


@pytest.mark.parametrize(
    ("path", "who", "body", "field"),
    [
        ("/api/v1/projects", "admin", project_body(supervised_amount=JUST_ABOVE), "supervised_amount"),
        ("/api/v1/contracts", "developer", None, "total_price"),
        ("/api/v1/contracts/HT-2025-0001/notices", "developer", None, "amount"),
        ("/api/v1/deposits/verify", "bank", None, "amount"),
        ("/api/v1/freezes", "bank", None, "amount"),
        ("/api/v1/releases", "developer", None, "payees.0.amount"),
    ],
)
def test_every_money_field_of_the_api_refuses_the_single_limit_with_a_code(
    client, world, engine, project, flow, path, who, body, field
):
    flow.contract()
    bodies = {
        "/api/v1/contracts": {
            "permit_no": "衡预售2025-001",
            "contract_no": "HT-BIG",
            "buyer_name": "张伟",
            "buyer_id_no": "110101199003070011",
            "unit": "1-1-101",
            "area_m2": "98.50",
            "total_price": JUST_ABOVE,
            "signed_on": "2025-04-01",
        },
        "/api/v1/contracts/HT-2025-0001/notices": {"kind": "full", "amount": JUST_ABOVE, "due_on": TODAY},
        "/api/v1/deposits/verify": {
            "account_no": project["account_no"],
            "amount": JUST_ABOVE,
            "payer_name": "张伟",
        },
        "/api/v1/freezes": {
            "account_no": project["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": "(2026)冀1102执9号",
            "amount": JUST_ABOVE,
            "ordered_on": TODAY,
        },
    }
    if path == "/api/v1/releases":
        body = release_body(project["project_id"])
        body["payees"][0]["amount"] = JUST_ABOVE
    body = body or bodies[path]
    counts = [_count(engine, m) for m in (Project, PaymentNotice, Freeze, Release)]
    r = client.post(path, json=body, headers=world.headers(who, "too-big"))
    assert _coded(problem(r, 422), field, "above_largest_amount")["params"] == {"limit": BIGGEST}
    assert [_count(engine, m) for m in (Project, PaymentNotice, Freeze, Release)] == counts


def test_the_openapi_document_states_the_limits_of_money_fields(client):
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    amount = schemas["DepositIn"]["properties"]["amount"]
    assert BIGGEST in amount["description"] and amount["maxLength"] == len(BIGGEST)
    assert re.match(amount["pattern"], BIGGEST) and not re.match(amount["pattern"], JUST_ABOVE)
    assert str(LARGEST_ACCOUNT_TOTAL) in json.dumps(schemas)


def test_a_statement_line_above_the_single_limit_is_refused_and_nothing_kept(client, world, engine, project):
    r = _statement(client, world, project["account_no"], [("S-1", "1.00"), ("S-2", JUST_ABOVE)], "st-big")
    body = problem(r, 422)
    assert BIGGEST in body["detail"]
    assert _count(engine, Statement) == 0 and _count(engine, Deposit) == 0


# --- the largest account total -----------------------------------------------------------------------------


@pytest.fixture
def full(client, world, engine, project) -> dict:
    """An account holding exactly the largest account total: 100 statement credits of the largest single
    amount (booked to suspense by the import), in one request."""
    lines = [(f"FULL-{n:03d}", BIGGEST) for n in range(100)]
    r = _statement(client, world, project["account_no"], lines, "fill")
    assert r.status_code == 201, r.text
    assert account(client, world, project["account_no"])["balance"] == str(LARGEST_ACCOUNT_TOTAL)
    return project


def test_nothing_more_comes_into_a_full_account(client, world, engine, flow, full):
    before = (_count(engine, Deposit), _journal_size(engine), _count(engine, Statement))
    body = _deposit(flow, full["account_no"], "ONE-FEN", "0.01", expect=422)
    error = _coded(body, "amount", "above_account_total")
    assert (
        error["params"] == {"limit": str(LARGEST_ACCOUNT_TOTAL)} and body["rule"] == "largest_account_total"
    )
    r = _statement(client, world, full["account_no"], [("ONE-FEN-S", "0.01")], "one-fen")
    assert _coded(problem(r, 422), "amount", "above_account_total")
    assert (_count(engine, Deposit), _journal_size(engine), _count(engine, Statement)) == before


def test_a_deposit_that_would_cross_the_account_total_is_refused(client, world, engine, project, flow):
    lines = [(f"NEAR-{n:03d}", BIGGEST) for n in range(99)]
    assert _statement(client, world, project["account_no"], lines, "near").status_code == 201
    body = _deposit(flow, project["account_no"], "CROSS", BIGGEST)
    assert body["amount"] == BIGGEST  # exactly at the limit: taken
    _deposit(flow, project["account_no"], "CROSS-2", "0.01", expect=422)


def test_every_page_and_api_answers_for_a_full_account(client, world, engine, full, web):
    headers = world.headers("admin")
    for path in (
        "/api/v1/accounts",
        f"/api/v1/accounts/{full['account_no']}",
        f"/api/v1/projects/{full['project_id']}",
        "/api/v1/stats?from=2025-01-01&to=2026-12-31",
    ):
        who = "bank" if "/accounts" in path else "admin"
        r = client.get(path, headers=world.headers(who) if who == "bank" else headers)
        assert r.status_code == 200, (path, r.text)
    stats = client.get("/api/v1/stats?from=2026-01-01&to=2026-12-31", headers=headers).json()
    assert stats["balance_total"] == str(LARGEST_ACCOUNT_TOTAL)
    assert stats["deposits_total"] == str(LARGEST_ACCOUNT_TOTAL)
    reviewer = web("reviewer")
    for path in ("/", "/projects", f"/projects/{full['project_id']}", "/alerts"):
        r = reviewer.get(path)
        assert r.status_code == 200, (path, r.status_code)


# --- dates within the account's life ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_date", "code"), [("1900-01-01", "before_opening"), ("2025-03-04", "before_opening")]
)
def test_a_deposit_value_dated_before_the_opening_is_refused(engine, project, flow, value_date, code):
    body = _deposit(flow, project["account_no"], "OLD-1", "100.00", value_date=value_date, expect=422)
    assert _coded(body, "value_date", code)["params"] == {"opened_on": OPENED_ON}
    assert body["rule"] == "account_life"
    assert _count(engine, Deposit) == 0 and _journal_size(engine) == 0


def test_a_deposit_value_dated_on_the_opening_day_is_taken_and_one_in_the_future_is_not(
    engine, project, flow
):
    _deposit(flow, project["account_no"], "OPEN-1", "100.00", value_date=OPENED_ON)
    body = _deposit(flow, project["account_no"], "LATER-1", "100.00", value_date="2026-11-23", expect=422)
    _coded(body, "value_date", "in_future")
    assert _count(engine, Deposit) == 1


def test_an_instruction_is_executed_within_the_account_life_and_when_the_money_was_there(
    client, world, engine, site, steps
):
    applied = steps.applied(release_body(site["project_id"]))
    steps.approve_all(applied["release_id"])
    instruction_id = steps.pending()[0]["instruction_id"]
    before = _journal_size(engine)
    body = problem(steps.execute(instruction_id, on="1999-01-01"), 422)
    assert _coded(body, "executed_on", "before_opening")["params"] == {"opened_on": OPENED_ON}
    # after the opening, but before the deposits that fund it were value-dated (TODAY)
    body = problem(steps.execute(instruction_id, on="2026-11-21"), 422)
    assert _coded(body, "executed_on", "not_held_on_date") and body["rule"] == "balance_on_date"
    _coded(problem(steps.execute(instruction_id, on="2026-11-23"), 422), "executed_on", "in_future")
    assert _journal_size(engine) == before and len(steps.pending()) == 1
    assert steps.execute(instruction_id, on=TODAY).status_code == 201
    for start, end in (("1999-01-01", "1999-12-31"), ("2026-11-21", "2026-11-21"), ("2025-01-01", TODAY)):
        stats = client.get(f"/api/v1/stats?from={start}&to={end}", headers=world.headers("admin")).json()
        assert not stats["balance_total"].startswith("-"), stats


def _freeze(client, world, account_no: str, ordered_on: str, key: str):
    return client.post(
        "/api/v1/freezes",
        json={
            "account_no": account_no,
            "authority": "衡水市桃城区人民法院",
            "order_no": f"(2026)冀1102执{key}号",
            "amount": "1000.00",
            "ordered_on": ordered_on,
        },
        headers=world.headers("bank", f"fz-{key}"),
    )


def test_a_freeze_and_a_deduction_are_dated_within_the_account_life(client, world, engine, site):
    _coded(
        problem(_freeze(client, world, site["account_no"], "1999-01-01", "1"), 422),
        "ordered_on",
        "before_opening",
    )
    assert _count(engine, Freeze) == 0
    r = _freeze(client, world, site["account_no"], OPENED_ON, "2")
    assert r.status_code == 201, r.text
    freeze_id = r.json()["freeze_id"]
    before = _journal_size(engine)

    def deduct(on: str, key: str):
        return client.post(
            f"/api/v1/freezes/{freeze_id}/deduction",
            json={
                "amount": "500.00",
                "creditor_role": "construction",
                "bank_reference": f"D-{key}",
                "executed_on": on,
            },
            headers=world.headers("bank", f"dd-{key}"),
        )

    # on the order's day the account held nothing yet: the funding deposit is value-dated TODAY
    body = problem(deduct(OPENED_ON, "1"), 422)
    assert _coded(body, "executed_on", "not_held_on_date")["params"] == {"amount": "500.00"}
    assert _journal_size(engine) == before
    assert deduct(TODAY, "2").status_code == 201


# --- the developer portal's forms ------------------------------------------------------------------------


def test_the_portal_refuses_an_amount_above_the_single_limit_in_the_page_language(engine, dev):
    before = _count(engine, Contract)
    form = portal.contract_form(total_price="10,000,000,000.01")
    r = portal.post_form(dev, "/developer/contracts/new?lang=zh", form)
    assert r.status_code == 422
    assert "10000000000.00" in portal.field_error(r.text, "total_price") and "单笔" in portal.field_error(
        r.text, "total_price"
    )
    r = portal.post_form(dev, "/developer/contracts/new?lang=en", form)
    assert portal.field_error(r.text, "total_price") == "At most ¥10000000000.00, the largest single amount."
    assert _count(engine, Contract) == before


def test_a_statement_credit_booked_before_the_opening_is_refused_and_nothing_kept(
    client, world, engine, project
):
    body = {
        "account_no": project["account_no"],
        "statement_date": TODAY,
        "lines": [
            {
                "bank_reference": "EARLY-1",
                "booked_on": "1900-01-01",
                "amount": "100.00",
                "direction": "credit",
            }
        ],
    }
    r = client.post(
        "/api/v1/statements",
        content=json.dumps(body).encode(),
        headers={**world.headers("bank", "early"), "Content-Type": "application/json"},
    )
    refused = problem(r, 422)
    assert refused["rule"] == "statement_before_opening"
    assert refused["errors"][0]["code"] == "before_opening"
    assert _count(engine, Statement) == 0 and _count(engine, Deposit) == 0
