"""Operations through the real app (CONTRACT.md §10): `/ready` against a current and a lagging schema,
`/metrics` (who may scrape, route templates, deposits, statements, alerts and job runs) and the request id on
every answer."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest
from litestar.testing import TestClient

from escrow.app import create_app
from escrow.services import operations
from escrow.services.alerts import Finding, raise_alerts
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.migrate import downgrade, head_revision
from escrow.store.models import JobRun, Project, Webhook, WebhookDelivery
from tests import live
from tests.http.test_statements import _line, _send, _statement, paid  # noqa: F401  (the fixture)

TOKEN = "scrape-token-0123456789abcdef"


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else None


@pytest.fixture
def scraper(settings, engine, today):
    """The app with ESCROW_METRICS_TOKEN set, and a scrape(): the exposition's text."""
    app = create_app(replace(settings, metrics_token=TOKEN), engine=engine, today=lambda: today)
    with TestClient(app) as client:

        def scrape() -> str:
            r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("text/plain")
            return r.text

        client.scrape = scrape
        yield client


# --- /ready -----------------------------------------------------------------------------------------------


def test_ready_when_the_schema_is_at_the_head(client, engine):
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "ready",
        "database": engine.dialect.name,
        "revision": head_revision(),
        "head": head_revision(),
        "reason": "",
        "detail": "",
    }


def test_not_ready_one_migration_behind(client, engine):
    downgrade(engine, "-1")
    r = client.get("/ready")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/not-ready") and body["status"] == 503
    assert body["reason"] == "schema_behind" and body["head"] == head_revision()
    assert body["revision"] != head_revision() and body["revision"]
    assert "escrow db upgrade" in body["detail"]
    assert client.get("/health").status_code == 200  # alive, just not ready


def test_not_ready_when_the_database_does_not_answer():
    nowhere = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/escrow?connect_timeout=2")
    try:
        state = operations.readiness(nowhere)
    finally:
        nowhere.dispose()
    assert (state.ready, state.reason) == (False, "database_unreachable")
    assert state.detail.startswith("the database does not answer")


# --- /metrics: who may scrape -----------------------------------------------------------------------------


