"""A bank's integration team generates a client from the live OpenAPI document and drives the teller flow
with it (CONTRACT.md §10): openapi-python-client generates a Python package from `/schema/openapi.json` as a
real uvicorn server answers it; the test imports that package and, through it, verifies a payment, posts it,
downloads the voucher PDF, lists the payment instruction of an approved release (a page at a time) and
executes it — on both engines. The generator's one setting: a PDF is handed over as bytes
(`content_type_overrides`, as the README says)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests import live
from tests.conftest import project_body
from tests.http.test_api_releases import TODAY, Steps, confirm, release_body

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
CONFIG = "content_type_overrides:\n  application/pdf: application/octet-stream\n"


def generate(base: str, into: Path) -> object:
    """The client package generated from the live document, imported."""
    document = httpx.get(f"{base}/schema/openapi.json", timeout=60)
    assert document.status_code == 200
    (into / "openapi.json").write_bytes(document.content)
    (into / "config.yaml").write_text(CONFIG)
    name = f"escrow_client_{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(into / "openapi.json"),
            "--output-path",
            str(into / name),
            "--meta",
            "none",
            "--config",
            str(into / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (into / name / "client.py").exists(), done.stdout + done.stderr
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(into))


def test_a_generated_client_drives_the_teller_flow(app, client, world, tmp_path):
    steps = Steps(client, world)
    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "o"),
    )
    assert r.status_code == 201, r.text
    project = r.json()
    r = client.post(
        "/api/v1/contracts",
        json={
            "permit_no": project_body()["permit_no"],
            "contract_no": "HT-GEN-1",
            "buyer_name": "张伟",
            "buyer_id_no": "110101199003070011",
            "unit": "G-1",
            "area_m2": "98.50",
            "total_price": "12000000.00",
            "signed_on": "2025-04-01",
        },
        headers=world.headers("developer", "contract"),
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/contracts/HT-GEN-1/notices",
        json={"kind": "full", "amount": "12000000.00", "due_on": "2025-05-01"},
        headers=world.headers("developer", "notice"),
    )
    assert r.status_code == 201, r.text
    notice = r.json()

    with live.serve(app) as base:
        gen = generate(base, tmp_path)
        verify_deposit = importlib.import_module(f"{gen.__name__}.api.bank.verify_deposit")
        post_deposit = importlib.import_module(f"{gen.__name__}.api.bank.post_deposit")
        list_instructions = importlib.import_module(f"{gen.__name__}.api.bank.list_instructions")
        execute_instruction = importlib.import_module(f"{gen.__name__}.api.bank.execute_instruction")
        get_voucher_pdf = importlib.import_module(f"{gen.__name__}.api.reports.get_voucher_pdf")
        models = importlib.import_module(f"{gen.__name__}.models")
        teller = gen.AuthenticatedClient(base_url=base, token=world.keys["bank"], timeout=60)

        payment = {
            "account_no": notice["account_no"],
            "notice_no": notice["notice_no"],
            "amount": "12000000.00",
            "payer_name": "张伟",
        }
        checked = verify_deposit.sync(client=teller, body=models.DepositVerifyIn.from_dict(payment))
        assert isinstance(checked, models.Verification), checked
        assert checked.ok is True

        posted = post_deposit.sync_detailed(
            client=teller,
            body=models.DepositIn.from_dict(
                {
                    **payment,
                    "bank_reference": "GEN-DEP-1",
                    "payer_account": "6217000012345678",
                    "kind": "full",
                    "channel": "transfer",
                    "value_date": TODAY,
                }
            ),
            idempotency_key="gen-deposit",
        )
        assert posted.status_code == 201
        deposit = posted.parsed
        assert isinstance(deposit, models.DepositView), deposit
        assert deposit.status == "accepted" or getattr(deposit.status, "value", None) == "accepted"
        voucher_no = deposit.voucher.voucher_no

        pdf = get_voucher_pdf.sync_detailed(voucher_no, client=teller)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")

        # the bureau's side, by hand: the node, the release and its approvals make an instruction
        confirm(client, world, project["project_id"])
        applied = steps.applied(release_body(project["project_id"]))
        steps.approve_all(applied["release_id"])

        listed = list_instructions.sync_detailed(
            client=teller, status=models.ListInstructionsStatus.PENDING, limit=1
        )
        assert listed.status_code == 200
        assert "link" not in listed.headers  # the one instruction: no next page
        (instruction,) = listed.parsed
        assert instruction.kind == "release" or getattr(instruction.kind, "value", None) == "release"
        executed = execute_instruction.sync_detailed(
            instruction.instruction_id,
            client=teller,
            body=models.ExecutionIn.from_dict({"bank_reference": "GEN-PAY-1", "executed_on": TODAY}),
            idempotency_key="gen-execute",
        )
        assert executed.status_code == 201, executed.content
        assert executed.parsed.status == "executed" or executed.parsed.status.value == "executed"

        refused = post_deposit.sync_detailed(
            client=teller,
            body=models.DepositIn.from_dict(
                {**payment, "bank_reference": "", "channel": "transfer", "value_date": TODAY}
            ),
            idempotency_key="gen-bad",
        )
        assert refused.status_code == 422
        assert isinstance(refused.parsed, models.Problem)
        assert refused.parsed.type_.endswith("/validation-error")
