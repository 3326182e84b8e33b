"""The OpenAPI document as client generators read it (CONTRACT.md §10), fetched from the real app:
hand-chosen operationIds, PDFs as binary, named schemas for every request body, simple optional filters,
lists documented with limit, cursor and Link; it validates as OpenAPI 3.1. And the errors as the README lists
them: every problem type the code can answer is in its list, and a body the API cannot read is 415."""

from __future__ import annotations

import ast
import re

import pytest
from openapi_spec_validator import validate

from tests.conftest import REPO

# Every operation of the document and its operationId: stable names that generated clients are built on.
# A new endpoint gets its name in escrow/api/operations.py (or on its route) and here.
OPERATION_IDS = {
    ("get", "/health"): "getHealth",
    ("post", "/api/v1/projects"): "openProject",
    ("get", "/api/v1/projects/{project_id}"): "getProject",
    ("post", "/api/v1/projects/{project_id}/nodes/{node_code}/confirmation"): "confirmNode",
    ("post", "/api/v1/projects/{project_id}/buildings"): "addBuilding",
    ("post", "/api/v1/projects/{project_id}/buildings/{code}/nodes/{node_code}/confirmation"): (
        "confirmBuildingNode"
    ),
    ("post", "/api/v1/projects/{project_id}/bank-change"): "changeSupervisingBank",
    ("post", "/api/v1/projects/{project_id}/closure"): "closeAccount",
    ("get", "/api/v1/stats"): "getStats",
    ("get", "/api/v1/projects/{project_id}/guarantees"): "listGuarantees",
    ("post", "/api/v1/projects/{project_id}/guarantees"): "registerGuarantee",
    ("post", "/api/v1/guarantees/{guarantee_id}/release"): "releaseGuarantee",
    ("get", "/api/v1/alerts"): "listAlerts",
    ("post", "/api/v1/alerts/{alert_id}/acknowledgement"): "acknowledgeAlert",
    ("post", "/api/v1/alerts/{alert_id}/resolution"): "resolveAlert",
    ("post", "/api/v1/alerts/acknowledgements"): "acknowledgeAlerts",
    ("post", "/api/v1/alerts/resolutions"): "resolveAlerts",
    ("get", "/api/v1/rulebook-adoptions"): "listAdoptions",
    ("post", "/api/v1/rulebook-adoptions"): "submitAdoption",
    ("get", "/api/v1/rulebook-adoptions/{adoption_id}"): "getAdoption",
    ("post", "/api/v1/rulebook-adoptions/{adoption_id}/decisions"): "decideAdoption",
    ("post", "/api/v1/releases/{release_id}/decisions"): "decideRelease",
    ("post", "/api/v1/refunds/{refund_id}/decisions"): "decideRefund",
    ("get", "/api/v1/projects/{project_id}/fund-plan"): "getFundPlan",
    ("post", "/api/v1/projects/{project_id}/fund-plan"): "postFundPlan",
    ("get", "/api/v1/projects/{project_id}/fund-plan/versions"): "listFundPlanVersions",
    ("get", "/api/v1/fund-plans/{plan_id}"): "getFundPlanVersion",
    ("post", "/api/v1/fund-plans/{plan_id}/decisions"): "decideFundPlan",
    ("post", "/api/v1/projects/{project_id}/supervised-amount"): "fileSupervisedAmountChange",
    ("get", "/api/v1/supervised-amount-changes/{change_id}"): "getSupervisedAmountChange",
    ("post", "/api/v1/supervised-amount-changes/{change_id}/decisions"): "decideSupervisedAmountChange",
    ("get", "/api/v1/accounts"): "listAccounts",
    ("get", "/api/v1/accounts/{account_no}"): "getAccount",
    ("post", "/api/v1/accounts/{account_no}/confirmation"): "confirmAccountAgreement",
    ("post", "/api/v1/deposits/verify"): "verifyDeposit",
    ("post", "/api/v1/deposits"): "postDeposit",
    ("get", "/api/v1/deposits/{bank_reference}"): "getDeposit",
    ("post", "/api/v1/deposits/{bank_reference}/reversal"): "reverseDeposit",
    ("post", "/api/v1/statements"): "importStatement",
    ("get", "/api/v1/instructions"): "listInstructions",
    ("get", "/api/v1/instructions/{instruction_id}"): "getInstruction",
    ("post", "/api/v1/instructions/{instruction_id}/execution"): "executeInstruction",
    ("post", "/api/v1/freezes"): "placeFreeze",
    ("get", "/api/v1/freezes/{freeze_id}"): "getFreeze",
    ("post", "/api/v1/freezes/{freeze_id}/lift"): "liftFreeze",
    ("post", "/api/v1/freezes/{freeze_id}/deduction"): "deductFrozen",
    ("post", "/api/v1/contracts"): "registerContract",
    ("get", "/api/v1/contracts/{contract_no}"): "getContract",
    ("post", "/api/v1/contracts/{contract_no}/notices"): "issueNotice",
    ("post", "/api/v1/contracts/{contract_no}/cancellation"): "cancelContract",
    ("post", "/api/v1/vouchers/{voucher_no}/receipt"): "receiptVoucher",
    ("get", "/api/v1/releases"): "listReleases",
    ("post", "/api/v1/releases"): "applyRelease",
    ("get", "/api/v1/releases/{release_id}"): "getRelease",
    ("get", "/api/v1/refunds/{refund_id}"): "getRefund",
    ("get", "/api/v1/vouchers/{voucher_no}/pdf"): "getVoucherPdf",
    ("get", "/api/v1/notices/{notice_no}/pdf"): "getNoticePdf",
    ("get", "/api/v1/releases/{release_id}/pdf"): "getReleasePdf",
    ("post", "/api/v1/reports"): "requestReport",
    ("get", "/api/v1/reports/{job_id}"): "getReportJob",
    ("get", "/api/v1/reports/{job_id}/file"): "getReportFile",
    ("get", "/api/v1/public/vouchers/{voucher_no}"): "getPublicVoucher",
    ("get", "/api/v1/public/contracts/{contract_no}"): "getPublicContract",
    ("post", "/api/v1/webhooks"): "createWebhook",
    ("get", "/api/v1/webhooks"): "listWebhooks",
    ("get", "/api/v1/webhooks/{webhook_id}"): "getWebhook",
    ("delete", "/api/v1/webhooks/{webhook_id}"): "deleteWebhook",
    ("post", "/api/v1/webhooks/{webhook_id}/secret"): "rotateWebhookSecret",
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): "listWebhookDeliveries",
}
LISTS = {
    "/api/v1/accounts",
    "/api/v1/alerts",
    "/api/v1/releases",
    "/api/v1/instructions",
    "/api/v1/rulebook-adoptions",
    "/api/v1/projects/{project_id}/fund-plan/versions",
    "/api/v1/projects/{project_id}/guarantees",
    "/api/v1/webhooks",
    "/api/v1/webhooks/{webhook_id}/deliveries",
}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client) -> dict:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_every_operation_has_its_hand_chosen_operation_id(document):
    found = {(method, path): op.get("operationId") for method, path, op in operations(document)}
    assert found == OPERATION_IDS
    names = list(found.values())
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9]+", name) for name in names)
    assert not [name for name in names if name.startswith("Api")]


