"""The bureau's alert page summed up by rule and by project (GROUP BY in the store, on both engines), each
alert's subject in words, and acknowledging or resolving many alerts at once — by the ticked ids or by the
filter — through the web form and the API: counted, audited one event per alert, refused whole on bad
input, CSRF or role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from escrow.store.db import UnitOfWork
from escrow.store.models import Alert, AuditEvent
from tests.alert_seed import NORTH_DAYS, SOUTH_DAYS, missing_key, seed_alerts
from tests.conftest import project_body
from tests.http.test_web_pages import main_of, suspense_deposit, sweep
from tests.web import post_form, sign_in

NORTH = {"name": "北城·和园", "permit_no": "衡预售2025-101", "account_no": "6222000011110101"}
SOUTH = {"name": "南湖·景苑", "permit_no": "衡预售2025-102", "account_no": "6222000011110102"}


@pytest.fixture
def web(app, users):
    """`web("reviewer")` → a client signed in through the login form (as test_web_pages' `web`)."""
    from litestar.testing import TestClient

    opened: dict[str, TestClient] = {}

    def signed_in(username: str) -> TestClient:
        if username not in opened:
            opened[username] = TestClient(app)
            sign_in(opened[username], username)
        return opened[username]

    return signed_in


@pytest.fixture
def seeded(client, world, engine):
    opened = []
    for n, fields in enumerate((NORTH, SOUTH)):
        r = client.post(
            "/api/v1/projects", json=project_body(**fields), headers=world.headers("admin", f"open-{n}")
        )
        assert r.status_code == 201, r.text
        opened.append(r.json())
    return seed_alerts(engine, *opened)


def states(engine) -> dict[int, str]:
    with UnitOfWork(engine, readonly=True) as uow:
        return {a.id: a.state for a in uow.session.scalars(select(Alert))}


def alert_events(engine) -> list[tuple[str, str, str | None]]:
    """(action, alert id, comment) of the audit events people's actions wrote on alerts."""
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_type == "alert", AuditEvent.action != "alert.opened")
            .order_by(AuditEvent.id)
        )
        return [(e.action, e.subject_id, e.details.get("comment")) for e in rows]


def summary_rows(html: str, attr: str) -> dict[str, list[str]]:
    """The summary table's rows: data-<attr> → the texts of its cells."""
    out = {}
    for key, cells in re.findall(rf'<tr data-{attr}="([^"]*)">(.*?)</tr>', html, re.S):
        out[key] = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        ]
    return out


# --- the summaries and the words ---------------------------------------------------------------------------


def test_the_page_opens_on_a_summary_by_rule_that_filters(web, seeded):
    page = web("auditor").get("/alerts?lang=en")
    assert page.status_code == 200
    groups = summary_rows(main_of(page.text), "rule")
    assert {rule: cells[2] for rule, cells in groups.items()} == {
        "retention_breach": "1",
        "statement_missing": "5",
        "voucher_lookup_failures": "1",
        "notice_overdue": "1",
    }
    assert next(iter(groups)) == "retention_breach"  # the most severe first, then the largest
    assert groups["statement_missing"][1] == "Warning" and groups["notice_overdue"][1] == "Notice"
    assert 'href="/alerts?rule=statement_missing"' in page.text
    # the summary follows the filters: one project's alerts only
    north = seeded.north["project_id"]
    narrowed = web("auditor").get(f"/alerts?project={north}&lang=en")
    assert {r: c[2] for r, c in summary_rows(narrowed.text, "rule").items()} == {
        "retention_breach": "1",
        "statement_missing": "3",
    }
    assert "4 alerts" in narrowed.text
    both = web("auditor").get(f"/alerts?project={north}&rule=statement_missing&lang=en")
    assert main_of(both.text).count('<tr id="alert-') == 3


def test_resolved_alerts_leave_the_default_summary_and_return_with_state_all(web, seeded, engine):
    resolved = seeded.ids[missing_key(seeded.north, NORTH_DAYS[0])]
    r = post_form(web("reviewer"), f"/alerts/{resolved}/resolve", {})
    assert r.status_code == 303
    unresolved = summary_rows(web("auditor").get("/alerts").text, "rule")
    assert unresolved["statement_missing"][2] == "4"
    everything = summary_rows(web("auditor").get("/alerts?state=all").text, "rule")
    assert everything["statement_missing"][2] == "5"
    only = summary_rows(web("auditor").get("/alerts?state=resolved").text, "rule")
    assert {r: c[2] for r, c in only.items()} == {"statement_missing": "1"}


