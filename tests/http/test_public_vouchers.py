"""Public voucher verification (CONTRACT.md §3 Public): the JSON endpoint and the phone page, on SQLite and
PostgreSQL. No key; identical answers for an unknown voucher, a wrong code and malformed input, after the
same work; a rate limit per client kept in the database; the page never shows a trace."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from escrow.api.public import LIMIT_STATE
from escrow.services import ratelimit
from escrow.store.db import UnitOfWork
from escrow.store.models import RateLimitBucket, Voucher
from tests.http.test_api_deposits import _pay

API = "/api/v1/public/vouchers"
NO_MATCH_ZH = "未找到与该凭证编号和验证码相符的缴款凭证"
CLIENT_KEY = "voucher-lookup:testclient"  # the TestClient's address


@pytest.fixture
def voucher(project, flow) -> dict:
    """A voucher for a 120,000.00 down payment into the project's account."""
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], "120000.00")
    deposit = flow.deposit(**_pay(flow, notice))
    assert deposit["voucher"]["status"] == "issued"
    return {
        **deposit["voucher"],
        "account_no": notice["account_no"],
        "bank_reference": deposit["bank_reference"],
    }


def _limit(app, requests: int = 60, failures: int = 10) -> None:
    app.state[LIMIT_STATE] = ratelimit.Limit(requests=requests, failures=failures)


def _bucket(engine, key: str = CLIENT_KEY) -> tuple[int, int]:
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.execute(
            select(RateLimitBucket.count, RateLimitBucket.failures).where(RateLimitBucket.key == key)
        ).all()
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


# --- the answer -------------------------------------------------------------------------------------------


def test_a_buyer_confirms_the_payment_without_a_key(client, voucher):
    r = client.get(f"{API}/{voucher['voucher_no']}", params={"code": voucher["verification_code"]})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body == {
        "voucher_no": voucher["voucher_no"],
        "status": "issued",
        "status_text": "已入账：监管银行已将款项记入监管账户",
        "amount": "120000.00",
        "paid_on": "2026-11-22",
        "project_name": "桃城·安居花园一期",
        "account_no_masked": "6222********2222",
        "bank_name": "衡水银行",
    }
    english = client.get(
        f"{API}/{voucher['voucher_no']}", params={"code": voucher["verification_code"], "lang": "en"}
    ).json()
    assert english["status_text"].startswith("Paid in: the supervising bank has booked")


def test_the_page_shows_the_voucher_in_words(client, voucher):
    r = client.get(f"/verify/{voucher['voucher_no']}", params={"code": voucher["verification_code"]})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["referrer-policy"] == "no-referrer"
    page = r.text
    for text in (
        "已入账",
        "¥120,000.00",
        "壹拾贰万元整",
        "2026年11月22日",
        "桃城·安居花园一期",
        "6222********2222",
        "衡水银行",
        voucher["voucher_no"],
    ):
        assert text in page, text
    assert "6222000011112222" not in page  # the account number is masked
    assert 'name="viewport"' in page  # a page for a phone


def test_every_status_in_words(client, engine, voucher):
    path = f"/verify/{voucher['voucher_no']}?code={voucher['verification_code']}"
    for status, zh, en in [
        ("issued", "已入账", "Paid in"),
        ("confirmed", "已核对", "Confirmed: the payment matches a line"),
        ("receipted", "已开票", "Receipt issued"),
        ("reversed", "已冲正", "Reversed"),
        ("refunded", "已退款", "Refunded"),
    ]:
        with UnitOfWork(engine) as uow:
            uow.session.execute(update(Voucher).values(status=status))
            uow.commit()
        assert zh in client.get(path + "&lang=zh").text, status
        assert en in client.get(path + "&lang=en").text, status
        body = client.get(f"{API}/{voucher['voucher_no']}?code={voucher['verification_code']}").json()
        assert body["status"] == status


def test_the_status_follows_the_voucher(client, world, voucher):
    """The developer's receipt and the bank's reversal show on the public answer."""
    url = f"{API}/{voucher['voucher_no']}?code={voucher['verification_code']}"
    r = client.post(
        f"/api/v1/vouchers/{voucher['voucher_no']}/receipt",
        json={"receipt_no": "SJ-0001"},
        headers=world.headers("developer", "receipt"),
    )
    assert r.status_code in (200, 201), r.text
    assert client.get(url).json()["status"] == "receipted"


def test_a_reversed_payment_says_so(client, world, voucher):
    r = client.post(
        f"/api/v1/deposits/{voucher['bank_reference']}/reversal",
        json={"reason": "wrong account"},
        headers=world.headers("bank", "rev"),
    )
    assert r.status_code == 201, r.text
    body = client.get(f"{API}/{voucher['voucher_no']}?code={voucher['verification_code']}").json()
    assert body["status"] == "reversed"
    assert "不在监管账户中" in body["status_text"]


