"""Administration in the browser (/admin/users, /admin/keys) through the real app: each change an admin
makes, audited with who did what to whom; each refused for other roles (403, nothing changed) and without
the form's CSRF token; bad input answered with field errors and nothing saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from escrow.store.db import UnitOfWork
from escrow.store.models import ApiKey, AuditEvent, User
from tests.conftest import contract_body
from tests.web import PASSWORD, post_form, sign_in

NEW_PASSWORD = "a-brand-new-password"


def _user(engine, username: str) -> User | None:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.parties.user_by_name(username)


def _events(engine, action: str) -> list[AuditEvent]:
    with UnitOfWork(engine, readonly=True) as uow:
        return list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _keys(engine) -> list[ApiKey]:
    with UnitOfWork(engine, readonly=True) as uow:
        return list(uow.session.scalars(select(ApiKey).order_by(ApiKey.id)))


@pytest.fixture
def admin(web):
    return web("admin")


@pytest.fixture
def fresh(app):
    """A new browser, signed in as nobody yet; closed at the end."""
    opened = []

    def browser() -> TestClient:
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client

    yield browser
    for client in reversed(opened):
        client.__exit__(None, None, None)


def _create(admin, **fields):
    body = {"username": "wang.fang", "display_name": "王芳", "role": "reviewer", "password": PASSWORD}
    return post_form(admin, "/admin/users", {**body, **fields})


def test_the_user_list_shows_roles_state_and_last_sign_in(admin, engine):
    page = admin.get("/admin/users")
    assert page.status_code == 200
    row = page.text.split('data-username="admin"')[1].split("</tr>")[0]
    assert "Administrator" in admin.get("/admin/users?lang=en").text
    assert "—" not in row.split("<td>")[7]  # the admin's own sign-in is recorded and shown
    assert 'data-username="dev-staff"' in page.text and "衡水安居置业有限公司" in page.text
    assert 'data-username="bank"' in page.text and "衡水银行" in page.text


def test_an_admin_creates_users_who_can_sign_in_audited(admin, engine, fresh, users):
    r = _create(admin)
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?done=user_created"
    created = _user(engine, "wang.fang")
    assert created.role == "reviewer" and created.display_name == "王芳" and created.active
    assert PASSWORD not in created.password_hash
    sign_in(fresh(), "wang.fang")
    admin_id = _user(engine, "admin").id
    [event] = [e for e in _events(engine, "user.created") if e.subject_id == "wang.fang"]
    assert event.actor == f"user:{admin_id}"
    # developer staff of a developer, bank staff of a bank
    r = _create(admin, username="dev.two", role="developer", developer=users.developer_code)
    assert r.status_code == 303
    assert _user(engine, "dev.two").developer_id is not None
    r = _create(admin, username="teller", role="bank", bank="OTB")
    assert r.status_code == 303
    teller = _user(engine, "teller")
    assert teller.bank_id is not None and teller.role == "bank"
    browser = fresh()  # the teller signs in and lands on the bank portal
    assert sign_in(browser, "teller").headers["location"] == "/bank"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"password": "short"}, "password", "10"),
        ({"password": ""}, "password", "请输入初始密码"),
        ({"username": ""}, "username", "请输入用户名"),
        ({"username": "admin"}, "username", ""),  # taken
        ({"role": "janitor"}, "role", ""),
        ({"role": "bank"}, "bank", ""),  # bank staff name their bank
        ({"role": "bank", "bank": "NOPE"}, "bank", ""),
        ({"role": "developer"}, "developer", ""),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nobody(admin, engine, fields, field, words):
    before = _events(engine, "user.created")
    r = _create(admin, **fields)
    assert r.status_code in (409, 422)
    assert f'id="e-{field}"' in r.text
    assert words in r.text.split(f'id="e-{field}"')[1].split("</div>")[0]
    assert PASSWORD not in r.text  # a password is never echoed back
    assert _events(engine, "user.created") == before
    assert _user(engine, "wang.fang") is None


def test_non_admins_are_refused_and_nothing_changes(web, engine):
    reviewer = web("reviewer")
    assert reviewer.get("/admin/users").status_code == 403
    assert reviewer.get("/admin/keys").status_code == 403
    assert _create(reviewer).status_code == 403
    assert _user(engine, "wang.fang") is None
    target = _user(engine, "auditor").id
    for path in (f"/admin/users/{target}/disable", f"/admin/users/{target}/unlock"):
        assert post_form(reviewer, path).status_code == 403
    reset = post_form(reviewer, f"/admin/users/{target}/password", {"password": NEW_PASSWORD})
    assert reset.status_code == 403
    keys_before = len(_keys(engine))
    key = _keys(engine)[0]
    assert post_form(reviewer, "/admin/keys", {"owner": "bank:HSB"}).status_code == 403
    assert post_form(reviewer, f"/admin/keys/{key.id}/revoke").status_code == 403
    assert _user(engine, "auditor").active
    assert all(k.revoked_at is None for k in _keys(engine)) and len(_keys(engine)) == keys_before
    assert _events(engine, "user.disabled") == [] and _events(engine, "user.unlocked") == []
    assert _events(engine, "user.password_reset") == []
    assert web("bank").get("/admin/users").status_code == 403


def test_every_form_needs_its_csrf_token(admin, engine):
    target = _user(engine, "auditor").id
    r = admin.post(f"/admin/users/{target}/disable", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = admin.post("/admin/users", data={"username": "x1", "role": "reviewer", "password": PASSWORD})
    assert r.status_code == 403
    assert _user(engine, "auditor").active and _user(engine, "x1") is None


def test_disabling_ends_the_users_sessions_at_once_and_enabling_lets_them_back(admin, web, engine, fresh):
    auditor = web("auditor")
    assert auditor.get("/").status_code == 200
    target = _user(engine, "auditor").id
    r = post_form(admin, f"/admin/users/{target}/disable")
    assert r.status_code == 303
    assert not _user(engine, "auditor").active
    gone = auditor.get("/", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    refused = post_form(fresh(), "/login", {"username": "auditor", "password": PASSWORD})
    assert refused.status_code == 401
    [event] = _events(engine, "user.disabled")
    assert event.subject_id == "auditor" and event.actor == f"user:{_user(engine, 'admin').id}"
    assert post_form(admin, f"/admin/users/{target}/enable").status_code == 303
    sign_in(fresh(), "auditor")
    assert [e.subject_id for e in _events(engine, "user.enabled")] == ["auditor"]


def test_an_admin_cannot_disable_themselves(admin, engine):
    me = _user(engine, "admin").id
    r = post_form(admin, f"/admin/users/{me}/disable")
    assert r.status_code == 409
    assert "不能停用自己的账户" in r.text
    assert _user(engine, "admin").active and _events(engine, "user.disabled") == []
    assert admin.get("/admin/users").status_code == 200


def test_a_typed_password_reset_replaces_the_old_one_and_ends_sessions(admin, web, engine, fresh):
    auditor = web("auditor")
    target = _user(engine, "auditor").id
    assert admin.get(f"/admin/users/{target}/password").status_code == 200
    short = post_form(admin, f"/admin/users/{target}/password", {"action": "set", "password": "short"})
    assert short.status_code == 422 and 'id="e-password"' in short.text
    assert _events(engine, "user.password_reset") == []
    r = post_form(admin, f"/admin/users/{target}/password", {"action": "set", "password": NEW_PASSWORD})
    assert r.status_code == 303
    assert auditor.get("/", follow_redirects=False).status_code == 303  # signed out
    assert post_form(fresh(), "/login", {"username": "auditor", "password": PASSWORD}).status_code == 401
    sign_in(fresh(), "auditor", NEW_PASSWORD)
    [event] = _events(engine, "user.password_reset")
    assert event.subject_id == "auditor" and NEW_PASSWORD not in str(event.details)


def test_a_generated_password_is_shown_once_and_works(admin, engine, fresh):
    target = _user(engine, "auditor").id
    r = post_form(admin, f"/admin/users/{target}/password", {"action": "generate"})
    assert r.status_code == 200
    generated = r.text.split('id="generated-password">')[1].split("<")[0]
    assert len(generated) >= 10
    assert generated not in admin.get("/admin/users").text
    assert generated not in str(_events(engine, "user.password_reset")[0].details)
    sign_in(fresh(), "auditor", generated)


def test_unlock_clears_the_lock_out(admin, engine, fresh):
    browser = fresh()
    for _ in range(5):
        post_form(browser, "/login", {"username": "auditor", "password": "wrong password!"})
    locked = _user(engine, "auditor")
    assert locked.locked_until is not None
    page = admin.get("/admin/users")
    assert f"/admin/users/{locked.id}/unlock" in page.text
    assert post_form(admin, f"/admin/users/{locked.id}/unlock").status_code == 303
    user = _user(engine, "auditor")
    assert user.locked_until is None and user.failed_logins == 0
    sign_in(fresh(), "auditor")
    [event] = _events(engine, "user.unlocked")
    assert event.subject_id == "auditor"


def _created_key(admin, owner: str) -> str:
    r = post_form(admin, "/admin/keys", {"owner": owner})
    assert r.status_code == 201, r.text
    return r.text.split('id="new-key">')[1].split("<")[0]


@pytest.mark.parametrize(
    ("owner", "path"),
    [("bank:HSB", "/api/v1/accounts"), ("user:reviewer", "/api/v1/alerts?state=open")],
)
def test_a_key_is_shown_once_works_and_only_its_hash_is_kept(admin, client, engine, owner, path):
    before = len(_keys(engine))
    key = _created_key(admin, owner)
    assert key.startswith("esk_")
    assert client.get(path, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listing = admin.get("/admin/keys")
    prefix = key.split("_")[1]
    assert f'data-prefix="{prefix}"' in listing.text and key not in listing.text
    rows = _keys(engine)
    assert len(rows) == before + 1 and rows[-1].prefix == prefix and rows[-1].key_hash != key
    assert key.split("_", 2)[2] not in rows[-1].key_hash  # the secret may hold "_" itself
    [event] = [e for e in _events(engine, "api_key.created") if e.subject_id == prefix]
    assert event.actor == f"user:{_user(engine, 'admin').id}"


def test_a_key_for_a_developer_acts_for_that_developer(admin, client, users, project):
    key = _created_key(admin, f"developer:{users.developer_code}")
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "contract-by-new-key"}
    r = client.post("/api/v1/contracts", json=contract_body(), headers=headers)
    assert r.status_code == 201, r.text


def test_revoking_asks_first_then_the_key_stops_working(admin, client, engine):
    key = _created_key(admin, "bank:HSB")
    row = _keys(engine)[-1]
    confirm = admin.get(f"/admin/keys/{row.id}/revoke")
    assert confirm.status_code == 200 and f"/admin/keys/{row.id}/revoke" in confirm.text
    assert _keys(engine)[-1].revoked_at is None  # asking changes nothing
    r = post_form(admin, f"/admin/keys/{row.id}/revoke")
    assert r.status_code == 303
    assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert _keys(engine)[-1].revoked_at is not None
    [event] = _events(engine, "api_key.revoked")
    assert event.subject_id == row.prefix and event.actor == f"user:{_user(engine, 'admin').id}"
    again = post_form(admin, f"/admin/keys/{row.id}/revoke")
    assert again.status_code == 409 and len(_events(engine, "api_key.revoked")) == 1


@pytest.mark.parametrize("owner", ["", "bank:NOPE", "nobody:HSB", "user:dev-staff", "user:ghost"])
def test_a_key_for_nobody_known_is_a_field_error(admin, engine, owner):
    before = len(_keys(engine))
    r = post_form(admin, "/admin/keys", {"owner": owner})
    assert r.status_code in (404, 422) and 'id="e-owner"' in r.text
    assert len(_keys(engine)) == before


def test_a_disabled_users_key_stops_working(admin, client, engine, users):
    headers = {"Authorization": f"Bearer {users.keys['auditor']}"}
    assert client.get("/api/v1/alerts?state=open", headers=headers).status_code == 200
    post_form(admin, f"/admin/users/{_user(engine, 'auditor').id}/disable")
    assert client.get("/api/v1/alerts?state=open", headers=headers).status_code == 401


def test_the_lock_shown_is_only_a_current_one(admin, engine):
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name("auditor").locked_until = datetime.now(UTC) - timedelta(minutes=1)
        uow.commit()
    row = admin.get("/admin/users").text.split('data-username="auditor"')[1].split("</tr>")[0]
    assert row.split("<td>")[6].startswith("—")
