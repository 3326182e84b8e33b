"""The developer portal through the real app on both engines: the pages for developer staff in both
languages, scoping to the staff member's own developer, the contract and notice forms, the printable
notice, and release applications with their documents."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from escrow.reports.numerals import capital_amount
from escrow.store.db import UnitOfWork
from escrow.store.models import Contract, PaymentNotice, Refund, Release, Statement, StoredDocument
from tests.conftest import BUYER_ID, project_body
from tests.http.test_api_releases import confirm, fund
from tests.web import BUREAU, post_form

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WAGES_FIELD = "doc_wage_arrears_statement"


def count(engine, model, *where) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def absent(html: str, needle: str) -> bool:
    """`needle not in html` without pytest's slow diff of two long texts when it fails."""
    return html.find(needle) == -1


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<div class="field-error" id="e-{re.escape(name)}">([^<]*)</div>', html)
    assert found, f"no error shown next to {name}"
    return found.group(1)


@pytest.fixture
def site(client, world, flow) -> dict:
    """Key supervised amount 10,000,000.00, 12,000,000.00 received on contract HT-F-1, half of the main
    structure confirmed: releasable 5,000,000.00."""
    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open-site"),
    )
    assert r.status_code == 201, r.text
    project = r.json()
    fund(flow, "12000000.00")
    confirm(client, world, project["project_id"])
    return project


@pytest.fixture
def dev(web, site):
    return web("dev-staff")


def release_form(project_id: int, amount: str = "3000000.00", **overrides) -> dict:
    """The application form as a browser posts it: three payee rows, the last left blank."""
    data = {
        "project_id": str(project_id),
        "node_code": "half_structure",
        "amount": amount,
        "purpose": "主体结构施工进度款",
        "payee_name": ["衡水建工集团有限公司", "河北冀钢建材有限公司", ""],
        "payee_account_no": ["1300001111222233334444", "1300005555666677778888", ""],
        "payee_bank_name": ["中国建设银行衡水分行", "中国工商银行衡水分行", ""],
        "payee_role": ["construction", "materials", ""],
        "payee_amount": ["2000000.00", "1000000.00", ""],
    }
    data.update(overrides)
    return data


def open_notice(flow) -> dict:
    """A second contract with an unpaid down-payment notice."""
    flow.contract(contract_no="HT-N-9", unit="N-9", total_price="500000.00")
    return flow.notice("HT-N-9", "150000.00")


def wages(content: bytes = PDF, name: str = "wages.pdf", kind: str = "application/pdf") -> list:
    return [(WAGES_FIELD, (name, content, kind))]


def apply(dev, project_id: int, files=None, **overrides):
    return post_form(
        dev,
        "/developer/releases/new",
        release_form(project_id, **overrides),
        files=wages() if files is None else files,
    )


# --- pages, languages, who may see them -------------------------------------------------------------------


def test_every_portal_page_renders_for_developer_staff_in_chinese_and_english(dev, site, flow, engine):
    notice = open_notice(flow)
    r = apply(dev, site["project_id"])
    assert r.status_code == 303, r.text
    release_url = r.headers["location"].split("?")[0]
    pages_ = {
        "/developer": ("开发企业服务", "Developer portal"),
        "/developer/contracts": ("合同编号、买受人或房号", "Contract no., buyer or unit"),
        "/developer/contracts/new": ("登记已签订的商品房预售合同", "A signed pre-sale contract"),
        "/developer/contracts/HT-F-1": ("尚未开具通知金额", "Not yet asked for"),
        "/developer/contracts/HT-F-1/notices/new": ("开具通知书", "Issue the notice"),
        "/developer/contracts/HT-F-1/cancellation": ("确认解除合同", "Yes, cancel the contract"),
        f"/developer/notices/{notice['notice_no']}": (
            "请仅缴入以下监管账户",
            "Pay into this supervised account only",
        ),
        "/developer/releases": ("已完成步骤", "Steps done"),
        "/developer/releases/new": ("增加收款单位", "Add a payee"),
        release_url: ("申请时可拨付金额", "Cap at application"),
    }
    for url, (zh, en) in pages_.items():
        chinese = dev.get(f"{url}?lang=zh")
        assert chinese.status_code == 200, (url, chinese.text)
        assert zh in chinese.text, url
        english = dev.get(f"{url}?lang=en")
        assert english.status_code == 200, url
        assert en in english.text, url
        assert absent(english.text.split("<main>")[1], zh), url


