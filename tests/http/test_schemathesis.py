"""The OpenAPI document against the real app, on both engines (schemathesis, through the ASGI app).

Three tests per engine:

- `test_the_document_describes_every_answer`: the shape of the document itself: a success body for every
  operation, every error as the shared Problem (problem+json), the Idempotency-Key header on every POST, the
  bearer key wherever a principal is needed.
- `test_every_operation_answers_as_documented`: a walk through every operation with valid data (a project,
  contracts, notices, deposits, a release through its approval chain to execution, refunds, freezes, a
  deduction, statements, PDFs and a report job, the public voucher look-up, alerts), each answer checked
  against the document: documented status, content type and body schema. Random inputs rarely reach a
  success, so this is what shows that the response models match what the services return. It also proves
  that every operation in the document was walked.
- `test_fuzz`: schemathesis generates valid (positive) and invalid (negative) requests for every operation
  of the document, on a database the walk has filled, with the real API key of the principal each operation
  is for (picked by its tag) and a fresh Idempotency-Key per request; in half the cases the identifiers in
  the path and body are replaced by ones that exist, so that generated data also reaches the rules behind
  "no such …". Checks: no server error, and status code, content type and body as documented.

Bounded: `MAX_EXAMPLES` per operation and mode, no shrinking, deterministic generation (derandomized), no
example database: about 35 s on SQLite and 50 s on PostgreSQL for the whole file on two busy cores.

schemathesis's own pytest integration (`schema.parametrize()`, `from_fixture`) does not run under pytest 9
(it sets `Node._nodeid`), so the operations are driven here through its public Python API: `from_asgi`,
`APIOperation.Case`, `APIOperation.as_strategy`, `Case.call_and_validate`.
"""

from __future__ import annotations

import itertools
import time
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from escrow.services import alerts
from escrow.store import models
from escrow.store.db import UnitOfWork
from tests.conftest import BUYER_ID, contract_body, project_body

MAX_EXAMPLES = 10
SEED = 20261122
TODAY = "2026-11-22"  # the `today` fixture
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
END_NODES = {  # hengshui@2024.1's nodes and their evidence
    "half_structure": ["construction_progress_report", "supervision_engineer_confirmation"],
    "topped_out": ["topping_out_acceptance", "supervision_engineer_confirmation"],
    "completion_report": ["completion_acceptance_report"],
    "completion_filed": ["completion_filing_certificate"],
    "first_registration": ["first_registration_certificate"],
}
HALF_EVIDENCE = [{"kind": "construction_progress_report"}, {"kind": "supervision_engineer_confirmation"}]
WAGES = {"kind": "wage_arrears_statement", "filename": "wages.pdf", "sha256": "ab" * 32}
KEYS = itertools.count(1)  # Idempotency-Keys: unique in the process, reproducible


def config() -> SchemathesisConfig:
    """No schemathesis.toml is looked for; generation settings that apply to `as_strategy`."""
    return SchemathesisConfig.from_dict(
        {"seed": SEED, "generation": {"deterministic": True, "no-shrink": True, "database": "none"}}
    )


def who_for(tags: list[str] | None) -> str | None:
    """The world's principal an operation is for, by its tag: the bank, the developer, a bureau admin (the
    bank for reports, which it may download for its accounts)."""
    tags = tags or []
    for tag, who in (("bank", "bank"), ("developer", "developer"), ("bureau", "admin"), ("reports", "bank")):
        if tag in tags:
            return who
    return None  # /health and the public voucher look-up need no key


def headers(world, who: str | None) -> dict[str, str]:
    h = {"Idempotency-Key": f"schemathesis-{next(KEYS)}"}
    if who is not None:
        h["Authorization"] = f"Bearer {world.keys[who]}"
    return h


class Walk:
    """Calls through schemathesis, validating every answer against the document."""

    def __init__(self, schema, world, engine):
        self.schema, self.world, self.engine = schema, world, engine
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(
        self,
        method: str,
        path: str,
        who: str | None,
        expect: int,
        *,
        body: Any = NOT_SET,
        media_type: str | None = None,
        query: dict[str, str] | None = None,
        **path_parameters: Any,
    ) -> Any:
        case = self.schema[path][method].Case(
            path_parameters=path_parameters, query=query, body=body, media_type=media_type
        )
        response = case.call_and_validate(headers=headers(self.world, who), checks=CHECKS)
        assert response.status_code == expect, response.text
        self.seen.add((method, path, expect))
        return response.content if response.content.startswith(b"%PDF") else response.json()


