"""A buyer looks up their own contract (CONTRACT.md §10): the JSON endpoint and the phone page at
`/verify/contract`, on SQLite and PostgreSQL. No key: the contract number and the last six characters of
the buyer's ID number. One answer for an unknown contract and a wrong suffix, after the same work; one rate
limit with the voucher look-up; nothing about other buyers; Chinese and English."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from escrow.api.public import LIMIT_STATE, HideIdSuffix, hide_id_suffix
from escrow.services import ratelimit
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, RateLimitBucket
from tests.conftest import BUYER_ID
from tests.http import test_api_refunds_freezes as refunds
from tests.http import test_api_releases as rel
from tests.http.test_api_refunds_freezes import _cancel, _pay
from tests.http.test_api_releases import confirm

# fixtures: a contract with a down payment, a loan, a reversed payment and an open notice; approval steps
sold, steps = refunds.sold, rel.steps

API = "/api/v1/public/contracts"
VOUCHERS = "/api/v1/public/vouchers"
SUFFIX = BUYER_ID[-6:]  # "070011"
CLIENT_KEY = "voucher-lookup:testclient"  # the TestClient's address: one bucket for both look-ups
OTHER_ID = "11010119850100002X"  # another buyer: a resident ID ending in X


def _limit(app, requests: int = 60, failures: int = 10) -> None:
    app.state[LIMIT_STATE] = ratelimit.Limit(requests=requests, failures=failures)


def _bucket(engine, key: str = CLIENT_KEY) -> tuple[int, int]:
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.execute(
            select(RateLimitBucket.count, RateLimitBucket.failures).where(RateLimitBucket.key == key)
        ).all()
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


def _look(client, contract_no: str, suffix: str | None = SUFFIX, **params):
    if suffix is not None:
        params["id_last6"] = suffix
    return client.get(f"{API}/{contract_no.replace('/', '%2F')}", params=params)


@pytest.fixture
def paid(client, world, project, flow) -> dict:
    """Contract HT-2025-0001 of 张伟 with two payments (120,000.00 down, 500,000.00 by the lender) and the
    first node confirmed on 2025-06-01."""
    contract = flow.contract()
    no = contract["contract_no"]
    down = _pay(flow, flow.notice(no, "120000.00", kind="down_payment"), "P-1")
    loan = _pay(
        flow,
        flow.notice(no, "500000.00", kind="mortgage"),
        "P-2",
        payer="中国建设银行衡水分行",
        channel="mortgage",
    )
    confirm(client, world, project["project_id"])
    return {"contract_no": no, "vouchers": [down["voucher"]["voucher_no"], loan["voucher"]["voucher_no"]]}


# --- the answer -------------------------------------------------------------------------------------------


def test_the_buyer_sees_payments_paid_total_and_nodes(client, paid):
    r = _look(client, paid["contract_no"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    down, loan = paid["vouchers"]
    assert body == {
        "contract_no": "HT-2025-0001",
        "project_name": "桃城·安居花园一期",
        "unit": "3-2-1801",
        "status": "signed",
        "status_text": "已签约",
        "paid_total": "620000.00",
        "payments": [
            {
                "voucher_no": down,
                "amount": "120000.00",
                "paid_on": "2026-11-22",
                "status": "issued",
                "status_text": "已入账：监管银行已将款项记入监管账户",
            },
            {
                "voucher_no": loan,
                "amount": "500000.00",
                "paid_on": "2026-11-22",
                "status": "issued",
                "status_text": "已入账：监管银行已将款项记入监管账户",
            },
        ],
        "nodes": [
            {"code": "half_structure", "name": "主体结构完成二分之一", "reached_on": "2025-06-01"},
            {"code": "topped_out", "name": "主体结构封顶", "reached_on": None},
            {"code": "completion_report", "name": "取得建设工程竣工验收报告", "reached_on": None},
            {"code": "completion_filed", "name": "完成建设工程竣工验收备案", "reached_on": None},
            {"code": "first_registration", "name": "完成不动产首次登记", "reached_on": None},
        ],
        "account_no_masked": "6222********2222",
        "bank_name": "衡水银行",
    }
    text = r.text
    for secret in (
        BUYER_ID,
        "张伟",
        "6222000011112222",
        "886500",
    ):  # the ID, the name, the account, the price
        assert secret not in text, secret


def test_english_by_lang_or_accept_language(client, paid):
    english = _look(client, paid["contract_no"], lang="en").json()
    assert english["nodes"][0]["name"] == "Half of the main structure completed"
    assert english["status_text"] == "Signed"
    assert english["payments"][0]["status_text"].startswith("Paid in")
    header = client.get(
        f"{API}/{paid['contract_no']}",
        params={"id_last6": SUFFIX},
        headers={"Accept-Language": "en-GB,en;q=0.9,zh-CN;q=0.5"},
    ).json()
    assert header["nodes"][1]["name"] == "Main structure topped out"
    chinese = client.get(
        f"{API}/{paid['contract_no']}",
        params={"id_last6": SUFFIX},
        headers={"Accept-Language": "zh-CN,en;q=0.8"},
    ).json()
    assert chinese["nodes"][1]["name"] == "主体结构封顶"
    assert _look(client, paid["contract_no"], lang="zh").json()["nodes"][1]["name"] == "主体结构封顶"


def test_the_suffix_is_typed_as_it_comes(client, world, project, flow):
    """A resident ID ending in X: x or X, with spaces around; the contract number with spaces around."""
    flow.contract(contract_no="HT-2025-0009", buyer_id_no=OTHER_ID)
    for typed in ("00002X", "00002x", " 00002x "):
        assert _look(client, "HT-2025-0009", typed).status_code == 200, typed
    assert _look(client, " HT-2025-0009 ", "00002X").status_code == 200
    assert _look(client, "HT-2025-0009", "000021").status_code == 404


def test_a_passport_holder_types_the_end_of_the_passport_number(client, flow, project):
    flow.contract(contract_no="HT-2025-0010", buyer_id_no="E12AB3456")
    assert _look(client, "HT-2025-0010", "ab3456").status_code == 200


def test_a_contract_number_with_a_slash(client, world, project, flow):
    flow.contract(contract_no="HT/2025/0002")
    r = client.get(f"{API}/HT%2F2025%2F0002", params={"id_last6": SUFFIX})
    assert r.status_code == 200, r.text
    assert r.json()["contract_no"] == "HT/2025/0002"
    assert r.json()["payments"] == [] and r.json()["paid_total"] == "0.00"
    page = client.get("/verify/contract", params={"contract_no": "HT/2025/0002", "id_last6": SUFFIX})
    assert page.status_code == 200 and "HT/2025/0002" in page.text


def test_a_cancelled_and_refunded_contract_shows_its_statuses(client, world, sold, steps):
    """Before the refund: cancelled, the reversed payment shown as reversed and not counted; after it is
    paid back: every payment refunded, nothing paid in any more."""
    before = _look(client, sold["contract_no"]).json()
    assert before["status"] == "signed"
    statuses = {p["voucher_no"]: p["status"] for p in before["payments"]}
    assert statuses[sold["vouchers"]["wrong"]] == "reversed"
    assert before["paid_total"] == "800000.00"  # 200,000.00 + 600,000.00; the reversed 10,000.00 is not
    assert len(before["payments"]) == 3

    refund = _cancel(client, world, sold["contract_no"]).json()
    cancelled = _look(client, sold["contract_no"]).json()
    assert cancelled["status"] == "cancelled" and cancelled["status_text"] == "已解除（退房）"
    assert cancelled["paid_total"] == "800000.00"  # not yet paid back
    for who in ("reviewer", "approver"):
        assert steps.decide(refund["refund_id"], who, kind="refunds").status_code == 201
    (instruction,) = steps.pending()
    assert steps.execute(instruction["instruction_id"], ref="HSB-RF-9").status_code == 201

    after = _look(client, sold["contract_no"]).json()
    assert {p["voucher_no"]: p["status"] for p in after["payments"]} == {
        sold["vouchers"]["down"]: "refunded",
        sold["vouchers"]["loan"]: "refunded",
        sold["vouchers"]["wrong"]: "reversed",
    }
    assert after["paid_total"] == "0.00"
    page = client.get("/verify/contract", params={"contract_no": sold["contract_no"], "id_last6": SUFFIX})
    assert page.status_code == 200
    for text in ("已解除（退房）", "已退款", "已冲正", 'data-status="cancelled"'):
        assert text in page.text, text
    english = client.get(
        "/verify/contract", params={"contract_no": sold["contract_no"], "id_last6": SUFFIX, "lang": "en"}
    )
    assert "Cancelled" in english.text and "Refunded" in english.text and "Reversed" in english.text


# --- no match: one answer, the same work ------------------------------------------------------------------


def test_another_buyers_contract_with_the_same_suffix_is_not_shown(client, project, flow, paid):
    """Two buyers whose IDs end alike: each number shows its own contract only, never the other's."""
    flow.contract(
        contract_no="HT-2025-0003", buyer_name="李娜", buyer_id_no="110101195002070011", unit="1-1-101"
    )
    mine = _look(client, "HT-2025-0003").json()
    assert mine["unit"] == "1-1-101" and mine["payments"] == [] and mine["paid_total"] == "0.00"
    assert not any(v in _look(client, "HT-2025-0003").text for v in paid["vouchers"])
    assert "3-2-1801" not in _look(client, "HT-2025-0003").text
    # and a third buyer's suffix opens neither
    assert _look(client, "HT-2025-0003", "00002X").status_code == 404