def test_another_developers_staff_get_not_found_for_everything_of_the_first(web, dev, site, flow, engine):
    notice = open_notice(flow)
    release_url = apply(dev, site["project_id"]).headers["location"].split("?")[0]
    other = web("other-dev-staff")
    for url in (
        "/developer/contracts/HT-F-1",
        "/developer/contracts/HT-F-1/notices/new",
        "/developer/contracts/HT-F-1/cancellation",
        f"/developer/notices/{notice['notice_no']}",
        f"/developer/notices/{notice['notice_no']}.pdf",
        release_url,
        f"/developer/releases/new?project_id={site['project_id']}",
    ):
        r = other.get(url)
        assert r.status_code == 404, url
        assert "未找到" in r.text or "Not found" in r.text
    assert absent(other.get("/developer/contracts").text, "HT-F-1")
    assert absent(other.get("/developer").text, site["name"])
    assert absent(other.get("/developer/releases").text, "主体结构施工进度款")
    # nor can they act on it
    r = post_form(other, "/developer/contracts/HT-F-1/cancellation", {"reason": "not theirs to cancel"})
    assert r.status_code == 404
    r = post_form(
        other,
        "/developer/contracts/HT-F-1/notices/new",
        {"kind": "other", "amount": "1.00", "due_on": "2026-12-01"},
    )
    assert r.status_code == 404
    r = apply(other, site["project_id"])
    assert r.status_code == 404
    assert count(engine, Contract, Contract.status == "cancelled") == 0
    assert (
        count(engine, PaymentNotice) == 2
        and count(engine, Release) == 1
        and count(engine, StoredDocument) == 1
    )


def test_bureau_roles_may_not_open_the_portal(web, site):
    for role in BUREAU:
        client = web(role)
        for url in (
            "/developer",
            "/developer/contracts",
            "/developer/contracts/HT-F-1",
            "/developer/releases/new",
        ):
            r = client.get(url)
            assert r.status_code == 403, (role, url)
            assert "无权" in r.text or "You may not" in r.text


def test_not_signed_in_goes_to_the_sign_in_page(client, site):
    r = client.get("/developer/contracts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/developer/contracts")


# --- contracts --------------------------------------------------------------------------------------------


def contract_form(**overrides) -> dict:
    data = {
        "permit_no": "衡预售2025-001",
        "contract_no": "HT-W-0001",
        "buyer_name": "李娜",
        "buyer_id_no": BUYER_ID,
        "unit": "5-1-602",
        "area_m2": "120.35",
        "total_price": "1,203,500.00",
        "signed_on": "2026-10-08",
    }
    data.update(overrides)
    return data


def test_contract_form_marks_bad_fields_keeps_the_input_and_saves_nothing(dev, engine):
    before = count(engine, Contract)
    bad = contract_form(buyer_id_no="110101199003070012", total_price="-5.00", signed_on="2026-13-45")
    r = post_form(dev, "/developer/contracts/new?lang=zh", bad)
    assert r.status_code == 422
    assert "校验码" in field_error(r.text, "buyer_id_no")
    assert "负数" in field_error(r.text, "total_price")
    assert "YYYY-MM-DD" in field_error(r.text, "signed_on")
    for value in ("110101199003070012", "-5.00", "2026-13-45", "HT-W-0001", "李娜", "120.35"):
        assert f'value="{value}"' in r.text, value
    assert count(engine, Contract) == before

    r = post_form(
        dev, "/developer/contracts/new?lang=en", contract_form(area_m2="12.345", signed_on="2026-12-01")
    )
    assert r.status_code == 422
    assert "at most two decimals" in field_error(r.text, "area_m2")
    r = post_form(dev, "/developer/contracts/new?lang=en", contract_form(signed_on="2026-12-01"))
    assert r.status_code == 422  # the service's rule: not in the future
    assert field_error(r.text, "signed_on") == "Cannot be in the future."
    r = post_form(dev, "/developer/contracts/new?lang=en", contract_form(contract_no="HT-F-1"))
    assert r.status_code == 409
    assert "already registered" in field_error(r.text, "contract_no")
    assert count(engine, Contract) == before


