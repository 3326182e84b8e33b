"""Money flows of hengshui@2026.1 through the real app on both engines (DESIGN §4, CONTRACT §8): non-key
releases, freezes that do not stop the construction releases and refunds the bureau approves (法〔2022〕12号
art. 2) but hold back non-key withdrawals, `full` freezes, and the court report on the bank's instructions."""

from __future__ import annotations

from datetime import date

import pytest

from escrow.store.models import PaymentInstruction, Release
from tests.conftest import project_body
from tests.http.test_api_releases import (
    WAGES,
    account,
    count,
    invariants_hold,
    problem,
    release_body,
)
from tests.http.test_api_releases import fund as fund_at_2024
from tests.http.test_api_releases import steps as steps_fixture

TODAY = "2026-12-06"
BOOK = "hengshui@2026.1"
FUND_USE = {"kind": "fund_use_statement", "filename": "use.pdf", "sha256": "cd" * 32}
steps = steps_fixture  # the release tests' fixture
HALF_EVIDENCE = [{"kind": "construction_progress_report"}, {"kind": "supervision_engineer_confirmation"}]


@pytest.fixture
def today() -> date:
    return date(2026, 12, 6)


def open_project(client, world, **overrides) -> dict:
    body = project_body(
        supervised_amount="10000000.00", permit_date="2026-12-01", opened_on="2026-12-02", **overrides
    )
    r = client.post(
        "/api/v1/projects", json=body, headers=world.headers("admin", f"open-{body['account_no']}")
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def flows(client, world, flow) -> dict:
    """Key supervised amount 10,000,000.00 and 12,000,000.00 received under hengshui@2026.1, no node yet:
    the whole key amount is retained, 2,000,000.00 is non-key."""
    project = open_project(client, world)
    assert project["rulebook"] == BOOK
    fund(flow, "12000000.00")
    return project


def fund(flow, amount: str) -> dict:
    """A contract signed under the 2026 permit, paid in full today."""
    contract = flow.contract(contract_no="HT-N-1", unit="N-1", total_price=amount, signed_on=TODAY)
    notice = flow.notice(contract["contract_no"], amount, kind="full")
    deposit = flow.deposit(
        account_no=notice["account_no"],
        bank_reference="FUND-N-1",
        amount=amount,
        payer_name="张伟",
        payer_account="6217000012345678",
        notice_no=notice["notice_no"],
        kind="full",
        channel="transfer",
        value_date=TODAY,
    )
    assert deposit["status"] == "accepted", deposit
    return deposit


def non_key_body(project_id: int, amount: str = "1500000.00", **overrides) -> dict:
    body = {
        "project_id": project_id,
        "kind": "non_key",
        "amount": amount,
        "purpose": "项目营销及管理费用 / the project's own costs",
        "payees": [
            {
                "name": "衡水安居置业有限公司",
                "account_no": "1300009999000011112222",
                "bank_name": "中国农业银行衡水分行",
                "role": "developer",
                "amount": amount,
            }
        ],
        "documents": [FUND_USE],
    }
    body.update(overrides)
    return body


def freeze(client, world, account_no: str, order_no: str, amount: str | None = None, kind: str = "amount"):
    body = {
        "account_no": account_no,
        "authority": "衡水市桃城区人民法院",
        "order_no": order_no,
        "kind": kind,
        "ordered_on": TODAY,
    }
    if amount is not None:
        body["amount"] = amount
    r = client.post(
        "/api/v1/freezes", json=body, headers=world.headers("bank", f"freeze-{len(order_no)}-{kind}")
    )
    assert r.status_code == 201, r.text
    return r.json()


def confirm_half(client, world, project_id: int) -> None:
    r = client.post(
        f"/api/v1/projects/{project_id}/nodes/half_structure/confirmation",
        json={"reached_on": TODAY, "evidence": HALF_EVIDENCE},
        headers=world.headers("inspector", "confirm-half"),
    )
    assert r.status_code == 201, r.text


def test_a_non_key_release_needs_no_node_and_may_pay_the_developer(client, world, engine, flows, steps):
    applied = steps.applied(non_key_body(flows["project_id"]))
    assert applied["kind"] == "non_key" and applied["node_code"] is None
    assert applied["rulebook"] == BOOK
    cap = applied["cap"]
    assert cap["releasable"] == "2000000.00"  # 12,000,000 received − 10,000,000 key amount
    assert cap["explanation"]["kind"] == "non_key"
    assert cap["explanation"]["bounds"] == {"beyond_key_amount": "2000000.00", "account_room": "2000000.00"}
    # both caps are explained; no node is confirmed, so no node release may be applied for yet, but the
    # non-key money is not locked in until the first node
    assert set(cap["caps"]) == {"node", "non_key"}
    assert cap["caps"]["non_key"]["releasable"] == "2000000.00"
    assert [s["role"] for s in applied["approval_chain"]] == ["reviewer", "approver"]
    steps.approve_all(applied["release_id"])
    [instruction] = steps.pending()
    assert instruction["release_kind"] == "non_key" and instruction["report_to_court"] is False
    assert instruction["payees"][0]["role"] == "developer"
    done = steps.execute(instruction["instruction_id"], on=TODAY)
    assert done.status_code == 201, done.text
    acct = account(client, world, flows["account_no"])
    assert acct["balance"] == "10500000.00"
    # what was taken is gone from the non-key money: 500,000.00 left
    over = problem(steps.apply(non_key_body(flows["project_id"], amount="500000.01")), 422)
    assert over["rule"] == "release_cap"
    assert over["cap"]["releasable"] == "500000.00"
    assert len(invariants_hold(engine, flows["account_no"])) == 2


def test_a_non_key_release_is_refused_with_the_rule_it_breaks(client, world, engine, flows, steps):
    pid = flows["project_id"]
    cases = {
        "release_cap": non_key_body(pid, amount="2000000.01"),
        f"{BOOK} non_key_release.required_documents": non_key_body(pid, documents=[WAGES]),
        f"{BOOK} non_key_release": non_key_body(pid, node_code="half_structure"),
    }
    wrong_role = non_key_body(pid)
    wrong_role["payees"][0]["role"] = "buyer"
    for rule, body in cases.items():
        assert problem(steps.apply(body), 422)["rule"] == rule
    problem(steps.apply(wrong_role), 422)
    # a node release still pays only construction partners, never the developer
    node = release_body(pid, amount="100.00")
    node["payees"] = [{**non_key_body(pid)["payees"][0], "amount": "100.00"}]
    problem(steps.apply(node), 422)
    assert count(engine, Release) == 0


def test_a_version_without_non_key_releases_refuses_them(client, world, engine, flow, steps):
    old = client.post(
        "/api/v1/projects",
        json=project_body(supervised_amount="10000000.00"),
        headers=world.headers("admin", "open-old"),
    ).json()
    assert old["rulebook"] == "hengshui@2024.1"
    fund_at_2024(flow, "12000000.00", value_date=TODAY)
    body = problem(steps.apply(non_key_body(old["project_id"])), 422)
    assert body["rule"] == "hengshui@2024.1 non_key_release"
    assert count(engine, Release) == 0


def test_a_freeze_holds_non_key_money_but_not_node_releases_and_the_bank_reports_them(
    client, world, engine, flows, steps
):
    no = flows["account_no"]
    confirm_half(client, world, flows["project_id"])  # retention 7,000,000: node cap 5,000,000
    assert account(client, world, no)["releasable"] == "5000000.00"
    freeze(client, world, no, "(2026)冀1102执保1号", "11000000.00")
    acct = account(client, world, no)
    assert acct["status"] == "frozen" and acct["frozen_amount"] == "11000000.00"
    assert acct["releasable"] == "5000000.00"  # 法〔2022〕12号 art. 2: construction progress is still paid
    # non-key: min(2,000,000 beyond K, 12,000,000 − max(7,000,000, 11,000,000)) = 1,000,000
    over = problem(steps.apply(non_key_body(flows["project_id"], amount="1000000.01")), 422)
    assert over["cap"]["releasable"] == "1000000.00"
    frozen_term = next(t for t in over["cap"]["explanation"]["terms"] if t["term"] == "held")
    assert frozen_term["code"] == "retention_or_frozen" and frozen_term["value"] == "11000000.00"

    applied = steps.applied(release_body(flows["project_id"], amount="3000000.00"))
    frozen = next(t for t in applied["cap"]["explanation"]["terms"] if t["term"] == "frozen")
    assert frozen["code"] == "court_freezes_exempt" and frozen["value"] == "0.00"
    steps.approve_all(applied["release_id"])
    [pending] = steps.pending()
    assert pending["report_to_court"] is True  # the bank pays it and reports it to the court
    assert steps.execute(pending["instruction_id"], on=TODAY).status_code == 201
    executed = client.get(
        f"/api/v1/instructions/{pending['instruction_id']}", headers=world.headers("bank")
    ).json()
    assert executed["status"] == "executed" and executed["report_to_court"] is True
    assert count(engine, PaymentInstruction) == 1


def test_a_full_freeze_stops_non_key_withdrawals_only(client, world, flows, steps):
    no = flows["account_no"]
    confirm_half(client, world, flows["project_id"])
    body = freeze(client, world, no, "(2026)冀1102执保2号", kind="full")
    assert body["kind"] == "full" and body["amount"] == "0.00"
    acct = account(client, world, no)
    assert acct["status"] == "frozen" and acct["frozen_amount"] == "12000000.00"
    assert acct["releasable"] == "5000000.00"
    over = problem(steps.apply(non_key_body(flows["project_id"], amount="0.01")), 422)
    assert over["cap"]["releasable"] == "0.00"
    # a full freeze takes no amount; an amount freeze needs one
    for extra in ({"kind": "full", "amount": "1.00"}, {"kind": "amount"}):
        r = client.post(
            "/api/v1/freezes",
            json={
                "account_no": no,
                "authority": "法院",
                "order_no": f"X-{extra['kind']}",
                "ordered_on": TODAY,
            }
            | extra,
            headers=world.headers("bank", f"bad-{extra['kind']}"),
        )
        problem(r, 422)
