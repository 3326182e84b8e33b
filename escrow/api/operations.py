"""The OpenAPI `operationId` of every operation (CONTRACT.md §10): stable, hand-chosen camelCase names that a
generated client turns into its function names (`post_deposit`, `list_instructions`, `get_voucher_pdf`).

A handler may name its own (`operation_id=` on its route); every other is named here by method and path.
An operation named in neither place keeps Litestar's automatic name (`ApiV1DepositsPostDeposit`), which
tests/http/test_openapi_document.py refuses: a new endpoint gets its name here (or on its route).
"""

from __future__ import annotations

from typing import Any

from litestar._openapi.utils import default_operation_id_creator

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("GET", "/health"): "getHealth",
    # bureau
    ("POST", "/api/v1/projects"): "openProject",
    ("GET", "/api/v1/projects/{project_id}"): "getProject",
    ("POST", "/api/v1/projects/{project_id}/nodes/{node_code}/confirmation"): "confirmNode",
    ("GET", "/api/v1/stats"): "getStats",
    ("GET", "/api/v1/projects/{project_id}/guarantees"): "listGuarantees",
    ("POST", "/api/v1/projects/{project_id}/guarantees"): "registerGuarantee",
    ("POST", "/api/v1/guarantees/{guarantee_id}/release"): "releaseGuarantee",
    ("GET", "/api/v1/alerts"): "listAlerts",
    ("POST", "/api/v1/alerts/{alert_id}/acknowledgement"): "acknowledgeAlert",
    ("POST", "/api/v1/alerts/{alert_id}/resolution"): "resolveAlert",
    ("POST", "/api/v1/alerts/acknowledgements"): "acknowledgeAlerts",
    ("POST", "/api/v1/alerts/resolutions"): "resolveAlerts",
    ("GET", "/api/v1/rulebook-adoptions"): "listAdoptions",
    ("POST", "/api/v1/rulebook-adoptions"): "submitAdoption",
    ("GET", "/api/v1/rulebook-adoptions/{adoption_id}"): "getAdoption",
    ("POST", "/api/v1/rulebook-adoptions/{adoption_id}/decisions"): "decideAdoption",
    ("POST", "/api/v1/releases/{release_id}/decisions"): "decideRelease",
    ("POST", "/api/v1/refunds/{refund_id}/decisions"): "decideRefund",
    # bank
    ("GET", "/api/v1/accounts"): "listAccounts",
    ("GET", "/api/v1/accounts/{account_no}"): "getAccount",
    ("POST", "/api/v1/deposits/verify"): "verifyDeposit",
    ("POST", "/api/v1/deposits"): "postDeposit",
    ("GET", "/api/v1/deposits/{bank_reference}"): "getDeposit",
    ("POST", "/api/v1/deposits/{bank_reference}/reversal"): "reverseDeposit",
    ("POST", "/api/v1/statements"): "importStatement",
    ("GET", "/api/v1/instructions"): "listInstructions",
    ("GET", "/api/v1/instructions/{instruction_id}"): "getInstruction",
    ("POST", "/api/v1/instructions/{instruction_id}/execution"): "executeInstruction",
    ("POST", "/api/v1/freezes"): "placeFreeze",
    ("GET", "/api/v1/freezes/{freeze_id}"): "getFreeze",
    ("POST", "/api/v1/freezes/{freeze_id}/lift"): "liftFreeze",
    ("POST", "/api/v1/freezes/{freeze_id}/deduction"): "deductFrozen",
    # developer
    ("POST", "/api/v1/contracts"): "registerContract",
    ("GET", "/api/v1/contracts/{contract_no}"): "getContract",
    ("POST", "/api/v1/contracts/{contract_no}/notices"): "issueNotice",
    ("POST", "/api/v1/contracts/{contract_no}/cancellation"): "cancelContract",
    ("POST", "/api/v1/vouchers/{voucher_no}/receipt"): "receiptVoucher",
    ("GET", "/api/v1/releases"): "listReleases",
    ("POST", "/api/v1/releases"): "applyRelease",
    ("GET", "/api/v1/releases/{release_id}"): "getRelease",
    ("GET", "/api/v1/refunds/{refund_id}"): "getRefund",
    # reports
    ("GET", "/api/v1/vouchers/{voucher_no}/pdf"): "getVoucherPdf",
    ("GET", "/api/v1/notices/{notice_no}/pdf"): "getNoticePdf",
    ("GET", "/api/v1/releases/{release_id}/pdf"): "getReleasePdf",
    ("POST", "/api/v1/reports"): "requestReport",
    ("GET", "/api/v1/reports/{job_id}"): "getReportJob",
    ("GET", "/api/v1/reports/{job_id}/file"): "getReportFile",
    # public
    ("GET", "/api/v1/public/vouchers/{voucher_no}"): "getPublicVoucher",
}


def path_of(components: list[Any]) -> str:
    """The document's path of a route: its parameters as `{name}`, without their types."""
    return "/" + "/".join(
        part if isinstance(part, str) else "{" + part.name + "}" for part in components if part != ""
    )


def operation_id(route_handler: Any, http_method: str, path_components: list[Any]) -> str:
    """OpenAPIConfig.operation_id_creator: the name above, else Litestar's own (which the tests refuse)."""
    method = str(getattr(http_method, "value", http_method)).upper()
    name = OPERATION_IDS.get((method, path_of(path_components)))
    return name or default_operation_id_creator(route_handler, http_method, path_components)
