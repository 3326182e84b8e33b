"""The read-only bank portal (/bank): bank staff see their own bank's supervised accounts, the payment
instructions waiting for it, the statements it sent with their reconciliation, and court freezes — and
nothing of another bank: another bank's rows never appear and a direct URL to its account is 404. The portal
has no form: its pages only read."""

from __future__ import annotations

import pytest

from tests.conftest import project_body
from tests.web import OTHER_BANK_STAFF, post_form

OTHER_ACCOUNT = "6222000099990000"
COURT = "衡水市桃城区人民法院"


def _post(client, world, who: str, path: str, body: dict, key: str) -> dict:
    r = client.post(path, json=body, headers=world.headers(who, key))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def two_banks(client, world, users, project, web):
    """HSB's project (the `project` fixture) with money in suspense being returned to its payer (a waiting
    instruction), a statement that does not reconcile and a freeze; OTB's project with a statement that
    reconciles and a freeze of its own."""
    other = _post(
        client,
        world,
        "admin",
        "/api/v1/projects",
        project_body(
            name="别家银行监管的项目", permit_no="衡预售2025-099", account_no=OTHER_ACCOUNT, bank_code="OTB"
        ),
        "open-other",
    )
    deposit = _post(
        client,
        world,
        "bank",
        "/api/v1/deposits",
        {
            "account_no": project["account_no"],
            "bank_reference": "SUSP-0001",
            "amount": "5000.00",
            "payer_name": "王五",
            "payer_account": "6217000000000001",
            "kind": "down_payment",
            "channel": "transfer",
            "value_date": "2026-11-20",
        },
        "suspense-deposit",
    )
    assert deposit["status"] == "suspense", deposit
    returned = post_form(
        web("reviewer"),
        f"/projects/{project['project_id']}/suspense/{deposit['deposit_id']}",
        {"action": "return", "reason": "无对应合同，退回付款人"},
    )
    assert returned.status_code == 303, returned.text
    for who, account, closing, key in (
        ("bank", project["account_no"], "0.00", "stmt-hsb"),
        ("other_bank", OTHER_ACCOUNT, "0.00", "stmt-otb"),
    ):
        _post(
            client,
            world,
            who,
            "/api/v1/statements",
            {
                "account_no": account,
                "statement_date": "2026-11-21",
                "opening_balance": "0.00",
                "closing_balance": closing,
                "lines": [],
            },
            key,
        )
    for who, account, order_no in (
        ("bank", project["account_no"], "(2026)冀1102执HSB号"),
        ("other_bank", OTHER_ACCOUNT, "(2026)冀1102执OTB号"),
    ):
        freeze = {"account_no": account, "authority": COURT, "order_no": order_no, "amount": "100.00"}
        _post(client, world, who, "/api/v1/freezes", {**freeze, "ordered_on": "2026-11-21"}, f"fr-{who}")
    return {"own": project, "other": other}


def test_bank_staff_see_their_own_accounts_only(web, two_banks):
    staff = web("bank")
    page = staff.get("/bank")
    assert page.status_code == 200 and "监管账户" in page.text  # Chinese by default
    assert two_banks["own"]["account_no"] in page.text and "¥5,000.00" in page.text
    assert OTHER_ACCOUNT not in page.text and "别家银行监管的项目" not in page.text
    # the other bank's staff see the mirror image
    other = web(OTHER_BANK_STAFF).get("/bank")
    assert OTHER_ACCOUNT in other.text and two_banks["own"]["account_no"] not in other.text


def test_an_account_of_another_bank_is_404_and_its_own_shows_its_rows(web, two_banks):
    staff = web("bank")
    assert staff.get(f"/bank/accounts/{OTHER_ACCOUNT}").status_code == 404
    assert web(OTHER_BANK_STAFF).get(f"/bank/accounts/{two_banks['own']['account_no']}").status_code == 404
    page = staff.get(f"/bank/accounts/{two_banks['own']['account_no']}")
    assert page.status_code == 200
    assert "(2026)冀1102执HSB号" in page.text and "王五" in page.text  # its freeze, its waiting return
    assert "OTB号" not in page.text


def test_instructions_statements_and_freezes_are_the_banks_own(web, two_banks):
    staff = web("bank")
    waiting = staff.get("/bank/instructions?lang=en")
    assert waiting.status_code == 200
    assert "Return to payer" in waiting.text and "王五" in waiting.text and "¥5,000.00" in waiting.text
    assert web(OTHER_BANK_STAFF).get("/bank/instructions?lang=en").text.count("Return to payer") == 0

    statements = staff.get("/bank/statements?lang=en")
    # HSB's books hold 5,000.00 in suspense that its empty statement does not show: a discrepancy
    assert "Discrepancy" in statements.text and OTHER_ACCOUNT not in statements.text
    other_statements = web(OTHER_BANK_STAFF).get("/bank/statements?lang=en")
    assert "Reconciled" in other_statements.text
    assert two_banks["own"]["account_no"] not in other_statements.text

    freezes = staff.get("/bank/freezes")
    assert "(2026)冀1102执HSB号" in freezes.text and "OTB号" not in freezes.text
    assert "In force" in freezes.text  # the session keeps the English chosen above


def test_the_portal_is_for_bank_staff_only_and_has_no_forms(web, two_banks):
    for role in ("admin", "reviewer", "dev-staff"):
        assert web(role).get("/bank").status_code == 403
    staff = web("bank")
    for path in ("/bank", "/bank/instructions", "/bank/statements", "/bank/freezes"):
        page = staff.get(path).text.split("</header>")[-1]  # the header's only form is sign-out
        assert 'method="post"' not in page
    # bank staff start at their portal and the bureau's pages are closed to them
    assert staff.get("/login", follow_redirects=False).headers["location"] == "/bank"
    assert staff.get("/projects").status_code == 403
    assert staff.get(f"/projects/{two_banks['own']['project_id']}").status_code == 403