def walk_everything(walk: Walk) -> dict[str, Any]:
    """Every operation with valid data, ending with data of every kind in the database."""
    assert walk("GET", "/health", None, 200)["status"] == "ok"

    project = walk(
        "POST", "/api/v1/projects", "admin", 201, body=project_body(supervised_amount="10000000.00")
    )
    account_no, pid = project["account_no"], project["project_id"]
    walk("GET", "/api/v1/projects/{project_id}", "admin", 200, project_id=pid)

    def contract(n: int, price: str) -> str:
        body = contract_body(contract_no=f"HT-S-{n}", unit=f"S-{n}", total_price=price)
        return walk("POST", "/api/v1/contracts", "developer", 201, body=body)["contract_no"]

    def notice(contract_no: str, amount: str, kind: str) -> dict:
        body = {"kind": kind, "amount": amount, "due_on": "2026-12-01"}
        path = "/api/v1/contracts/{contract_no}/notices"
        return walk("POST", path, "developer", 201, body=body, contract_no=contract_no)

    def deposit(n: notice, ref: str, expect: int = 201, **overrides) -> dict:
        body = {
            "account_no": account_no,
            "bank_reference": ref,
            "amount": n["amount"],
            "payer_name": "张伟",
            "payer_account": "6217000012345678",
            "notice_no": n["notice_no"],
            "kind": n["kind"],
            "channel": "transfer",
            "value_date": TODAY,
            **overrides,
        }
        return walk("POST", "/api/v1/deposits", "bank", expect, body=body)

    # sales: a contract paid in full, a voucher receipted; a payment with no notice goes to suspense
    first = contract(1, "12000000.00")
    walk("GET", "/api/v1/contracts/{contract_no}", "developer", 200, contract_no=first)
    full = notice(first, "12000000.00", "full")
    verify = {
        "account_no": account_no,
        "notice_no": full["notice_no"],
        "amount": "12000000.00",
        "payer_name": "张伟",
    }
    assert walk("POST", "/api/v1/deposits/verify", "bank", 200, body=verify)["ok"] is True
    paid = deposit(full, "FUND-1")
    assert paid["status"] == "accepted" and paid["voucher"]
    assert deposit(full, "FUND-1", expect=200)["deposit_id"] == paid["deposit_id"]  # the same reference
    walk("GET", "/api/v1/deposits/{bank_reference}", "bank", 200, bank_reference="FUND-1")
    receipt = {"receipt_no": "SJ-0001"}
    path = "/api/v1/vouchers/{voucher_no}/receipt"
    walk("POST", path, "developer", 201, body=receipt, voucher_no=paid["voucher"]["voucher_no"])
    unknown = deposit(full, "SUSP-1", amount="1000.00", notice_no=None)
    assert unknown["status"] == "suspense" and unknown["voucher"] is None

    # a second contract: a down payment stays, a wrong payment is reversed the same day
    second = contract(2, "900000.00")
    deposit(notice(second, "200000.00", "down_payment"), "D-2")
    deposit(notice(second, "10000.00", "other"), "D-3")
    path = "/api/v1/deposits/{bank_reference}/reversal"
    assert (
        walk("POST", path, "bank", 201, body={"reason": "wrong"}, bank_reference="D-3")["status"]
        == "reversed"
    )

    # the bureau confirms a node; the figures
    path = "/api/v1/projects/{project_id}/nodes/{node_code}/confirmation"
    body = {"reached_on": "2025-06-01", "evidence": HALF_EVIDENCE}
    walk("POST", path, "inspector", 201, body=body, project_id=pid, node_code="half_structure")
    assert walk("GET", "/api/v1/accounts", "bank", 200)[0]["account_no"] == account_no
    walk("GET", "/api/v1/accounts/{account_no}", "bank", 200, account_no=account_no)
    walk("GET", "/api/v1/stats", "admin", 200, query={"from": "2025-01-01", "to": "2026-12-31"})

    # a bank guarantee (保函) stands in for part of the retention, is listed, and is released
    guarantee = {
        "guarantee_no": "（2026）衡建保字第001号",
        "issuer": "中国建设银行衡水分行",
        "amount": "100000.00",
        "valid_from": "2025-06-01",
        "valid_until": "2027-06-30",
    }
    path = "/api/v1/projects/{project_id}/guarantees"
    gid = walk("POST", path, "admin", 201, body=guarantee, project_id=pid)["guarantee_id"]
    walk("GET", path, "developer", 200, project_id=pid)
    walk("POST", "/api/v1/guarantees/{guarantee_id}/release", "admin", 201, guarantee_id=gid)

    # a release through its approval chain to the bank's execution
    release = {
        "project_id": pid,
        "node_code": "half_structure",
        "amount": "3000000.00",
        "purpose": "主体结构施工进度款",
        "payees": [
            {
                "name": "衡水建工集团有限公司",
                "account_no": "1300001111222233334444",
                "bank_name": "中国建设银行衡水分行",
                "role": "construction",
                "amount": "3000000.00",
            }
        ],
        "documents": [WAGES],
    }
    rid = walk("POST", "/api/v1/releases", "developer", 201, body=release)["release_id"]
    walk("GET", "/api/v1/releases", "developer", 200, query={"status": "submitted"})
    walk("GET", "/api/v1/releases/{release_id}", "developer", 200, release_id=rid)
    for role in ("reviewer", "approver"):
        path = "/api/v1/releases/{release_id}/decisions"
        walk("POST", path, role, 201, body={"decision": "approve", "comment": "ok"}, release_id=rid)
    (instruction,) = walk("GET", "/api/v1/instructions", "bank", 200, query={"status": "pending"})
    walk(
        "GET",
        "/api/v1/instructions/{instruction_id}",
        "bank",
        200,
        instruction_id=instruction["instruction_id"],
    )
    execution = {"bank_reference": "PAY-1", "executed_on": TODAY}
    path = "/api/v1/instructions/{instruction_id}/execution"
    walk("POST", path, "bank", 201, body=execution, instruction_id=instruction["instruction_id"])

    # cancellations: one with nothing paid, one refunding what was paid, approved and paid back
    path = "/api/v1/contracts/{contract_no}/cancellation"
    none = walk("POST", path, "developer", 201, body={"reason": "退房"}, contract_no=contract(3, "500000.00"))
    assert none["refund_id"] is None
    refund = walk("POST", path, "developer", 201, body={"reason": "退房"}, contract_no=second)
    assert refund["amount"] == "200000.00"
    walk("GET", "/api/v1/refunds/{refund_id}", "developer", 200, refund_id=refund["refund_id"])
    for role in ("reviewer", "approver"):
        path = "/api/v1/refunds/{refund_id}/decisions"
        walk("POST", path, role, 201, body={"decision": "approve"}, refund_id=refund["refund_id"])
    (instruction,) = walk("GET", "/api/v1/instructions", "bank", 200, query={"status": "pending"})
    assert instruction["kind"] == "refund"
    execution = {"bank_reference": "PAY-2", "executed_on": TODAY}
    path = "/api/v1/instructions/{instruction_id}/execution"
    walk("POST", path, "bank", 201, body=execution, instruction_id=instruction["instruction_id"])

    # court freezes: one lifted, one paid over by a deduction
    def freeze(order_no: str, amount: str) -> int:
        body = {
            "account_no": account_no,
            "authority": "衡水市桃城区人民法院",
            "order_no": order_no,
            "amount": amount,
            "ordered_on": "2026-11-20",
        }
        return walk("POST", "/api/v1/freezes", "bank", 201, body=body)["freeze_id"]

    lifted = freeze("(2026)冀1102执1号", "100000.00")
    walk("GET", "/api/v1/freezes/{freeze_id}", "bank", 200, freeze_id=lifted)
    walk(
        "POST", "/api/v1/freezes/{freeze_id}/lift", "bank", 201, body={"order_no": "解冻-1"}, freeze_id=lifted
    )
    deducted = freeze("(2026)冀1102执2号", "50000.00")
    body = {
        "amount": "50000.00",
        "creditor_role": "construction",
        "bank_reference": "KH-1",
        "executed_on": TODAY,
    }
    done = walk("POST", "/api/v1/freezes/{freeze_id}/deduction", "bank", 201, body=body, freeze_id=deducted)
    assert done["status"] == "deducted" and done["amount"] == "0.00"

    # statements: one, the same again, and a file of two
    statement = {
        "account_no": account_no,
        "statement_date": TODAY,
        "opening_balance": "0.00",
        "closing_balance": "12211000.00",
        "lines": [
            {"bank_reference": "FUND-1", "booked_on": TODAY, "amount": "12000000.00", "direction": "credit"},
            {"bank_reference": "BANK-ONLY-1", "booked_on": TODAY, "amount": "5.00", "direction": "credit"},
        ],
    }
    walk("POST", "/api/v1/statements", "bank", 201, body=statement, media_type="application/json")
    walk("POST", "/api/v1/statements", "bank", 200, body=statement, media_type="application/json")
    earlier = [{**statement, "statement_date": d, "lines": []} for d in ("2026-11-20", "2026-11-21")]
    both = walk("POST", "/api/v1/statements", "bank", 201, body=earlier, media_type="application/json")
    assert len(both["statements"]) == 2

    # reports (escrow.api.reports): PDFs on the request, a report job, and the buyer's public look-up
    voucher = paid["voucher"]
    walk("GET", "/api/v1/vouchers/{voucher_no}/pdf", "bank", 200, voucher_no=voucher["voucher_no"])
    walk("GET", "/api/v1/notices/{notice_no}/pdf", "developer", 200, notice_no=full["notice_no"])
    walk("GET", "/api/v1/releases/{release_id}/pdf", "developer", 200, release_id=rid)
    body = {"kind": "monthly", "account_no": account_no, "month": "2026-11"}
    job = walk("POST", "/api/v1/reports", "bank", 202, body=body)
    for _ in range(300):  # rendered by the worker process
        if walk("GET", "/api/v1/reports/{job_id}", "bank", 200, job_id=job["job_id"])["status"] == "done":
            break
        time.sleep(0.2)
    assert walk("GET", "/api/v1/reports/{job_id}/file", "bank", 200, job_id=job["job_id"]).startswith(b"%PDF")
    path = "/api/v1/public/vouchers/{voucher_no}"
    query = {"code": voucher["verification_code"]}
    walk("GET", path, None, 200, query=query, voucher_no=voucher["voucher_no"])
    path = "/api/v1/public/contracts/{contract_no}"  # the buyer's own contract (CONTRACT.md §10)
    mine = walk("GET", path, None, 200, query={"id_last6": BUYER_ID[-6:]}, contract_no=first)
    assert mine["payments"][0]["voucher_no"] == voucher["voucher_no"]
    walk("GET", path, None, 404, query={"id_last6": "999999"}, contract_no=first)
    walk("GET", path, None, 422, query={"id_last6": "99"}, contract_no=first)

    # alerts: the end-of-day check finds no statement for 19 November; the bureau acknowledges and resolves
    with UnitOfWork(walk.engine) as uow:
        alerts.statement_check(uow, date(2026, 11, 19))
        uow.commit()
    (alert,) = walk("GET", "/api/v1/alerts", "admin", 200, query={"state": "open"})
    path = "/api/v1/alerts/{alert_id}/acknowledgement"
    walk("POST", path, "reviewer", 200, body={"comment": "在查"}, alert_id=alert["alert_id"])
    path = "/api/v1/alerts/{alert_id}/resolution"
    assert walk("POST", path, "reviewer", 200, alert_id=alert["alert_id"])["state"] == "resolved"
    # many at once: by ids (the one resolved already is left alone) and by filter (nothing unresolved matches)
    body = {"alert_ids": [alert["alert_id"]], "comment": "批量"}
    done = walk("POST", "/api/v1/alerts/resolutions", "director", 200, body=body)
    assert done["already_resolved"] == [alert["alert_id"]] and done["changed"] == []
    body = {"filter": {"rule": "statement_missing", "project_id": pid}}
    assert walk("POST", "/api/v1/alerts/acknowledgements", "reviewer", 200, body=body)["changed"] == []

    # the fund demand plan: filed by the developer, approved by two people, in force with what was drawn
    plan = {
        "items": [
            {
                "node_code": "half_structure",
                "month": "2026-11",
                "role": "construction",
                "amount": "3000000.00",
            },
            {"node_code": "topped_out", "month": "2027-03", "role": "materials", "amount": "1000000.00"},
        ],
        "note": "第一版",
    }
    path = "/api/v1/projects/{project_id}/fund-plan"
    plan_id = walk("POST", path, "developer", 201, body=plan, project_id=pid)["plan_id"]
    walk("GET", "/api/v1/fund-plans/{plan_id}", "reviewer", 200, plan_id=plan_id)
    for who in ("reviewer", "approver"):
        path = "/api/v1/fund-plans/{plan_id}/decisions"
        walk("POST", path, who, 201, body={"decision": "approve"}, plan_id=plan_id)
    walk("GET", "/api/v1/projects/{project_id}/fund-plan", "developer", 200, project_id=pid)
    walk("GET", "/api/v1/projects/{project_id}/fund-plan/versions", "admin", 200, project_id=pid)

    # rule book adoptions: the shipped rules hold one version, so applying is refused (the project is on it)
    # and an adoption waiting for review is written as the adoption service would write it
    body = {"rulebook": "hengshui@2024.1", "project_ids": [pid], "reason": "新办法施行"}
    walk("POST", "/api/v1/rulebook-adoptions", "admin", 422, body=body)
    with UnitOfWork(walk.engine) as uow:
        adoption = uow.adoptions.add(
            models.RulebookAdoption(
                jurisdiction="hengshui",
                rulebook_id="hengshui@2024.1",
                reason="x",
                applied_by=uow.parties.user_by_name("admin").id,
            )
        )
        uow.adoptions.add(
            models.RulebookAdoptionProject(
                adoption_id=adoption.id,
                project_id=pid,
                account_id=uow.projects.account_for(pid).id,
                from_rulebook_id="hengshui@2024.1",
            )
        )
        adoption_id = adoption.id
        uow.commit()
    walk("GET", "/api/v1/rulebook-adoptions", "admin", 200, query={"status": "submitted"})
    walk("GET", "/api/v1/rulebook-adoptions/{adoption_id}", "reviewer", 200, adoption_id=adoption_id)
    decision = {"decision": "reject", "comment": "已是该版本"}
    path = "/api/v1/rulebook-adoptions/{adoption_id}/decisions"
    assert walk("POST", path, "reviewer", 201, body=decision, adoption_id=adoption_id)["status"] == "rejected"

    # the bank confirms the tri-party agreement; the bureau changes the key amount (CONTRACT §8)
    agreement = {"agreement_no": "衡监协(2025)第001号", "opened_on": "2025-03-05"}
    path = "/api/v1/accounts/{account_no}/confirmation"
    assert walk("POST", path, "bank", 200, body=agreement, account_no=account_no)["confirmed_by_bank"] is True
    body = {"amount": "9000000.00", "reason": "施工合同变更"}
    path = "/api/v1/projects/{project_id}/supervised-amount"
    change_id = walk("POST", path, "admin", 201, body=body, project_id=pid)["change_id"]
    walk("GET", "/api/v1/supervised-amount-changes/{change_id}", "reviewer", 200, change_id=change_id)
    decision = {"decision": "reject", "comment": "合同未变更"}
    path = "/api/v1/supervised-amount-changes/{change_id}/decisions"
    assert walk("POST", path, "reviewer", 201, body=decision, change_id=change_id)["status"] == "rejected"

    # the end of supervision, on two more projects: one closed (every node confirmed), one moving bank
    def funded_project(n: int) -> int:
        permit = f"衡预售2025-10{n}"
        body = project_body(
            permit_no=permit, account_no=f"62220000333344{n}0", supervised_amount="1000000.00"
        )
        other = walk("POST", "/api/v1/projects", "admin", 201, body=body)
        body = contract_body(
            permit_no=permit, contract_no=f"HT-E-{n}", unit=f"E-{n}", total_price="100000.00"
        )
        contract_no = walk("POST", "/api/v1/contracts", "developer", 201, body=body)["contract_no"]
        n_ = notice(contract_no, "100000.00", "full")
        deposit(n_, f"END-{n}", account_no=other["account_no"])
        return other["project_id"]

    closing = funded_project(1)
    path = "/api/v1/projects/{project_id}/nodes/{node_code}/confirmation"
    for node, evidence in END_NODES.items():
        body = {"reached_on": "2025-06-01", "evidence": [{"kind": k} for k in evidence]}
        walk("POST", path, "inspector", 201, body=body, project_id=closing, node_code=node)
    payee = {
        "name": "衡水安居置业有限公司",
        "account_no": "1300009999000011112222",
        "bank_name": "中国银行衡水分行",
    }
    body = {"payee": payee, "reason": "已完成首次登记"}
    closure = walk(
        "POST", "/api/v1/projects/{project_id}/closure", "admin", 201, body=body, project_id=closing
    )
    assert closure["kind"] == "closure" and closure["amount"] == "100000.00"
    change = {"bank_code": "OTB", "account_no": "6212990000123456", "account_name": "新监管账户"}
    path = "/api/v1/projects/{project_id}/bank-change"
    walk("POST", path, "admin", 409, body=change, project_id=closing)  # a closure waits
    moved = walk("POST", path, "admin", 201, body=change, project_id=funded_project(2))
    assert moved["kind"] == "transfer" and moved["new_account_no"] == "6212990000123456"

    # buildings: this project's book (hengshui@2024.1) does not supervise by building, so a building is
    # refused and no building's node can be confirmed (the flows themselves: tests/http/test_buildings.py)
    building = {
        "code": "2号楼",
        "name": "2号住宅楼",
        "presale_area_m2": "1000.00",
        "permit_no": "衡预售2025-009",
    }
    walk("POST", "/api/v1/projects/{project_id}/buildings", "admin", 422, body=building, project_id=pid)
    path = "/api/v1/projects/{project_id}/buildings/{code}/nodes/{node_code}/confirmation"
    body = {"reached_on": "2025-06-01", "evidence": HALF_EVIDENCE}
    walk("POST", path, "inspector", 404, body=body, project_id=pid, code="1", node_code="half_structure")

    # webhooks (CONTRACT §10): the bank's, its log, a rotation, a deletion; the developer's stays
    body = {"url": "https://erp.example.cn/hooks", "events": ["instruction.created"]}
    hook = walk("POST", "/api/v1/webhooks", "bank", 201, body=body)["webhook_id"]
    body = {"url": "https://erp.example.cn/hooks", "events": ["deposit.posted", "release.decided"]}
    walk("POST", "/api/v1/webhooks", "developer", 201, body=body)
    walk("POST", "/api/v1/webhooks", "developer", 422, body={"url": "ftp://x", "events": []})
    walk("GET", "/api/v1/webhooks", "bank", 200)
    walk("GET", "/api/v1/webhooks/{webhook_id}", "bank", 200, webhook_id=hook)
    walk("GET", "/api/v1/webhooks/{webhook_id}/deliveries", "bank", 200, webhook_id=hook)
    walk("POST", "/api/v1/webhooks/{webhook_id}/secret", "bank", 200, webhook_id=hook)
    walk("DELETE", "/api/v1/webhooks/{webhook_id}", "bank", 200, webhook_id=hook)
    return {"project": project}


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config())


