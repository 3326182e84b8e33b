"""Helpers for the web UI tests: passwords for the world's users, signing in through the real form, and
posting forms with the CSRF token the page handed out."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from sqlalchemy import Engine

from escrow.domain.principal import SYSTEM
from escrow.services import parties
from escrow.store.db import UnitOfWork

PASSWORD = "correct-horse-battery"
BUREAU = ("admin", "inspector", "reviewer", "approver", "director", "auditor")
DEVELOPER_STAFF = "dev-staff"
OTHER_DEVELOPER_STAFF = "other-dev-staff"
BANK_STAFF = "bank"  # staff of the world's bank HSB (role bank: the bank portal)
OTHER_BANK_STAFF = "other-bank-staff"  # staff of the world's other bank OTB
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


# argon2id at its cheapest for the tests' users and apps (tests.conftest's `app` is given it): with RFC 9106's
# profile a verification costs ~0.13 s of CPU here and the suite signs in well over a thousand times. Those
# parameters are tested where they matter: every sign-in path costing one verification and hashes upgraded
# to them (tests/http/test_web_hardening.py), verify and upgrade themselves (tests/unit/test_passwords.py).
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@cache
def password_hash() -> str:
    """One real argon2 hash of PASSWORD (TEST_HASHER's) per test session: every user may share it (each
    sign-in still verifies it with argon2)."""
    return parties.hash_password(PASSWORD, TEST_HASHER)


def give_passwords(engine: Engine, developer_code: str, other_developer_code: str) -> None:
    """Every bureau user of the world gets PASSWORD; two developer staff users and two bank staff users (of
    HSB and OTB) are added."""
    from escrow.store.models import User

    with UnitOfWork(engine) as uow:
        for username in BUREAU:
            user = uow.parties.user_by_name(username)
            user.password_hash = password_hash()
        staff = ((DEVELOPER_STAFF, developer_code), (OTHER_DEVELOPER_STAFF, other_developer_code))
        for username, code in staff:
            if uow.session.query(User).filter_by(username=username).first() is None:
                staff_member = parties.create_user(
                    uow, username=username, role="developer", password=None, actor=SYSTEM, developer_code=code
                )
                staff_member.password_hash = password_hash()
        for username, bank_code in ((BANK_STAFF, "HSB"), (OTHER_BANK_STAFF, "OTB")):
            if uow.parties.user_by_name(username) is None:
                staff_member = parties.create_user(
                    uow, username=username, role="bank", password=None, actor=SYSTEM, bank_code=bank_code
                )
                staff_member.password_hash = password_hash()
        uow.commit()


def csrf_token(client) -> str:
    """The CSRF token of this client's session (or of its pre-session cookie before sign-in), as a page
    hands it out: the sign-in page, or the inbox once signed in. Tokens are bound to the session cookie, so
    one is fetched again only when the client's cookies changed."""
    cookies = tuple(sorted((c.name, c.value) for c in client.cookies.jar))
    cache = client.__dict__.setdefault("_csrf_tokens", {})
    if cookies not in cache:
        signed_in = any(name.endswith("escrow_session") for name, _ in cookies)
        page = client.get("/inbox" if signed_in else "/login", follow_redirects=True)
        cache.clear()
        cache[tuple(sorted((c.name, c.value) for c in client.cookies.jar))] = token_in(page.text)
        return token_in(page.text)
    return cache[cookies]


def token_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def post_form(client, url: str, data: dict | None = None, files=None, **kwargs):
    """A form post as the browser sends it: with the page's CSRF token, not following the redirect."""
    body = {"_csrf_token": csrf_token(client), **(data or {})}
    return client.post(url, data=body, files=files, follow_redirects=False, **kwargs)


def sign_in(client, username: str, password: str = PASSWORD):
    r = post_form(client, "/login", {"username": username, "password": password})
    assert r.status_code == 303, r.text
    return r