def test_a_code_typed_by_hand_is_forgiven_its_spelling(client, voucher):
    code = voucher["verification_code"]
    for typed in (code.lower(), code.replace("-", ""), " " + code.replace("-", " ") + " "):
        r = client.get(f"{API}/{voucher['voucher_no'].lower()}", params={"code": typed})
        assert r.status_code == 200, (typed, r.text)


def test_o_i_and_l_are_read_as_digits(client, engine, voucher):
    with UnitOfWork(engine) as uow:
        uow.session.execute(update(Voucher).values(verification_code="10ABC-D0EFG"))
        uow.commit()
    assert client.get(f"{API}/{voucher['voucher_no']}", params={"code": "LOABC-DOEFG"}).status_code == 200


# --- no match: one answer, the same work ------------------------------------------------------------------


def _no_match_cases(voucher: dict) -> dict[str, tuple[str, dict]]:
    number, code = voucher["voucher_no"], voucher["verification_code"]
    return {
        "unknown voucher": ("PZ202611229999999", {"code": code}),
        "wrong code": (number, {"code": "AAAAA-AAAAA"}),
        "no code": (number, {}),
        "empty code": (number, {"code": ""}),
        "malformed code": (number, {"code": "'; DROP TABLE vouchers; --" + "码" * 300}),
        "code of another length": (number, {"code": code + "X"}),
        "malformed number": ("PZ'\"<>", {"code": code}),
        "long number": ("P" * 5000, {"code": code}),
        "number with a NUL": ("PZ%00", {"code": code}),
        "unicode number": ("凭证１２３", {"code": code}),
    }


def test_unknown_voucher_wrong_code_and_malformed_input_answer_identically(client, app, voucher):
    _limit(app, requests=1000, failures=1000)
    answers = {}
    for name, (number, params) in _no_match_cases(voucher).items():
        r = client.get(f"{API}/{number}", params=params)
        headers = {k: v for k, v in r.headers.items() if k not in ("date", "content-length", "x-request-id")}
        answers[name] = (r.status_code, r.content, headers)
    first = answers["unknown voucher"]
    assert first[0] == 404
    assert b"no voucher matches this number and verification code" in first[1]
    for name, answer in answers.items():
        assert answer == first, name


def test_the_page_answers_every_no_match_with_the_same_polite_message(client, app, voucher):
    _limit(app, requests=1000, failures=1000)
    for name, (number, params) in _no_match_cases(voucher).items():
        r = client.get(f"/verify/{number}", params=params)
        assert r.status_code == 404, name
        assert r.headers["content-type"].startswith("text/html"), name
        assert NO_MATCH_ZH in r.text, name
        assert "Traceback" not in r.text and "<script" not in r.text.lower().replace("<script>", ""), name


MALFORMED_PATHS = [
    "/verify/a/b/c",
    "/verify/%2F..%2F..%2Fetc%2Fpasswd",
    "/verify/%00",
    "/verify/%FF%FE",
    "/verify/x?code=%FF",
    "/verify/x?code=a&code=b",
    "/verify?voucher_no=%3Cscript%3Ealert(1)%3C/script%3E&code=1",
    "/verify?voucher_no=&code=",
    "/verify?code=ABCDE-FGHJK",
    "/verify/" + "9" * 3000,
]


def test_malformed_numbers_and_codes_get_the_polite_page(client, app, voucher):
    _limit(app, requests=1000, failures=1000)
    for path in MALFORMED_PATHS:
        r = client.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"].startswith("text/html"), path
        assert NO_MATCH_ZH in r.text, path
        assert "<script>alert" not in r.text, path  # the number typed is shown escaped
        assert "Traceback" not in r.text, path


def test_unknown_and_wrong_code_do_the_same_database_work(client, app, voucher, monkeypatch):
    """The same statements, in the same order, with parameters of the same types, in one transaction: nothing
    in the work done (and so, beyond noise, in the time taken) tells a wrong code from a voucher that does
    not exist, or from a match."""
    _limit(app, requests=1000, failures=1000)
    seen: list[tuple[str, tuple[str, ...]]] = []
    rows = ratelimit.DriverSQL.rows

    def record(self, statement, params):
        seen.append((statement, tuple(type(p).__name__ for p in params)))
        return rows(self, statement, params)

    monkeypatch.setattr(ratelimit.DriverSQL, "rows", record)
    work = {}
    for name, (number, params) in _no_match_cases(voucher).items():
        seen.clear()
        assert client.get(f"{API}/{number}", params=params).status_code == 404
        work[name] = list(seen)
    seen.clear()
    client.get(f"{API}/{voucher['voucher_no']}", params={"code": voucher["verification_code"]})
    work["match"] = list(seen)
    assert [s.split()[0] for s, _ in work["unknown voucher"]] == ["SELECT", "INSERT"]  # look-up, count
    for name, statements in work.items():
        assert statements == work["unknown voucher"], name


