"""Lists a page at a time (CONTRACT.md §10), through the real app on both engines: `limit` and an opaque
`cursor`, the body a JSON array, `Link: <…>; rel="next"` while more follow (keeping the other query
parameters), and a limit or cursor the list cannot take answered 422 naming it."""

from __future__ import annotations

import re

import pytest

from tests.alert_seed import seed_alerts
from tests.conftest import project_body

NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def open_projects(client, world, n: int) -> list[dict]:
    opened = []
    for i in range(n):
        body = project_body(
            name=f"项目{i}", permit_no=f"衡预售2025-2{i:02d}", account_no=f"62220000111102{i:02d}"
        )
        r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{i}"))
        assert r.status_code == 201, r.text
        opened.append(r.json())
    return opened


def walk(client, headers, url: str) -> list[list[dict]]:
    """Every page of a list, following the Link headers; each page's items."""
    pages = []
    while url:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert isinstance(r.json(), list)
        pages.append(r.json())
        link = r.headers.get("link")
        url = NEXT.match(link).group("url") if link else ""
    return pages


def test_accounts_come_a_page_at_a_time_in_opening_order(client, world):
    opened = open_projects(client, world, 5)
    pages = walk(client, world.headers("bank"), "/api/v1/accounts?limit=2")
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [a["account_no"] for p in pages for a in p] == [o["account_no"] for o in opened]
    whole = client.get("/api/v1/accounts", headers=world.headers("bank"))
    assert "link" not in whole.headers and len(whole.json()) == 5  # default limit 100
    exact = client.get("/api/v1/accounts?limit=5", headers=world.headers("bank"))
    assert "link" not in exact.headers and len(exact.json()) == 5  # no empty page after the last


def test_the_next_link_keeps_the_other_query_parameters(client, world, engine):
    north, south = open_projects(client, world, 2)
    seed_alerts(engine, north, south)
    every = client.get("/api/v1/alerts?state=open", headers=world.headers("admin")).json()
    assert len(every) >= 5
    first = client.get("/api/v1/alerts?state=open&limit=2", headers=world.headers("admin"))
    link = NEXT.match(first.headers["link"]).group("url")
    assert link.startswith("/api/v1/alerts?") and "state=open" in link and "limit=2" in link
    pages = walk(client, world.headers("admin"), "/api/v1/alerts?state=open&limit=2")
    # the keyset on (urgency, id) gives the same order as the whole list: most severe first, then newest
    assert [a["alert_id"] for p in pages for a in p] == [a["alert_id"] for a in every]
    assert all(len(p) == 2 for p in pages[:-1])


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=djE6MSwy", "cursor"),  # a cursor of two keys: not this list's
        ("cursor=", "cursor"),
    ],
)
def test_a_limit_or_cursor_the_list_cannot_take_is_422(client, world, query, field):
    r = client.get(f"/api/v1/accounts?{query}", headers=world.headers("bank"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/validation-error")
    assert [e["field"] for e in problem["errors"]] == [field]


def test_the_largest_limit_is_taken(client, world):
    open_projects(client, world, 1)
    r = client.get("/api/v1/accounts?limit=1000", headers=world.headers("bank"))
    assert r.status_code == 200 and len(r.json()) == 1


@pytest.mark.parametrize(
    "path, who",
    [
        ("/api/v1/instructions", "bank"),
        ("/api/v1/releases", "developer"),
        ("/api/v1/releases", "admin"),
        ("/api/v1/rulebook-adoptions", "admin"),
        ("/api/v1/alerts", "admin"),
    ],
)
def test_every_list_takes_limit_and_cursor(client, world, path, who):
    r = client.get(f"{path}?limit=1", headers=world.headers(who))
    assert r.status_code == 200 and r.json() == [] and "link" not in r.headers
    r = client.get(f"{path}?limit=1001", headers=world.headers(who))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"


@pytest.mark.parametrize("list_path", ["guarantees", "fund-plan/versions"])
def test_a_projects_lists_take_limit_and_cursor(client, world, list_path):
    (project,) = open_projects(client, world, 1)
    path = f"/api/v1/projects/{project['project_id']}/{list_path}"
    r = client.get(f"{path}?limit=1", headers=world.headers("admin"))
    assert r.status_code == 200 and r.json() == [] and "link" not in r.headers
    r = client.get(f"{path}?cursor=x", headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
