"""The web UI's permission table (escrow/web/shell/permissions.py), cell by cell, through the real app: every
role signed in through the login form asks every page and form of every action. A role the table allows
gets the page (or, for a form posted empty or at a record that does not exist, anything but 403); a role it
does not allow gets the 403 page; nobody signed in is sent to /login. Every web route must appear below, so
a new page cannot escape the table."""

from __future__ import annotations

import pytest

from escrow.domain.principal import BUREAU_ROLES
from escrow.web.shell import permissions
from tests.web import post_form

ROLE_USERS = {role: role for role in permissions.ROLES if role != permissions.DEVELOPER}
ROLE_USERS[permissions.DEVELOPER] = "dev-staff"
ROLE_USERS[permissions.BANK] = "bank"  # staff of the world's bank
MISSING = 999_999  # a record that does not exist: allowed roles get 404, others 403 before any look-up

# (action, method, path template, expected status for an allowed role); {project} is a real project.
ROUTES: list[tuple[str, str, str, int | None]] = [
    ("dashboard.view", "GET", "/", 200),
    ("projects.view", "GET", "/projects", 200),
    ("projects.view", "GET", "/projects/{project}", 200),
    ("alerts.view", "GET", "/alerts", 200),
    ("alerts.handle", "POST", f"/alerts/{MISSING}/acknowledge", 404),
    ("alerts.handle", "POST", f"/alerts/{MISSING}/resolve", 404),
    ("alerts.handle", "POST", "/alerts/bulk", 422),
    ("nodes.confirm", "GET", "/projects/{project}/nodes/half_structure/confirm", 200),
    ("nodes.confirm", "POST", "/projects/{project}/nodes/half_structure/confirm", None),
    ("guarantees.manage", "POST", "/projects/{project}/guarantees", 422),
    ("guarantees.manage", "POST", f"/projects/{{project}}/guarantees/{MISSING}/release", 404),
    ("buildings.add", "POST", "/projects/{project}/buildings", 422),
    ("accounts.end", "POST", "/projects/{project}/closure", 422),
    ("accounts.end", "POST", "/projects/{project}/bank-change", 422),
    ("suspense.resolve", "GET", f"/projects/{{project}}/suspense/{MISSING}", 404),
    ("suspense.resolve", "POST", f"/projects/{{project}}/suspense/{MISSING}", 404),
    ("releases.view", "GET", "/releases", 200),
    ("releases.view", "GET", f"/releases/{MISSING}", 404),
    ("releases.decide", "POST", f"/releases/{MISSING}/decision", 404),
    ("refunds.view", "GET", "/refunds", 200),
    ("refunds.view", "GET", f"/refunds/{MISSING}", 404),
    ("refunds.decide", "POST", f"/refunds/{MISSING}/decision", 404),
    ("fund_plans.view", "GET", "/fund-plans", 200),
    ("fund_plans.view", "GET", f"/fund-plans/{MISSING}", 404),
    ("fund_plans.decide", "POST", f"/fund-plans/{MISSING}/decision", 404),
    ("rules.view", "GET", "/rules/hengshui/2024.1", 200),
    ("rules.view", "GET", "/rules/hengshui/1999.1", 404),
    ("rules.what_if", "GET", "/rules/what-if", 200),
    ("rules.what_if", "GET", f"/rules/adoptions/{MISSING}", 404),
    ("rules.adopt", "POST", "/rules/adoptions", None),
    ("rules.decide", "POST", f"/rules/adoptions/{MISSING}/decision", 404),
    ("amounts.change", "POST", "/projects/{project}/supervised-amount", 422),
    ("amounts.decide", "POST", f"/supervised-amount-changes/{MISSING}/decision", 404),
    ("projects.view", "GET", f"/supervised-amount-changes/{MISSING}", 404),
    ("projects.view", "GET", "/projects/{project}/deposits", 303),  # without ?format=: to the page
    ("projects.view", "GET", f"/statements/{MISSING}", 404),
    ("documents.view", "GET", f"/documents/{MISSING}", 404),
    ("portal.view", "GET", "/developer", 200),
    ("portal.contracts", "GET", "/developer/contracts", 200),
    ("portal.contracts", "GET", "/developer/contracts/new", 200),
    ("portal.contracts", "POST", "/developer/contracts/new", None),
    ("portal.contracts", "GET", "/developer/contracts/NO-SUCH-CONTRACT", 404),
    ("portal.contracts", "GET", "/developer/contracts/NO-SUCH-CONTRACT/cancellation", 404),
    ("portal.contracts", "POST", "/developer/contracts/NO-SUCH-CONTRACT/cancellation", 404),
    ("portal.notices", "GET", "/developer/contracts/NO-SUCH-CONTRACT/notices/new", 404),
    ("portal.notices", "POST", "/developer/contracts/NO-SUCH-CONTRACT/notices/new", 404),
    ("portal.notices", "GET", "/developer/notices/NO-SUCH-NOTICE", 404),
    ("portal.releases", "GET", "/developer/releases", 200),
    ("portal.releases", "GET", "/developer/releases/new", 200),
    ("portal.releases", "GET", "/developer/releases/new/payee", 200),
    ("portal.releases", "POST", "/developer/releases/new", None),
    ("portal.releases", "GET", f"/developer/releases/{MISSING}", 404),
    ("portal.fund_plan", "GET", "/developer/fund-plan", 200),
    ("portal.fund_plan", "POST", "/developer/fund-plan", None),
    ("admin.users", "GET", "/admin/users", 200),
    ("admin.users", "POST", "/admin/users", 422),
    ("admin.users", "POST", f"/admin/users/{MISSING}/disable", 404),
    ("admin.users", "POST", f"/admin/users/{MISSING}/enable", 404),
    ("admin.users", "POST", f"/admin/users/{MISSING}/unlock", 404),
    ("admin.users", "GET", f"/admin/users/{MISSING}/password", 404),
    ("admin.users", "POST", f"/admin/users/{MISSING}/password", 404),
    ("admin.keys", "GET", "/admin/keys", 200),
    ("admin.keys", "POST", "/admin/keys", 422),
    ("admin.keys", "GET", f"/admin/keys/{MISSING}/revoke", 404),
    ("admin.keys", "POST", f"/admin/keys/{MISSING}/revoke", 404),
    ("bank.view", "GET", "/bank", 200),
    ("bank.view", "GET", "/bank/instructions", 200),
    ("bank.view", "GET", "/bank/statements", 200),
    ("bank.view", "GET", "/bank/freezes", 200),
    ("bank.view", "GET", "/bank/accounts/NO-SUCH-ACCOUNT", 404),
    ("inbox.view", "GET", "/inbox", 200),
    ("inbox.view", "GET", f"/inbox/{MISSING}", 404),
    ("inbox.view", "POST", "/inbox/read", 303),
]
OPEN_PATHS = ("/login", "/logout")  # before sign-in, and sign-out (any signed-in user)


