"""A rule book adoption's notifications (the same approval workflow, with the adoption's fixture rule books
of tests/http/test_rulebook_adoption): each step's users are told, the applying admin and the developer are
not; the decision of a bureau application tells no developer."""

from __future__ import annotations

from escrow.domain import notifications as kinds
from tests.http.test_notifications import told
from tests.http.test_rulebook_adoption import adopt, decide
from tests.http.test_rulebook_adoption import open_project as open_project
from tests.http.test_rulebook_adoption import rules_dir as rules_dir
from tests.http.test_rulebook_adoption import settings as settings


def test_an_adoption_tells_each_step_and_nobody_else(client, world, engine, users, open_project):
    p = open_project()
    r = adopt(client, world, [p["project_id"]])
    assert r.status_code == 201, r.text
    aid = r.json()["adoption_id"]
    at_step = (kinds.CASE_AT_STEP, "adoption", aid)
    assert told(engine) == {"reviewer": [at_step]}
    assert decide(client, world, aid, "reviewer").status_code == 201
    assert told(engine) == {"reviewer": [at_step], "approver": [at_step]}
    assert decide(client, world, aid, "approver").status_code == 201
    assert told(engine) == {"reviewer": [at_step], "approver": [at_step]}
