"""Node confirmation with evidence, the release review page and four eyes through the browser UI, on both
engines through the real app (sign-in form, CSRF, uploads, the API where the developer and the bank act)."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from escrow.domain.principal import SYSTEM
from escrow.store.db import UnitOfWork
from escrow.store.models import ApprovalStep, NodeConfirmation, Release, StoredDocument
from escrow.web.bureau import releases
from escrow.web.shell import uploads
from tests.conftest import project_body
from tests.http.test_api_releases import Steps, account, confirm, fund, release_body
from tests.web import post_form

PDF = b"%PDF-1.4\n% progress report\n1 0 obj << >> endobj\n%%EOF\n"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00site photo" + b"\x00" * 64
WAGES_PDF = b"%PDF-1.7\n% wage statement\n%%EOF\n"


def count(engine, model) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def field_error(html: str, name: str) -> str:
    found = re.search(rf'id="e-{re.escape(name)}">([^<]*)<', html)
    assert found, f"no error shown next to {name}"
    return found.group(1)


@pytest.fixture
def funded(client, world, flow) -> dict:
    """Key supervised amount 10,000,000.00, 12,000,000.00 received, no node confirmed: releasable
    2,000,000.00."""
    r = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open-funded"),
    )
    assert r.status_code == 201, r.text
    fund(flow, "12000000.00")
    return r.json()


@pytest.fixture
def site(client, world, funded) -> dict:
    """`funded` with half of the main structure confirmed through the API: releasable 5,000,000.00."""
    confirm(client, world, funded["project_id"])
    return funded


@pytest.fixture
def steps(client, world) -> Steps:
    return Steps(client, world)


# --- node confirmation -----------------------------------------------------------------------------------


def confirm_url(project_id: int, node: str = "half_structure") -> str:
    return f"/projects/{project_id}/nodes/{node}/confirm"


def evidence_files(progress=("进度报告.pdf", PDF), engineer=("监理确认.jpg", PHOTO)) -> dict:
    return {
        "file_construction_progress_report": (*progress, "application/pdf"),
        "file_supervision_engineer_confirmation": (*engineer, "image/jpeg"),
    }


def test_the_form_asks_for_each_kind_of_evidence_the_rule_book_requires(web, project):
    page = web("inspector").get(confirm_url(project["project_id"]))
    assert page.status_code == 200
    assert "主体结构完成二分之一" in page.text
    assert "工程进度报告" in page.text and "监理工程师确认书" in page.text
    assert 'name="file_construction_progress_report"' in page.text
    assert 'name="file_supervision_engineer_confirmation"' in page.text
    assert 'enctype="multipart/form-data"' in page.text and 'name="_csrf_token"' in page.text
    english = web("inspector").get(confirm_url(project["project_id"], "topped_out") + "?lang=en")
    assert "Topping-out acceptance record" in english.text
    assert "Earlier nodes are not confirmed yet: Half of the main structure completed" in english.text


def test_only_the_inspector_confirms_nodes(web, project, engine):
    url = confirm_url(project["project_id"])
    for who in ("reviewer", "approver", "admin", "dev-staff"):
        assert web(who).get(url).status_code == 403
        r = post_form(web(who), url, {"reached_on": "2025-06-01"}, files=evidence_files())
        assert r.status_code == 403
    assert count(engine, StoredDocument) == 0 and count(engine, NodeConfirmation) == 0
    assert web("inspector").get(confirm_url(project["project_id"], "no_such_node")).status_code == 404
    assert web("inspector").get(confirm_url(99999)).status_code == 404
    assert web("inspector").get(confirm_url(2**40)).status_code == 404


def test_confirming_a_node_stores_the_evidence_and_raises_the_cap(client, world, web, engine, funded):
    assert account(client, world, funded["account_no"])["releasable"] == "2000000.00"
    r = post_form(
        web("inspector"),
        confirm_url(funded["project_id"]),
        {"reached_on": "2025-06-01", "desc_construction_progress_report": "已完成第12层"},
        files=evidence_files(),
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/projects/{funded['project_id']}?done=node_confirmed"
    assert account(client, world, funded["account_no"])["releasable"] == "5000000.00"
    with UnitOfWork(engine, readonly=True) as uow:
        acct = uow.projects.account_by_no(funded["account_no"])
        docs = {d.filename: d for d in uow.session.scalars(select(StoredDocument))}
        (confirmation,) = uow.projects.confirmed_nodes(funded["project_id"])
    assert set(docs) == {"进度报告.pdf", "监理确认.jpg"}
    assert docs["进度报告.pdf"].sha256 == hashlib.sha256(PDF).hexdigest()
    assert docs["进度报告.pdf"].size == len(PDF) and docs["进度报告.pdf"].content_type == "application/pdf"
    assert docs["监理确认.jpg"].content_type == "image/jpeg"
    assert {d.account_id for d in docs.values()} == {acct.id}
    assert {d.uploaded_by for d in docs.values()} == {"user:" + str(_user_id(engine, "inspector"))}
    evidence = {e["kind"]: e for e in confirmation.evidence}
    assert evidence["construction_progress_report"] == {
        "kind": "construction_progress_report",
        "description": "已完成第12层",
        "filename": "进度报告.pdf",
        "sha256": hashlib.sha256(PDF).hexdigest(),
    }
    assert evidence["supervision_engineer_confirmation"]["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    again = web("inspector").get(confirm_url(funded["project_id"]))
    assert "该节点已确认" in again.text and 'type="file"' not in again.text


def _user_id(engine, username: str) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.parties.user_by_name(username).id


def test_a_refused_confirmation_stores_no_document_and_keeps_what_was_typed(web, engine, project):
    inspector = web("inspector")
    future = post_form(
        inspector,
        confirm_url(project["project_id"]),
        {"reached_on": "2026-12-01", "desc_construction_progress_report": "第十二层"},
        files=evidence_files(),
    )
    assert future.status_code == 422, future.text
    assert field_error(future.text, "reached_on") == "不能晚于今天。"
    assert 'value="2026-12-01"' in future.text and 'value="第十二层"' in future.text
    assert "请重新选择" in future.text  # files are not kept: the page says so

    skipped = post_form(
        inspector,
        confirm_url(project["project_id"], "topped_out"),
        {"reached_on": "2025-08-01"},
        files={
            "file_topping_out_acceptance": ("封顶.pdf", PDF, "application/pdf"),
            "file_supervision_engineer_confirmation": ("监理.pdf", PDF, "application/pdf"),
        },
    )
    assert skipped.status_code == 422, skipped.text
    assert "half_structure" in skipped.text and 'class="form-error"' in skipped.text

    before_permit = post_form(
        inspector, confirm_url(project["project_id"]), {"reached_on": "2025-01-01"}, files=evidence_files()
    )
    assert field_error(before_permit.text, "reached_on") == "不能早于预售许可日期。"

    bad_date = post_form(inspector, confirm_url(project["project_id"]), {"reached_on": "1.6.2025"})
    assert bad_date.status_code == 422
    assert re.fullmatch(r"请按 YYYY-MM-DD 格式\S\S日期。", field_error(bad_date.text, "reached_on"))
    assert field_error(bad_date.text, "file_construction_progress_report") == "请选择文件。"
    assert count(engine, StoredDocument) == 0 and count(engine, NodeConfirmation) == 0


def test_a_post_without_the_csrf_token_is_refused(web, engine, project):
    inspector = web("inspector")
    r = inspector.post(
        confirm_url(project["project_id"]),
        data={"reached_on": "2025-06-01"},
        files=evidence_files(),
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert count(engine, StoredDocument) == 0 and count(engine, NodeConfirmation) == 0


# --- the release review page -----------------------------------------------------------------------------


@pytest.fixture
def applied(engine, site, steps) -> dict:
    """A 3,000,000.00 release at half_structure whose wage statement is stored for the account."""
    with UnitOfWork(engine) as uow:
        acct = uow.projects.account_by_no(site["account_no"])
        doc = uploads.store_document(
            uow,
            content=WAGES_PDF,
            filename="工资说明.pdf",
            content_type="application/pdf",
            uploaded_by=SYSTEM.ref,
            account_id=acct.id,
        )
        uow.commit()
    wages = {"kind": "wage_arrears_statement", "filename": "工资说明.pdf", "sha256": doc.sha256}
    release = steps.applied(release_body(site["project_id"], documents=[wages]))
    return {**release, "document_id": doc.id}


def test_the_review_page_shows_the_application_the_chain_and_the_cap(web, applied):
    page = web("reviewer").get(f"/releases/{applied['release_id']}")
    assert page.status_code == 200
    html = page.text
    assert "桃城·安居花园一期" in html and "衡水安居置业有限公司" in html
    assert "3,000,000.00" in html and "叁佰万元整" in html
    assert "主体结构完成二分之一" in html
    assert "衡水建工集团有限公司" in html and "施工单位" in html and "材料供应单位" in html
    assert f'href="/documents/{applied["document_id"]}"' in html and "农民工工资无拖欠情况说明" in html
    # the cap now, every term in words, and the cap at application
    assert "当前可拨付额度" in html and "5,000,000.00" in html
    assert "监管账户余额" in html and "12,000,000.00" in html
    assert "应留存的重点监管资金" in html and "7,000,000.00" in html  # as the release form PDF names it
    # ONE cap table: each term at application (read back from what was kept) and now, side by side
    assert html.count("重点监管资金 ¥10,000,000.00 × 留存比例 70%（“主体结构完成二分之一”节点已确认）") == 1
    assert html.count('class="list cap-terms') == 1 and '<th scope="col" class="num">申请时</th>' in html
    assert "(books)" not in html and "(freezes)" not in html  # only the rule book is cited
    assert "司法冻结金额" in html and "已批准尚未支付的拨付和退款" in html
    assert '<th scope="col" class="num">当前</th>' in html
    # the chain from the rule book: reviewer next, then the approver
    assert "初审" in html and "审批" in html
    assert html.index("初审") < html.index('badge warn">待办理')
    assert f'action="/releases/{applied["release_id"]}/decision"' in html

    english = web("reviewer").get(f"/releases/{applied['release_id']}?lang=en").text
    assert "Key supervised amount ¥10,000,000.00 × 70% retained" in english
    assert "Balance of the supervised account" in english


def test_the_form_is_offered_only_to_whoever_takes_the_next_step(web, applied):
    url = f"/releases/{applied['release_id']}"
    approver = web("approver").get(url).text
    assert "等待审核人办理（第 1 步）。" in approver
    assert 'name="decision"' not in approver
    auditor = web("auditor").get(url).text
    assert "您的角色可查看拨付申请，但不参与审批。" in auditor and 'name="decision"' not in auditor
    assert post_form(web("auditor"), url + "/decision", {"decision": "approve"}).status_code == 403
    assert web("dev-staff").get(url).status_code == 403
    assert web("reviewer").get("/releases/99999").status_code == 404


def test_four_eyes_through_the_web_up_to_the_banks_instruction(client, world, web, engine, applied, steps):
    release_id = applied["release_id"]
    url = f"/releases/{release_id}"
    reviewer = web("reviewer")
    r = post_form(reviewer, url + "/decision", {"decision": "approve", "comment": "材料齐全"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"{url}?done=release_step_approved"
    shown = reviewer.get(r.headers["location"]).text
    assert "您的审批意见已记录" in shown and "材料齐全" in shown
    assert "您已办理第 1 步；第 2 步须由另一人（审批人）办理。" in shown
    assert 'name="decision"' not in shown
    assert steps.pending() == []

    # the same person cannot take step 2: not with the reviewer role…
    again = post_form(reviewer, url + "/decision", {"decision": "approve"})
    assert again.status_code == 403 and "本环节须由其他角色办理。" in again.text
    # …nor once promoted to approver
    with UnitOfWork(engine) as uow:
        uow.parties.user_by_name("reviewer").role = "approver"
        uow.commit()
    promoted = reviewer.get(url).text
    assert "您已办理第 1 步" in promoted and 'name="decision"' not in promoted
    twice = post_form(reviewer, url + "/decision", {"decision": "approve"})
    assert twice.status_code == 422 and "本环节须由另一人办理" in twice.text
    assert count(engine, ApprovalStep) == 1

    approver = web("approver")
    assert 'name="decision"' in approver.get(url).text
    done = post_form(approver, url + "/decision", {"decision": "approve"})
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=release_approved"
    final = approver.get(done.headers["location"]).text
    assert "拨付已批准，银行已收到付款指令。" in final and "已决定" in final
    (instruction,) = steps.pending()
    assert instruction["amount"] == "3000000.00" and instruction["kind"] == "release"
    assert instruction["account_no"] == applied["account_no"]
    assert account(client, world, applied["account_no"])["releasable"] == "2000000.00"


def test_a_rejection_needs_a_reason_in_the_users_language(web, engine, applied):
    url = f"/releases/{applied['release_id']}"
    reviewer = web("reviewer")
    for comment in ("", "   "):
        r = post_form(reviewer, url + "/decision", {"decision": "reject", "comment": comment})
        assert r.status_code == 422
        assert field_error(r.text, "comment") == "驳回时须说明理由。"
        assert 'value="reject" checked' in r.text
    nothing = post_form(reviewer, url + "/decision", {"comment": "看看"})
    assert field_error(nothing.text, "decision") == "请选择同意或驳回。" and "看看" in nothing.text
    english = post_form(reviewer, url + "/decision?lang=en", {"decision": "reject"})
    assert field_error(english.text, "comment") == "Say why when rejecting."
    assert count(engine, ApprovalStep) == 0
    r = post_form(reviewer, url + "/decision", {"decision": "reject", "comment": "工资说明未盖章"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=release_rejected")
    page = web("approver").get(url).text
    assert "已决定：本申请状态为“已驳回”。" in page and "工资说明未盖章" in page
    assert "无需办理" in page
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(Release.status)) == "rejected"


def test_an_approval_above_the_cap_now_is_refused_showing_the_cap(web, engine, site, steps):
    first = steps.applied(release_body(site["project_id"]))["release_id"]
    second = steps.applied(release_body(site["project_id"]))["release_id"]  # both fit the cap of 5,000,000
    steps.approve_all(first)  # 3,000,000 reserved: 2,000,000 left
    r = post_form(web("reviewer"), f"/releases/{second}/decision", {"decision": "approve"})
    assert r.status_code == 422, r.text
    assert "申请金额超过当前可拨付额度：最多 ¥2,000,000.00。" in r.text
    assert "审批时依据的额度" in r.text and "3,000,000.00" in r.text
    assert count(engine, ApprovalStep) == 2  # only the first release's two steps


def test_the_list_filters_by_status_and_project_and_pages(web, site, steps, monkeypatch):
    ids = [
        steps.applied(release_body(site["project_id"], amount="1000000.00"))["release_id"] for _ in range(3)
    ]
    steps.decide(ids[0], "reviewer", "reject", "材料不全")
    reviewer = web("reviewer")
    page = reviewer.get("/releases")
    assert page.status_code == 200
    assert all(f'href="/releases/{i}"' in page.text for i in ids)
    assert "1,000,000.00" in page.text and "衡水安居置业有限公司" in page.text
    assert "审核中" in page.text and "已驳回" in page.text and "初审" in page.text
    only_rejected = reviewer.get("/releases?status=rejected").text
    assert f'href="/releases/{ids[0]}"' in only_rejected and f'href="/releases/{ids[1]}"' not in only_rejected
    assert reviewer.get(f"/releases?project={site['project_id'] + 1}").text.count('href="/releases/') == 0
    assert reviewer.get("/releases?status=nonsense&page=x").status_code == 200
    monkeypatch.setattr(releases, "PAGE_SIZE", 2)
    first = reviewer.get(f"/releases?project={site['project_id']}").text
    second = reviewer.get(f"/releases?project={site['project_id']}&page=2").text
    assert "1 / 2" in first and f'href="/releases?project={site["project_id"]}&amp;page=2"' in first
    assert f'href="/releases/{ids[0]}"' in second and f'href="/releases/{ids[2]}"' not in second
    assert web("dev-staff").get("/releases").status_code == 403