def test_a_valid_contract_is_registered_and_listed_masked(dev, engine):
    r = post_form(dev, "/developer/contracts/new", contract_form())
    assert r.status_code == 303
    assert r.headers["location"] == "/developer/contracts/HT-W-0001?done=contract_registered"
    page = dev.get(r.headers["location"])
    assert "合同已登记" in page.text and "1,203,500.00" in page.text and "120.35" in page.text
    with UnitOfWork(engine, readonly=True) as uow:
        stored = uow.contracts.by_no("HT-W-0001")
        assert stored.total_price_fen == 120350000 and stored.area_x100 == 12035
    listing = dev.get("/developer/contracts")
    assert "HT-W-0001" in listing.text and "李*" in listing.text and "1101**********0011" in listing.text
    assert absent(listing.text, "李娜") and absent(listing.text, BUYER_ID)
    found = dev.get("/developer/contracts?q=5-1-6")
    assert "HT-W-0001" in found.text and absent(found.text, "HT-F-1")
    assert "HT-W-0001" in dev.get("/developer/contracts?q=李娜").text
    assert absent(dev.get("/developer/contracts?q=%25").text, "HT-W-0001")  # LIKE wildcards are literal


def test_the_contract_list_pages(dev, flow):
    for n in range(25):
        flow.contract(contract_no=f"HT-P-{n:02d}", unit=f"P-{n}")
    first = dev.get("/developer/contracts")
    assert "1 / 2" in first.text and "HT-P-24" in first.text and absent(first.text, "HT-P-00")
    second = dev.get("/developer/contracts?page=2")
    assert "HT-P-00" in second.text and "HT-F-1" in second.text
    assert dev.get("/developer/contracts?page=x").status_code == 200


# --- notices ----------------------------------------------------------------------------------------------


def test_a_notice_is_issued_and_printed_with_the_account_and_capital_numerals(dev, flow, site, engine):
    flow.contract(contract_no="HT-N-1", unit="N-1", total_price="886500.00")
    r = post_form(
        dev,
        "/developer/contracts/HT-N-1/notices/new",
        {"kind": "down_payment", "amount": "265950.00", "due_on": "2026-12-15"},
    )
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith("/developer/notices/TZ20261122") and location.endswith("?done=notice_issued")
    page = dev.get(location)
    assert "缴款通知书已开具" in page.text  # the flash after issuing
    assert capital_amount("265950.00") == "贰拾陆万伍仟玖佰伍拾元整"
    assert "贰拾陆万伍仟玖佰伍拾元整" in page.text
    assert site["account_no"] in page.text and site["account_name"] in page.text and "衡水银行" in page.text
    assert "265,950.00" in page.text and "2026年12月15日" in page.text and "张伟" in page.text
    assert "data-print" in page.text and "print.js" in page.text  # a print button (no inline script: CSP)
    assert "window.print()" in dev.get("/static/print.js").text
    assert "@media print" in dev.get("/static/site.css").text
    english = dev.get(location.split("?")[0] + "?lang=en")
    assert (
        "Pay into this supervised account only" in english.text and "贰拾陆万伍仟玖佰伍拾元整" in english.text
    )

    listed = dev.get("/developer/contracts/HT-N-1")
    assert location.split("?")[0] in listed.text


