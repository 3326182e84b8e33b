"""Bureau endpoints through the real app on both engines: projects, node confirmation, stats, errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from escrow.domain import ledger
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import IdempotencyRecord, NodeConfirmation, Project, SupervisedAccount
from tests.conftest import project_body

HALF_EVIDENCE = [{"kind": "construction_progress_report"}, {"kind": "supervision_engineer_confirmation"}]
TOP_EVIDENCE = [{"kind": "topping_out_acceptance"}, {"kind": "supervision_engineer_confirmation"}]


def _count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def _open(client, world, key="p1", **overrides):
    return client.post(
        "/api/v1/projects", json=project_body(**overrides), headers=world.headers("admin", key)
    )


def _deposit(engine, account_no: str, fen: int) -> None:
    with UnitOfWork(engine) as uow:
        account = uow.projects.account_by_no(account_no)
        row = uow.journal.post(
            account.id, ledger.deposit(fen, suspense=False, booked_on=date(2025, 5, 1), reference="t")
        )
        audit.record(
            uow.session, actor="test", action="journal.posted", subject_type="journal", subject_id=row.id
        )
        uow.commit()


def _is_problem(response, status: int, kind: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if kind:
        assert body["type"].endswith("/" + kind)
    return body


# --- opening projects ------------------------------------------------------------------------------------


def test_open_project_pins_the_rule_book_and_opens_one_account(client, world, engine):
    r = _open(client, world)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["rulebook"] == "hengshui@2024.1"
    assert body["account_no"] == "6222000011112222"
    assert body["supervised_amount"] == "30000000.00"
    assert body["presale_area_m2"] == "12000.50"
    assert [n["code"] for n in body["nodes"]] == [
        "half_structure",
        "topped_out",
        "completion_report",
        "completion_filed",
        "first_registration",
    ]
    account = body["account"]
    assert account["balance"] == "0.00"
    assert account["required_retention"] == "30000000.00"  # no node yet: the whole key amount stays
    assert account["releasable"] == "0.00"
    assert _count(engine, SupervisedAccount) == 1


def test_key_supervised_amount_comes_from_the_rule_book_formula_when_omitted(client, world):
    body = project_body(presale_area_m2="10000.00")
    del body["supervised_amount"]
    r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", "f1"))
    assert r.status_code == 201, r.text
    # cost 2600.00/m² × 10000.00 m² × coefficient 1.00 × grade B 1.00
    assert r.json()["supervised_amount"] == "26000000.00"


@pytest.mark.parametrize(
    "overrides",
    [
        {"permit_no": "衡预售2025-002"},  # same account number
        {"account_no": "6222000099998888"},  # same project (permit)
    ],
)
def test_second_account_for_a_project_or_reused_account_number_is_409(client, world, engine, overrides):
    assert _open(client, world).status_code == 201
    body = _is_problem(_open(client, world, key="p2", **overrides), 409, "conflict")
    assert body["rule"] == "one_account_per_project"
    assert _count(engine, Project) == 1
    assert _count(engine, SupervisedAccount) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"supervised_amount": 30000000}, "supervised_amount", "not a number"),
        ({"supervised_amount": "30000000.001"}, "supervised_amount", "more than two decimals"),
        ({"supervised_amount": "-5.00"}, "supervised_amount", "negative"),
        ({"supervised_amount": "0"}, "supervised_amount", "greater than zero"),
        ({"finish": "luxury"}, "finish", ""),
        ({"permit_date": "2025-02-30"}, "permit_date", ""),
        ({"permit_date": 20250301}, "permit_date", ""),
        ({"presale_area_m2": "-1"}, "presale_area_m2", ""),
        ({"developer_credit_code": "91131100MA0CXK7T4X"}, "developer_credit_code", "no such developer"),
        ({"bank_code": "NOPE"}, "bank_code", "no such bank"),
        ({"account_no": "12"}, "account_no", ""),
    ],
)
def test_bad_project_input_is_422_naming_the_field_and_changes_nothing(
    client, world, engine, overrides, field, words
):
    body = _is_problem(_open(client, world, **overrides), 422)
    assert any(e["field"] == field and words in e["message"] for e in body["errors"]), body
    assert _count(engine, Project) == 0
    assert _count(engine, IdempotencyRecord) == 0


def test_no_rule_book_in_force_on_the_permit_date_is_422(client, world, engine):
    body = _is_problem(_open(client, world, permit_date="2023-06-30"), 422)
    assert "no hengshui rule book is in force on 2023-06-30" in body["detail"]
    assert _count(engine, Project) == 0


def test_malformed_json_is_400(client, world):
    r = client.post(
        "/api/v1/projects",
        content=b'{"name": ',
        headers={**world.headers("admin", "m1"), "Content-Type": "application/json"},
    )
    _is_problem(r, 400)


# --- idempotency -----------------------------------------------------------------------------------------


def test_repeat_with_the_same_key_returns_the_first_response_and_changes_nothing(client, world, engine):
    first = _open(client, world, key="same")
    again = _open(client, world, key="same")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(engine, Project) == 1


def test_same_key_with_a_different_body_is_422(client, world, engine):
    assert _open(client, world, key="same").status_code == 201
    r = _open(client, world, key="same", name="另一个名字")
    _is_problem(r, 422, "idempotency-key-reused")
    assert _count(engine, Project) == 1


@pytest.mark.parametrize("key", [None, "", "with space", "x" * 65, "中文"])
def test_missing_or_invalid_idempotency_key_is_400(client, world, engine, key):
    headers = world.headers("admin")
    if key is not None:
        headers["Idempotency-Key"] = key
    try:
        r = client.post("/api/v1/projects", json=project_body(), headers=headers)
    except UnicodeEncodeError:  # a client cannot even send a non-ASCII header
        return
    _is_problem(r, 400)
    assert _count(engine, Project) == 0


def test_keys_are_per_principal(client, world, engine):
    assert _open(client, world, key="k").status_code == 201
    # the same key from another principal is a different request (and here: forbidden for its role)
    r = client.post("/api/v1/projects", json=project_body(), headers=world.headers("reviewer", "k"))
    _is_problem(r, 403)


# --- authentication and roles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth", [None, "Bearer", "Bearer esk_nope_nope", "Basic YWRtaW46eA==", "Bearer garbage"]
)
def test_missing_or_wrong_key_is_401(client, auth):
    headers = {"Idempotency-Key": "a"}
    if auth:
        headers["Authorization"] = auth
    r = client.post("/api/v1/projects", json=project_body(), headers=headers)
    _is_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


def test_a_tampered_key_is_refused(client, world):
    key = world.keys["admin"]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    r = client.get(
        "/api/v1/stats?from=2025-01-01&to=2025-12-31", headers={"Authorization": f"Bearer {tampered}"}
    )
    _is_problem(r, 401)


@pytest.mark.parametrize("who", ["bank", "developer", "reviewer", "approver", "inspector", "auditor"])
def test_only_bureau_admins_open_projects(client, world, engine, who):
    r = client.post("/api/v1/projects", json=project_body(), headers=world.headers(who, "x"))
    _is_problem(r, 403)
    assert _count(engine, Project) == 0


@pytest.mark.parametrize("who", ["admin", "reviewer", "approver", "auditor", "bank", "developer"])
def test_only_inspectors_confirm_nodes(client, world, engine, who):
    project_id = _open(client, world).json()["project_id"]
    r = client.post(
        f"/api/v1/projects/{project_id}/nodes/half_structure/confirmation",
        json={"reached_on": "2025-06-01", "evidence": HALF_EVIDENCE},
        headers=world.headers(who, "n"),
    )
    _is_problem(r, 403)
    assert _count(engine, NodeConfirmation) == 0


def test_a_developer_sees_its_own_project_and_not_anothers(client, world):
    project_id = _open(client, world).json()["project_id"]
    own = client.get(f"/api/v1/projects/{project_id}", headers=world.headers("developer"))
    assert own.status_code == 200
    assert own.json()["project_id"] == project_id
    _is_problem(client.get(f"/api/v1/projects/{project_id}", headers=world.headers("other_developer")), 404)
    _is_problem(client.get(f"/api/v1/projects/{project_id + 1}", headers=world.headers("developer")), 404)


# --- node confirmation -----------------------------------------------------------------------------------


def _confirm(client, world, project_id, node, evidence, reached_on="2025-06-01", key=None):
    return client.post(
        f"/api/v1/projects/{project_id}/nodes/{node}/confirmation",
        json={"reached_on": reached_on, "evidence": evidence},
        headers=world.headers("inspector", key or f"{node}-{reached_on}"),
    )


@pytest.mark.parametrize(
    ("finish", "half", "topped"), [("shell", "0.70", "0.45"), ("finished", "0.75", "0.50")]
)
def test_confirming_a_node_lowers_the_retention_and_raises_the_cap(
    client, world, engine, finish, half, topped
):
    project = _open(client, world, finish=finish).json()
    _deposit(engine, project["account_no"], 2_500_000_000)  # ¥25,000,000.00 received
    supervised = Decimal("30000000.00")

    r = _confirm(client, world, project["project_id"], "half_structure", HALF_EVIDENCE)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["cap_before"]["releasable"] == "0.00"  # 25m balance < 30m retained before any node
    retention = supervised * Decimal(half)
    assert body["cap"]["explanation"]["required_retention"] == f"{retention:.2f}"
    assert body["cap"]["releasable"] == f"{max(Decimal(0), Decimal('25000000.00') - retention):.2f}"
    terms = {t["term"]: t for t in body["cap"]["explanation"]["terms"]}
    assert terms["required_retention"]["rule"] == "hengshui@2024.1 nodes.half_structure.retention"

    r = _confirm(client, world, project["project_id"], "topped_out", TOP_EVIDENCE, reached_on="2025-09-01")
    assert r.status_code == 201, r.text
    retention = supervised * Decimal(topped)
    assert r.json()["cap"]["releasable"] == f"{Decimal('25000000.00') - retention:.2f}"

    view = client.get(f"/api/v1/projects/{project['project_id']}", headers=world.headers("auditor")).json()
    assert [n["confirmed"] for n in view["nodes"]] == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("node", "evidence", "reached_on", "status", "words"),
    [
        ("no_such_node", HALF_EVIDENCE, "2025-06-01", 422, "has no node 'no_such_node'"),
        ("topped_out", TOP_EVIDENCE, "2025-06-01", 422, "cannot be confirmed before half_structure"),
        ("half_structure", [{"kind": "construction_progress_report"}], "2025-06-01", 422, "evidence missing"),
        ("half_structure", HALF_EVIDENCE, "2026-12-01", 422, "future"),
        ("half_structure", HALF_EVIDENCE, "2024-12-01", 422, "before the pre-sale permit"),
        ("half_structure", [], "2025-06-01", 422, ""),
    ],
)
def test_bad_node_confirmations_are_refused_and_change_nothing(
    client, world, engine, node, evidence, reached_on, status, words
):
    project_id = _open(client, world).json()["project_id"]
    body = _is_problem(_confirm(client, world, project_id, node, evidence, reached_on=reached_on), status)
    assert words in body["detail"] or any(words in e["message"] for e in body.get("errors", []))
    assert _count(engine, NodeConfirmation) == 0


def test_a_node_cannot_be_confirmed_twice(client, world, engine):
    project_id = _open(client, world).json()["project_id"]
    assert _confirm(client, world, project_id, "half_structure", HALF_EVIDENCE, key="a").status_code == 201
    _is_problem(_confirm(client, world, project_id, "half_structure", HALF_EVIDENCE, key="b"), 409)
    assert _count(engine, NodeConfirmation) == 1


def test_confirming_a_node_of_an_unknown_project_is_404(client, world):
    _is_problem(_confirm(client, world, 4242, "half_structure", HALF_EVIDENCE), 404)


@pytest.mark.parametrize("project_id", [99999999999, 2**63 + 5])
def test_ids_beyond_any_column_are_404_not_500(client, world, project_id):
    _is_problem(client.get(f"/api/v1/projects/{project_id}", headers=world.headers("auditor")), 404)
    _is_problem(_confirm(client, world, project_id, "half_structure", HALF_EVIDENCE), 404)


# --- stats, health, schema -------------------------------------------------------------------------------


def test_stats_report_the_period(client, world, engine):
    project = _open(client, world).json()
    _open(
        client,
        world,
        key="p2",
        permit_no="衡预售2026-009",
        account_no="6222000077776666",
        opened_on="2026-01-10",
    )
    _deposit(engine, project["account_no"], 123_456)
    r = client.get("/api/v1/stats?from=2025-01-01&to=2025-12-31", headers=world.headers("auditor"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "from": "2025-01-01",
        "to": "2025-12-31",
        "accounts_opened": 1,
        "presale_area_m2": "12000.50",
        "deposits_total": "1234.56",
        "releases_total": "0.00",
        "balance_total": "1234.56",
    }


@pytest.mark.parametrize(
    "query",
    ["from=2025-01-01", "from=2025-13-01&to=2025-12-31", "from=x&to=y", "from=2025-12-31&to=2025-01-01"],
)
def test_bad_stats_periods_are_refused(client, world, query):
    r = client.get(f"/api/v1/stats?{query}", headers=world.headers("auditor"))
    assert r.status_code in (400, 422)
    _is_problem(r, r.status_code)


@pytest.mark.parametrize("who", ["bank", "developer"])
def test_stats_are_for_the_bureau(client, world, who):
    _is_problem(client.get("/api/v1/stats?from=2025-01-01&to=2025-12-31", headers=world.headers(who)), 403)


def test_health_openapi_and_unknown_routes(client):
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["rulebooks"] == ["hengshui@2024.1", "hengshui@2026.1", "hengshui@2026.2"]
    schema = client.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    for path in (
        "/api/v1/projects",
        "/api/v1/projects/{project_id}/nodes/{node_code}/confirmation",
        "/api/v1/stats",
    ):
        assert path in schema["paths"]
    _is_problem(client.get("/api/v1/nowhere"), 404)
    _is_problem(client.delete("/health"), 405)
