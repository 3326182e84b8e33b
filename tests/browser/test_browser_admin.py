"""Administration and the bank portal in a real browser, in Chinese (the default) and in English: the admin
creates a user, makes an API key for them that is shown once, revokes it after the confirmation page, and
disables the user; bank staff read their own bank's accounts and never another bank's."""

from __future__ import annotations

import pytest

from tests.web import OTHER_BANK_STAFF, PASSWORD

WORDS = {
    "zh": {"users": "用户", "keys": "API 密钥", "disabled": "已停用", "accounts": "监管账户"},
    "en": {"users": "Users", "keys": "API keys", "disabled": "Disabled", "accounts": "Supervised accounts"},
}


def _go(page, path: str, lang: str) -> None:
    page.goto(f"{path}?lang=en" if lang == "en" else path)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_creates_a_user_sees_the_key_once_revokes_it_and_disables_the_user(
    live, page_as, new_page, shot, lang
):
    words = WORDS[lang]
    admin = page_as("admin")
    _go(admin, "/admin/users", lang)
    assert admin.inner_text("main h1") == words["users"]
    assert admin.locator("nav.main-nav a[href='/admin/users']").count() == 1

    # a password too short is said next to its field, and nobody is created
    admin.fill("#create-user #f-username", "zhao.lei")
    admin.fill("#create-user #f-display_name", "赵磊")
    admin.select_option("#create-user #f-role", "reviewer")
    admin.fill("#create-user #f-password", "short")
    admin.click("#create-user button[type=submit]")
    admin.locator("#e-password").wait_for()
    assert "10" in admin.inner_text("#e-password")
    assert admin.locator("tr[data-username='zhao.lei']").count() == 0

    admin.fill("#create-user #f-password", PASSWORD)
    admin.click("#create-user button[type=submit]")
    admin.wait_for_url("**done=user_created**")
    assert admin.locator("tr[data-username='zhao.lei']").count() == 1
    shot(admin, f"admin-users-{lang}")

    admin.click("a[href='/admin/keys']")
    admin.wait_for_url("**/admin/keys")
    assert admin.inner_text("main h1") == words["keys"]
    admin.select_option("#create-key #f-owner", "user:zhao.lei")
    admin.click("#create-key button[type=submit]")
    key = admin.inner_text("#new-key")
    assert key.startswith("esk_")
    shot(admin, f"admin-key-once-{lang}")
    headers = {"Authorization": f"Bearer {key}"}
    assert live.api.get("/api/v1/alerts?state=open", headers=headers).status_code == 200

    admin.goto("/admin/keys")
    prefix = key.split("_")[1]
    row = admin.locator(f"tr[data-prefix='{prefix}']")
    assert row.count() == 1 and key not in admin.content()  # never shown again
    row.locator("a[href$='/revoke']").click()
    admin.wait_for_url("**/revoke")
    shot(admin, f"admin-key-revoke-{lang}")
    admin.click("main form button.danger")
    admin.wait_for_url("**done=key_revoked**")
    assert admin.locator(f"tr[data-prefix='{prefix}'] .badge.bad").count() == 1
    assert live.api.get("/api/v1/alerts?state=open", headers=headers).status_code == 401

    # the user signs in, then the admin disables them: their page closes at once
    user = page_as("zhao.lei")
    admin.goto("/admin/users")
    admin.locator("tr[data-username='zhao.lei'] form[action$='/disable'] button").click()
    admin.wait_for_url("**done=user_disabled**")
    assert words["disabled"] in admin.inner_text("tr[data-username='zhao.lei']")
    shot(admin, f"admin-user-disabled-{lang}")
    user.reload()
    assert "/login" in user.url
    again = new_page()
    again.goto("/login")
    again.fill("#f-username", "zhao.lei")
    again.fill("#f-password", PASSWORD)
    again.click("form[action='/login'] button[type=submit]")
    again.locator("form .form-error").wait_for()
    assert "/login" in again.url


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bank_staff_read_their_own_bank_only(live, page_as, shot, lang):
    own = live.open_project()
    other = live.open_project(permit_no="衡预售2025-077", account_no="6222000077770000", bank_code="OTB")
    live.pay(own, "300000.00")
    words = WORDS[lang]
    staff = page_as("bank")
    assert staff.url.endswith("/bank")
    _go(staff, "/bank", lang)
    assert staff.inner_text("main h1").startswith(words["accounts"])
    table = staff.inner_text("#accounts")
    assert own["account_no"] in table and "300,000.00" in table
    assert other["account_no"] not in table
    shot(staff, f"bank-accounts-{lang}")

    staff.click(f"a[href='/bank/accounts/{own['account_no']}']")
    staff.wait_for_url(f"**/bank/accounts/{own['account_no']}")
    assert "300,000.00" in staff.inner_text("main")
    shot(staff, f"bank-account-{lang}")
    answer = staff.goto(f"/bank/accounts/{other['account_no']}")
    assert answer.status == 404

    mirror = page_as(OTHER_BANK_STAFF)
    assert own["account_no"] not in mirror.inner_text("main")
    assert other["account_no"] in mirror.inner_text("#accounts")