def test_the_document_validates_as_openapi_31(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_pdf_answers_are_binary(document):
    pdfs = {
        path: response["content"]["application/pdf"]["schema"]
        for _, path, op in operations(document)
        for status, response in op["responses"].items()
        if status.startswith("2") and "application/pdf" in response.get("content", {})
    }
    assert set(pdfs) == {
        "/api/v1/vouchers/{voucher_no}/pdf",
        "/api/v1/notices/{notice_no}/pdf",
        "/api/v1/releases/{release_id}/pdf",
        "/api/v1/reports/{job_id}/file",
    }
    for schema in pdfs.values():
        assert schema == {"type": "string", "format": "binary", "contentMediaType": "application/pdf"}


def test_every_request_body_has_a_named_schema(document):
    schemas = document["components"]["schemas"]
    bodies = 0
    for method, path, op in operations(document):
        for media_type, content in op.get("requestBody", {}).get("content", {}).items():
            bodies += 1
            ref = content["schema"].get("$ref", "")
            assert ref.startswith("#/components/schemas/"), (method, path, media_type)
            assert ref.rsplit("/", 1)[1] in schemas
    assert bodies > 30
    statement = document["paths"]["/api/v1/statements"]["post"]["requestBody"]["content"]
    assert {mt: c["schema"]["$ref"].rsplit("/", 1)[1] for mt, c in statement.items()} == {
        "application/json": "StatementJsonBody",
        "application/xml": "StatementCamt",
        "text/xml": "StatementCamt",
        "application/zip": "StatementCamtZip",
        "text/plain": "StatementMt940",
        "text/csv": "StatementCsv",
    }
    assert schemas["StatementJson"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/StatementJsonLine"
    }
    assert schemas["StatementCamtZip"]["format"] == "binary"


def test_optional_filters_are_one_simple_schema(document):
    for method, path, op in operations(document):
        for parameter in op.get("parameters", []):
            schema = parameter.get("schema", {})
            assert "null" not in str(schema.get("type")), (method, path, parameter["name"])
            assert None not in schema.get("enum", []), (method, path, parameter["name"])
            assert "oneOf" not in schema, (method, path, parameter["name"])
    status = next(
        p for p in document["paths"]["/api/v1/instructions"]["get"]["parameters"] if p["name"] == "status"
    )
    assert status["required"] is False
    assert status["schema"] == {
        "type": "string",
        "enum": ["pending", "executed"],
        "description": status["description"],
    }


def test_lists_document_limit_cursor_and_link(document):
    for path in LISTS:
        op = document["paths"][path]["get"]
        parameters = {p["name"]: p for p in op["parameters"]}
        assert parameters["limit"]["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "default": 100,
        }
        assert parameters["cursor"]["schema"]["type"] == "string"
        assert "Link" in op["responses"]["200"]["headers"]
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
        assert "422" in op["responses"]


# --- errors as the README lists them ---------------------------------------------------------------------


def emitted_problem_types() -> set[str]:
    """Every problem type slug the code can answer: the API's literal ones (`problem(status, "slug", …)`,
    `ProblemException(status, "slug", …)`), the statuses' own (escrow.api.problems._KINDS) and every
    domain error's `kind`."""
    import escrow.app  # noqa: F401  (imports every module that defines an error)
    from escrow.api import problems
    from escrow.domain.errors import DomainError

    slugs = set(problems._KINDS.values())
    for source in (REPO / "escrow").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None))
                in ("problem", "ProblemException")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                slugs.add(node.args[1].value)
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        slugs.add(cls.kind)
        pending.extend(cls.__subclasses__())
    return slugs


