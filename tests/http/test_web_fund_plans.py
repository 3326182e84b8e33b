"""The fund demand plan's pages (资金需求计划): the developer files and revises a plan in the portal (items as
rows, errors by the rows, in the page's language), two bureau people decide it on the shared approval page,
the project page and the release application show plan against actual, and a release beyond the plan asks
for the reason and shows it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from escrow.catalog import gettext_for
from escrow.store.models import FundPlan
from tests.http.test_api_releases import count
from tests.http.test_fund_plans import open_site
from tests.http.test_web_portal import release_form, wages
from tests.web import post_form


@pytest.fixture
def today() -> date:
    return date(2026, 12, 20)


@pytest.fixture
def site(client, world, flow) -> dict:
    return open_site(client, world, flow)


@pytest.fixture
def dev(web, site):
    return web("dev-staff")


def plan_form(project_id: int, **overrides) -> dict:
    data = {
        "project_id": str(project_id),
        "item_node_code": ["half_structure", "half_structure", "topped_out", "half_structure"],
        "item_month": ["2026-12", "2026-12", "2027-03", ""],
        "item_role": ["construction", "materials", "construction", "construction"],
        "item_amount": ["2000000.00", "1000000.00", "3000000.00", ""],
        "note": "第一版",
    }
    data.update(overrides)
    return data


def the_plan(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(FundPlan.id)).scalar_one()


def approve(web, plan_id: int) -> None:
    for who in ("reviewer", "approver"):
        r = post_form(web(who), f"/fund-plans/{plan_id}/decision", {"decision": "approve"})
        assert r.status_code == 303, r.text


def test_a_plan_is_filed_in_the_portal_and_decided_on_the_bureau_page(web, dev, engine, site):
    pid = site["project_id"]
    page = dev.get(f"/developer/fund-plan?project_id={pid}&lang=en")
    assert page.status_code == 200 and "No fund plan has been approved yet." in page.text
    assert "File the fund plan" in page.text
    bad = plan_form(
        pid, item_month=["2026-13", "2026-12", "2027-03", ""], item_amount=["x", "1.00", "2.00", ""]
    )
    r = post_form(dev, "/developer/fund-plan?lang=en", bad)
    assert r.status_code == 422
    assert "A month such as 2027-03." in r.text and "Enter an amount in yuan" in r.text
    twice = plan_form(pid, item_node_code=["half_structure"] * 3 + [""], item_role=["construction"] * 4)
    twice["item_month"] = ["2026-12", "2026-12", "2027-03", ""]
    r = post_form(dev, "/developer/fund-plan?lang=zh", twice)
    assert r.status_code == 422 and "重复填报" in r.text
    assert count(engine, FundPlan) == 0
    r = post_form(dev, "/developer/fund-plan", plan_form(pid))
    assert r.status_code == 303, r.text
    page = dev.get(r.headers["location"] + "&lang=en")
    assert "The fund plan was submitted to the housing bureau for review." in page.text
    assert "Version 1 is waiting for the housing bureau" in page.text
    assert 'class="card fund-plan-form"' not in page.text  # one version submitted at a time

    listing = web("reviewer").get("/fund-plans?lang=en")
    assert listing.status_code == 200 and site["name"] in listing.text
    plan_id = the_plan(engine)
    review = web("reviewer").get(f"/fund-plans/{plan_id}?lang=en")
    assert review.status_code == 200 and "Record the decision" in review.text
    assert "Half of the main structure completed" in review.text and "Construction contractor" in review.text
    assert "3,000,000.00" in review.text
    assert "Waiting for" in web("approver").get(f"/fund-plans/{plan_id}?lang=en").text
    r = post_form(web("reviewer"), f"/fund-plans/{plan_id}/decision", {"decision": "reject"})
    assert r.status_code == 422  # a rejection must say why
    approve(web, plan_id)
    done = web("approver").get(f"/fund-plans/{plan_id}?lang=zh")
    assert gettext_for("zh")("In force") in done.text and "资金需求计划" in done.text
    # the plan is in force: the portal starts a revision from it, the project page shows plan against actual
    page = dev.get(f"/developer/fund-plan?project_id={pid}&lang=en")
    assert "Version 1, approved" in page.text and "File a new version" in page.text
    assert 'value="2000000.00"' in page.text
    project = web("admin").get(f"/projects/{pid}?lang=en")
    assert project.status_code == 200 and 'id="fund-plan"' in project.text
    assert "Version 1 in force" in project.text and "6,000,000.00" in project.text
    assert post_form(dev, f"/fund-plans/{plan_id}/decision", {"decision": "approve"}).status_code == 403
    # another developer's staff: the project does not exist for them
    other = web("other-dev-staff")
    assert other.get(f"/developer/fund-plan?project_id={pid}").status_code == 404
    assert post_form(other, "/developer/fund-plan", plan_form(pid)).status_code == 404
    assert count(engine, FundPlan) == 1


def test_the_release_form_shows_the_plan_and_asks_the_reason_beyond_it(web, dev, engine, site):
    pid = site["project_id"]
    r = post_form(dev, "/developer/fund-plan", plan_form(pid))
    assert r.status_code == 303
    approve(web, the_plan(engine))
    form = dev.get(f"/developer/releases/new?project_id={pid}&lang=en")
    assert 'id="fund-plan"' in form.text and "Version 1 in force" in form.text
    assert "Reason for going beyond the fund plan" in form.text
    # 3,600,000.00: 2,400,000 construction and 1,200,000 materials, beyond the plan to date
    data = release_form(
        pid,
        amount="3600000.00",
        payee_amount=["2400000.00", "1200000.00", ""],
    )
    refused = post_form(dev, "/developer/releases/new?lang=en", data, files=wages())
    assert refused.status_code == 422
    assert "goes beyond the approved fund plan" in refused.text
    refused_zh = post_form(dev, "/developer/releases/new?lang=zh", data, files=wages())
    assert "必填：本次拨付超出已批准的资金需求计划。" in refused_zh.text
    data["beyond_plan_reason"] = "主体结构提前完成"
    r = post_form(dev, "/developer/releases/new", data, files=wages())
    assert r.status_code == 303, r.text
    mine = dev.get(r.headers["location"].split("?")[0] + "?lang=en")
    assert "Beyond the plan" in mine.text and "Reason given: 主体结构提前完成" in mine.text
    release_id = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    bureau = web("reviewer").get(f"/releases/{release_id}?lang=en")
    assert "Reason given: 主体结构提前完成" in bureau.text
    assert (
        "Director&#39;s approval (beyond the plan)" in bureau.text
        or "Director's approval (beyond the plan)" in bureau.text
    )