def _no_match_cases(contract_no: str) -> dict[str, tuple[str, str]]:
    return {
        "unknown contract": ("HT-2099-9999", SUFFIX),
        "wrong suffix": (contract_no, "123456"),
        "suffix of another length of the ID": (contract_no, BUYER_ID[-7:-1]),
        "unicode number": ("合同１２３", SUFFIX),
        "long number": ("H" * 5000, SUFFIX),
        "number with a NUL": ("HT%00", SUFFIX),
        "dot segment": ("HT%2F..%2Fx", SUFFIX),
    }


def _without_date(r) -> tuple[int, bytes, dict]:
    return r.status_code, r.content, {k: v for k, v in r.headers.items() if k not in ("date", "x-request-id")}


def test_unknown_contract_and_wrong_suffix_answer_identically(client, app, paid):
    _limit(app, requests=1000, failures=1000)
    answers = {
        name: _without_date(client.get(f"{API}/{number}", params={"id_last6": suffix}))
        for name, (number, suffix) in _no_match_cases(paid["contract_no"]).items()
    }
    first = answers["unknown contract"]
    assert first[0] == 404
    assert first[2]["content-type"].startswith("application/problem+json")
    assert b"no contract matches this number and ID number suffix" in first[1]
    for name, answer in answers.items():
        assert answer == first, name