def test_unknown_and_wrong_code_take_comparable_time(client, app, voucher):
    _limit(app, requests=10_000, failures=10_000)
    number, code = voucher["voucher_no"], voucher["verification_code"]
    times: dict[str, list[float]] = {"unknown": [], "wrong": []}
    for _ in range(40):  # interleaved, so that load on the machine hits both alike
        for name, path in (("unknown", f"{API}/PZ202611229999999"), ("wrong", f"{API}/{number}")):
            start = time.perf_counter()
            client.get(path, params={"code": "AAAAA-AAAAA" if name == "wrong" else code})
            times[name].append(time.perf_counter() - start)
    unknown, wrong = statistics.median(times["unknown"]), statistics.median(times["wrong"])
    assert 0.5 < unknown / wrong < 2.0, (unknown, wrong)


# --- rate limit -------------------------------------------------------------------------------------------


def test_too_many_failed_look_ups_are_refused_politely(client, app, engine, voucher):
    _limit(app, requests=100, failures=3)
    for _ in range(3):
        assert client.get(f"{API}/PZ202611229999999", params={"code": "AAAAA-AAAAA"}).status_code == 404
    r = client.get(f"{API}/PZ202611229999999", params={"code": "AAAAA-AAAAA"})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/rate-limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # even the right code is refused until the window ends: the limit says nothing about the voucher
    right = client.get(f"{API}/{voucher['voucher_no']}", params={"code": voucher["verification_code"]})
    assert right.status_code == 429
    page = client.get(f"/verify/{voucher['voucher_no']}", params={"code": voucher["verification_code"]})
    assert page.status_code == 429
    assert "查询过于频繁" in page.text and "秒后再试" in page.text
    assert page.headers["retry-after"] == r.headers["retry-after"] or int(page.headers["retry-after"]) <= 60
    assert "Too many checks" in client.get(f"/verify/{voucher['voucher_no']}?lang=en").text
    # every look-up counts; failures are those whose number and code matched no voucher
    assert _bucket(engine) == (7, 5)


def test_too_many_look_ups_are_refused_even_when_they_succeed(client, app, engine, voucher):
    _limit(app, requests=5, failures=100)
    url = f"{API}/{voucher['voucher_no']}?code={voucher['verification_code']}"
    assert [client.get(url).status_code for _ in range(7)] == [200] * 5 + [429] * 2
    assert _bucket(engine) == (7, 0)


def test_failed_look_ups_are_counted_per_client_and_window_for_the_alert_rule(client, app, engine, voucher):
    _limit(app, requests=1000, failures=1000)
    for _ in range(4):
        client.get(f"{API}/PZ202611229999999", params={"code": "AAAAA-AAAAA"})
    client.get(f"{API}/{voucher['voucher_no']}", params={"code": voucher["verification_code"]})
    with UnitOfWork(engine, readonly=True) as uow:
        counts = ratelimit.failures_since(uow, datetime.now(UTC) - timedelta(minutes=5))
    assert [(c.client, c.failures, c.count) for c in counts] == [("testclient", 4, 5)]
    assert counts[0].window_start.tzinfo is not None
    with UnitOfWork(engine) as uow:
        assert ratelimit.purge(uow, datetime.now(UTC) + timedelta(minutes=2)) == 1
        uow.commit()
    assert _bucket(engine) == (0, 0)


def test_clients_are_counted_apart(engine):
    limit = ratelimit.Limit(requests=2, failures=2)
    now = datetime(2026, 11, 22, 10, 0, 30, tzinfo=UTC)
    with UnitOfWork(engine) as uow:  # a unit of work lends its connection
        conn = uow.session.connection()
        a = [ratelimit.hit(conn, "voucher-lookup:192.0.2.1", limit, failed=False, now=now) for _ in range(3)]
        b = ratelimit.hit(conn, "voucher-lookup:192.0.2.2", limit, failed=False, now=now)
        later = ratelimit.hit(
            conn, "voucher-lookup:192.0.2.1", limit, failed=False, now=now + timedelta(seconds=40)
        )
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:  # read back through the ORM: the same stored windows
        counts = ratelimit.failures_since(uow, now - timedelta(minutes=1))
    assert counts == []
    assert [h.limited for h in a] == [False, False, True]
    assert a[-1].retry_after == 30
    assert not b.limited
    assert not later.limited and later.count == 1  # a new window


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "voucher-lookup:203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "voucher-lookup:2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "voucher-lookup:203.0.113.7"),
        (None, "voucher-lookup:unknown"),
        ("testclient", "voucher-lookup:testclient"),
    ],
)
def test_client_keys(address, key):
    assert ratelimit.client_key("voucher-lookup", address) == key


