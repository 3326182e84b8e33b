"""Non-key releases (非重点监管资金拨付, CONTRACT §8) in the web UI and the release PDF, through the real app
on both engines: the portal's application form offers them where the project's rule book (hengshui@2026.1) has
`[non_key_release]` — no node, the developer's own settlement account as a payee, the fund use statement, the
non-key cap as the smaller of its two sums — and not where it has none (hengshui@2024.1); the bureau's list
and review page name the kind and explain the cap of that kind; the release PDF says the kind, leaves the node
out and says when the payment is to be reported to the court (法〔2022〕12号 art. 2)."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from sqlalchemy import select

from escrow.store.db import UnitOfWork
from escrow.store.models import Release, ReleasePayee, StoredDocument
from tests.conftest import project_body
from tests.http.test_api_releases import fund as fund_at_2024
from tests.http.test_api_releases import release_body
from tests.http.test_api_releases import steps as steps_fixture
from tests.http.test_money_flows import (
    TODAY,
    confirm_half,
    freeze,
    fund,
    non_key_body,
    open_project,
)
from tests.http.test_reports import flat, get_pdf, pdf_text
from tests.http.test_web_portal import PDF, absent, count, field_error
from tests.web import post_form

steps = steps_fixture  # the release tests' fixture
FUND_USE_FIELD = "doc_fund_use_statement"
SETTLEMENT = ("衡水安居置业有限公司", "1300009999000011112222", "中国农业银行衡水分行")


@pytest.fixture
def today() -> date:
    return date(2026, 12, 6)


@pytest.fixture
def project(client, world, flow) -> dict:
    """hengshui@2026.1: key supervised amount 10,000,000.00, 12,000,000.00 received, no node confirmed:
    2,000,000.00 of non-key money may be withdrawn, nothing at a node yet."""
    found = open_project(client, world)
    assert found["rulebook"] == "hengshui@2026.1"
    fund(flow, "12000000.00")
    return found


@pytest.fixture
def dev(web, project):
    return web("dev-staff")


def non_key_form(project_id: int, amount: str = "1500000.00", **overrides) -> dict:
    """The non-key form as a browser posts it: the developer's own account and a builder, a blank row."""
    data = {
        "project_id": str(project_id),
        "kind": "non_key",
        "amount": amount,
        "purpose": "项目营销及管理费用",
        "payee_name": [SETTLEMENT[0], "衡水建工集团有限公司", ""],
        "payee_account_no": [SETTLEMENT[1], "1300001111222233334444", ""],
        "payee_bank_name": [SETTLEMENT[2], "中国建设银行衡水分行", ""],
        "payee_role": ["developer", "construction", ""],
        "payee_amount": ["1000000.00", "500000.00", ""],
    }
    data.update(overrides)
    return data


def fund_use(content: bytes = PDF) -> list:
    return [(FUND_USE_FIELD, ("资金用途说明.pdf", content, "application/pdf"))]


def apply(dev, project_id: int, files=None, **overrides):
    return post_form(
        dev,
        "/developer/releases/new",
        non_key_form(project_id, **overrides),
        files=fund_use() if files is None else files,
    )


# --- the portal's form ------------------------------------------------------------------------------------


def test_the_form_offers_both_kinds_and_the_non_key_one_has_no_node(dev, project):
    pid = project["project_id"]
    node = dev.get(f"/developer/releases/new?project_id={pid}").text
    # both kinds offered; the node release waits for a node, the non-key one does not
    assert f"/developer/releases/new?project_id={pid}&amp;kind=non_key" in node
    assert "非重点监管资金拨付" in node and "节点拨付" in node
    assert "节点确认后方可申请拨付" in node and absent(node, 'name="kind"')

    form = dev.get(f"/developer/releases/new?project_id={pid}&kind=non_key")
    assert form.status_code == 200
    page = form.text
    assert 'name="kind" value="non_key"' in page
    assert absent(page, 'name="node_code"')  # no node selector
    assert '<option value="developer"' in page and "开发企业一般账户" in page
    assert f'name="{FUND_USE_FIELD}"' in page and "资金用途说明" in page
    assert absent(page, 'name="doc_wage_arrears_statement"')
    assert "&amp;kind=non_key" in page  # "add a payee" asks for a row of this kind's roles
    # the non-key cap term by term, as two sums and the smaller of them
    for words in (
        "项目已收取的资金",
        "已收存款 ¥12,000,000.00，减去已退还购房人的 ¥0.00",
        "重点监管资金额度",
        "已批准的非重点监管资金拨付",
        "超出重点监管资金额度且尚未拨付的资金",
        "监管账户余额",
        "现金留存 ¥10,000,000.00 与司法冻结金额 ¥0.00 中的较大者",
        "扣除留存、冻结等款项后账户可支付的资金",
        "取上述两项中的较小者",
        "¥2,000,000.00",
    ):
        assert words in page, words
    # signs: each sum starts unsigned, the rest is taken off it
    signs = re.findall(r"<dt>(−?) ?([^<]+)</dt>", page)
    assert ("", "项目已收取的资金") in signs and ("−", "重点监管资金额度") in signs
    assert ("", "监管账户余额") in signs and ("−", "留存或冻结的资金") in signs
    english = dev.get(f"/developer/releases/new?project_id={pid}&kind=non_key&lang=en").text
    assert "Non-key fund release" in english and "Developer&#39;s own settlement account" in english
    assert "the smaller of the two" in english

    row = dev.get(f"/developer/releases/new/payee?project_id={pid}&kind=non_key").text
    assert '<option value="developer"' in row
    row = dev.get(f"/developer/releases/new/payee?project_id={pid}").text
    assert absent(row, '<option value="developer"')


