"""The webhooks API through the real app on both engines (CONTRACT §10): subscribing (bank and developer
keys, the events each may hear, URL rules), reading one's own, another principal's answering 404, rotating
the secret, deleting, the deliveries log with its pages, Idempotency-Key on each POST, the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from escrow.store.db import UnitOfWork
from escrow.store.models import AuditEvent, Webhook, WebhookDelivery

HOOK = "https://erp.example.cn/escrow/hooks"


def subscribe(client, world, who: str, events: list[str], key: str = "wh-1", url: str = HOOK):
    return client.post(
        "/api/v1/webhooks", json={"url": url, "events": events}, headers=world.headers(who, key)
    )


def test_a_bank_subscribes_and_gets_its_secret_once(client, world, engine):
    r = subscribe(client, world, "bank", ["instruction.created"])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["webhook_id"] >= 1 and made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    assert made["url"] == HOOK and made["events"] == ["instruction.created"] and made["active"] is True

    got = client.get(f"/api/v1/webhooks/{made['webhook_id']}", headers=world.headers("bank"))
    assert got.status_code == 200 and "secret" not in got.json()
    listed = client.get("/api/v1/webhooks", headers=world.headers("bank"))
    assert [w["webhook_id"] for w in listed.json()] == [made["webhook_id"]]
    assert "secret" not in listed.json()[0]

    # the same key and body replays the answer; no second webhook
    again = subscribe(client, world, "bank", ["instruction.created"])
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    with UnitOfWork(engine, readonly=True) as uow:
        assert len(list(uow.session.scalars(select(Webhook)))) == 1
        actions = [e.action for e in uow.session.scalars(select(AuditEvent))]
    assert "webhook.created" in actions
    with UnitOfWork(engine, readonly=True) as uow:  # the secret is never in the audit trail
        said = [e.details for e in uow.session.scalars(select(AuditEvent)) if e.action == "webhook.created"]
    assert said and made["secret"] not in str(said)


def test_a_developer_subscribes_to_its_events(client, world):
    r = subscribe(client, world, "developer", ["deposit.posted", "release.decided", "refund.decided"])
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("who", "events", "field"),
    [
        ("bank", ["deposit.posted"], "events[0]"),  # a developer's event
        ("developer", ["instruction.created"], "events[0]"),  # a bank's event
        ("developer", ["deposit.posted", "deposit.posted"], "events[1]"),
        ("developer", ["nothing.happened"], "events[0]"),
        ("developer", [], "events"),
    ],
)
def test_events_must_be_the_owners_own(client, world, who, events, field):
    r = subscribe(client, world, who, events)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://erp.example.cn/hooks",
        "file:///etc/passwd",
        "https://user:pass@erp.example.cn/hooks",
        "https://token@erp.example.cn/hooks",
        "https:///hooks",
        "erp.example.cn/hooks",
        "https://erp.example.cn/hooks#x",
        "https://erp.example.cn/ho oks",
        "https://erp.example.cn:99999/hooks",
        "https://erp.example.cn/" + "a" * 2000,
    ],
)
def test_a_bad_url_is_refused_naming_the_field(client, world, engine, url):
    r = subscribe(client, world, "bank", ["instruction.created"], url=url)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["url"]
    with UnitOfWork(engine, readonly=True) as uow:
        assert list(uow.session.scalars(select(Webhook))) == []


def test_bureau_keys_have_no_webhooks_and_a_post_needs_its_key(client, world):
    r = subscribe(client, world, "admin", ["instruction.created"])
    assert r.status_code == 403
    r = client.post(
        "/api/v1/webhooks",
        json={"url": HOOK, "events": ["instruction.created"]},
        headers=world.headers("bank"),
    )
    assert r.status_code == 400 and r.json()["type"].endswith("idempotency-key-missing")
    assert client.get("/api/v1/webhooks").status_code == 401


def test_another_principals_webhook_is_not_found(client, world):
    wid = subscribe(client, world, "bank", ["instruction.created"]).json()["webhook_id"]
    for who in ("other_bank", "developer"):
        h = world.headers(who)
        assert client.get(f"/api/v1/webhooks/{wid}", headers=h).status_code == 404
        assert client.get(f"/api/v1/webhooks/{wid}/deliveries", headers=h).status_code == 404
        assert client.delete(f"/api/v1/webhooks/{wid}", headers=h).status_code == 404
        r = client.post(f"/api/v1/webhooks/{wid}/secret", headers=world.headers(who, f"rot-{who}"))
        assert r.status_code == 404
        assert client.get("/api/v1/webhooks", headers=h).json() == []
    assert client.get("/api/v1/webhooks/999999", headers=world.headers("bank")).status_code == 404
    assert client.get(f"/api/v1/webhooks/{wid}", headers=world.headers("bank")).status_code == 200


def test_rotating_replaces_the_secret(client, world, engine):
    made = subscribe(client, world, "developer", ["deposit.posted"]).json()
    wid = made["webhook_id"]
    r = client.post(f"/api/v1/webhooks/{wid}/secret", headers=world.headers("developer", "rot-1"))
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["webhook_id"] == wid and rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != made["secret"] and rotated["secret_rotated_at"]
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.get(Webhook, wid).secret == rotated["secret"]
        actions = [e.action for e in uow.session.scalars(select(AuditEvent))]
    assert "webhook.secret_rotated" in actions
    # a second rotation with another key: another secret again
    again = client.post(f"/api/v1/webhooks/{wid}/secret", headers=world.headers("developer", "rot-2"))
    assert again.json()["secret"] not in (made["secret"], rotated["secret"])


def test_deleting_a_webhook(client, world, engine):
    wid = subscribe(client, world, "bank", ["instruction.created"]).json()["webhook_id"]
    r = client.delete(f"/api/v1/webhooks/{wid}", headers=world.headers("bank"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get(f"/api/v1/webhooks/{wid}", headers=world.headers("bank")).status_code == 404
    assert client.get("/api/v1/webhooks", headers=world.headers("bank")).json() == []
    assert client.delete(f"/api/v1/webhooks/{wid}", headers=world.headers("bank")).status_code == 404
    with UnitOfWork(engine, readonly=True) as uow:
        row = uow.session.get(Webhook, wid)
        assert row.active is False and row.disabled_at is not None
        assert "webhook.deleted" in [e.action for e in uow.session.scalars(select(AuditEvent))]


def test_the_deliveries_log_pages_in_order(client, world, engine, project, flow):
    wid = subscribe(client, world, "developer", ["deposit.posted"]).json()["webhook_id"]
    for n in range(3):
        flow.deposit(
            account_no=project["account_no"],
            bank_reference=f"WH-LOG-{n}",
            amount=f"{100 + n}.00",
            payer_name="李娜",
            channel="transfer",
            value_date="2026-11-20",
        )
    h = world.headers("developer")
    first = client.get(f"/api/v1/webhooks/{wid}/deliveries?limit=2", headers=h)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [d["payload"]["data"]["bank_reference"] for d in page] == ["WH-LOG-0", "WH-LOG-1"]
    assert all(
        d["status"] == "pending" and d["attempts"] == 0 and d["type"] == "deposit.posted" for d in page
    )
    link = first.headers["link"]
    assert link.startswith(f"</api/v1/webhooks/{wid}/deliveries?cursor=") and link.endswith(
        '&limit=2>; rel="next"'
    )
    rest = client.get(link[1 : link.index(">")], headers=h)
    assert [d["payload"]["data"]["bank_reference"] for d in rest.json()] == ["WH-LOG-2"]
    assert "link" not in rest.headers
    assert client.get(f"/api/v1/webhooks/{wid}/deliveries?limit=0", headers=h).status_code == 422
    assert client.get(f"/api/v1/webhooks/{wid}/deliveries?limit=1001", headers=h).status_code == 422
    with UnitOfWork(engine, readonly=True) as uow:
        assert len(list(uow.session.scalars(select(WebhookDelivery)))) == 3


def test_the_openapi_document_names_the_operations(client):
    doc = client.get("/schema/openapi.json").json()
    ids = {op["operationId"] for path in doc["paths"].values() for op in path.values() if "operationId" in op}
    assert {
        "createWebhook",
        "listWebhooks",
        "getWebhook",
        "deleteWebhook",
        "rotateWebhookSecret",
        "listWebhookDeliveries",
    } <= ids


def test_who_may_touch_a_webhook(client, world, engine):
    """The access matrix of the webhook operations (tests/http/test_access_matrix.py names them)."""
    from tests.http.test_access_matrix import BUREAU, WEBHOOKS

    owners = {"bank": ["instruction.created"], "developer": ["deposit.posted"]}
    for owner, events in owners.items():
        made = subscribe(client, world, owner, events, key=f"m-{owner}").json()
        wid = made["webhook_id"]
        for method, template in sorted(WEBHOOKS):
            url = template.format(webhook_id=wid)
            for who in ("none", f"other_{owner}", "bank" if owner == "developer" else "developer", *BUREAU):
                headers = {} if who == "none" else world.headers(who, f"m-{who}-{method}-{url}"[:64])
                body = {"url": HOOK, "events": events} if template == "/api/v1/webhooks" else None
                r = client.request(method, url, json=body, headers=headers)
                if who == "none":
                    expected = {401}
                elif who in BUREAU:
                    expected = {403}
                elif template == "/api/v1/webhooks" and method == "GET":
                    expected = {200}  # a list of its own
                elif template == "/api/v1/webhooks":
                    expected = {201, 422}  # its own webhook (or one of the other kind's events refused)
                else:
                    expected = {404}
                assert r.status_code in expected, (owner, who, method, url, r.status_code, r.text)
                if method == "GET" and template == "/api/v1/webhooks" and r.status_code == 200:
                    assert wid not in [w["webhook_id"] for w in r.json()]
        # the owner itself
        assert client.get(f"/api/v1/webhooks/{wid}", headers=world.headers(owner)).status_code == 200
    with UnitOfWork(engine, readonly=True) as uow:  # the other principals' webhooks are their own
        rows = list(uow.session.scalars(select(Webhook).order_by(Webhook.id)))
    assert all((w.bank_id is None) != (w.developer_id is None) for w in rows)
