"""Sign-in and page hardening, through the real app: the CSRF token is bound to the session; cookies are
`__Host-` and Secure over HTTPS; every sign-in path costs one argon2 verification; older hashes are upgraded
on sign-in; failed sign-ins are limited per client address, as resolved behind trusted proxies only; every
answer carries the security headers, HSTS only over HTTPS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient
from sqlalchemy import select

from escrow.services import ratelimit
from escrow.store.db import UnitOfWork
from escrow.store.models import RateLimitBucket, User, WebSession
from escrow.web.shell.auth import SIGN_IN_LIMIT_STATE
from tests.web import PASSWORD, csrf_token, post_form, sign_in, token_in

# --- CSRF bound to the session ------------------------------------------------------------------------------


def test_a_csrf_token_of_another_session_is_refused(app, client, users, engine):
    with TestClient(app) as other:
        sign_in(client, "reviewer")
        sign_in(other, "auditor")
        theirs = csrf_token(other)
        assert theirs != csrf_token(client)
        r = client.post("/logout", data={"_csrf_token": theirs}, follow_redirects=False)
        assert r.status_code == 403 and "表单已失效" in r.text  # the friendly "form expired" page
        with UnitOfWork(engine, readonly=True) as uow:
            assert len(uow.session.scalars(select(WebSession)).all()) == 2  # nobody was signed out
        assert post_form(client, "/logout").status_code == 303  # its own token works


def test_the_sign_in_token_is_bound_to_the_pre_session_cookie_and_ends_with_sign_in(app, client, users):
    with TestClient(app) as other:
        theirs = token_in(other.get("/login").text)
        client.get("/login")
        r = client.post(
            "/login",
            data={"username": "reviewer", "password": PASSWORD, "_csrf_token": theirs},
            follow_redirects=False,
        )
        assert r.status_code == 403 and "escrow_session" not in r.headers.get("set-cookie", "")
    before = csrf_token(client)
    sign_in(client, "reviewer")
    r = client.post("/logout", data={"_csrf_token": before}, follow_redirects=False)
    assert r.status_code == 403  # the token of the form before sign-in is worth nothing after it


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def test_over_https_cookies_are_host_prefixed_and_secure(app, users):
    with TestClient(app, base_url="https://escrow.example") as secure:
        page = secure.get("/login")
        pre = _set_cookies(page)["__Host-escrow_csrf"]
        r = post_form(secure, "/login", {"username": "reviewer", "password": PASSWORD})
        assert r.status_code == 303
        session = _set_cookies(r)["__Host-escrow_session"]
        for cookie in (pre, session):
            attributes = [part.strip().lower() for part in cookie.split(";")]
            assert {"secure", "httponly", "path=/", "samesite=lax"} <= set(attributes)
            assert not any(a.startswith("domain") for a in attributes)
        assert secure.get("/projects", follow_redirects=False).status_code == 200
        # the bare name does not count over HTTPS
        value = secure.cookies.get("__Host-escrow_session")
        secure.cookies.clear()
        secure.cookies.set("escrow_session", value)
        assert secure.get("/projects", follow_redirects=False).status_code == 303


def test_over_plain_http_cookies_keep_their_bare_names_without_secure(client, users):
    page = client.get("/login")
    assert "Secure" not in _set_cookies(page)["escrow_csrf"]
    session = _set_cookies(sign_in(client, "reviewer"))["escrow_session"]
    assert "HttpOnly" in session and "Secure" not in session and "__Host-" not in session


# --- one argon2 verification on every path, and hashes upgraded ---------------------------------------------


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, counting its verifications."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def counted(settings, engine, today):
    from escrow.app import create_app

    hasher = CountingHasher()
    app = create_app(settings, engine=engine, today=lambda: today, hasher=hasher)
    with TestClient(app) as browser:
        yield browser, hasher


def test_every_sign_in_path_costs_one_argon2_verification(counted, users, engine):
    browser, hasher = counted
    with UnitOfWork(engine) as uow:
        uow.session.scalar(select(User).where(User.username == "auditor")).active = False
        locked = uow.session.scalar(select(User).where(User.username == "approver"))
        locked.locked_until = datetime.now(UTC) + timedelta(minutes=10)
        uow.commit()
    attempts = {
        "right password": ("reviewer", PASSWORD, 303),
        "wrong password": ("reviewer", "not-the-password", 401),
        "unknown user": ("nobody-at-all", "not-the-password", 401),
        "disabled user": ("auditor", PASSWORD, 401),
        "locked user": ("approver", PASSWORD, 401),
    }
    for path, (username, password, status) in attempts.items():
        browser.cookies.clear()
        token = csrf_token(browser)
        before = hasher.verified
        r = browser.post(
            "/login",
            data={"username": username, "password": password, "_csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == status, path
        assert hasher.verified - before == 1, path


def test_an_older_hash_is_upgraded_at_sign_in_and_still_works(counted, users, engine):
    client, _ = counted  # an app with the production parameters (the `app` fixture's are the cheapest)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with UnitOfWork(engine) as uow:
        reviewer = uow.session.scalar(select(User).where(User.username == "reviewer"))
        reviewer.password_hash = weak.hash(PASSWORD)
        uow.commit()

    def stored() -> str:
        with UnitOfWork(engine, readonly=True) as uow:
            return uow.session.scalar(select(User).where(User.username == "reviewer")).password_hash

    old = stored()
    wrong = post_form(client, "/login", {"username": "reviewer", "password": "wrong-password!"})
    assert wrong.status_code == 401
    assert stored() == old  # a wrong password upgrades nothing
    sign_in(client, "reviewer")
    new = stored()
    assert new != old and not PasswordHasher().check_needs_rehash(new)
    assert PasswordHasher().verify(new, PASSWORD)
    post_form(client, "/logout")
    sign_in(client, "reviewer")  # the upgraded hash signs in
    assert stored() == new


# --- failed sign-ins per client address ---------------------------------------------------------------------


def _run(fn, *args):
    """anyio.run in a thread of its own: a test before this one in the same worker (a browser's, a mail
    server's) may leave an event loop running in the main thread, where another cannot start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn, *args).result()


async def _attempts(app, peer: str, forwarded: list[str | None], password: str = "wrong-password!") -> list:
    """Sign-ins from the TCP peer `peer`, each with its X-Forwarded-For (or none); their answers."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://escrow.example") as browser:
        token = token_in((await browser.get("/login")).text)
        for address in forwarded:
            headers = {"X-Forwarded-For": address} if address else {}
            answers.append(
                await browser.post(
                    "/login",
                    data={"username": "reviewer", "password": password, "_csrf_token": token},
                    headers=headers,
                )
            )
    return answers


@pytest.fixture
def limited_app(settings, engine, today):
    """The app behind a proxy at 10.0.0.2 (not loopback), at most 2 failed sign-ins per address."""
    from escrow.app import create_app

    behind = replace(settings, forwarded_allow_ips="10.0.0.2", signin_failures=2)
    app = create_app(behind, engine=engine, today=lambda: today)
    assert app.state[SIGN_IN_LIMIT_STATE] == ratelimit.Limit(requests=2**31 - 1, failures=2, window=900)
    return app


def _keys(engine) -> dict[str, int]:
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.scalars(select(RateLimitBucket).where(RateLimitBucket.key.startswith("sign-in:")))
        return {row.key: row.failures for row in rows}


def test_failed_sign_ins_are_limited_per_address_with_retry_after(limited_app, users, engine):
    first, second, third = _run(_attempts, limited_app, "192.0.2.7", [None, None, None])
    assert first.status_code == second.status_code == 401
    assert third.status_code == 429
    assert 1 <= int(third.headers["retry-after"]) <= 900
    assert "请稍候" in third.text or "分钟" in third.text  # the sign-in page says when to try again
    # even the right password waits for the window to end: spraying learns nothing more
    (right,) = _run(_attempts, limited_app, "192.0.2.7", [None], PASSWORD)
    assert right.status_code == 429
    # another address is not affected, and a right password is not counted as a failure
    (other,) = _run(_attempts, limited_app, "192.0.2.8", [None], PASSWORD)
    assert other.status_code == 303
    assert _keys(engine)["sign-in:192.0.2.8"] == 0


def test_the_count_is_shared_by_every_worker(limited_app, settings, engine, today, users):
    """Two apps on one database, as two `--workers` processes are: their failures add up."""
    from escrow.app import create_app

    other = create_app(settings, engine=engine, today=lambda: today)
    other.state[SIGN_IN_LIMIT_STATE] = ratelimit.Limit(requests=10_000, failures=2, window=900)
    (first,) = _run(_attempts, limited_app, "192.0.2.9", [None])
    (second,) = _run(_attempts, other, "192.0.2.9", [None])
    (third,) = _run(_attempts, limited_app, "192.0.2.9", [None])
    assert [first.status_code, second.status_code, third.status_code] == [401, 401, 429]


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_count(limited_app, users, engine):
    answers = _run(
        _attempts, limited_app, "10.0.0.2", ["203.0.113.7", "203.0.113.7", "198.51.100.9", "203.0.113.7"]
    )
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    keys = _keys(engine)
    assert keys["sign-in:203.0.113.7"] == 3 and keys["sign-in:198.51.100.9"] == 1
    assert "sign-in:10.0.0.2" not in keys  # the proxy itself is nobody's address


def test_an_untrusted_peer_cannot_choose_its_address_with_x_forwarded_for(limited_app, users, engine):
    answers = _run(_attempts, limited_app, "192.0.2.50", ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert [a.status_code for a in answers] == [401, 401, 429]
    keys = _keys(engine)
    assert keys == {"sign-in:192.0.2.50": 3}


# --- security headers ---------------------------------------------------------------------------------------


def _policy(response: httpx.Response) -> dict[str, str]:
    found = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        found[name] = value
    return found


def test_every_page_and_answer_carries_the_security_headers(client, users):
    answers = {
        "login": client.get("/login"),
        "verify": client.get("/verify"),
        "static": client.get("/static/site.css"),
        "missing page": client.get("/no-such-page"),
        "api": client.get("/api/v1/stats"),
        "health": client.get("/health"),
    }
    sign_in(client, "reviewer")
    answers["dashboard"] = client.get("/")
    answers["form"] = client.get("/rules/what-if")
    for name, r in answers.items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["x-frame-options"] == "DENY", name
        # /verify sets its own, stricter policy
        assert r.headers["referrer-policy"] in ("same-origin", "no-referrer"), name
        assert _policy(r)["frame-ancestors"] == "'none'", name
        assert "strict-transport-security" not in r.headers, name  # plain HTTP: no HSTS
    for name in ("login", "verify", "dashboard", "form"):
        policy = _policy(answers[name])
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", name
        assert "unsafe-inline" not in answers[name].headers["content-security-policy"]
        assert "<script>" not in answers[name].text and " onclick=" not in answers[name].text
    assert _policy(answers["api"])["default-src"] == "'none'"


def test_hsts_only_over_https_and_through_a_trusted_proxy(app, limited_app):
    with TestClient(app, base_url="https://escrow.example") as secure:
        assert secure.get("/login").headers["strict-transport-security"].startswith("max-age=")

    async def through(peer: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=limited_app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://escrow.example") as browser:
            return await browser.get("/login", headers={"X-Forwarded-Proto": "https"})

    trusted = _run(through, "10.0.0.2")
    assert "strict-transport-security" in trusted.headers
    assert "__Host-escrow_csrf" in trusted.headers["set-cookie"]
    untrusted = _run(through, "192.0.2.50")
    assert "strict-transport-security" not in untrusted.headers
    assert "__Host-" not in untrusted.headers["set-cookie"]
