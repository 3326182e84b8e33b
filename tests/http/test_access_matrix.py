"""Who may do what, as a full matrix: every operation of the API × every kind of principal.

A key sees and changes only what its principal owns: another principal's resource answers 404 (its existence
does not leak), an operation meant for another kind of principal or role answers 403, no key answers 401.
Refusals change nothing. The matrix must name every operation the OpenAPI document lists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from escrow.services import alerts
from escrow.store import models
from escrow.store.db import UnitOfWork
from tests.conftest import contract_body, project_body, seeded, seeded_module
from tests.http.test_api_releases import confirm, fund, release_body

TODAY = "2026-11-22"
BUREAU = ("admin", "inspector", "reviewer", "approver", "director", "auditor")
PRINCIPALS = ("none", "bank", "other_bank", "developer", "other_developer", *BUREAU)
TABLES = (
    models.Project,
    models.Contract,
    models.PaymentNotice,
    models.Deposit,
    models.Voucher,
    models.Release,
    models.ApprovalStep,
    models.PaymentInstruction,
    models.Freeze,
    models.Refund,
    models.Statement,
    models.JournalEntry,
    models.NodeConfirmation,
    models.Guarantee,
    models.FundPlan,
    models.SupervisedAmountChange,
)


def _build_city(client, world, flow) -> dict:
    """One of everything, owned by bank HSB and the world's developer: written once per engine for the
    module, each test working on a copy (tests.conftest.seeded_module)."""
    project = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "m-open"),
    ).json()
    deposit = fund(flow, "12000000.00")
    confirm(client, world, project["project_id"])
    release = client.post(
        "/api/v1/releases",
        json=release_body(project["project_id"], "1000000.00"),
        headers=world.headers("developer", "m-rel"),
    ).json()
    approved = client.post(
        "/api/v1/releases",
        json=release_body(project["project_id"], "1000000.00"),
        headers=world.headers("developer", "m-rel2"),
    ).json()
    for who in ("reviewer", "approver"):
        r = client.post(
            f"/api/v1/releases/{approved['release_id']}/decisions",
            json={"decision": "approve", "comment": "ok"},
            headers=world.headers(who, f"m-{who}"),
        )
        assert r.status_code == 201, r.text
    instruction = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()[0]
    freeze = client.post(
        "/api/v1/freezes",
        json={
            "account_no": project["account_no"],
            "authority": "衡水市中级人民法院",
            "order_no": "(2026)冀11执1号",
            "amount": "100.00",
            "ordered_on": TODAY,
        },
        headers=world.headers("bank", "m-freeze"),
    ).json()
    flow.contract(contract_no="HT-M-2", unit="M-2")
    refund_contract = flow.contract(contract_no="HT-M-3", unit="M-3")
    notice = flow.notice(refund_contract["contract_no"], "1000.00", kind="earnest")
    flow.deposit(
        account_no=project["account_no"],
        bank_reference="M-DEP-3",
        amount="1000.00",
        payer_name="张伟",
        notice_no=notice["notice_no"],
        kind="earnest",
        channel="transfer",
        value_date=TODAY,
    )
    refund = client.post(
        "/api/v1/contracts/HT-M-3/cancellation",
        json={"reason": "buyer withdrew"},
        headers=world.headers("developer", "m-cancel"),
    ).json()
    runtime = client.app.state.runtime
    with UnitOfWork(runtime.engine) as uow:  # the frozen account with a pending release raises an alert
        alerts.sweep(uow, runtime.ctx, datetime.now(UTC))
        uow.commit()
    alert = client.get("/api/v1/alerts?state=open", headers=world.headers("admin")).json()[0]
    with UnitOfWork(runtime.engine) as uow:  # a rule book adoption waiting for review (the shipped rules
        # hold one version only, so the row is written as the adoption service would write it)
        admin = uow.parties.user_by_name("admin")
        adoption = uow.adoptions.add(
            models.RulebookAdoption(
                jurisdiction="hengshui", rulebook_id="hengshui@2024.1", reason="x", applied_by=admin.id
            )
        )
        account = uow.projects.account_by_no(project["account_no"])
        uow.adoptions.add(
            models.RulebookAdoptionProject(
                adoption_id=adoption.id,
                project_id=project["project_id"],
                account_id=account.id,
                from_rulebook_id="hengshui@2024.1",
            )
        )
        adoption_id = adoption.id
        uow.commit()
    guarantee = client.post(
        f"/api/v1/projects/{project['project_id']}/guarantees",
        json={
            "guarantee_no": "BH-M-1",
            "issuer": "x",
            "amount": "100.00",
            "valid_from": TODAY,
            "valid_until": "2027-12-31",
        },
        headers=world.headers("admin", "m-guarantee"),
    ).json()
    plan_body = {
        "items": [{"node_code": "topped_out", "month": "2026-12", "role": "construction", "amount": "1.00"}],
        "note": "",
    }
    plans = f"/api/v1/projects/{project['project_id']}/fund-plan"
    in_force = client.post(plans, json=plan_body, headers=world.headers("developer", "m-plan-1")).json()
    for who in ("reviewer", "approver"):
        r = client.post(
            f"/api/v1/fund-plans/{in_force['plan_id']}/decisions",
            json={"decision": "approve"},
            headers=world.headers(who, f"m-plan-{who}"),
        )
        assert r.status_code == 201, r.text
    waiting = client.post(plans, json=plan_body, headers=world.headers("developer", "m-plan-2")).json()
    change = client.post(
        f"/api/v1/projects/{project['project_id']}/supervised-amount",
        json={"amount": "9000000.00", "reason": "施工合同变更"},
        headers=world.headers("admin", "m-change"),
    )
    assert change.status_code == 201, change.text
    return {
        "plan_id": waiting["plan_id"],  # submitted, waiting for its first step (version 1 is in force)
        "change_id": change.json()["change_id"],
        "adoption_id": adoption_id,
        "project_id": project["project_id"],
        "account_no": project["account_no"],
        "bank_reference": deposit["bank_reference"],
        "voucher_no": deposit["voucher"]["voucher_no"],
        "contract_no": "HT-M-2",
        "release_id": release["release_id"],
        "instruction_id": instruction["instruction_id"],
        "freeze_id": freeze["freeze_id"],
        "refund_id": refund["refund_id"],
        "alert_id": alert["alert_id"],
        "guarantee_id": guarantee["guarantee_id"],
    }


db_url = seeded_module(_build_city)


@pytest.fixture
def city(request: pytest.FixtureRequest) -> dict:
    return seeded(request)


def _body(c: dict) -> dict:
    evidence = [{"kind": "topping_out_acceptance"}, {"kind": "supervision_engineer_confirmation"}]
    deposit = {
        "account_no": c["account_no"],
        "bank_reference": "M-NEW",
        "amount": "1.00",
        "payer_name": "x",
        "channel": "transfer",
        "value_date": TODAY,
    }
    return {
        "projects": project_body(permit_no="M-NEW", account_no="6222999988887777"),
        "confirmation": {"reached_on": TODAY, "evidence": evidence},
        "building": {"code": "9", "name": "x", "presale_area_m2": "1.00", "permit_no": "M-B-1"},
        "decision": {"decision": "approve", "comment": "ok"},
        "contract": contract_body(contract_no="HT-M-NEW", unit="M-NEW"),
        "notice": {"kind": "earnest", "amount": "1.00", "due_on": TODAY},
        "cancellation": {"reason": "x"},
        "receipt": {"receipt_no": "PJ-M"},
        "release": release_body(c["project_id"], "3.00"),
        "deposit": deposit,
        "verify": {"account_no": c["account_no"], "amount": "1.00", "payer_name": "x"},
        "reversal": {"reason": "x"},
        "execution": {"bank_reference": "M-OUT", "executed_on": TODAY},
        "freeze": {
            "account_no": c["account_no"],
            "authority": "x",
            "order_no": "M-2",
            "amount": "1.00",
            "ordered_on": TODAY,
        },
        "lift": {},
        "statement": {"account_no": c["account_no"], "statement_date": TODAY, "lines": []},
        "alert": {"comment": "x"},
        "alerts": {"alert_ids": [c["alert_id"]]},
        "adoption": {"rulebook": "hengshui@2024.1", "project_ids": [c["project_id"]], "reason": "x"},
        "guarantee": {
            "guarantee_no": "BH-M-NEW",
            "issuer": "x",
            "amount": "1.00",
            "valid_from": TODAY,
            "valid_until": "2027-12-31",
        },
        "fund_plan": {
            "items": [
                {"node_code": "half_structure", "month": "2027-01", "role": "materials", "amount": "1.00"}
            ],
            "note": "",
        },
        "agreement": {"agreement_no": "衡监协-M-1", "opened_on": "2025-03-05"},
        "amount_change": {"amount": "9500000.00", "reason": "x"},
        "closure": {"payee": {"name": "x", "account_no": "1", "bank_name": "x"}, "reason": "x"},
        "bank_change": {"bank_code": "OTB", "account_no": "6212990000999999", "account_name": "x"},
        "deduction": {
            "amount": "1.00",
            "creditor_role": "other",
            "bank_reference": "M-DED",
            "executed_on": TODAY,
        },
    }


def _allowed(owner: str) -> set[str]:
    """The principals that may call an operation at all: 'bank', 'developer', 'bureau' or bureau roles."""
    if owner == "bureau":
        return set(BUREAU)
    return {owner}


# (method, path template, body key or None, who may call it, who owns the resource: a 2xx for them when read)
OPERATIONS = [
    ("GET", "/api/v1/accounts", None, "bank", "list"),
    ("GET", "/api/v1/accounts/{account_no}", None, "bank", "bank"),
    ("POST", "/api/v1/deposits/verify", "verify", "bank", "bank"),
    ("POST", "/api/v1/deposits", "deposit", "bank", "bank"),
    ("GET", "/api/v1/deposits/{bank_reference}", None, "bank", "bank"),
    ("POST", "/api/v1/deposits/{bank_reference}/reversal", "reversal", "bank", "bank"),
    ("GET", "/api/v1/instructions", None, "bank", "list"),
    ("GET", "/api/v1/instructions/{instruction_id}", None, "bank", "bank"),
    ("POST", "/api/v1/instructions/{instruction_id}/execution", "execution", "bank", "bank"),
    ("POST", "/api/v1/statements", "statement", "bank", "bank"),
    ("POST", "/api/v1/freezes", "freeze", "bank", "bank"),
    ("GET", "/api/v1/freezes/{freeze_id}", None, "bank", "bank"),
    ("POST", "/api/v1/freezes/{freeze_id}/lift", "lift", "bank", "bank"),
    ("POST", "/api/v1/freezes/{freeze_id}/deduction", "deduction", "bank", "bank"),
    ("POST", "/api/v1/contracts", "contract", "developer", "developer"),
    ("GET", "/api/v1/contracts/{contract_no}", None, "developer", "developer"),
    ("POST", "/api/v1/contracts/{contract_no}/notices", "notice", "developer", "developer"),
    ("POST", "/api/v1/contracts/{contract_no}/cancellation", "cancellation", "developer", "developer"),
    ("POST", "/api/v1/vouchers/{voucher_no}/receipt", "receipt", "developer", "developer"),
    ("POST", "/api/v1/releases", "release", "developer", "developer"),
    ("POST", "/api/v1/projects", "projects", "admin", "bureau"),
    (
        "POST",
        "/api/v1/projects/{project_id}/nodes/{node_code}/confirmation",
        "confirmation",
        "inspector",
        "bureau",
    ),
    ("POST", "/api/v1/releases/{release_id}/decisions", "decision", "reviewer", "bureau"),
    ("POST", "/api/v1/refunds/{refund_id}/decisions", "decision", "reviewer", "bureau"),
    ("GET", "/api/v1/stats", None, "bureau", "bureau"),
    ("GET", "/api/v1/alerts", None, "bureau", "bureau"),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledgement", "alert", "bureau", "bureau"),
    ("POST", "/api/v1/alerts/{alert_id}/resolution", "alert", "bureau", "bureau"),
    ("POST", "/api/v1/alerts/acknowledgements", "alerts", "bureau", "bureau"),
    ("POST", "/api/v1/alerts/resolutions", "alerts", "bureau", "bureau"),
    ("POST", "/api/v1/rulebook-adoptions", "adoption", "admin", "bureau"),
    ("GET", "/api/v1/rulebook-adoptions", None, "bureau", "bureau"),
    ("GET", "/api/v1/rulebook-adoptions/{adoption_id}", None, "bureau", "bureau"),
    ("POST", "/api/v1/rulebook-adoptions/{adoption_id}/decisions", "decision", "reviewer", "bureau"),
    ("POST", "/api/v1/projects/{project_id}/guarantees", "guarantee", "admin", "bureau"),
    ("POST", "/api/v1/projects/{project_id}/buildings", "building", "admin", "bureau"),
    (
        "POST",
        "/api/v1/projects/{project_id}/buildings/{code}/nodes/{node_code}/confirmation",
        "confirmation",
        "inspector",
        "bureau",
    ),
    ("POST", "/api/v1/guarantees/{guarantee_id}/release", None, "admin", "bureau"),
    ("POST", "/api/v1/projects/{project_id}/fund-plan", "fund_plan", "developer", "developer"),
    ("POST", "/api/v1/fund-plans/{plan_id}/decisions", "decision", "reviewer", "bureau"),
    ("POST", "/api/v1/accounts/{account_no}/confirmation", "agreement", "bank", "bank"),
    ("POST", "/api/v1/projects/{project_id}/supervised-amount", "amount_change", "admin", "bureau"),
    ("GET", "/api/v1/supervised-amount-changes/{change_id}", None, "bureau", "bureau"),
    ("POST", "/api/v1/supervised-amount-changes/{change_id}/decisions", "decision", "reviewer", "bureau"),
    ("POST", "/api/v1/projects/{project_id}/closure", "closure", "admin", "bureau"),
    ("POST", "/api/v1/projects/{project_id}/bank-change", "bank_change", "admin", "bureau"),
]
# Reads that both the owning developer and the bureau may make (a bank has no business there: 403 or 404).
SHARED_READS = [
    ("GET", "/api/v1/projects/{project_id}"),
    ("GET", "/api/v1/releases/{release_id}"),
    ("GET", "/api/v1/releases"),
    ("GET", "/api/v1/refunds/{refund_id}"),
    ("GET", "/api/v1/projects/{project_id}/guarantees"),
    ("GET", "/api/v1/projects/{project_id}/fund-plan"),
    ("GET", "/api/v1/projects/{project_id}/fund-plan/versions"),
    ("GET", "/api/v1/fund-plans/{plan_id}"),
]
UNAUTHENTICATED = {
    ("GET", "/health"),
    ("GET", "/api/v1/public/vouchers/{voucher_no}"),
    ("GET", "/api/v1/public/contracts/{contract_no}"),
}
# PDFs and report jobs: their own matrix (bank, developer and bureau by subject; jobs by requester) is
# tests/http/test_reports.py::test_who_may_see_which_report.
REPORTS = {
    ("GET", "/api/v1/vouchers/{voucher_no}/pdf"),
    ("GET", "/api/v1/notices/{notice_no}/pdf"),
    ("GET", "/api/v1/releases/{release_id}/pdf"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/reports/{job_id}"),
    ("GET", "/api/v1/reports/{job_id}/file"),
}

# Webhooks belong to a bank or a developer alike: their own matrix (either owner, the other of its kind 404,
# bureau keys 403, no key 401) is tests/http/test_api_webhooks.py::test_who_may_touch_a_webhook.
WEBHOOKS = {
    ("POST", "/api/v1/webhooks"),
    ("GET", "/api/v1/webhooks"),
    ("GET", "/api/v1/webhooks/{webhook_id}"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"),
    ("POST", "/api/v1/webhooks/{webhook_id}/secret"),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"),
}


def _url(template: str, c: dict) -> str:
    url = template.format(node_code="topped_out", code="1", **c)
    return url + ("?from=2025-01-01&to=2026-12-31" if url.endswith("/stats") else "")


def _counts(engine) -> list[int]:
    with UnitOfWork(engine, readonly=True) as uow:
        return [uow.session.scalar(select(func.count()).select_from(t)) for t in TABLES]


def test_the_matrix_names_every_operation(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    documented = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    named = {(m, p) for m, p, *_ in OPERATIONS} | set(SHARED_READS) | UNAUTHENTICATED | REPORTS | WEBHOOKS
    assert documented - named == set(), "operations missing from the access matrix"


def _send(client, world, who: str, method: str, url: str, body: dict | None):
    headers = {} if who == "none" else world.headers(who)
    if method == "POST":
        headers["Idempotency-Key"] = f"matrix-{who}-{url}"[:64]
        return client.post(url, json=body, headers=headers)
    return client.get(url, headers=headers)


@pytest.mark.parametrize(
    ("method", "template", "body_key", "caller", "owner"),
    OPERATIONS,
    ids=[f"{m} {p}" for m, p, *_ in OPERATIONS],
)
def test_refusals_for_every_operation(client, world, engine, city, method, template, body_key, caller, owner):
    url, body = _url(template, city), _body(city)[body_key] if body_key else None
    allowed = _allowed(caller)
    before = _counts(engine)
    for who in PRINCIPALS:
        if who in allowed:
            continue
        r = _send(client, world, who, method, url, body)
        if who == "none":
            expected = {401}
        elif who == f"other_{caller}":
            # a resource of another bank/developer does not exist for this one; lists come back empty
            expected = {200} if owner == "list" else {404, 422} if template.endswith("/statements") else {404}
        else:
            expected = {403}
        assert r.status_code in expected, (who, method, url, r.status_code, r.text)
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json")
        if owner == "list" and who == f"other_{caller}":
            assert r.json() == []
    assert _counts(engine) == before, "a refused request changed something"


@pytest.mark.parametrize(
    ("method", "template", "body_key", "caller", "owner"),
    [op for op in OPERATIONS if op[0] == "GET"],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_owner_reads_its_own(client, world, city, method, template, body_key, caller, owner):
    for who in _allowed(caller):
        r = _send(client, world, who, method, _url(template, city), None)
        assert r.status_code == 200, (who, r.text)
        if owner == "list":
            assert r.json() != []


@pytest.mark.parametrize(("method", "template"), SHARED_READS, ids=[p for _, p in SHARED_READS])
def test_shared_reads(client, world, city, method, template):
    url = _url(template, city)
    for who in ("developer", *BUREAU):
        assert _send(client, world, who, method, url, None).status_code == 200, who
    for who in ("other_developer", "bank", "other_bank"):
        r = _send(client, world, who, method, url, None)
        if template == "/api/v1/releases" and who == "other_developer":
            assert r.status_code == 200 and r.json() == []  # a list of its own: empty
        else:
            assert r.status_code in {403, 404}, (who, r.status_code)
    assert _send(client, world, "none", method, url, None).status_code == 401