def test_grouped_by_project_with_the_account_count_and_worst_severity(web, seeded):
    page = web("auditor").get("/alerts?group=project&lang=en")
    assert page.status_code == 200
    groups = summary_rows(main_of(page.text), "project")
    north, south = str(seeded.north["project_id"]), str(seeded.south["project_id"])
    assert list(groups) == [north, south, ""]  # the worst first
    assert groups[north][:4] == [NORTH["name"], NORTH["account_no"], "4", "Critical"]
    assert groups[south][:4] == [SOUTH["name"], SOUTH["account_no"], "3", "Warning"]
    assert groups[""][2:4] == ["1", "Warning"] and "No project" in groups[""][0]
    assert f'href="/alerts?project={north}&amp;group=project"' in page.text
    # grouping kept with a filter; a grouping that does not exist is refused as a field error
    warning_only = summary_rows(web("auditor").get("/alerts?group=project&severity=warning").text, "project")
    assert warning_only[north][2] == "3"
    bad = web("auditor").get("/alerts?group=bank&project=x&lang=en")
    assert bad.status_code == 400 and 'id="e-project"' in bad.text
    assert 'id="by-rule"' in bad.text  # a grouping it does not know: the summary by rule
    too_large = web("auditor").get("/alerts?project=99999999999")  # no INTEGER id is that large
    assert too_large.status_code == 400 and 'id="e-project"' in too_large.text


def test_each_alert_says_its_subject_in_words(web, seeded):
    en = main_of(web("auditor").get("/alerts?lang=en").text)
    for day in (*NORTH_DAYS, *SOUTH_DAYS):
        assert f"No bank statement for {day}" in en
    assert NORTH["name"] in en and f"Account {NORTH['account_no']}" in en
    assert "Payment notice TZ-2026-0007" in en and "Client address 203.0.113.7" in en
    zh = main_of(web("auditor").get("/alerts?lang=zh").text)
    assert f"缺 {NORTH_DAYS[0]} 的银行对账单" in zh and SOUTH["name"] in zh
    assert "缴款通知书 TZ-2026-0007" in zh
    assert "statement_missing:" not in zh and "project:" not in zh


def test_a_deposit_alert_names_the_deposit_s_amount_and_day(web, flow, engine, settings, seeded):
    deposit = suspense_deposit(flow, NORTH["account_no"], "S-OLD", "5000.00", value_date="2026-11-10")
    sweep(engine, settings)  # the real sweep: the deposit is overdue in suspense and for an unknown notice
    en = main_of(web("auditor").get("/alerts?rule=suspense_overdue&lang=en").text)
    assert en.count('<tr id="alert-') == 1
    assert re.search(r"Deposit no\. \d+ of ¥5,000\.00, received on 2026-11-10", en), en
    zh = main_of(web("auditor").get("/alerts?rule=deposit_unknown_notice&lang=zh").text)
    assert "¥5,000.00，2026-11-10 到账" in zh and NORTH["name"] in zh
    assert deposit["status"] == "suspense"


# --- bulk actions through the web form ---------------------------------------------------------------------


