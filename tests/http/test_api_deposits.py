"""Contracts, payment notices, deposits, reversals, vouchers and receipts through the real app."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, Deposit, IdempotencyRecord, JournalEntry, PaymentNotice, Voucher
from tests.conftest import contract_body

TODAY = "2026-11-22"  # the `today` fixture


def _count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def _pay(flow, notice: dict, **overrides) -> dict:
    fields = {
        "account_no": notice["account_no"],
        "bank_reference": "HSB20261122000001",
        "amount": notice["amount"],
        "payer_name": "张伟",
        "payer_account": "6217000012345678",
        "notice_no": notice["notice_no"],
        "kind": notice["kind"],
        "channel": "transfer",
        "value_date": TODAY,
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def notice(project, flow) -> dict:
    contract = flow.contract()
    return flow.notice(contract["contract_no"], "265950.00")


# --- contracts and notices -------------------------------------------------------------------------------


def test_a_notice_names_the_supervised_account_to_pay_into(project, flow, notice):
    assert notice["account_no"] == project["account_no"]
    assert notice["bank_code"] == "HSB"
    assert notice["status"] == "open"
    assert notice["amount"] == "265950.00"
    assert re.fullmatch(r"TZ\d{8}\d{7}", notice["notice_no"])


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"buyer_id_no": "110101199003070012"}, 422, "buyer_id_no"),  # wrong check character
        ({"total_price": 886500}, 422, "total_price"),
        ({"total_price": "886500.005"}, 422, "total_price"),
        ({"area_m2": "0"}, 422, "area_m2"),
        ({"signed_on": "2027-01-01"}, 422, "signed_on"),
        ({"signed_on": "2025-01-01"}, 422, "signed_on"),  # before the permit
        ({"permit_no": "衡预售2099-999"}, 404, None),
    ],
)
def test_bad_contracts_are_refused(client, world, engine, project, overrides, status, field):
    r = client.post(
        "/api/v1/contracts", json=contract_body(**overrides), headers=world.headers("developer", "c")
    )
    body = _problem(r, status)
    if field:
        assert any(e["field"] == field for e in body["errors"]), body
    assert _count(engine, Contract) == 0


def test_a_contract_number_is_registered_once(flow, client, world, project, engine):
    flow.contract()
    r = client.post(
        "/api/v1/contracts", json=contract_body(unit="9-9-909"), headers=world.headers("developer", "x")
    )
    _problem(r, 409)
    assert _count(engine, Contract) == 1


def test_a_developer_cannot_use_another_developers_project_or_contract(client, world, project, flow):
    r = client.post("/api/v1/contracts", json=contract_body(), headers=world.headers("other_developer", "c"))
    _problem(r, 404)
    flow.contract()
    r = client.post(
        "/api/v1/contracts/HT-2025-0001/notices",
        json={"kind": "earnest", "amount": "20000.00", "due_on": "2025-05-01"},
        headers=world.headers("other_developer", "n"),
    )
    _problem(r, 404)
    _problem(client.get("/api/v1/contracts/HT-2025-0001", headers=world.headers("other_developer")), 404)
    assert client.get("/api/v1/contracts/HT-2025-0001", headers=world.headers("developer")).status_code == 200


def test_notices_cannot_exceed_the_contract_price(flow, client, world, project, engine):
    contract = flow.contract()
    flow.notice(contract["contract_no"], "886000.00", kind="full")
    r = client.post(
        f"/api/v1/contracts/{contract['contract_no']}/notices",
        json={"kind": "other", "amount": "500.01", "due_on": "2025-05-01"},
        headers=world.headers("developer", "over"),
    )
    assert _problem(r, 422)["rule"] == "notices_within_contract_price"
    assert _count(engine, PaymentNotice) == 1


# --- verify ------------------------------------------------------------------------------------------------


def test_verify_lists_every_check_and_changes_nothing(client, world, engine, notice):
    body = {
        "account_no": notice["account_no"],
        "notice_no": notice["notice_no"],
        "amount": "265950.00",
        "payer_name": "张伟",
    }
    r = client.post("/api/v1/deposits/verify", json=body, headers=world.headers("bank", "v1"))
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["ok"] is True
    assert {c["rule"] for c in result["checks"]} >= {"amount_equals_notice", "payer_matches_buyer"}
    assert all(c["result"] == "pass" for c in result["checks"])
    assert result["notice"]["buyer_name"] == "张*"  # masked for the teller

    wrong = {**body, "amount": "265000.00", "payer_name": "李四"}
    result = client.post("/api/v1/deposits/verify", json=wrong, headers=world.headers("bank", "v2")).json()
    assert result["ok"] is False
    failed = {c["rule"]: c["message"] for c in result["checks"] if c["result"] == "fail"}
    assert "differs from the notice" in failed["amount_equals_notice"]
    assert "is not the buyer" in failed["payer_matches_buyer"]
    assert _count(engine, Deposit) == 0 and _count(engine, JournalEntry) == 0


def test_verify_needs_no_idempotency_key_and_ignores_one_sent(client, world, engine, notice):
    """CONTRACT.md §10: the check changes nothing, so it takes no Idempotency-Key; one sent is ignored (the
    same key with another body is judged afresh, not refused as reused) and nothing is recorded for it."""
    body = {"account_no": notice["account_no"], "notice_no": notice["notice_no"], "amount": "265950.00",
            "payer_name": "张伟"}  # fmt: skip
    records = _count(engine, IdempotencyRecord)
    plain = client.post("/api/v1/deposits/verify", json=body, headers=world.headers("bank"))
    assert plain.status_code == 200, plain.text
    assert plain.json()["ok"] is True
    first = client.post("/api/v1/deposits/verify", json=body, headers=world.headers("bank", "same"))
    other = client.post("/api/v1/deposits/verify", json={**body, "amount": "265000.00"},
                        headers=world.headers("bank", "same"))  # fmt: skip
    assert (first.status_code, first.json()["ok"]) == (200, True)
    assert (other.status_code, other.json()["ok"]) == (200, False)
    assert "idempotent-replayed" not in other.headers
    assert _count(engine, IdempotencyRecord) == records and _count(engine, Deposit) == 0
    document = client.get("/schema/openapi.json").json()
    parameters = document["paths"]["/api/v1/deposits/verify"]["post"].get("parameters", [])
    assert "Idempotency-Key" not in {p["name"] for p in parameters}


# --- posting -----------------------------------------------------------------------------------------------


def test_a_passing_deposit_is_accepted_with_a_voucher(flow, client, world, engine, notice):
    result = flow.deposit(**_pay(flow, notice))
    assert result["status"] == "accepted"
    assert result["rulebook"] == "hengshui@2024.1"
    voucher = result["voucher"]
    assert voucher["status"] == "issued"
    assert re.fullmatch(r"PZ\d{15}", voucher["voucher_no"])
    # ≥ 40 bits: 10 characters of a 32-character alphabet
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", voucher["verification_code"])
    account = client.get(f"/api/v1/accounts/{notice['account_no']}", headers=world.headers("bank")).json()
    assert account["balance"] == "265950.00"
    assert account["reconciliation"] == {"last_statement_on": None, "status": "pending"}
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.contracts.notice_by_no(notice["notice_no"]).status == "paid"


def test_verification_codes_differ(flow, project):
    codes = set()
    for i in range(5):
        contract = flow.contract(contract_no=f"HT-{i}", unit=f"1-1-{i}")
        n = flow.notice(contract["contract_no"], "1000.00", kind="earnest")
        codes.add(flow.deposit(**_pay(flow, n, bank_reference=f"R{i}"))["voucher"]["verification_code"])
    assert len(codes) == 5


@pytest.mark.parametrize(
    ("overrides", "failed_rule"),
    [
        ({"amount": "265000.00"}, "amount_equals_notice"),
        ({"payer_name": "李四"}, "payer_matches_buyer"),
        ({"notice_no": "TZ000000000000"}, "notice_exists_and_open"),
        ({"notice_no": None}, "notice_exists_and_open"),
    ],
)
def test_a_blocking_failure_books_the_money_to_suspense_without_a_voucher(
    flow, client, world, engine, notice, overrides, failed_rule
):
    result = flow.deposit(**_pay(flow, notice, **overrides))
    assert result["status"] == "suspense"
    assert result["voucher"] is None
    assert any(c["rule"] == failed_rule and c["result"] == "fail" for c in result["checks"])
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(notice["account_no"])
        balances = uow.journal.balances(account.id)
    assert balances.cash == balances.suspense > 0  # the money is in the bank, unassigned
    account = client.get(f"/api/v1/accounts/{notice['account_no']}", headers=world.headers("bank")).json()
    terms = {t["term"]: t["value"] for t in account["cap"]["explanation"]["terms"]}
    assert terms["suspense"] == terms["balance"]
    assert _count(engine, Voucher) == 0


def test_a_mortgage_lender_may_pay_the_mortgage_notice(flow, project):
    contract = flow.contract()
    n = flow.notice(contract["contract_no"], "620000.00", kind="mortgage")
    result = flow.deposit(**_pay(flow, n, payer_name="中国建设银行衡水分行", channel="mortgage"))
    assert result["status"] == "accepted"
    other = flow.notice(contract["contract_no"], "200000.00", kind="down_payment")
    result = flow.deposit(**_pay(flow, other, payer_name="中国建设银行衡水分行", bank_reference="R2"))
    assert result["status"] == "suspense"  # a bank paying a down payment is not the buyer


def test_an_old_value_date_only_warns(flow, notice):
    result = flow.deposit(**_pay(flow, notice, value_date="2026-11-10"))
    assert result["status"] == "accepted"
    assert any(c["rule"] == "value_date_within_days" and c["result"] == "warn" for c in result["checks"])


def test_a_notice_is_paid_once(flow, notice):
    assert flow.deposit(**_pay(flow, notice))["status"] == "accepted"
    again = flow.deposit(**_pay(flow, notice, bank_reference="HSB-2"))
    assert again["status"] == "suspense"
    assert any(c["rule"] == "notice_exists_and_open" and c["result"] == "fail" for c in again["checks"])


def test_a_cancelled_contract_blocks(flow, engine, notice):
    with UnitOfWork(engine) as uow:
        uow.contracts.by_no("HT-2025-0001").status = "cancelled"
        uow.commit()
    result = flow.deposit(**_pay(flow, notice))
    assert result["status"] == "suspense"
    assert any(c["rule"] == "contract_not_cancelled" and c["result"] == "fail" for c in result["checks"])


def test_the_same_bank_reference_answers_with_the_original_deposit(flow, client, world, engine, notice):
    first = flow.deposit(**_pay(flow, notice))
    again = flow.deposit(expect=200, **_pay(flow, notice))  # another idempotency key, same reference
    assert again["deposit_id"] == first["deposit_id"]
    assert again["voucher"] == first["voucher"]
    assert _count(engine, Deposit) == 1 and _count(engine, JournalEntry) == 1
    r = client.post(
        "/api/v1/deposits", json=_pay(flow, notice, amount="1.00"), headers=world.headers("bank", "z")
    )
    assert _problem(r, 409)["rule"] == "bank_reference_unseen"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 265950}, "amount"),
        ({"amount": "265950.001"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-1.00"}, "amount"),
        ({"channel": "cash"}, "channel"),
        ({"value_date": "2026-11-23"}, "value_date"),
        ({"bank_reference": ""}, "bank_reference"),
    ],
)
def test_bad_deposits_are_422_and_book_nothing(client, world, engine, flow, notice, overrides, field):
    r = client.post(
        "/api/v1/deposits", json=_pay(flow, notice, **overrides), headers=world.headers("bank", "bad")
    )
    body = _problem(r, 422)
    assert any(e["field"] == field for e in body["errors"]), body
    assert _count(engine, Deposit) == 0 and _count(engine, JournalEntry) == 0


@pytest.mark.parametrize(
    ("path", "who", "field"),
    [
        ("/api/v1/contracts", "developer", "buyer_name"),
        ("/api/v1/deposits/verify", "bank", "notice_no"),
        ("/api/v1/deposits", "bank", "payer_name"),
    ],
)
def test_a_nul_character_in_text_is_422_on_both_engines(
    client, world, engine, flow, notice, path, who, field
):
    """PostgreSQL cannot store U+0000 in text: it answered 404 "a value is out of range" where SQLite stored
    the text. Both refuse it now, naming the field, and keep nothing."""
    bodies = {
        "/api/v1/contracts": contract_body(contract_no="HT-NUL-1", unit="9-9-901", buyer_name="张\x00伟"),
        "/api/v1/deposits/verify": {
            "account_no": notice["account_no"],
            "notice_no": notice["notice_no"] + "\x00",
            "amount": "1.00",
            "payer_name": "张伟",
        },
        "/api/v1/deposits": _pay(flow, notice, payer_name="张\x00伟"),
    }
    before = [_count(engine, m) for m in (Contract, Deposit, JournalEntry)]
    body = _problem(client.post(path, json=bodies[path], headers=world.headers(who, "nul")), 422)
    assert [e["field"] for e in body["errors"]] == [field], body
    assert "NUL" in body["errors"][0]["message"]
    assert [_count(engine, m) for m in (Contract, Deposit, JournalEntry)] == before


def test_another_banks_account_does_not_exist_for_it(client, world, engine, flow, notice):
    r = client.post("/api/v1/deposits", json=_pay(flow, notice), headers=world.headers("other_bank", "x"))
    _problem(r, 404)
    _problem(client.get(f"/api/v1/accounts/{notice['account_no']}", headers=world.headers("other_bank")), 404)
    assert client.get("/api/v1/accounts", headers=world.headers("other_bank")).json() == []
    body = {"account_no": notice["account_no"], "amount": "1.00", "payer_name": "x"}
    _problem(client.post("/api/v1/deposits/verify", json=body, headers=world.headers("other_bank", "v")), 404)
    assert _count(engine, Deposit) == 0


@pytest.mark.parametrize("who", ["developer", "admin", "reviewer"])
def test_only_banks_post_deposits(client, world, flow, notice, who):
    _problem(client.post("/api/v1/deposits", json=_pay(flow, notice), headers=world.headers(who, "x")), 403)


# --- reversal ----------------------------------------------------------------------------------------------


def test_a_same_day_reversal_reverses_the_books_and_the_voucher(flow, client, world, engine, notice):
    posted = flow.deposit(**_pay(flow, notice))
    r = client.post(
        "/api/v1/deposits/HSB20261122000001/reversal",
        json={"reason": "wrong account"},
        headers=world.headers("bank", "rev"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "reversed"
    assert r.json()["voucher"]["status"] == "reversed"
    with UnitOfWork(engine, readonly=True) as uow:
        account = uow.projects.account_by_no(notice["account_no"])
        entries = uow.journal.entries(account.id)
        assert uow.contracts.notice_by_no(notice["notice_no"]).status == "open"
    assert [e.kind for e in entries] == [ledger.EntryKind.DEPOSIT, ledger.EntryKind.REVERSAL]
    assert ledger.balances(entries).cash == 0
    assert ledger.balance_equals_flows(entries)
    again = client.post(
        "/api/v1/deposits/HSB20261122000001/reversal",
        json={"reason": "again"},
        headers=world.headers("bank", "rev2"),
    )
    _problem(again, 409)
    assert posted["deposit_id"] == r.json()["deposit_id"]


def test_a_reversal_on_another_day_is_refused(flow, client, world, engine, notice):
    flow.deposit(**_pay(flow, notice, value_date="2026-11-21"))
    r = client.post(
        "/api/v1/deposits/HSB20261122000001/reversal",
        json={"reason": "late"},
        headers=world.headers("bank", "rev"),
    )
    assert "reversal_same_day" in _problem(r, 422)["rule"]
    assert _count(engine, JournalEntry) == 1


def test_reversal_of_an_unknown_or_foreign_reference_is_404(flow, client, world, notice):
    flow.deposit(**_pay(flow, notice))
    for who, ref in (("bank", "NOPE"), ("other_bank", "HSB20261122000001")):
        r = client.post(
            f"/api/v1/deposits/{ref}/reversal", json={"reason": "x"}, headers=world.headers(who, "r")
        )
        _problem(r, 404)


# --- receipts ----------------------------------------------------------------------------------------------


def test_the_developer_exchanges_the_voucher_for_a_receipt(flow, client, world, notice):
    voucher = flow.deposit(**_pay(flow, notice))["voucher"]
    url = f"/api/v1/vouchers/{voucher['voucher_no']}/receipt"
    _problem(
        client.post(url, json={"receipt_no": "PJ-1"}, headers=world.headers("other_developer", "r")), 404
    )
    r = client.post(url, json={"receipt_no": "PJ-2026-0001"}, headers=world.headers("developer", "r"))
    assert r.status_code == 201, r.text
    assert r.json() == {
        "voucher_no": voucher["voucher_no"],
        "status": "receipted",
        "receipt_no": "PJ-2026-0001",
    }
    _problem(client.post(url, json={"receipt_no": "PJ-2"}, headers=world.headers("developer", "r2")), 409)


def test_a_reversed_voucher_cannot_be_receipted(flow, client, world, notice):
    voucher = flow.deposit(**_pay(flow, notice))["voucher"]
    client.post(
        "/api/v1/deposits/HSB20261122000001/reversal",
        json={"reason": "x"},
        headers=world.headers("bank", "r"),
    )
    r = client.post(
        f"/api/v1/vouchers/{voucher['voucher_no']}/receipt",
        json={"receipt_no": "PJ"},
        headers=world.headers("developer", "r"),
    )
    _problem(r, 422)