def test_a_non_key_application_is_stored_without_a_node_and_shown_as_such(dev, project, engine):
    r = apply(dev, project["project_id"])
    assert r.status_code == 303, r.text
    release_id = int(re.match(r"^/developer/releases/(\d+)\?", r.headers["location"]).group(1))
    with UnitOfWork(engine, readonly=True) as uow:
        release = uow.session.get(Release, release_id)
        assert (release.kind, release.node_code) == ("non_key", None)
        payees = uow.session.scalars(select(ReleasePayee).where(ReleasePayee.release_id == release_id)).all()
        assert sorted(p.role for p in payees) == ["construction", "developer"]
        [doc] = uow.session.scalars(select(StoredDocument)).all()
        assert doc.sha256 == hashlib.sha256(PDF).hexdigest()
    page = dev.get(r.headers["location"]).text
    assert "非重点监管资金拨付" in page and "开发企业一般账户" in page and "资金用途说明" in page
    assert absent(page, "<dt>节点</dt>") and absent(page, "None")
    assert "取上述两项中的较小者" in page  # the cap at application, as two sums
    listing = dev.get("/developer/releases").text
    assert "非重点监管资金拨付" in listing and absent(listing, "None")


def test_field_errors_keep_the_non_key_form(dev, project, engine):
    pid = project["project_id"]
    # no fund use statement, a role no rule book allows, and amounts that do not add up
    r = apply(
        dev, pid, files=[], payee_role=["developer", "buyer", ""], payee_amount=["1000000.00", "1.00", ""]
    )
    assert r.status_code == 422
    assert field_error(r.text, FUND_USE_FIELD)
    assert re.search(r"field-error\">请从以下选项中选择：[^<]*开发企业一般账户", r.text)
    assert 'name="kind" value="non_key"' in r.text and absent(r.text, 'name="node_code"')
    for value in (SETTLEMENT[0], SETTLEMENT[1], "1000000.00", "1500000.00", "项目营销及管理费用"):
        assert f'value="{value}"' in r.text or f">{value}<" in r.text, value
    assert '<option value="developer" selected>' in r.text
    # a bad file: the form comes back with the rows kept and says the files must be chosen again
    r = apply(dev, pid, files=fund_use(content=b"not a pdf"))
    assert r.status_code == 422 and "PDF" in field_error(r.text, FUND_USE_FIELD)
    assert "请重新选择" in r.text and f'value="{SETTLEMENT[1]}"' in r.text
    # over the non-key cap: refused next to the amount with the non-key cap it was judged on
    r = apply(dev, pid, amount="2000000.01", payee_amount=["1500000.01", "500000.00", ""])
    assert r.status_code == 422
    assert "2,000,000.00" in field_error(r.text, "amount")
    assert "取上述两项中的较小者" in r.text and "超出重点监管资金额度且尚未拨付的资金" in r.text
    assert count(engine, Release) == 0 and count(engine, StoredDocument) == 0


def test_a_rule_book_without_non_key_releases_offers_none(client, world, flow, web, engine):
    old = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open-old"),
    ).json()
    assert old["rulebook"] == "hengshui@2024.1"
    fund_at_2024(flow, "12000000.00", value_date=TODAY)
    dev = web("dev-staff")
    pid = old["project_id"]
    for kind in ("", "&kind=non_key"):
        page = dev.get(f"/developer/releases/new?project_id={pid}{kind}").text
        assert (
            absent(page, "非重点监管资金")
            and absent(page, "release-kinds")
            and absent(page, "开发企业一般账户")
        )
    # a non-key form posted anyway is refused and nothing is kept
    r = apply(dev, pid)
    assert r.status_code == 422 and "本项目适用的规则版本不允许此项操作" in r.text
    assert count(engine, Release) == 0 and count(engine, StoredDocument) == 0


# --- the bureau's pages -----------------------------------------------------------------------------------


def applied_non_key(steps, project, amount: str = "1500000.00") -> dict:
    return steps.applied(non_key_body(project["project_id"], amount=amount))