def test_unknown_and_wrong_suffix_do_the_same_database_work(client, app, paid, monkeypatch):
    """The same statements, in the same order, with parameters of the same types, in one transaction:
    nothing in the work done tells a wrong suffix from a contract that does not exist."""
    _limit(app, requests=1000, failures=1000)
    seen: list[tuple[str, tuple[str, ...]]] = []
    rows = ratelimit.DriverSQL.rows

    def record(self, statement, params):
        seen.append((statement, tuple(type(p).__name__ for p in params)))
        return rows(self, statement, params)

    monkeypatch.setattr(ratelimit.DriverSQL, "rows", record)
    work = {}
    for name, (number, suffix) in _no_match_cases(paid["contract_no"]).items():
        seen.clear()
        assert client.get(f"{API}/{number}", params={"id_last6": suffix}).status_code == 404, name
        work[name] = list(seen)
    assert [s.split()[0] for s, _ in work["unknown contract"]] == ["SELECT", "INSERT"]  # look-up, count
    for name, statements in work.items():
        assert statements == work["unknown contract"], name
    seen.clear()
    assert _look(client, paid["contract_no"]).status_code == 200
    assert seen[:2] == work["unknown contract"]  # a match does the same, then reads what it shows


@pytest.mark.parametrize(
    "suffix", [None, "", "12345", "1234567", "12345!", "１２３４５６", "12 456", "'; --"]
)
def test_a_malformed_suffix_is_refused_with_422(client, engine, paid, suffix):
    r = _look(client, paid["contract_no"], suffix)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["errors"][0]["field"] == "id_last6"
    assert body["errors"][0]["code"] == "id_suffix"
    # the same for an unknown contract: a syntax error says nothing about the contract
    other = _look(client, "HT-2099-9999", suffix)
    assert (other.status_code, other.content) == (r.status_code, r.content)
    assert _bucket(engine) == (0, 0)  # refused before anything is read or counted


