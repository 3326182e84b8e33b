"""The pages still work under the Content-Security-Policy (escrow.api.edge): signing in, the dashboard and
its charts, a form with a script of its own (the release application's running payee total, with htmx on
the page), the alerts list, and the buyer's voucher check — with no CSP violation reported, neither in the
console nor as a `securitypolicyviolation` event."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.conftest import Live, sign_in

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(new_page) -> Callable[..., tuple[object, list[str]]]:
    """A page whose CSP violations (console errors and DOM events) are collected."""

    def make():
        page = new_page()
        seen: list[str] = []
        page.add_init_script(WATCH)
        page.on(
            "console",
            lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return page, seen

    return make


def violations(page, seen: list[str]) -> list[str]:
    return seen + page.evaluate("window.__cspViolations || []")


def test_pages_work_under_the_content_security_policy(live: Live, watched, shot):
    project = live.open_project(supervised_amount="10000000.00")
    live.pay(project, "12000000.00")
    live.confirm(project, "half_structure")

    page, seen = watched()
    page.goto("/login")
    policy = page.request.get(f"{live.url}/login").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    sign_in(page, "reviewer")
    page.goto("/")
    page.wait_for_selector("main h1")
    page.goto("/alerts")
    page.wait_for_selector("main h1")
    page.goto("/rules/what-if")
    page.wait_for_selector("main h1")
    assert page.evaluate("typeof window.htmx") == "object"  # htmx loaded from /static under the policy
    shot(page, "csp-what-if")
    assert violations(page, seen) == []

    staff, staff_seen = watched()
    staff.goto("/login")
    sign_in(staff, "dev-staff")
    staff.goto(f"/developer/releases/new?project_id={project['project_id']}")
    staff.select_option("#f-node_code", "half_structure")
    staff.fill("#f-amount", "3000000.00")
    staff.locator("#payee-rows tr.payee").first.locator("input[name=payee_amount]").fill("1000000.00")
    total = staff.locator("#payee-total [data-total]")
    total.wait_for()
    assert total.inner_text() == "1,000,000.00"  # the page's own script ran
    assert violations(staff, staff_seen) == []

    buyer, buyer_seen = watched()
    buyer.goto("/verify")
    buyer.wait_for_selector("main form")
    shot(buyer, "csp-verify")
    assert violations(buyer, buyer_seen) == []