def test_the_document_describes_every_answer(client):
    """Every operation documents a body for its success, its errors as the shared problem+json schema, the
    Idempotency-Key header on a POST, and the bearer key where one is needed."""
    document = client.get("/schema/openapi.json").json()
    assert document["components"]["securitySchemes"]["BearerApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["BearerApiKey"]["description"],
    }
    problem = {"$ref": "#/components/schemas/Problem"}
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {
        "type",
        "title",
        "status",
        "detail",
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            success = [s for s in operation["responses"] if s.startswith("2")]
            assert success, label
            for status in success:
                content = operation["responses"][status]["content"]
                assert all(media["schema"] for media in content.values()), (label, status)
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert response["content"] == {"application/problem+json": {"schema": problem}}, (
                        label,
                        status,
                    )
            headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
            if method == "post" and path != "/api/v1/deposits/verify":  # the check changes nothing (§10)
                assert headers["Idempotency-Key"]["required"] is True, label
                assert {"400", "422"} <= set(operation["responses"]), label
            if "public" not in operation["tags"] and path != "/health":
                assert operation["security"] == [{"BearerApiKey": []}], label
                assert "401" in operation["responses"], label


def test_every_operation_answers_as_documented(api_schema, world, engine):
    walk = Walk(api_schema, world, engine)
    walk_everything(walk)
    documented = {
        (result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()
    }
    assert {(method, path) for method, path, _ in walk.seen} == documented
    for method, path, status in walk.seen:
        assert str(status) in api_schema[path][method].definition.raw["responses"]


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # the same cases every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def identifiers(engine) -> dict[str, list]:
    """What exists after the walk, by the name of the body member or path parameter that refers to it."""
    from sqlalchemy import select

    from escrow.store import models as m
    from escrow.store.db import UnitOfWork

    with UnitOfWork(engine, readonly=True) as uow:
        column = lambda c: sorted(set(uow.session.scalars(select(c))))  # noqa: E731
        return {
            "account_no": column(m.SupervisedAccount.account_no),
            "permit_no": column(m.Project.permit_no),
            "project_id": column(m.Project.id),
            "developer_credit_code": column(m.Developer.credit_code),
            "bank_code": column(m.Bank.code),
            "contract_no": column(m.Contract.contract_no),
            "notice_no": column(m.PaymentNotice.notice_no),
            "voucher_no": column(m.Voucher.voucher_no),
            "bank_reference": column(m.Deposit.bank_reference),
            "release_id": column(m.Release.id),
            "refund_id": column(m.Refund.id),
            "instruction_id": column(m.PaymentInstruction.id),
            "freeze_id": column(m.Freeze.id),
            "alert_id": column(m.Alert.id),
            "job_id": column(m.ReportJob.id),
            "plan_id": column(m.FundPlan.id),
            "change_id": column(m.SupervisedAmountChange.id),
            "webhook_id": column(m.Webhook.id),
            "node_code": ["half_structure", "topped_out", "first_registration"],
        }


# Members that must name something that exists for a request to get past "no such …": in half the cases,
# the fuzzer's value is replaced by a real one, so that generated data also reaches the deeper rules.
REAL = ("account_no", "permit_no", "project_id", "developer_credit_code", "bank_code", "notice_no")


def use_real_identifiers(case, known: dict[str, list], data) -> None:
    def pick(name: str):
        return data.draw(st.sampled_from(known[name]), label=name)

    for name in list(case.path_parameters or {}):
        if known.get(name):
            case.path_parameters[name] = pick(name)
    bodies = case.body if isinstance(case.body, list) else [case.body]
    for body in bodies:
        if isinstance(body, dict):
            for name in REAL:
                if name in body and known.get(name):
                    body[name] = pick(name)


def test_fuzz(api_schema, world, engine, subtests):
    """Every operation, in valid and invalid variations, on a filled database. One subtest per operation and
    mode, so that one finding does not hide the others."""
    walk_everything(Walk(api_schema, world, engine))
    known = identifiers(engine)
    for result in api_schema.get_all_operations():
        operation = result.ok()
        raw = operation.definition.raw
        mutable = bool(raw.get("parameters") or raw.get("requestBody"))  # /health has nothing to get wrong
        for mode in (
            (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if mutable else (GenerationMode.POSITIVE,)
        ):
            with subtests.test(msg=f"{operation.label} {mode.value}"):

                @FUZZ
                @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
                def run(case, data) -> None:
                    if data.draw(st.booleans(), label="real identifiers"):
                        use_real_identifiers(case, known, data)
                    who = who_for(case.operation.tags)
                    case.call_and_validate(headers=headers(world, who), checks=CHECKS)

                run()
