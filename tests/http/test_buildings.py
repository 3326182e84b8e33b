"""Buildings (楼栋, CONTRACT §8) through the real app on both engines, under hengshui@2026.2 (supervision by
building): the key supervised amount split by pre-sale area, nodes confirmed per building, the required
retention summed over the buildings, the court-deduction protection per building, buildings added with a new
permit area, and a project opened without buildings exactly as before."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import project_body
from tests.http.test_api_releases import problem

TODAY = "2026-12-07"
BOOK = "hengshui@2026.2"
HALF = [{"kind": "construction_progress_report"}, {"kind": "supervision_engineer_confirmation"}]
TOPPED = [{"kind": "topping_out_acceptance"}, {"kind": "supervision_engineer_confirmation"}]
EVIDENCE = {
    "half_structure": HALF,
    "topped_out": TOPPED,
    "completion_report": [{"kind": "completion_acceptance_report"}],
    "completion_filed": [{"kind": "completion_filing_certificate"}],
    "first_registration": [{"kind": "first_registration_certificate"}],
}
TWO = [
    {"code": "1号楼", "name": "1号住宅楼", "presale_area_m2": "6000.00"},
    {"code": "2号楼", "name": "2号住宅楼", "presale_area_m2": "4000.00"},
]


@pytest.fixture
def today() -> date:
    return date(2026, 12, 7)


def open_project(client, world, buildings=TWO, **overrides) -> dict:
    body = project_body(
        supervised_amount="10000000.00",
        permit_date=TODAY,
        opened_on=TODAY,
        presale_area_m2="10000.00",
        **overrides,
    )
    if buildings is not None:
        body["buildings"] = buildings
    r = client.post(
        "/api/v1/projects", json=body, headers=world.headers("admin", f"open-{len(buildings or [])}")
    )
    assert r.status_code == 201, r.text
    return r.json()


def fund(flow, amount: str = "12000000.00", **contract) -> None:
    c = flow.contract(contract_no="HT-B-1", unit="1-1-101", total_price=amount, signed_on=TODAY, **contract)
    notice = flow.notice(c["contract_no"], amount, kind="full", due_on=TODAY)
    deposit = flow.deposit(
        account_no=notice["account_no"],
        bank_reference="FUND-B-1",
        amount=amount,
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=notice["notice_no"],
        kind="full",
        channel="transfer",
        value_date=TODAY,
    )
    assert deposit["status"] == "accepted", deposit


def confirm(client, world, project_id: int, node: str, building: str | None = None):
    path = f"/api/v1/projects/{project_id}/" + (f"buildings/{building}/" if building else "")
    return client.post(
        f"{path}nodes/{node}/confirmation",
        json={"reached_on": TODAY, "evidence": EVIDENCE[node]},
        headers=world.headers("inspector", f"c-{building.encode().hex() if building else ''}-{node}"),
    )


def account(client, world, project: dict) -> dict:
    r = client.get(f"/api/v1/accounts/{project['account_no']}", headers=world.headers("bank"))
    assert r.status_code == 200, r.text
    return r.json()


def test_the_key_amount_is_split_by_area_and_each_building_keeps_its_own_retention(client, world, flow):
    project = open_project(client, world)
    assert project["rulebook"] == BOOK
    fund(flow, building="1号楼")
    for node, building in (("half_structure", "1号楼"), ("topped_out", "1号楼"), ("half_structure", "2号楼")):
        r = confirm(client, world, project["project_id"], node, building)
        assert r.status_code == 201, r.text
        assert r.json()["building"] == building
    found = account(client, world, project)
    figures = {b["code"]: b for b in found["buildings"]}
    assert figures["1号楼"]["supervised_amount"] == "6000000.00"
    assert figures["2号楼"]["supervised_amount"] == "4000000.00"
    assert (figures["1号楼"]["node"], figures["2号楼"]["node"]) == ("topped_out", "half_structure")
    # 6,000,000.00 × 45% + 4,000,000.00 × 70%: neither building over- nor under-protected
    assert (figures["1号楼"]["required_retention"], figures["2号楼"]["required_retention"]) == (
        "2700000.00",
        "2800000.00",
    )
    assert found["required_retention"] == "5500000.00"
    assert found["releasable"] == "6500000.00"
    term = next(t for t in found["cap"]["explanation"]["terms"] if t["term"] == "required_retention")
    assert term["rule"] == f"{BOOK} buildings"
    assert (
        "1号楼: 6000000.00 × (share 0.45 + surcharge 0.00) at node topped_out = 2700000.00" in term["detail"]
    )


def test_what_the_next_node_of_each_building_would_unlock(client, world, flow):
    project = open_project(client, world)
    fund(flow)
    assert confirm(client, world, project["project_id"], "half_structure", "1号楼").status_code == 201
    found = account(client, world, project)
    unlocks = {u["building"]: u for u in found["cap"]["explanation"]["next"]}
    # 1号楼 topped out: 6,000,000.00 × (70% − 45%) freed; 2号楼 half structure: 4,000,000.00 × 30%
    assert unlocks["1号楼"]["node"] == "topped_out"
    assert unlocks["1号楼"]["retention_drop"] == "1500000.00"
    assert unlocks["1号楼"]["evidence"] == ["topping_out_acceptance", "supervision_engineer_confirmation"]
    assert unlocks["2号楼"]["node"] == "half_structure"
    assert unlocks["2号楼"]["retention_drop"] == "1200000.00"
    releasable = Decimal(found["releasable"])
    assert Decimal(unlocks["2号楼"]["releasable_after"]) == releasable + Decimal("1200000.00")


def test_nodes_are_confirmed_per_building(client, world, engine):
    project = open_project(client, world)
    pid = project["project_id"]
    refused = problem(confirm(client, world, pid, "half_structure"), 422)
    assert refused["rule"] == f"{BOOK} buildings.supervise_by_building"
    assert refused["errors"][0]["field"] == "building"
    assert confirm(client, world, pid, "half_structure", "3号楼").status_code == 404
    out_of_order = problem(confirm(client, world, pid, "topped_out", "2号楼"), 422)
    assert out_of_order["rule"] == f"{BOOK} nodes.order"
    assert confirm(client, world, pid, "half_structure", "2号楼").status_code == 201
    again = client.post(
        f"/api/v1/projects/{pid}/buildings/2号楼/nodes/half_structure/confirmation",
        json={"reached_on": TODAY, "evidence": HALF},
        headers=world.headers("inspector", "again"),
    )
    assert again.status_code == 409
    assert confirm(client, world, pid, "half_structure", "1号楼").status_code == 201  # its own node
    page = client.get(f"/api/v1/projects/{pid}", headers=world.headers("admin")).json()
    # the project has reached a node once every building has
    assert [n["code"] for n in page["nodes"] if n["confirmed"]] == ["half_structure"]
    by_building = {
        b["code"]: [n["code"] for n in b["nodes"] if n["confirmed"]] for b in page["building_nodes"]
    }
    assert by_building == {"1号楼": ["half_structure"], "2号楼": ["half_structure"]}


def test_the_court_deduction_protection_ends_per_building(client, world, flow):
    project = open_project(client, world)
    fund(flow)
    for node in EVIDENCE:  # 1号楼 is registered, 2号楼 is not
        assert confirm(client, world, project["project_id"], node, "1号楼").status_code == 201
    freeze = client.post(
        "/api/v1/freezes",
        json={
            "account_no": project["account_no"],
            "authority": "衡水市桃城区人民法院",
            "order_no": "(2026)冀1102执200号",
            "amount": "12000000.00",
            "ordered_on": TODAY,
        },
        headers=world.headers("bank", "freeze-b"),
    ).json()

    def deduct(amount: str, key: str):
        return client.post(
            f"/api/v1/freezes/{freeze['freeze_id']}/deduction",
            json={"amount": amount, "creditor_role": "other", "bank_reference": key, "executed_on": TODAY},
            headers=world.headers("bank", key),
        )

    # 2号楼's part of the key amount (4,000,000.00) stays protected; the rest of 12,000,000.00 may go
    refused = problem(deduct("8000000.01", "DED-B-1"), 422)
    assert refused["deductible"] == "8000000.00"
    assert "of the buildings not yet registered" in refused["detail"]
    assert deduct("8000000.00", "DED-B-2").status_code == 201


def test_a_project_opened_without_buildings_is_one_building(client, world, flow):
    project = open_project(client, world, buildings=None)
    fund(flow)
    assert confirm(client, world, project["project_id"], "half_structure").status_code == 201
    found = account(client, world, project)
    assert found["buildings"] == []
    assert found["required_retention"] == "7000000.00"  # 10,000,000.00 × 70%, as before buildings
    assert found["releasable"] == "5000000.00"
    assert [u["node"] for u in found["cap"]["explanation"]["next"]] == ["topped_out"]
    assert found["cap"]["explanation"]["next"][0]["building"] is None
    refused = problem(confirm(client, world, project["project_id"], "topped_out", "1"), 404)
    assert refused["status"] == 404


@pytest.mark.parametrize(
    ("buildings", "field"),
    [
        ([{**TWO[0], "presale_area_m2": "5000.00"}, TWO[1]], "buildings"),  # 9,000 m² of 10,000
        ([TWO[0], {**TWO[1], "code": "1号楼"}], "buildings[1].code"),
    ],
)
def test_buildings_that_do_not_add_up_are_refused(client, world, engine, buildings, field):
    body = project_body(permit_date=TODAY, opened_on=TODAY, presale_area_m2="10000.00", buildings=buildings)
    r = client.post("/api/v1/projects", json=body, headers=world.headers("admin", "bad-buildings"))
    assert problem(r, 422)["errors"][0]["field"] == field
    assert client.get("/api/v1/accounts", headers=world.headers("bank")).json() == []


def test_a_building_added_with_a_new_permit_area(client, world, engine):
    project = open_project(client, world)
    r = client.post(
        f"/api/v1/projects/{project['project_id']}/buildings",
        json={
            "code": "3号楼",
            "name": "3号住宅楼",
            "presale_area_m2": "1000.00",
            "permit_no": "衡预售2026-009",
        },
        headers=world.headers("admin", "add-3"),
    )
    assert r.status_code == 201, r.text
    grown = r.json()
    # 1,000 m² × 2,600.00 per m² × 1.00 (grade B): the formula of the rule book for the new area
    assert grown["supervised_amount"] == "12600000.00"
    assert grown["presale_area_m2"] == "11000.00"
    assert [b["code"] for b in grown["account"]["buildings"]] == ["1号楼", "2号楼", "3号楼"]
    assert sum(Decimal(b["supervised_amount"]) for b in grown["account"]["buildings"]) == Decimal(
        "12600000.00"
    )
    assert grown["building_nodes"][2]["permit_no"] == "衡预售2026-009"
    again = client.post(
        f"/api/v1/projects/{project['project_id']}/buildings",
        json={
            "code": "3号楼",
            "name": "3号住宅楼",
            "presale_area_m2": "1000.00",
            "permit_no": "衡预售2026-010",
        },
        headers=world.headers("admin", "add-3-again"),
    )
    assert again.status_code == 409
    assert client.post(
        f"/api/v1/projects/{project['project_id']}/buildings",
        json={
            "code": "4号楼",
            "name": "4号住宅楼",
            "presale_area_m2": "1000.00",
            "permit_no": "衡预售2026-011",
        },
        headers=world.headers("developer", "add-4-dev"),
    ).status_code in (403, 404)


def test_a_contract_names_its_building(client, world, flow):
    project = open_project(client, world)
    c = flow.contract(
        contract_no="HT-B-9", unit="2-1-101", total_price="500000.00", signed_on=TODAY, building="2号楼"
    )
    assert c["building"] == "2号楼"
    r = client.post(
        "/api/v1/contracts",
        json={
            **c,
            "contract_no": "HT-B-10",
            "permit_no": project["permit_no"],
            "buyer_id_no": "110101199003070011",
            "building": "9号楼",
            "signed_on": TODAY,
        },
        headers=world.headers("developer", "bad-building"),
    )
    assert problem(r, 422)["errors"][0]["field"] == "building"


def test_a_buyer_sees_the_nodes_of_their_own_building(client, world, flow):
    project = open_project(client, world)
    flow.contract(
        contract_no="HT-B-2", unit="2-1-102", total_price="500000.00", signed_on=TODAY, building="2号楼"
    )
    assert confirm(client, world, project["project_id"], "half_structure", "1号楼").status_code == 201

    def reached() -> list[str]:
        r = client.get("/api/v1/public/contracts/HT-B-2?id_last6=070011")
        assert r.status_code == 200, r.text
        return [n["code"] for n in r.json()["nodes"] if n["reached_on"]]

    assert reached() == []  # 1号楼's node is not 2号楼's
    assert confirm(client, world, project["project_id"], "half_structure", "2号楼").status_code == 201
    assert reached() == ["half_structure"]


def test_the_bureau_sees_each_building_and_confirms_its_nodes_on_the_page(client, world, flow, web):
    from urllib.parse import quote

    from tests.http.test_web_workflows import evidence_files
    from tests.web import post_form

    project = open_project(client, world)
    fund(flow)
    pid = project["project_id"]
    inspector = web("inspector")
    page = inspector.get(f"/projects/{pid}?lang=en").text
    assert "Buildings" in page and "1号住宅楼" in page and "6,000,000.00" in page and "4,000,000.00" in page
    assert f"/projects/{pid}/nodes/half_structure/confirm?building={quote('2号楼')}" in page
    assert f'href="/projects/{pid}/nodes/half_structure/confirm"' not in page  # not for the whole project
    unlocks = page.split("What unlocks next")[1].split("</table>")[0]
    # each building's first node would free 30% of its part: 1,800,000.00 and 1,200,000.00
    assert (
        "1,800,000.00" in unlocks and "1,200,000.00" in unlocks and "Construction progress report" in unlocks
    )

    url = f"/projects/{pid}/nodes/half_structure/confirm?building={quote('2号楼')}"
    form = inspector.get(url + "&lang=en")
    assert form.status_code == 200 and "2号住宅楼" in form.text
    r = post_form(inspector, url, {"reached_on": TODAY}, files=evidence_files())
    assert r.status_code == 303, r.text
    found = account(client, world, project)
    assert {b["code"]: b["node"] for b in found["buildings"]} == {"1号楼": None, "2号楼": "half_structure"}
    chinese = inspector.get(f"/projects/{pid}?lang=zh").text
    assert (
        "按楼栋分别计算后合计" in chinese
        and "2号楼 ¥4,000,000.00 × 70%（“主体结构完成二分之一”）= ¥2,800,000.00" in chinese
    )
    assert "下一节点可释放" in chinese


def test_the_pdfs_say_each_building_and_what_unlocks_next(client, world, flow, app, engine):
    from escrow import reports
    from escrow.store.db import UnitOfWork
    from tests.http.test_api_releases import release_body
    from tests.http.test_reports import flat, pdf_text

    project = open_project(client, world)
    fund(flow)
    assert confirm(client, world, project["project_id"], "half_structure", "1号楼").status_code == 201
    body = release_body(
        project["project_id"], "3000000.00", beyond_plan_reason="首笔进度款，资金需求计划待报"
    )
    r = client.post("/api/v1/releases", json=body, headers=world.headers("developer", "rel-b"))
    assert r.status_code == 201, r.text
    pdf = client.get(f"/api/v1/releases/{r.json()['release_id']}/pdf", headers=world.headers("admin"))
    assert pdf.status_code == 200
    text = flat(pdf_text(pdf.content))
    assert "下一节点可释放" in text and "主体结构封顶" in text and "¥1,500,000.00" in text
    assert "按楼栋分别计算后合计" in text

    with UnitOfWork(engine, readonly=True) as uow:
        _, content = reports.render(
            "monthly", uow, app.state.runtime.ctx, account_no=project["account_no"], year=2026, month=12
        )
    monthly = flat(pdf_text(content))
    assert "各楼栋节点与留存" in monthly
    assert "1号楼1号住宅楼¥6,000,000.00主体结构完成二分之一¥4,200,000.00" in monthly
    assert "2号楼2号住宅楼¥4,000,000.00尚无节点¥4,000,000.00" in monthly


def test_a_fund_plan_names_the_buildings_of_the_project(client, world, engine):
    from tests.http.test_fund_plans import ITEMS, Plans

    project = open_project(client, world)
    plans = Plans(client, world)
    items = [dict(ITEMS[0], building="1号楼"), dict(ITEMS[0], building="2号楼", amount="500000.00")]
    plan = plans.approved(project["project_id"], items)
    assert plan["status"] == "approved"
    shown = plans.in_force(project["project_id"]).json()
    assert sorted(i["building"] for i in shown["items"]) == ["1号楼", "2号楼"]
    refused = problem(plans.file(project["project_id"], [dict(ITEMS[0], building="9号楼")]), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("items[0].building", "no_such_building")]


def test_closure_waits_for_every_building_to_be_registered(client, world, flow):
    from tests.http.test_lifecycle import close

    project = open_project(client, world)
    fund(flow)
    for node in EVIDENCE:
        assert confirm(client, world, project["project_id"], node, "1号楼").status_code == 201
    refused = problem(close(client, world, project["project_id"]), 422)
    assert refused["rule"] == "lifecycle.node_missing"
    # every node of 2号楼 is missing; none of 1号楼's
    assert [(b["params"]["building"], b["params"]["node"]) for b in refused["blockers"]] == [
        ("2号楼", node) for node in EVIDENCE
    ]
    assert refused["blockers"][0]["message"] == "node half_structure of building 2号楼 is not confirmed"
    for node in EVIDENCE:
        assert confirm(client, world, project["project_id"], node, "2号楼").status_code == 201
    ordered = close(client, world, project["project_id"], key="close-2")
    assert ordered.status_code == 201, ordered.text
    assert ordered.json()["kind"] == "closure" and ordered.json()["amount"] == "12000000.00"


def test_an_admin_adds_a_building_on_the_project_page(client, world, web, engine):
    from tests.web import post_form

    project = open_project(client, world)
    pid = project["project_id"]
    admin = web("admin")
    page = admin.get(f"/projects/{pid}?lang=en").text
    assert 'id="building-form"' in page
    assert 'id="building-form"' not in web("reviewer").get(f"/projects/{pid}?lang=en").text
    refused = post_form(
        admin, f"/projects/{pid}/buildings", {"code": "1号楼", "name": "x", "presale_area_m2": "abc"}
    )
    assert refused.status_code == 422
    assert "Enter an area in m²" in refused.text and "Required." in refused.text  # the permit number
    taken = post_form(
        admin,
        f"/projects/{pid}/buildings",
        {"code": "1号楼", "name": "x", "presale_area_m2": "100.00", "permit_no": "衡预售2026-020"},
    )
    assert taken.status_code == 409 and "Building 1号楼 already exists." in taken.text
    r = post_form(
        admin,
        f"/projects/{pid}/buildings",
        {"code": "3号楼", "name": "3号住宅楼", "presale_area_m2": "1000.00", "permit_no": "衡预售2026-021"},
    )
    assert r.status_code == 303, r.text
    assert [b["code"] for b in account(client, world, project)["buildings"]] == ["1号楼", "2号楼", "3号楼"]
    assert "衡预售2026-021" in admin.get(f"/projects/{pid}?lang=en").text


def test_construction_behind_the_plan_is_judged_per_building(client, world, engine, settings):
    from datetime import UTC, datetime

    from escrow.app import build_context
    from escrow.services import alerts
    from tests.http.test_fund_plans import ITEMS, Plans

    project = open_project(client, world)
    pid = project["project_id"]
    items = [
        dict(ITEMS[0], node_code="half_structure", month="2026-12", building="1号楼"),
        dict(ITEMS[0], node_code="topped_out", month="2026-12", amount="100000.00"),  # the whole project's
    ]
    Plans(client, world).approved(pid, items)
    assert confirm(client, world, pid, "half_structure", "1号楼").status_code == 201

    def behind(on: date) -> list[str]:
        ctx = build_context(settings, engine, today=lambda: on)
        alerts.run_sweep(ctx, datetime.now(UTC))
        found = [a for a in alerts.listing(ctx, rule="fund_plan_behind") if a.state != "resolved"]
        return sorted(a.subject.id for a in found)

    # 30 days after December: 1号楼 has reached the node planned for it (2号楼 has not, and need not);
    # topped_out, planned for the whole project, is reached by no building
    assert behind(date(2027, 2, 1)) == [f"{pid}:topped_out"]