def readme_problem_types() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("- Errors are `application/problem+json`")
    listed = text[start : text.index("\n- ", start)]
    return set(re.findall(r"`([a-z][a-z-]+)`", listed))


def test_the_readme_lists_every_problem_type_the_code_can_answer():
    emitted = emitted_problem_types()
    assert {"statement-invalid", "unsupported-media-type", "validation-error", "malformed-body"} <= emitted
    assert emitted - readme_problem_types() == set()


def test_an_unknown_account_statement_names_the_field(client, world):
    statement = {"account_no": "6222999999999999", "statement_date": "2026-11-20", "lines": []}
    r = client.post("/api/v1/statements", json=statement, headers=world.headers("bank", "unknown-account"))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/validation-error")
    assert [e["field"] for e in problem["errors"]] == ["account_no"]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize("media_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_every_json_endpoint_answers_415_for_another_media_type(client, world, document, media_type):
    posts = [
        path for method, path, _ in operations(document) if method == "post" and path != "/api/v1/statements"
    ]
    assert len(posts) > 30
    for n, path in enumerate(posts):
        r = client.post(
            concrete(path),
            content=b'{"a": 1}',
            headers={**world.headers("admin", f"media-{n}"), "Content-Type": media_type},
        )
        assert r.status_code == 415, (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["type"].endswith("/unsupported-media-type")
        assert problem["errors"][0]["field"] == "Content-Type"
        assert "415" in document["paths"][path]["post"]["responses"]


def test_a_statement_the_api_cannot_read_is_415(client, world):
    r = client.post(
        "/api/v1/statements",
        content=b"%PDF-1.7 not a statement",
        headers={**world.headers("bank", "pdf-statement"), "Content-Type": "application/pdf"},
    )
    assert r.status_code == 415, r.text
    assert r.json()["type"].endswith("/unsupported-media-type")
