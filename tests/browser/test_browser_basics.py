"""The web UI in a real browser: signing in through the form (Chinese by default), switching the language
for the session, signing out, the error of a wrong password, several users at once, and the rule-book
what-if page. Screenshots go to test-artefacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import sign_in
from tests.web import PASSWORD

FIXTURE_RULES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"


def test_a_reviewer_signs_in_switches_to_english_for_the_session_and_signs_out(new_page, shot):
    page = new_page()
    page.goto("/")
    assert "/login" in page.url  # not signed in: sent to the sign-in form
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("main h1") == "登录"
    shot(page, "login")

    sign_in(page, "reviewer")
    assert page.url.endswith("/")
    assert page.inner_text(".who .user-name")  # the signed-in user is named in the header
    nav = page.inner_text("nav.main-nav")
    assert "首页" in nav and "规则试算" in nav
    assert page.inner_text("main h1") == "全市概况"
    shot(page, "dashboard-zh")

    page.click("nav.lang-switch a")
    page.wait_for_url("**lang=en**")
    assert page.get_attribute("html", "lang") == "en"
    assert "Dashboard" in page.inner_text("nav.main-nav")
    assert page.inner_text("main h1") == "City overview"
    shot(page, "dashboard-en")

    page.click("nav.main-nav a[href='/rules/what-if']")  # a plain link: no ?lang= in it
    page.wait_for_url("**/rules/what-if")
    assert page.get_attribute("html", "lang") == "en"  # the choice is kept by the session
    assert "Sign out" in page.inner_text(".who")

    page.click(".who form button")
    page.wait_for_url("**/login")
    page.goto("/rules/what-if")
    assert "/login" in page.url  # signed out: the page is closed again


def test_a_wrong_password_is_said_next_to_the_form_and_keeps_the_name(new_page, shot):
    page = new_page()
    page.goto("/login")
    page.fill("#f-username", "approver")
    page.fill("#f-password", "not-the-password")
    page.click("form[action='/login'] button[type=submit]")
    error = page.locator("form .form-error")
    error.wait_for()
    assert error.inner_text() == "用户名或密码不正确。"
    assert page.input_value("#f-username") == "approver"
    assert page.input_value("#f-password") == ""
    assert "/login" in page.url
    shot(page, "login-wrong-password")
    sign_in(page, "approver", PASSWORD)  # the same form then works
    assert page.url.endswith("/")


def test_several_users_are_signed_in_at_once_each_in_their_own_context(page_as):
    reviewer = page_as("reviewer")
    staff = page_as("dev-staff")
    assert reviewer.url.endswith("/")
    assert staff.url.endswith("/developer")
    reviewer.reload()
    assert reviewer.url.endswith("/")  # the other sign-in did not take over this one's cookies
    assert "规则试算" in reviewer.inner_text("nav.main-nav")
    assert "规则试算" not in staff.inner_text("nav.main-nav")


@pytest.mark.parametrize("rules_dir", [FIXTURE_RULES])
def test_the_what_if_page_renders_the_projects_under_another_version(live, page_as, shot, rules_dir):
    first = live.open_project(supervised_amount="1000000.00")
    live.pay(first, "886500.00")
    live.confirm(first, "half_structure")
    second = live.open_project(
        permit_no="衡预售2025-002",
        account_no="6222000011113333",
        finish="finished",
        name="桃城·安居花园二期",
        supervised_amount="1000000.00",
    )
    live.pay(second, "1200000.00")
    assert {first["rulebook"], second["rulebook"]} == {"hengshui@2024.1"}

    page = page_as("reviewer")
    page.click("nav.main-nav a[href='/rules/what-if']")
    page.wait_for_url("**/rules/what-if")
    assert page.inner_text("main h1") == "规则试算：换用另一规则版本"
    rows = page.locator("table.what-if tbody tr")
    assert rows.count() == 2
    assert "主体结构完成二分之一" in rows.first.inner_text()  # the node confirmed, named in Chinese
    assert "主体结构完成二分之一：留存比例 70% → 60%" in page.inner_text("ul.differences")
    assert "合计 2 个项目" in page.inner_text("table.what-if tfoot")
    cells = [c.strip() for c in rows.first.locator("td.num").all_inner_texts()]
    assert cells == ["700,000.00", "600,000.00", "-100,000.00", "186,500.00", "286,500.00", "+100,000.00"]
    shot(page, "what-if")

    page.select_option("#f-version", "2024.1")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**version=2024.1**")
    assert "所有在监项目已适用该版本" in page.inner_text("main")