def test_the_review_page_and_the_list_say_the_kind_and_explain_its_cap(web, project, steps):
    release = applied_non_key(steps, project)
    reviewer = web("reviewer")
    page = reviewer.get(f"/releases/{release['release_id']}").text
    assert '<dd class="release-kind">非重点监管资金拨付</dd>' in page
    assert absent(page, "<dt>节点</dt>") and absent(page, "None")
    assert "开发企业一般账户" in page and "资金用途说明" in page
    # ONE table of the cap at application and now side by side: two sums and the smaller of them
    assert page.count("取上述两项中的较小者") == 1 and page.count('class="list cap-terms') == 1
    assert page.count("超出重点监管资金额度且尚未拨付的资金") == 1
    assert "现金留存 ¥10,000,000.00 与司法冻结金额 ¥0.00 中的较大者" in page
    # both caps at application (before the first node the whole key amount is retained: 2,000,000.00 each)
    assert "申请时各类拨付的可拨付额度" in page
    caps = re.search(r'<dl class="facts caps-then">(.*?)</dl>', page, re.S).group(1)
    assert re.search(r"<dt>节点拨付</dt><dd>¥2,000,000.00</dd>", caps), caps
    assert re.search(r"<dt>非重点监管资金拨付 <span[^>]*>\(本申请\)</span></dt><dd>¥2,000,000.00</dd>", caps)
    english = reviewer.get(f"/releases/{release['release_id']}?lang=en").text
    assert "Non-key fund release" in english and "Releasable: the smaller of the two" in english

    listing = reviewer.get("/releases?lang=zh").text
    assert "非重点监管资金拨付" in listing and absent(listing, "None")
    on_project = reviewer.get(f"/projects/{project['project_id']}").text  # its releases, by node or kind
    assert re.search(rf"#{release['release_id']}</a></td>\s*<td>非重点监管资金拨付</td>", on_project)


def test_a_node_release_page_still_names_its_node(client, world, web, project, steps):
    confirm_half(client, world, project["project_id"])
    release = steps.applied(release_body(project["project_id"], amount="1000000.00"))
    page = web("reviewer").get(f"/releases/{release['release_id']}").text
    assert '<dd class="release-kind">节点拨付</dd>' in page
    assert "<dt>节点</dt><dd>主体结构完成二分之一</dd>" in page
    assert absent(page, "取上述两项中的较小者")  # one sum
    listing = web("reviewer").get("/releases").text
    assert "主体结构完成二分之一" in listing and "节点拨付" in listing


# --- the release PDF --------------------------------------------------------------------------------------


def test_the_pdf_of_a_non_key_release_says_its_kind_and_cap_and_no_node(client, world, project, steps):
    release = applied_non_key(steps, project)
    pid = release["release_id"]
    text = flat(pdf_text(get_pdf(client, f"/api/v1/releases/{pid}/pdf", world.headers("developer"))))
    assert "拨付类别非重点监管资金拨付" in text
    assert "申请节点" not in text
    assert "开发企业一般账户" in text and "资金用途说明" in text
    for words in ("项目已收取的资金", "超出重点监管资金额度且尚未拨付的资金", "取上述两项中的较小者"):
        assert flat(words) in text, words
    assert "1.初审" in text and "2.审批" in text and "3.局领导" not in text  # the non-key chain
    assert "冻结期间支付" not in text


def test_the_pdf_says_a_payment_made_while_frozen_is_reported_to_the_court(client, world, project, steps):
    confirm_half(client, world, project["project_id"])
    release = steps.applied(release_body(project["project_id"], amount="1000000.00"))
    steps.approve_all(release["release_id"])
    url = f"/api/v1/releases/{release['release_id']}/pdf"
    assert "冻结期间支付" not in flat(pdf_text(get_pdf(client, url, world.headers("reviewer"))))
    freeze(client, world, project["account_no"], "(2026)冀1102执保9号", "500000.00")
    pending = flat(pdf_text(get_pdf(client, url, world.headers("reviewer"))))
    assert "冻结期间支付，须报告人民法院（法〔2022〕12号第二条）" in pending
    assert "节点拨付" in pending and "主体结构完成二分之一" in pending
    [instruction] = steps.pending()
    assert instruction["report_to_court"] is True
    assert steps.execute(instruction["instruction_id"], on=TODAY).status_code == 201
    paid = flat(pdf_text(get_pdf(client, url, world.headers("reviewer"))))
    assert "冻结期间支付，须报告人民法院" in paid and "状态已拨付" in paid


# --- the bank's instruction list --------------------------------------------------------------------------


def test_the_openapi_schema_shows_the_court_report_and_the_release_kind(client):
    """The bank's instruction list answers `report_to_court` on every instruction and `release_kind` on a
    release's; the OpenAPI document says so."""
    schema = client.get("/schema/openapi.json").json()
    answer = schema["paths"]["/api/v1/instructions"]["get"]["responses"]["200"]["content"]["application/json"]
    refs = [item["$ref"].rsplit("/", 1)[-1] for item in answer["schema"]["items"]["oneOf"]]
    assert "ReleaseInstruction" in refs, refs
    shapes = schema["components"]["schemas"]
    for name in refs:
        assert shapes[name]["properties"]["report_to_court"]["type"] == "boolean", name
        assert "report_to_court" in shapes[name].get("required", []), name
    kinds = shapes["ReleaseInstruction"]["properties"]["release_kind"]
    assert set(kinds.get("enum", [])) == {"node", "non_key"}, kinds