def test_the_limit_comes_from_the_environment():
    assert ratelimit.Limit.from_env({}) == ratelimit.Limit(60, 10)
    limit = ratelimit.Limit.from_env(
        {"ESCROW_LOOKUPS_PER_MINUTE": "5", "ESCROW_FAILED_LOOKUPS_PER_MINUTE": "2"}
    )
    assert (limit.requests, limit.failures) == (5, 2)
    with pytest.raises(ValueError, match="ESCROW_LOOKUPS_PER_MINUTE"):
        ratelimit.Limit.from_env({"ESCROW_LOOKUPS_PER_MINUTE": "many"})


# --- the form and the language ----------------------------------------------------------------------------


def test_the_form_checks_a_voucher_typed_by_hand(client, voucher):
    form = client.get("/verify")
    assert form.status_code == 200
    assert 'name="voucher_no"' in form.text and 'name="code"' in form.text
    r = client.get(
        "/verify",
        params={"voucher_no": f" {voucher['voucher_no'].lower()} ", "code": voucher["verification_code"]},
    )
    assert r.status_code == 200
    assert "¥120,000.00" in r.text


def test_english_on_request_and_for_the_rest_of_the_visit(client, voucher):
    r = client.get("/verify?lang=en")
    assert "Check a payment voucher" in r.text and '<html lang="en">' in r.text
    assert "lang=en" in r.headers.get("set-cookie", "")
    again = client.get(f"/verify/{voucher['voucher_no']}", params={"code": voucher["verification_code"]})
    assert "Paid in" in again.text and "Supervising bank" in again.text
    back = client.get("/verify?lang=zh")
    assert "缴款凭证核验" in back.text
    assert 'href="/verify?lang=en"' in back.text  # the switch keeps the page


def test_the_public_endpoint_is_documented_without_a_key(client):
    doc = client.get("/schema/openapi.json").json()
    operation = doc["paths"]["/api/v1/public/vouchers/{voucher_no}"]["get"]
    assert not operation.get("security")  # no key
    assert {"200", "404", "429"} <= set(operation["responses"])
    assert not any(path.startswith("/verify") for path in doc["paths"])


@pytest.mark.only_backend("postgresql")
def test_a_look_up_on_postgresql_runs_in_a_worker_thread_and_counts_once(
    client, engine, voucher, monkeypatch
):
    """On PostgreSQL every look-up waits for its row locks in a worker thread, never on the event loop."""
    import asyncio

    from escrow.services import vouchers

    where = []
    verify = vouchers.verify

    def spy(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            where.append("event loop")
        except RuntimeError:  # no loop runs in this thread
            where.append("worker thread")
        return verify(*args, **kwargs)

    monkeypatch.setattr(vouchers, "verify", spy)
    params = {"code": voucher["verification_code"]}
    r = client.get(f"{API}/{voucher['voucher_no']}", params=params)
    assert r.status_code == 200, r.text
    assert r.json()["voucher_no"] == voucher["voucher_no"]
    assert where == ["worker thread"]
    assert _bucket(engine) == (1, 0)


@pytest.mark.only_backend("sqlite")
def test_a_look_up_while_another_writer_holds_the_sqlite_file_waits_for_it_and_counts_once(
    client, engine, db_url, voucher, monkeypatch
):
    """On SQLite the look-up runs on the event loop with a connection that never waits for a lock; when a
    long write (a statement import, another process) holds the file, it is done again in a worker thread,
    which waits for the writer: the buyer gets the voucher, counted once, and the loop was never stalled."""
    import sqlite3
    import threading

    from escrow.services import vouchers

    waited = []  # look-ups that went through the worker thread's waiting transaction
    verify = vouchers.verify
    monkeypatch.setattr(vouchers, "verify", lambda *a, **kw: waited.append(a) or verify(*a, **kw))
    params = {"code": voucher["verification_code"]}
    assert client.get(f"{API}/{voucher['voucher_no']}", params=params).status_code == 200
    assert _bucket(engine) == (1, 0) and not waited  # on the loop, at once
    path = db_url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, writer.execute, ("COMMIT",))
    release.start()
    try:
        r = client.get(f"{API}/{voucher['voucher_no']}", params=params)
    finally:
        release.join()
        writer.close()
    assert r.status_code == 200, r.text
    assert r.json()["voucher_no"] == voucher["voucher_no"]
    assert _bucket(engine) == (2, 0) and len(waited) == 1
