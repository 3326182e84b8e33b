"""Sign-in, sign-out, CSRF, lock-out and the idle timeout of the web UI, through the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from escrow.services import signin
from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, User, WebSession
from tests.web import PASSWORD, csrf_token, post_form, sign_in


def test_login_page_is_chinese_by_default_and_english_on_request(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    english = client.get("/login?lang=en")
    assert "Sign in" in english.text and 'lang="en"' in english.text
    assert "登录" not in english.text.split("<main>")[1].split("</main>")[0]


def test_sign_in_opens_a_session_and_sign_out_ends_it(client, users, engine):
    r = sign_in(client, "reviewer")
    assert r.headers["location"] == "/"
    cookie = client.cookies.get("escrow_session")
    assert cookie
    with UnitOfWork(engine, readonly=True) as uow:
        stored = uow.session.scalars(select(WebSession)).all()
        assert [s.key for s in stored] == [signin.session_key(cookie)]  # only the hash is kept
        assert cookie not in {s.key for s in stored}
    assert client.get("/login", follow_redirects=False).status_code == 303  # already signed in
    r = post_form(client, "/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalars(select(WebSession)).all() == []


def test_developer_staff_land_on_their_portal(client, users):
    assert sign_in(client, "dev-staff").headers["location"] == "/developer"


def test_next_only_follows_paths_of_this_site(client, users):
    for target, expected in (
        ("/projects?q=1", "/projects?q=1"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
    ):
        client.cookies.clear()
        r = post_form(client, "/login", {"username": "reviewer", "password": PASSWORD, "next": target})
        assert r.headers["location"] == expected


def test_wrong_password_and_unknown_user_get_the_same_answer_and_keep_the_name(client, users):
    wrong = post_form(client, "/login", {"username": "reviewer", "password": "nope-nope-nope"})
    unknown = post_form(client, "/login", {"username": "nobody", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.text and "用户名或密码不正确" in unknown.text
    assert 'value="reviewer"' in wrong.text  # what was typed is kept…
    assert "nope-nope-nope" not in wrong.text  # …except the password
    assert client.cookies.get("escrow_session") is None


def test_empty_fields_are_marked_next_to_the_field_in_english_too(client, users):
    r = post_form(client, "/login?lang=en", {"username": "", "password": ""})
    assert r.status_code == 400
    assert 'id="e-username">Enter your user name.' in r.text
    assert 'id="e-password">Enter your password.' in r.text


def test_five_failures_lock_the_account_even_for_the_right_password(client, users, engine):
    for _ in range(signin.MAX_FAILURES - 1):
        wrong = post_form(client, "/login", {"username": "approver", "password": "wrong-wrong"})
        assert wrong.status_code == 401
    locked = post_form(client, "/login", {"username": "approver", "password": "wrong-wrong"})
    assert "已锁定" in locked.text
    right = post_form(client, "/login", {"username": "approver", "password": PASSWORD})
    assert right.status_code == 401 and "已锁定" in right.text
    with UnitOfWork(engine) as uow:
        user = uow.parties.user_by_name("approver")
        assert user.locked_until is not None
        assert uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.locked")) is not None
        user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        uow.commit()
    assert sign_in(client, "approver").status_code == 303  # the lock expired: the right password works


def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(client, users, engine):
    csrf_token(client)
    r = client.post("/login", data={"username": "reviewer", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert "表单已失效" in r.text
    assert client.cookies.get("escrow_session") is None
    sign_in(client, "reviewer")
    forged = "forged" + csrf_token(client)[6:]
    r = client.post("/logout", data={"_csrf_token": forged}, follow_redirects=False)
    assert r.status_code == 403
    with UnitOfWork(engine, readonly=True) as uow:
        assert len(uow.session.scalars(select(WebSession)).all()) == 1  # still signed in


def test_idle_session_ends_and_the_login_page_says_why(client, users, engine):
    sign_in(client, "reviewer")
    with UnitOfWork(engine) as uow:
        for row in uow.session.scalars(select(WebSession)):
            row.expires_at = row.expires_at - signin.IDLE_TIMEOUT - timedelta(seconds=1)
        uow.commit()
    r = client.get("/projects", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=/projects") and "expired=1" in r.headers["location"]
    page = client.get(r.headers["location"])
    assert "长时间未操作" in page.text
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalars(select(WebSession)).all() == []


def test_a_disabled_user_is_signed_out_at_the_next_page(client, users, engine):
    sign_in(client, "auditor")
    with UnitOfWork(engine) as uow:
        uow.session.scalar(select(User).where(User.username == "auditor")).active = False
        uow.commit()
    assert client.get("/projects", follow_redirects=False).headers["location"].startswith("/login")