# --- one rate limit with the voucher look-up --------------------------------------------------------------


def test_contract_look_ups_spend_the_voucher_look_ups_limit(client, app, engine, paid):
    _limit(app, requests=100, failures=3)
    for _ in range(3):
        assert _look(client, "HT-2099-9999").status_code == 404
    assert _look(client, "HT-2099-9999").status_code == 429
    r = _look(client, paid["contract_no"])  # even the right suffix: the limit says nothing of the contract
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/rate-limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert client.get(f"{VOUCHERS}/{paid['vouchers'][0]}", params={"code": "AAAAA-AAAAA"}).status_code == 429
    page = client.get("/verify/contract", params={"contract_no": paid["contract_no"], "id_last6": SUFFIX})
    assert page.status_code == 429 and "查询过于频繁" in page.text
    assert _bucket(engine) == (7, 5)  # the right suffix is no failure


def test_voucher_look_ups_spend_the_contract_look_ups_limit(client, app, engine, paid):
    _limit(app, requests=3, failures=100)
    for _ in range(3):
        client.get(f"{VOUCHERS}/PZ202611229999999", params={"code": "AAAAA-AAAAA"})
    assert _look(client, paid["contract_no"]).status_code == 429
    assert _bucket(engine) == (4, 3)


def test_successful_contract_look_ups_count_but_do_not_fail(client, app, engine, paid):
    _limit(app, requests=1000, failures=1000)
    for _ in range(2):
        assert _look(client, paid["contract_no"]).status_code == 200
    _look(client, paid["contract_no"], "999999")
    assert _bucket(engine) == (3, 1)


# --- the suffix is nowhere kept ---------------------------------------------------------------------------


def test_the_suffix_is_not_audited_or_stored(client, engine, paid):
    with UnitOfWork(engine, readonly=True) as uow:
        before = uow.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    _look(client, paid["contract_no"])
    _look(client, paid["contract_no"], "999999")
    with UnitOfWork(engine, readonly=True) as uow:
        after = uow.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        keys = uow.session.scalars(select(RateLimitBucket.key)).all()
    assert after == before  # a look-up changes nothing worth auditing
    assert keys == [CLIENT_KEY]


def test_the_access_log_masks_the_suffix(caplog):
    assert hide_id_suffix("/api/v1/public/contracts/HT-1?id_last6=00011X&lang=en") == (
        "/api/v1/public/contracts/HT-1?id_last6=******&lang=en"
    )
    assert hide_id_suffix("/verify/contract?contract_no=HT&ID_LAST6=00011x") == (
        "/verify/contract?contract_no=HT&ID_LAST6=******"
    )
    logger = logging.getLogger("test.access")
    logger.addFilter(HideIdSuffix())
    with caplog.at_level(logging.INFO, logger="test.access"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "203.0.113.7:5000",
            "GET",
            "/verify/contract?id_last6=070011",
            "1.1",
            200,
        )
    assert "070011" not in caplog.text and "id_last6=******" in caplog.text


def test_the_app_masks_the_suffix_in_uvicorns_logs(app):
    assert any(isinstance(f, HideIdSuffix) for f in logging.getLogger("uvicorn.access").filters)