def test_the_notice_form_marks_bad_fields_and_the_owed_amount(dev, flow, engine):
    flow.contract(contract_no="HT-N-2", unit="N-2", total_price="100000.00")
    before = count(engine, PaymentNotice)
    r = post_form(
        dev, "/developer/contracts/HT-N-2/notices/new", {"kind": "gift", "amount": "12.345", "due_on": "soon"}
    )
    assert r.status_code == 422
    assert field_error(r.text, "kind") and field_error(r.text, "amount") and field_error(r.text, "due_on")
    assert 'value="12.345"' in r.text and 'value="soon"' in r.text
    r = post_form(
        dev,
        "/developer/contracts/HT-N-2/notices/new",
        {"kind": "full", "amount": "100000.01", "due_on": "2026-12-01"},
    )
    assert r.status_code == 422
    assert field_error(r.text, "amount") == "超过合同尚欠金额。" or "合同" in field_error(r.text, "amount")
    assert count(engine, PaymentNotice) == before


def test_the_notice_pdf_is_served(dev, flow):
    notice = open_notice(flow)
    r = dev.get(f"/developer/notices/{notice['notice_no']}.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


# --- cancelling a contract --------------------------------------------------------------------------------


def test_cancelling_a_paid_contract_asks_first_and_starts_a_refund(dev, engine):
    confirm_page = dev.get("/developer/contracts/HT-F-1/cancellation")
    assert "12,000,000.00" in confirm_page.text
    r = post_form(dev, "/developer/contracts/HT-F-1/cancellation", {"reason": ""})
    assert r.status_code == 422 and field_error(r.text, "reason")
    assert count(engine, Refund) == 0
    r = post_form(dev, "/developer/contracts/HT-F-1/cancellation", {"reason": "买受人申请退房"})
    assert r.status_code == 303
    page = dev.get(r.headers["location"])
    assert "已解除" in page.text or "已取消" in page.text
    with UnitOfWork(engine, readonly=True) as uow:
        contract = uow.contracts.by_no("HT-F-1")
        assert contract.status == "cancelled"
        refund = uow.refunds.for_contract(contract.id)
        assert refund.amount_fen == 1200000000 and refund.status == "submitted"
    again = post_form(dev, "/developer/contracts/HT-F-1/cancellation", {"reason": "买受人申请退房"})
    assert again.status_code == 409
    assert count(engine, Refund) == 1


# --- release applications ---------------------------------------------------------------------------------


def test_a_release_application_stores_its_document_and_reaches_the_bureau(dev, client, world, site, engine):
    form = dev.get("/developer/releases/new")
    assert "5,000,000.00" in form.text  # the releasable amount of the only project, on the form
    assert f'name="{WAGES_FIELD}"' in form.text and "hx-get" in form.text
    r = apply(dev, site["project_id"])
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    release_id = int(re.match(r"^/developer/releases/(\d+)\?done=release_submitted$", location).group(1))
    with UnitOfWork(engine, readonly=True) as uow:
        docs = uow.session.scalars(select(StoredDocument)).all()
        assert [(d.sha256, d.filename, d.content_type) for d in docs] == [
            (hashlib.sha256(PDF).hexdigest(), "wages.pdf", "application/pdf")
        ]
        assert docs[0].account_id == uow.projects.account_by_no(site["account_no"]).id
        document_id = docs[0].id
    seen = client.get(f"/api/v1/releases/{release_id}", headers=world.headers("reviewer"))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["status"] == "submitted" and body["amount"] == "3000000.00"
    assert body["documents"] == [
        {"kind": "wage_arrears_statement", "filename": "wages.pdf", "sha256": hashlib.sha256(PDF).hexdigest()}
    ]
    assert [p["role"] for p in body["payees"]] == ["construction", "materials"]  # the blank row was ignored
    page = dev.get(location)
    assert "拨付申请已提交" in page.text and f'href="/documents/{document_id}"' in page.text
    assert "初审" in page.text and "3,000,000.00" in page.text

    for role in ("reviewer", "approver"):
        decided = client.post(
            f"/api/v1/releases/{release_id}/decisions",
            json={"decision": "approve", "comment": ""},
            headers=world.headers(role, f"decide-{role}"),
        )
        assert decided.status_code == 201, decided.text
    approved = dev.get(f"/developer/releases/{release_id}?lang=en")
    assert "the payment instruction went to the supervising bank" in approved.text
    listing = dev.get("/developer/releases?lang=en")
    assert "2 / 2" in listing.text and "Approved" in listing.text


def test_an_application_over_the_cap_stores_nothing_and_keeps_the_payees(dev, site, engine):
    r = apply(
        dev,
        site["project_id"],
        amount="6000000.00",
        payee_amount=["4000000.00", "2000000.00", ""],
    )
    assert r.status_code == 422
    assert "5,000,000.00" in field_error(r.text, "amount")
    assert "可拨付" in r.text and "留存" in r.text  # the cap and its terms, explained
    for value in ("衡水建工集团有限公司", "1300005555666677778888", "4000000.00", "2000000.00", "6000000.00"):
        assert f'value="{value}"' in r.text, value
    assert '<option value="materials" selected>' in r.text
    assert count(engine, StoredDocument) == 0 and count(engine, Release) == 0


def test_an_application_with_broken_rows_or_documents_is_refused_next_to_them(dev, site, engine):
    r = apply(dev, site["project_id"], payee_role=["construction", "developer", ""], files=[])
    assert r.status_code == 422
    assert "payee_role" in r.text and "施工" in r.text
    assert re.search(r"field-error\">请从以下选项中选择", r.text)
    assert field_error(r.text, WAGES_FIELD)
    r = apply(dev, site["project_id"], payee_amount=["2000000.00", "999999.99", ""])
    assert r.status_code == 422 and "2999999.99" in field_error(r.text, "payees")
    r = apply(dev, site["project_id"], files=wages(content=b"just some text", name="wages.pdf"))
    assert r.status_code == 422
    assert "PDF" in field_error(r.text, WAGES_FIELD)
    r = apply(dev, site["project_id"], files=wages(content=PNG, name="wages.pdf", kind="application/pdf"))
    assert r.status_code == 422 and ".png" in field_error(r.text, WAGES_FIELD)
    r = apply(dev, site["project_id"], node_code="topped_out")
    assert r.status_code == 422 and field_error(r.text, "node_code") == "该节点尚未确认。"
    assert count(engine, StoredDocument) == 0 and count(engine, Release) == 0


def test_applications_pause_while_the_bank_statement_does_not_reconcile(dev, site, engine):
    with UnitOfWork(engine) as uow:
        account = uow.projects.account_by_no(site["account_no"])
        uow.session.add(
            Statement(
                account_id=account.id,
                bank_id=account.bank_id,
                statement_date=date(2026, 11, 21),
                digest="discrepancy",
                format="json",
                status="discrepancy",
            )
        )
        uow.commit()
    r = apply(dev, site["project_id"])
    assert r.status_code == 422
    assert "拨付已暂停" in r.text
    assert count(engine, StoredDocument) == 0 and count(engine, Release) == 0


def test_add_payee_gives_one_more_row(dev, site):
    r = dev.get(
        f"/developer/releases/new/payee?project_id={site['project_id']}", headers={"HX-Request": "true"}
    )
    assert r.status_code == 200
    assert r.text.count('name="payee_name"') == 1 and absent(r.text, "<html")
    assert '<option value="equipment"' in r.text


def test_a_form_post_without_the_csrf_token_is_refused(dev, site, engine):
    r = dev.post("/developer/contracts/new", data=contract_form(), follow_redirects=False)
    assert r.status_code == 403
    r = dev.post(
        "/developer/releases/new",
        data=release_form(site["project_id"]),
        files=wages(),
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert count(engine, Contract) == 1 and count(engine, StoredDocument) == 0 and count(engine, Release) == 0
