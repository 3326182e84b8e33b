"""The bureau's create forms carry the one-time form token too (escrow.web.shell.once): a guarantee form sent
twice registers one guarantee and both answers lead to the project page."""

from __future__ import annotations

import re

from escrow.store.models import Guarantee
from tests.http.test_api_releases import count
from tests.http.test_guarantees import funded, today  # noqa: F401  (fixtures)
from tests.http.test_web_guarantees import FORM
from tests.web import post_form

_TOKEN = re.compile(r'name="_form_token" value="([^"]+)"')


def token_of_form(html: str, form_id: str) -> str:
    found = _TOKEN.search(html, html.index(f'id="{form_id}"'))
    assert found, f"the form {form_id} carries its one-time token"
    return found.group(1)


def test_a_guarantee_form_submitted_twice_registers_one_guarantee(web, engine, funded):  # noqa: F811
    pid, admin = funded["project_id"], web("admin")
    token = token_of_form(admin.get(f"/projects/{pid}").text, "guarantee-form")
    first = post_form(admin, f"/projects/{pid}/guarantees", {**FORM, "_form_token": token})
    second = post_form(admin, f"/projects/{pid}/guarantees", {**FORM, "_form_token": token})
    assert first.status_code == second.status_code == 303, second.text  # not "already registered"
    assert first.headers["location"] == second.headers["location"]
    assert count(engine, Guarantee) == 1
    again = post_form(admin, f"/projects/{pid}/guarantees", {**FORM, "_form_token": "another-form-token-1"})
    assert again.status_code == 409 and count(engine, Guarantee) == 1  # a new form is judged afresh
