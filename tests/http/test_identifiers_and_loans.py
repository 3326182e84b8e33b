"""Real document numbers in bodies and paths (CONTRACT.md §7), and provident fund and combination loans
(§9), through the real app on both engines (and a real uvicorn server for the paths)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, Deposit, PaymentNotice
from tests.conftest import contract_body, project_body
from tests.http.test_reports import flat, pdf_text
from tests.live import client as live_client
from tests.live import serve
from tests.web import post_form

TODAY = "2026-11-22"  # the `today` fixture
PERMIT = "衡房预售字(2026)第001号"
CONTRACT = "HT/2026/0001"
CENTRE = "衡水市住房公积金管理中心"
LENDER = "中国建设银行衡水分行"


def enc(number: str) -> str:
    return quote(number, safe="")


def _count(engine, model, *where) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def real_project(client, world) -> dict:
    r = client.post(
        "/api/v1/projects",
        json=project_body(permit_no=PERMIT),
        headers=world.headers("admin", "open-real"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def issue(flow, amount: str, kind: str = "down_payment") -> dict:
    """`flow.notice` for a number with slashes: its path percent-encoded."""
    return flow.notice(enc(CONTRACT), amount, kind=kind)


@pytest.fixture
def contract(real_project, flow) -> dict:
    return flow.contract(permit_no=PERMIT, contract_no=CONTRACT)


# --- identifiers in bodies ---------------------------------------------------------------------------------


def test_numbers_as_offices_write_them_are_registered(contract, client, world):
    assert contract["contract_no"] == CONTRACT and contract["permit_no"] == PERMIT
    r = client.post(
        "/api/v1/contracts",
        json=contract_body(permit_no=PERMIT, contract_no="（2026）衡市房预售证第016号", unit="1-1-101"),
        headers=world.headers("developer", "fullwidth"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["contract_no"] == "（2026）衡市房预售证第016号"


@pytest.mark.parametrize(
    ("number", "word"),
    [
        (" HT-1", "space"),
        ("HT-1 ", "space"),
        ("HT\x00-1", "NUL"),
        ("HT\n1", "control"),
        ("HT/../1", ".."),
        ("..", ".."),
        ("H" * 65, "64"),
        ("HT%2F1", "not allowed"),
    ],
)
def test_a_bad_number_is_422_naming_the_field_and_nothing_is_kept(
    real_project, client, world, engine, number, word
):
    r = client.post(
        "/api/v1/contracts",
        json=contract_body(permit_no=PERMIT, contract_no=number),
        headers=world.headers("developer", "bad-number"),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == ["contract_no"], errors
    assert word in errors[0]["message"]
    assert _count(engine, Contract) == 0


def test_a_bad_court_order_number_is_422(client, world, real_project):
    r = client.post(
        "/api/v1/freezes",
        json={
            "account_no": real_project["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": "(2026)冀1102执1号\x07",
            "amount": "1.00",
            "ordered_on": TODAY,
        },
        headers=world.headers("bank", "bad-order"),
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["order_no"]


# --- identifiers in paths ----------------------------------------------------------------------------------


def _walk_the_paths(http, world, key: str) -> None:
    """Every API path that takes the contract number answers for HT/2026/0001, percent-encoded."""
    r = http.get(f"/api/v1/contracts/{enc(CONTRACT)}", headers=world.headers("developer"))
    assert r.status_code == 200, r.text
    assert r.json()["contract_no"] == CONTRACT
    r = http.post(
        f"/api/v1/contracts/{enc(CONTRACT)}/notices",
        json={"kind": "down_payment", "amount": "100000.00", "due_on": "2026-12-01"},
        headers=world.headers("developer", f"{key}-notice"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["contract_no"] == CONTRACT
    # another developer's contract is as absent as a missing one
    r = http.get(f"/api/v1/contracts/{enc(CONTRACT)}", headers=world.headers("other_developer"))
    assert r.status_code == 404
    assert (
        http.get(f"/api/v1/contracts/{enc('HT/2026/9999')}", headers=world.headers("developer")).status_code
        == 404
    )
    r = http.post(
        f"/api/v1/contracts/{enc(CONTRACT)}/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers("developer", f"{key}-cancel"),
    )
    assert r.status_code in (200, 201), r.text
    again = http.get(f"/api/v1/contracts/{enc(CONTRACT)}", headers=world.headers("developer"))
    assert again.json()["status"] == "cancelled"


def test_a_number_with_slashes_answers_in_every_api_path(contract, client, world):
    _walk_the_paths(client, world, "tc")


def test_a_number_with_slashes_answers_through_a_real_server(contract, app, world):
    """uvicorn decodes %2F into scope["path"] as the test client does; the route still matches."""
    with serve(app) as base, live_client(base) as http:
        _walk_the_paths(http, world, "live")


def test_encoded_dot_segments_and_strange_paths_are_404_never_500(contract, client, world):
    for path in ("..%2F..%2Fx", "%2F", "HT%2F..%2F2026", "%00", "HT%2F2026%2F0001%2F"):
        r = client.get(f"/api/v1/contracts/{path}", headers=world.headers("developer"))
        assert r.status_code in (400, 404), (path, r.status_code, r.text)


def test_a_bank_reference_with_a_slash_answers_in_its_path(contract, flow, client, world):
    notice = issue(flow, "100000.00")
    flow.deposit(
        account_no=notice["account_no"],
        bank_reference="HSB/2026/000001",
        amount="100000.00",
        payer_name="张伟",
        notice_no=notice["notice_no"],
        kind="down_payment",
        channel="transfer",
        value_date=TODAY,
    )
    r = client.get(f"/api/v1/deposits/{enc('HSB/2026/000001')}", headers=world.headers("bank"))
    assert r.status_code == 200, r.text
    assert r.json()["bank_reference"] == "HSB/2026/000001"


# --- the portal --------------------------------------------------------------------------------------------


def test_the_portal_takes_real_numbers_and_links_them_percent_encoded(real_project, web, engine):
    dev = web("dev-staff")
    number = "（2026）衡HT/0016号"
    form = {
        "permit_no": PERMIT,
        "contract_no": number,
        "buyer_name": "李娜",
        "buyer_id_no": "110101199003070011",
        "unit": "5-1-602",
        "area_m2": "120.35",
        "total_price": "1203500.00",
        "signed_on": "2026-10-08",
    }
    r = post_form(dev, "/developer/contracts/new", form)
    assert r.status_code == 303, r.text
    url = f"/developer/contracts/{enc(number)}"
    assert r.headers["location"] == f"{url}?done=contract_registered"
    page = dev.get(url)
    assert page.status_code == 200 and number in page.text
    assert f'href="{url}"' in dev.get("/developer/contracts").text
    r = post_form(
        dev, f"{url}/notices/new", {"kind": "combination_loan", "amount": "600000.00", "due_on": "2026-12-01"}
    )
    assert r.status_code == 303, r.text
    assert dev.get(f"{url}/cancellation").status_code == 200
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.contracts.by_no(number) is not None

    bad = post_form(dev, "/developer/contracts/new?lang=en", {**form, "contract_no": "HT/../1"})
    assert bad.status_code == 422
    assert "between slashes" in bad.text
    bad = post_form(dev, "/developer/contracts/new?lang=zh", {**form, "contract_no": "HT<1>"})
    assert bad.status_code == 422
    assert "文书编号中不能使用字符" in bad.text


# --- provident fund and combination loans ------------------------------------------------------------------


def _pay(notice: dict, reference: str, amount: str, payer: str, channel: str) -> dict:
    return {
        "account_no": notice["account_no"],
        "bank_reference": reference,
        "amount": amount,
        "payer_name": payer,
        "payer_account": "1300009999",
        "notice_no": notice["notice_no"],
        "kind": notice["kind"],
        "channel": channel,
        "value_date": TODAY,
    }


def _notice_status(engine, notice_no: str) -> str:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.contracts.notice_by_no(notice_no).status


def test_a_provident_fund_centre_pays_a_provident_fund_loan_and_the_voucher_names_it(contract, flow, engine):
    notice = issue(flow, "300000.00", kind="provident_fund_loan")
    assert notice["kind"] == "provident_fund_loan"
    posted = flow.deposit(**_pay(notice, "GJJ-1", "300000.00", CENTRE, "provident_fund"))
    assert posted["status"] == "accepted", posted["checks"]
    payer = next(c for c in posted["checks"] if c["rule"] == "payer_matches_buyer")
    assert payer["code"] == "fund_centre_pays_loan"
    assert posted["voucher"]["lender"] == CENTRE
    assert _notice_status(engine, notice["notice_no"]) == "paid"


def test_a_buyers_own_payment_names_no_lender(contract, flow):
    notice = issue(flow, "100000.00")
    posted = flow.deposit(**_pay(notice, "OWN-1", "100000.00", "张伟", "transfer"))
    assert posted["status"] == "accepted" and posted["voucher"]["lender"] is None


@pytest.mark.parametrize(
    ("payer", "channel"),
    [
        (CENTRE, "transfer"),  # a centre's name without the provident fund channel
        ("王五", "provident_fund"),  # the channel without a centre's name
        (LENDER, "mortgage"),  # a commercial bank does not pay the centre's loan
    ],
)
def test_a_provident_fund_loan_from_anyone_else_goes_to_suspense(contract, flow, engine, payer, channel):
    notice = issue(flow, "300000.00", kind="provident_fund_loan")
    posted = flow.deposit(**_pay(notice, "GJJ-X", "300000.00", payer, channel))
    assert posted["status"] == "suspense" and posted["voucher"] is None
    assert _notice_status(engine, notice["notice_no"]) == "open"


def test_a_combination_loan_is_paid_by_both_lenders_against_one_notice(contract, flow, client, world, engine):
    notice = issue(flow, "600000.00", kind="combination_loan")
    bank_part = flow.deposit(**_pay(notice, "ZH-1", "400000.00", LENDER, "mortgage"))
    assert bank_part["status"] == "accepted", bank_part["checks"]
    assert bank_part["voucher"]["lender"] == LENDER
    assert _notice_status(engine, notice["notice_no"]) == "open"  # the centre's part is still to come

    checked = client.post(
        "/api/v1/deposits/verify",
        json={
            "account_no": notice["account_no"],
            "notice_no": notice["notice_no"],
            "amount": "200000.01",
            "payer_name": CENTRE,
        },
        headers=world.headers("bank", "verify-zh"),
    )
    assert checked.status_code == 200, checked.text
    amount_check = next(c for c in checked.json()["checks"] if c["rule"] == "amount_equals_notice")
    assert amount_check["result"] == "fail" and amount_check["code"] == "amount_beyond_notice"

    centre_part = flow.deposit(**_pay(notice, "ZH-2", "200000.00", CENTRE, "provident_fund"))
    assert centre_part["status"] == "accepted", centre_part["checks"]
    assert centre_part["voucher"]["lender"] == CENTRE
    assert _notice_status(engine, notice["notice_no"]) == "paid"

    late = flow.deposit(**_pay(notice, "ZH-3", "1.00", CENTRE, "provident_fund"))
    assert late["status"] == "suspense"  # the notice is paid
    assert _count(engine, Deposit, Deposit.status == "accepted") == 2

    # reversing one part opens the notice again for it
    r = client.post(
        "/api/v1/deposits/ZH-2/reversal", json={"reason": "入错账"}, headers=world.headers("bank", "rev-zh-2")
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "reversed"
    assert _notice_status(engine, notice["notice_no"]) == "open"


def test_the_new_kinds_and_channel_are_in_the_contract_and_unknown_ones_refused(
    contract, client, world, engine
):
    r = client.post(
        f"/api/v1/contracts/{enc(CONTRACT)}/notices",
        json={"kind": "gongjijin", "amount": "1.00", "due_on": "2026-12-01"},
        headers=world.headers("developer", "bad-kind"),
    )
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["kind"]
    assert _count(engine, PaymentNotice) == 0
    schema = client.get("/schema/openapi.json").text
    for word in ("provident_fund_loan", "combination_loan", "provident_fund"):
        assert word in schema


def test_the_pdfs_print_real_numbers_the_lender_and_the_combination_note(contract, flow, client, world):
    notice = issue(flow, "600000.00", kind="combination_loan")
    posted = flow.deposit(**_pay(notice, "ZH-PDF", "200000.00", CENTRE, "provident_fund"))
    r = client.get(f"/api/v1/notices/{notice['notice_no']}/pdf", headers=world.headers("developer"))
    assert r.status_code == 200, r.text
    text = flat(pdf_text(r.content))
    assert CONTRACT in text and PERMIT in text and "组合贷款" in text and "住房公积金管理中心分别" in text
    r = client.get(
        f"/api/v1/vouchers/{posted['voucher']['voucher_no']}/pdf", headers=world.headers("developer")
    )
    assert r.status_code == 200, r.text
    text = flat(pdf_text(r.content))
    assert f"贷款机构{CENTRE}" in text and CONTRACT in text and PERMIT in text


def test_report_numbers_from_the_cli_or_the_api_follow_the_one_rule():
    from escrow import reports
    from escrow.domain.errors import InvalidInput

    assert reports.normalise("notice", {"notice_no": "tz20261122000001"}) == {"notice_no": "TZ20261122000001"}
    with pytest.raises(InvalidInput) as refused:
        reports.normalise("voucher", {"voucher_no": "PZ\x01"})
    assert [e.field for e in refused.value.errors] == ["voucher_no"]