def test_bulk_acknowledge_the_ticked_alerts(web, seeded, engine):
    reviewer = web("reviewer")
    ticked = [seeded.ids[missing_key(seeded.north, day)] for day in NORTH_DAYS[:2]]
    resolved = seeded.ids[missing_key(seeded.south, SOUTH_DAYS[0])]
    assert post_form(reviewer, f"/alerts/{resolved}/resolve", {}).status_code == 303
    page = reviewer.get("/alerts?rule=statement_missing")
    assert 'action="/alerts/bulk"' in page.text and "data-select-all" in page.text
    assert f'name="alert_id" value="{ticked[0]}" form="bulk"' in page.text
    before = states(engine)
    r = post_form(
        reviewer,
        "/alerts/bulk",
        {
            "action": "acknowledge",
            "scope": "selected",
            "alert_id": [*map(str, ticked), str(resolved)],
            "comment": "正在联系银行",
            "rule": "statement_missing",
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == (
        "/alerts?rule=statement_missing&bulk=acknowledge&changed=2&unchanged=0&resolved=1&remaining=0"
    )
    after = states(engine)
    assert [after[i] for i in ticked] == ["acknowledged", "acknowledged"] and after[resolved] == "resolved"
    assert {i: s for i, s in after.items() if i not in ticked} == {
        i: s for i, s in before.items() if i not in ticked
    }
    assert alert_events(engine)[-2:] == [
        ("alert.acknowledged", str(ticked[0]), "正在联系银行"),
        ("alert.acknowledged", str(ticked[1]), "正在联系银行"),
    ]
    shown = reviewer.get(r.headers["location"] + "&lang=en")
    assert "2 alerts acknowledged. 1 were resolved already and left alone." in shown.text
    again = post_form(
        reviewer, "/alerts/bulk", {"action": "acknowledge", "scope": "selected", "alert_id": str(ticked[0])}
    )
    assert "changed=0&unchanged=1" in again.headers["location"]


def test_bulk_resolve_everything_a_filter_matches(web, seeded, engine):
    reviewer = web("reviewer")
    north = seeded.north["project_id"]
    r = post_form(
        reviewer,
        "/alerts/bulk",
        {"action": "resolve", "scope": "filter", "rule": "statement_missing", "project": str(north)},
    )
    assert r.status_code == 303, r.text
    assert "bulk=resolve&changed=3&unchanged=0&resolved=0&remaining=0" in r.headers["location"]
    after = states(engine)
    north_missing = {seeded.ids[missing_key(seeded.north, day)] for day in NORTH_DAYS}
    assert {i for i, s in after.items() if s == "resolved"} == north_missing
    events = alert_events(engine)
    assert sorted(int(i) for _, i, _ in events) == sorted(north_missing)
    assert {action for action, _, _ in events} == {"alert.resolved"}
    # a second time nothing matches any more: nothing changes
    r = post_form(
        reviewer,
        "/alerts/bulk",
        {"action": "resolve", "scope": "filter", "rule": "statement_missing", "project": str(north)},
    )
    assert "changed=0" in r.headers["location"] and alert_events(engine) == events
    # the filter page offers the action for all it matches
    page = reviewer.get("/alerts?severity=warning&lang=en")
    assert "Acknowledge all 3 matching this filter" in page.text
    # nothing resolved is offered to a bulk action: the boxes and the filter's action are for the others
    resolved_page = reviewer.get("/alerts?state=resolved")
    assert resolved_page.text.count('<tr id="alert-') == 3
    assert 'id="bulk-all"' not in resolved_page.text and 'name="alert_id"' not in resolved_page.text


def test_bulk_refusals_change_nothing(web, seeded, engine):
    reviewer = web("reviewer")
    one = seeded.ids[missing_key(seeded.north, NORTH_DAYS[0])]
    before = states(engine)
    bad = [
        {"action": "delete", "scope": "selected", "alert_id": str(one)},
        {"action": "resolve", "scope": "everything"},
        {"action": "resolve", "scope": "selected"},
        {"action": "resolve", "scope": "selected", "alert_id": [str(one), "abc"]},
        {"action": "resolve", "scope": "selected", "alert_id": [str(one), "99999999"]},
        {"action": "resolve", "scope": "selected", "alert_id": [str(one), "99999999999"]},
        {"action": "resolve", "scope": "filter", "rule": "no_such_rule"},
        {"action": "resolve", "scope": "filter", "project": "99999999999"},
        {"action": "resolve", "scope": "selected", "alert_id": str(one), "comment": "x" * 501},
    ]
    for form in bad:
        r = post_form(reviewer, "/alerts/bulk?lang=en", form)
        assert r.status_code == 422, (form, r.status_code)
        assert 'class="form-error"' in r.text
    missing = post_form(
        reviewer,
        "/alerts/bulk?lang=en",
        {"action": "resolve", "scope": "selected", "alert_id": [str(one), "99999999"]},
    )
    assert "nothing was changed" in missing.text
    # without the session's CSRF token, and for roles that may not handle alerts
    no_csrf = reviewer.post(
        "/alerts/bulk",
        data={"action": "resolve", "scope": "selected", "alert_id": str(one)},
        follow_redirects=False,
    )
    assert no_csrf.status_code == 403
    for username in ("auditor", "inspector"):
        r = post_form(web(username), "/alerts/bulk", {"action": "resolve", "scope": "filter"})
        assert r.status_code == 403
    assert states(engine) == before and alert_events(engine) == []
    assert "alert_id" not in web("auditor").get("/alerts").text  # nothing to tick for who only reads


# --- the API -----------------------------------------------------------------------------------------------


def test_api_acknowledges_by_ids_and_resolves_by_filter(client, world, seeded, engine):
    ids = [seeded.ids[missing_key(seeded.south, day)] for day in SOUTH_DAYS]
    r = client.post(
        "/api/v1/alerts/acknowledgements",
        json={"alert_ids": ids, "comment": "on it"},
        headers=world.headers("auditor", "bulk-ack"),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "action": "acknowledge",
        "changed": sorted(ids),
        "unchanged": [],
        "already_resolved": [],
        "remaining": 0,
    }
    south = seeded.south["project_id"]
    r = client.post(
        "/api/v1/alerts/resolutions",
        json={"filter": {"project_id": south}},
        headers=world.headers("director", "bulk-res"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["changed"]) == 3 and body["already_resolved"] == [] and body["remaining"] == 0
    after = states(engine)
    assert all(after[i] == "resolved" for i in body["changed"])
    assert sum(s == "resolved" for s in after.values()) == 3
    r = client.post(
        "/api/v1/alerts/resolutions", json={"alert_ids": ids}, headers=world.headers("director", "bulk-res-2")
    )
    assert r.status_code == 200 and r.json()["already_resolved"] == sorted(ids) and r.json()["changed"] == []
    assert [a for a, _, _ in alert_events(engine)] == ["alert.acknowledged"] * 2 + ["alert.resolved"] * 3


def test_api_bulk_refusals_change_nothing(client, world, seeded, engine):
    one = seeded.ids[missing_key(seeded.north, NORTH_DAYS[0])]
    before = states(engine)
    cases = [
        ({"alert_ids": [one, 99999999]}, 404),
        ({}, 422),
        ({"alert_ids": [one], "filter": {}}, 422),
        ({"alert_ids": []}, 422),
        ({"alert_ids": list(range(1, 1002))}, 422),
        ({"filter": {"rule": "nope"}}, 422),
        ({"filter": {"state": "closed"}}, 422),
        ({"alert_ids": ["x"]}, 422),
        ({"alert_ids": [2**31]}, 422),
        ({"filter": {"project_id": 2**31}}, 422),
    ]
    for n, (body, status) in enumerate(cases):
        r = client.post(
            "/api/v1/alerts/acknowledgements", json=body, headers=world.headers("admin", f"bad-{n}")
        )
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    for who in ("bank", "developer"):
        r = client.post("/api/v1/alerts/resolutions", json={"filter": {}}, headers=world.headers(who, "x"))
        assert r.status_code == 403
    assert client.post("/api/v1/alerts/resolutions", json={"filter": {}}).status_code == 401
    assert states(engine) == before and alert_events(engine) == []


def test_a_bulk_action_by_filter_is_bounded_and_says_how_many_remain(web, client, world, seeded, monkeypatch):
    from escrow.services import alerts

    monkeypatch.setattr(alerts, "BULK_MAX", 2)  # the bound, made small: five alerts match
    r = client.post(
        "/api/v1/alerts/resolutions",
        json={"filter": {"rule": "statement_missing"}},
        headers=world.headers("admin", "bounded"),
    )
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["changed"]) == 2 and first["remaining"] == 3
    r = post_form(
        web("reviewer"), "/alerts/bulk", {"action": "resolve", "scope": "filter", "rule": "statement_missing"}
    )
    assert "changed=2&unchanged=0&resolved=0&remaining=1" in r.headers["location"]
    shown = web("reviewer").get(r.headers["location"] + "&lang=en").text
    assert "2 alerts resolved. 1 more match; run the action again for them." in shown