def _ask(client, method: str, path: str):
    if method == "GET":
        return client.get(path, follow_redirects=False)
    return post_form(client, path, {})


@pytest.mark.parametrize("role", permissions.ROLES)
def test_every_cell_of_the_table(role, web, project):
    client = web(ROLE_USERS[role])
    wrong = []
    for action, method, template, expected in ROUTES:
        path = template.format(project=project["project_id"])
        r = _ask(client, method, path)
        if permissions.allowed(role, action):
            ok = r.status_code == expected if expected is not None else r.status_code not in (401, 403, 500)
            ok = ok and not r.headers.get("location", "").startswith("/login")
        else:
            ok = r.status_code == 403
        if not ok:
            wrong.append(f"{role} {action} {method} {path} → {r.status_code}")
    assert not wrong, "\n".join(wrong)


def test_nobody_signed_in_is_sent_to_login(client, project):
    from tests.web import csrf_token

    csrf_token(client)
    for _action, method, template, _expected in ROUTES:
        r = _ask(client, method, template.format(project=project["project_id"]))
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), (method, template)


def test_the_table_names_only_known_roles_and_every_action_has_a_route():
    assert {role for roles in permissions.MATRIX.values() for role in roles} <= set(permissions.ROLES)
    routed = {action for action, *_ in ROUTES} | {"audit.view"}  # audit.view: a section of the project page
    assert routed == set(permissions.ACTIONS)


def test_every_web_route_is_in_the_table(app):
    covered = {(method, template.replace("{project}", "{project_id}")) for _a, method, template, _e in ROUTES}
    missing = []
    for route in app.routes:
        path = route.path
        # /health, /ready and /metrics are the operators' (their access: tests/http/test_ops.py)
        operators = ("/health", "/ready", "/metrics")
        if path.startswith(("/api/", "/schema", "/static", "/verify", *operators)) or path in OPEN_PATHS:
            continue
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
            shape = path.replace(":int", "").replace(":str", "")
            concrete = {(m, t.replace(str(MISSING), "{x}")) for m, t in covered}
            if not any(m == method and _same_shape(t, shape) for m, t in concrete):
                missing.append(f"{method} {path}")
    assert not missing, "web routes without a row in ROUTES:\n" + "\n".join(sorted(missing))


def _same_shape(example: str, template: str) -> bool:
    a, b = example.strip("/").split("/"), template.strip("/").split("/")
    return len(a) == len(b) and all(x == y or y.startswith("{") for x, y in zip(a, b, strict=True))


def test_the_audit_trail_shows_only_to_roles_that_may_see_it(web, project):
    for role in BUREAU_ROLES:
        page = web(ROLE_USERS[role]).get(f"/projects/{project['project_id']}")
        assert page.status_code == 200
        assert ('id="audit-trail"' in page.text) == permissions.allowed(role, "audit.view"), role
