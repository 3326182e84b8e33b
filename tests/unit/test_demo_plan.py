"""The demo city's plan is pure and deterministic: the figures the demo promises come from the plan alone."""

from __future__ import annotations

from escrow.demo.plan import PERIOD_END, PERIOD_START, SCALES, plan_city


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