# --- the phone page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_contract_in_chinese(client, paid):
    form = client.get("/verify/contract")
    assert form.status_code == 200
    assert 'name="contract_no"' in form.text and 'name="id_last6"' in form.text
    assert "购房合同查询" in form.text and 'name="viewport"' in form.text
    r = client.get("/verify/contract", params={"contract_no": paid["contract_no"], "id_last6": SUFFIX})
    assert r.status_code == 200
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"
    for text in (
        "HT-2025-0001",
        "桃城·安居花园一期",
        "3-2-1801",
        "¥620,000.00",
        "陆拾贰万元整",
        "主体结构完成二分之一",
        "2025年6月1日",
        "尚未达到",
        "已入账",
        "6222********2222",
        "衡水银行",
        *paid["vouchers"],
    ):
        assert text in r.text, text
    assert BUYER_ID not in r.text and "张伟" not in r.text


def test_the_page_in_english(client, paid):
    r = client.get(
        "/verify/contract", params={"contract_no": paid["contract_no"], "id_last6": SUFFIX, "lang": "en"}
    )
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    for text in (
        "Check my contract",
        "Half of the main structure completed",
        "Not yet reached",
        "Paid in",
        "¥620,000.00",
    ):
        assert text in r.text, text
    assert "lang=zh" in r.text  # the language switch


def test_the_page_answers_no_match_politely_and_refuses_a_malformed_suffix_on_the_form(client, app, paid):
    _limit(app, requests=1000, failures=1000)
    for number, suffix in _no_match_cases(paid["contract_no"]).values():
        r = client.get("/verify/contract", params={"contract_no": number, "id_last6": suffix})
        assert r.status_code == 404, (number, r.text)
        assert "未找到与该合同编号和证件号码后6位相符的购房合同" in r.text
        assert "Traceback" not in r.text
    bad = client.get("/verify/contract", params={"contract_no": paid["contract_no"], "id_last6": "12"})
    assert bad.status_code == 422
    assert "请输入证件号码的后6位" in bad.text and 'aria-invalid="true"' in bad.text
    assert 'value="HT-2025-0001"' in bad.text  # the number typed is kept, the suffix is not
    english = client.get("/verify/contract", params={"contract_no": "x", "id_last6": "", "lang": "en"})
    assert english.status_code == 422 and "Type the last 6 characters of the ID number" in english.text
    xss = client.get(
        "/verify/contract", params={"contract_no": "<script>alert(1)</script>", "id_last6": SUFFIX}
    )
    assert xss.status_code == 404 and "<script>alert" not in xss.text


def test_the_voucher_page_links_to_the_contract_page(client, paid):
    for path in ("/verify", f"/verify/{paid['vouchers'][0]}?code=AAAAA-AAAAA"):
        r = client.get(path)
        assert 'href="/verify/contract?lang=zh"' in r.text, path
        assert "查看我的合同的全部缴款和楼栋工程进度" in r.text, path
    assert 'href="/verify/contract?lang=en"' in client.get("/verify?lang=en").text


def test_the_voucher_qr_page_links_to_the_contract_page(client, engine, paid):
    from escrow.store.models import Voucher

    with UnitOfWork(engine, readonly=True) as uow:
        code = uow.session.scalar(
            select(Voucher.verification_code).where(Voucher.voucher_no == paid["vouchers"][0])
        )
    r = client.get(f"/verify/{paid['vouchers'][0]}", params={"code": code})  # where the QR code points
    assert r.status_code == 200
    assert 'href="/verify/contract?lang=zh"' in r.text


# --- documented -------------------------------------------------------------------------------------------


def test_the_public_contract_endpoint_is_documented_without_a_key(client):
    doc = client.get("/schema/openapi.json").json()
    operation = doc["paths"]["/api/v1/public/contracts/{contract_no}"]["get"]
    assert operation["operationId"] == "getPublicContract"
    assert not operation.get("security")
    assert {"200", "404", "422", "429"} <= set(operation["responses"])
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PublicContract"}
    fields = doc["components"]["schemas"]["PublicContract"]["properties"]
    assert {"contract_no", "project_name", "unit", "paid_total", "payments", "nodes"} <= set(fields)
    assert not any(path.startswith("/verify") for path in doc["paths"])
