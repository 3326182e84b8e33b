"""The end-of-supervision section of the bureau's project page: what still blocks a closure (in words), the
admin's closure and bank-change forms (CSRF, a confirmation box, field errors, the blockers named, nothing
kept on refusal), the pending order, and the closed account with its earlier accounts."""

from __future__ import annotations

from escrow.store.models import PaymentInstruction
from tests.http.test_api_releases import count
from tests.http.test_lifecycle import NEW_ACCOUNT, confirm_nodes, execute, site, today  # noqa: F401
from tests.web import post_form

CLOSURE = {
    "payee_name": "衡水安居置业有限公司",
    "payee_account_no": "1300009999000011112222",
    "payee_bank_name": "中国银行衡水分行",
    "reason": "项目已完成不动产首次登记",
    "confirm": "yes",
}
BANK_CHANGE = {
    "bank_code": "OTB",
    "account_no": NEW_ACCOUNT,
    "account_name": "衡水安居置业有限公司监管账户",
    "change_reason": "监管协议到期",
    "confirm": "yes",
}


def test_an_admin_orders_the_closure_from_the_project_page(client, world, web, engine, site):  # noqa: F811
    pid = site["project_id"]
    admin = web("admin")
    page = admin.get(f"/projects/{pid}?lang=en")
    assert (
        page.status_code == 200 and 'id="closure-form"' in page.text and 'id="bank-change-form"' in page.text
    )
    assert "Supervision cannot end yet:" in page.text
    assert "Node First real-estate registration completed is not confirmed yet." in page.text
    # refused: not yet (a node is missing), the blockers named, nothing kept
    refused = post_form(admin, f"/projects/{pid}/closure?lang=en", CLOSURE)
    assert refused.status_code == 422, refused.text
    assert 'id="closure-refused"' in refused.text and "Not possible yet:" in refused.text
    assert "Node Half of the main structure completed is not confirmed yet." in refused.text
    assert count(engine, PaymentInstruction) == 0
    confirm_nodes(client, world, pid)
    # the form's own errors: the box not ticked, a field missing
    unticked = post_form(
        admin, f"/projects/{pid}/closure?lang=en", {**CLOSURE, "confirm": "", "payee_name": ""}
    )
    assert unticked.status_code == 422
    assert "Tick the box to confirm." in unticked.text and "Required." in unticked.text
    assert 'value="1300009999000011112222"' in unticked.text  # the form keeps what was typed
    assert count(engine, PaymentInstruction) == 0
    r = post_form(admin, f"/projects/{pid}/closure?lang=en", CLOSURE)
    assert r.status_code == 303, r.text
    page = admin.get(r.headers["location"])
    assert "The closing payout is ordered" in page.text and 'id="ending-pending"' in page.text
    assert 'id="closure-form"' not in page.text
    again = post_form(admin, f"/projects/{pid}/closure?lang=en", CLOSURE)
    assert again.status_code == 409 and "already waits for the bank" in again.text
    assert count(engine, PaymentInstruction) == 1
    # the bank pays it: the page shows the account closed
    instruction_id = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()[
        0
    ]
    assert execute(client, world, instruction_id["instruction_id"], "HSB-CLOSE-W").status_code == 201
    page = admin.get(f"/projects/{pid}?lang=en")
    assert 'id="ending-closed"' in page.text and 'id="closed-on"' in page.text
    chinese = admin.get(f"/projects/{pid}?lang=zh")
    assert "已于" in chinese.text and "解除监管" in chinese.text
    portal = web("dev-staff").get("/developer?lang=en")  # the developer's portal shows it too
    assert portal.status_code == 200 and 'class="account-closed"' in portal.text
    assert "Supervision ended on" in portal.text


def test_only_admins_see_the_forms(web, site):  # noqa: F811
    page = web("reviewer").get(f"/projects/{site['project_id']}?lang=en")
    assert page.status_code == 200 and 'id="closure-form"' not in page.text
    assert post_form(web("reviewer"), f"/projects/{site['project_id']}/closure", CLOSURE).status_code == 403


def test_an_admin_changes_the_supervising_bank(client, world, web, engine, site):  # noqa: F811
    pid = site["project_id"]
    admin = web("admin")
    taken = post_form(
        admin, f"/projects/{pid}/bank-change?lang=en", {**BANK_CHANGE, "account_no": site["account_no"]}
    )
    assert taken.status_code == 409 and "Already in use." in taken.text
    r = post_form(admin, f"/projects/{pid}/bank-change?lang=en", BANK_CHANGE)
    assert r.status_code == 303, r.text
    page = admin.get(r.headers["location"])
    assert "The transfer to the new supervising bank is ordered" in page.text and NEW_ACCOUNT in page.text
    pending = client.get("/api/v1/instructions?status=pending", headers=world.headers("bank")).json()
    assert execute(client, world, pending[0]["instruction_id"], "HSB-MOVE-W").status_code == 201
    page = admin.get(f"/projects/{pid}?lang=en")
    assert 'id="earlier-accounts"' in page.text and site["account_no"] in page.text
    assert NEW_ACCOUNT in page.text and "Other Bank" in page.text
