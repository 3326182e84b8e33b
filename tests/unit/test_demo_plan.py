"""The demo city's plan is pure and deterministic: the figures the demo promises come from the plan alone."""

from __future__ import annotations

from datetime import timedelta

from escrow.demo.plan import (
    BANK_CHANGE_ON,
    CLOSURE_BY,
    EPILOGUE_DAY,
    NODE_GAPS,
    PERIOD_END,
    PERIOD_START,
    SCALES,
    SETTLE_ON,
    plan_city,
)


def _deposited_fen(plan) -> int:
    paid = sum(
        pay.amount_fen for p in plan.projects for c in p.contracts for pay in c.payments if pay.paid_on
    )
    return paid + sum(s.amount_fen for p in plan.projects for s in p.strays)


def test_the_city_plan_holds_the_press_conference_figures():
    plan = plan_city(SCALES["city"])
    assert len(plan.projects) == 191
    assert sum(p.area_x100 for p in plan.projects) == 1_400_000 * 100
    assert _deposited_fen(plan) == 7_285_623_257_00


def test_two_plans_of_one_scale_are_equal():
    first, second = plan_city(SCALES["small"]), plan_city(SCALES["small"])
    assert first == second
    assert _deposited_fen(first) == 170_085_013_00


def test_every_planned_day_lies_in_the_period_and_in_order():
    plan = plan_city(SCALES["small"])
    for p in plan.projects:
        assert PERIOD_START <= p.opened_on <= p.permit_date <= PERIOD_END
        for c in p.contracts:
            assert p.sales_start <= c.signed_on <= PERIOD_END
            for pay in c.payments:
                assert c.signed_on <= pay.notice_on <= PERIOD_END
                if pay.paid_on is not None:
                    assert pay.notice_on <= pay.paid_on <= PERIOD_END
                    assert pay.payer_account
                if pay.assigned_on is not None:
                    assert pay.paid_on < pay.assigned_on
        reached = [n.reached_on for n in p.nodes]
        assert reached == sorted(reached) and all(n.reached_on < n.confirmed_on for n in p.nodes)


def test_the_epilogue_lies_after_the_period_and_before_the_new_book():
    """2026: one project carried to its end, one moved to another bank, new projects with buildings."""
    for scale in SCALES.values():
        plan = plan_city(scale)
        e = plan.epilogue
        closing, moving = plan.projects[e.closure.project], plan.projects[e.bank_change.project]
        assert closing is not moving and not closing.strays and not moving.strays
        assert 0 not in (closing.index, moving.index)  # the demo's logins keep their running project
        assert [n.code for n in e.closure.nodes] == list(NODE_GAPS)  # every node, so closure may follow
        assert e.closure.nodes[: len(closing.nodes)] == tuple(closing.nodes)
        reached = [n.reached_on for n in e.closure.nodes]
        assert reached == sorted(reached) and len(set(reached)) == len(reached)
        assert all(n.reached_on < n.confirmed_on < EPILOGUE_DAY for n in e.closure.nodes)
        assert e.closure.nodes[-1].confirmed_on <= CLOSURE_BY + timedelta(days=6)
        assert e.bank_change.bank != moving.bank
        assert PERIOD_END < SETTLE_ON < BANK_CHANGE_ON < EPILOGUE_DAY
        assert len(e.projects) == scale.epilogue_projects
        numbers = [p.account_no for p in (*plan.projects, *e.projects)] + [e.bank_change.account_no]
        assert len(set(numbers)) == len(numbers)
        permits = [p.permit_no for p in (*plan.projects, *e.projects)]
        assert len(set(permits)) == len(permits)
        for p in e.projects:
            assert p.permit_date == p.opened_on == EPILOGUE_DAY and p.agreement_no
            assert 2 <= len(p.buildings) <= 4
            assert sum(b.area_x100 for b in p.buildings) == p.area_x100
            assert len({b.nodes for b in p.buildings}) >= 2  # the buildings stand at different nodes
            assert all(b.nodes == tuple(NODE_GAPS)[: len(b.nodes)] for b in p.buildings)
            codes = {b.code for b in p.buildings}
            for c in p.contracts:
                assert c.building in codes and c.unit.startswith(c.building)
                assert c.signed_on == EPILOGUE_DAY
                assert 6000 * c.area_x100 <= c.total_fen <= 12000 * c.area_x100
                assert sum(pay.amount_fen for pay in c.payments) <= c.total_fen
                assert all(pay.paid_on in (None, EPILOGUE_DAY) for pay in c.payments)
        first, *others = e.projects
        assert first.developer == 0 and not any(p.fund_plan for p in others)
        assert {(i.building, i.node_code) for i in first.fund_plan} == {
            (b.code, code) for b in first.buildings for code in NODE_GAPS
        }
        assert all(i.amount_fen > 0 and i.amount_fen % 1_000_000 == 0 for i in first.fund_plan)
        assert all(i.month >= f"{EPILOGUE_DAY:%Y-%m}" for i in first.fund_plan)