def test_metrics_are_hidden_from_a_remote_client_without_the_token(client, scraper):
    assert client.get("/metrics").status_code == 404  # no token configured, not loopback
    assert scraper.get("/metrics").status_code == 404
    wrong = scraper.get("/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
    assert wrong.status_code == 404 and wrong.json()["type"].endswith("/not-found")
    assert "# TYPE escrow_http_requests_total counter" in scraper.scrape()


def test_metrics_answer_the_loopback_address_without_a_token(app):
    with live.serve(app) as base, live.client(base) as http:
        r = http.get("/metrics")
        assert r.status_code == 200, r.text
        assert "escrow_http_request_duration_seconds_bucket" in r.text
        # a proxy on this host that forwards the real client: that client is not local
        proxied = http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 404


# --- /metrics: what is counted ----------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_and_status(scraper, world, project):
    pid = project["project_id"]
    route = "/api/v1/projects/{project_id}"
    labels = {"method": "GET", "route": route, "status": "200"}
    before = _sample(scraper.scrape(), "escrow_http_requests_total", **labels) or 0
    for _ in range(3):
        assert scraper.get(f"/api/v1/projects/{pid}", headers=world.headers("admin")).status_code == 200
    assert scraper.get("/api/v1/projects/999999", headers=world.headers("admin")).status_code == 404
    assert scraper.get("/no/such/page/123").status_code == 404
    assert scraper.request("BREW", f"/api/v1/projects/{pid}").status_code == 405  # any token is a method
    text = scraper.scrape()
    assert _sample(text, "escrow_http_requests_total", **labels) == before + 3
    assert (_sample(text, "escrow_http_requests_total", method="GET", route=route, status="404") or 0) >= 1
    assert (_sample(text, "escrow_http_requests_total", method="GET", route="unmatched", status="404")) >= 1
    assert _sample(text, "escrow_http_request_duration_seconds_count", method="GET", route=route) >= 3
    assert f'/api/v1/projects/{pid}"' not in text and "/no/such/page" not in text  # no raw paths
    assert re.search(
        r'^escrow_http_requests_total\{method="OTHER",route="[^"]+",status="405"\} \S+$', text, re.M
    )
    assert "BREW" not in text  # a client cannot add series


def test_deposits_and_statements_are_counted_after_their_commit(scraper, world, flow, paid):  # noqa: F811
    text = scraper.scrape()
    deposits = _sample(text, "escrow_deposits_posted_total")
    assert deposits is not None and deposits >= 1
    flow.deposit(
        account_no=paid["account_no"], bank_reference="HSB-0002", amount="100.00", payer_name="李娜",
        kind="down_payment", channel="transfer", value_date="2026-11-22",
    )  # fmt: skip
    again = scraper.post(  # the same bank reference again: the first deposit, not a new one
        "/api/v1/deposits",
        json={
            "account_no": paid["account_no"], "bank_reference": "HSB-0002", "amount": "100.00",
            "payer_name": "李娜", "kind": "down_payment", "channel": "transfer", "value_date": "2026-11-22",
        },
        headers=world.headers("bank", "another-key"),
    )  # fmt: skip
    assert again.status_code in (200, 201), again.text
    assert _sample(scraper.scrape(), "escrow_deposits_posted_total") == deposits + 1

    def imported(result: str) -> float:
        return _sample(scraper.scrape(), "escrow_statements_imported_total", result=result) or 0

    counts = {r: imported(r) for r in ("reconciled", "duplicate", "refused")}
    body = _statement(paid["account_no"], [_line("HSB-0001", "265950.00"), _line("HSB-0002", "100.00")],
                      "266050.00")  # fmt: skip
    assert _send(scraper, world, body, key="st-1").status_code == 201
    assert _send(scraper, world, body, key="st-2").status_code in (200, 201)  # imported before
    assert _send(scraper, world, b"not a statement", key="st-3").status_code in (400, 415, 422)
    assert {r: imported(r) for r in counts} == {r: n + 1 for r, n in counts.items()}


def test_open_alerts_and_job_runs_are_read_from_the_database(scraper, engine, project):
    with UnitOfWork(engine) as uow:
        account_id = uow.projects.account_by_no(project["account_no"]).id
        no = project["account_no"]
        raise_alerts(
            uow,
            [
                Finding("statement_missing", "account", no, "none", account_id=account_id, period=day)
                for day in ("2026-11-20", "2026-11-21")
            ],
        )
        uow.session.add_all(
            [
                JobRun(job_id="daily_sweep", period="2026-11-20", status="done"),
                JobRun(job_id="daily_sweep", period="2026-11-21", status="failed", detail="boom"),
            ]
        )
        uow.commit()
    text = scraper.scrape()
    severities = re.findall(
        r'^escrow_open_alerts\{rule="statement_missing",severity="(\w+)"\} (\S+)$', text, re.M
    )
    assert sum(float(n) for _, n in severities) == 2
    assert _sample(text, "escrow_job_runs", job="daily_sweep", status="done") == 1
    assert _sample(text, "escrow_job_runs", job="daily_sweep", status="failed") == 1
    assert _sample(text, "escrow_webhook_backlog") == 0
    with UnitOfWork(engine) as uow:  # a developer's webhook with two deliveries waiting, one delivered
        developer_id = uow.session.get(Project, uow.projects.account_by_no(no).project_id).developer_id
        hook = Webhook(developer_id=developer_id, url="http://127.0.0.1:9/hook", events=["deposit.posted"],
                       secret="s" * 43)  # fmt: skip
        uow.session.add(hook)
        uow.session.flush()
        uow.session.add_all(
            [WebhookDelivery(webhook_id=hook.id, event_id=f"e{n}", event_type="deposit.posted", status=status)
             for n, status in enumerate(("pending", "pending", "delivered"))]
        )  # fmt: skip
        uow.commit()
    assert _sample(scraper.scrape(), "escrow_webhook_backlog") == 2


# --- the request id -----------------------------------------------------------------------------------------


def test_the_request_id_is_echoed_or_made_on_every_answer(client, world):
    sent = {"X-Request-ID": "bank-corr-2026-11-22/0001"}
    assert client.get("/health", headers=sent).headers["x-request-id"] == sent["X-Request-ID"]
    # errors carry it too: not found, unauthorised, invalid input
    assert client.get("/api/v1/projects/1", headers=sent).headers["x-request-id"] == sent["X-Request-ID"]
    assert client.get("/no/such/page", headers=sent).headers["x-request-id"] == sent["X-Request-ID"]
    bad = client.post("/api/v1/deposits", json={}, headers={**world.headers("bank", "k1"), **sent})
    assert bad.status_code == 422 and bad.headers["x-request-id"] == sent["X-Request-ID"]
    made = client.get("/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/health").headers["x-request-id"] != made


@pytest.mark.parametrize("value", ["x" * 129, "two words", "tab\there", "ünïcode"])
def test_an_unfit_request_id_is_replaced(app, value):
    with live.serve(app) as base:
        r = httpx.get(f"{base}/health", headers={"X-Request-ID": value.encode("utf-8")})
    assert r.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    assert len(r.headers.get_list("x-request-id")) == 1
