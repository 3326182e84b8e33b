"""The demo city's plan is pure and deterministic: the figures the demo promises come from the plan alone, for
the 365 days that end on the day it is seeded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from escrow.demo.plan import NODE_GAPS, REFERENCE_DAY, SCALES, plan_city


def _in_period(plan):
    return (*plan.projects, *plan.epilogue.projects)


def _deposited_fen(plan) -> int:
    projects = _in_period(plan)
    paid = sum(pay.amount_fen for p in projects for c in p.contracts for pay in c.payments if pay.paid_on)
    return paid + sum(s.amount_fen for p in projects for s in p.strays)


def test_the_city_plan_holds_the_press_conference_figures():
    """191 accounts, 1.40 million m² and ¥7.285 billion (within 0.1%) in the 365 days ending today."""
    plan = plan_city(SCALES["city"])
    assert len(_in_period(plan)) == 191
    assert sum(p.area_x100 for p in _in_period(plan)) == 1_400_000 * 100
    assert abs(_deposited_fen(plan) - 7_285_000_000_00) <= 7_285_000_000_00 // 1000
    assert _deposited_fen(plan) == 7_280_562_509_00


def test_two_plans_of_one_scale_and_day_are_equal():
    first, second = plan_city(SCALES["small"]), plan_city(SCALES["small"])
    assert first == second
    assert _deposited_fen(first) == 168_537_081_00


@pytest.mark.parametrize("today", [REFERENCE_DAY, date(2027, 6, 15), date(2028, 2, 29)])
def test_every_planned_day_lies_in_its_year_and_in_order(today):
    """The year's projects in the 365 days ending `today`; the earlier two in the 365 days before."""
    plan = plan_city(SCALES["small"], today)
    cal = plan.calendar
    assert cal.period_end == today and (cal.period_end - cal.period_start).days == 364
    years = [(p, cal.period_start, today) for p in plan.projects]
    years += [(p, cal.earlier_end - timedelta(days=364), cal.earlier_end) for p in plan.epilogue.earlier]
    for p, start, end in years:
        assert p.year_end == end
        assert start <= p.opened_on <= p.permit_date <= end
        for c in p.contracts:
            assert p.sales_start <= c.signed_on <= end
            for pay in c.payments:
                assert c.signed_on <= pay.notice_on <= end
                if pay.paid_on is not None:
                    assert pay.notice_on <= pay.paid_on <= end
                    assert pay.payer_account
                if pay.assigned_on is not None:
                    assert pay.paid_on < pay.assigned_on
            if c.cancelled_on is not None:
                assert all(pay.paid_on is not None and pay.paid_on < c.cancelled_on for pay in c.payments)
                assert c.cancelled_on <= today - timedelta(days=20)
        reached = [n.reached_on for n in p.nodes]
        assert reached == sorted(reached) and all(n.reached_on < n.confirmed_on for n in p.nodes)
    for p in plan.epilogue.earlier:  # carried to their end: no notice is left unpaid
        assert all(pay.paid_on is not None for c in p.contracts for pay in c.payments)


def test_numbers_are_unique_and_counted_within_each_year():
    plan = plan_city(SCALES["city"])
    e = plan.epilogue
    every = (*e.earlier, *plan.projects, *e.projects)
    for numbers in (
        [p.account_no for p in every] + [e.bank_change.account_no],
        [p.permit_no for p in every],
        [p.agreement_no for p in every],
        [c.contract_no for p in every for c in p.contracts],
    ):
        assert len(set(numbers)) == len(numbers)
    by_year = sorted((p.permit_date, p.permit_no) for p in every if p.permit_date.year == REFERENCE_DAY.year)
    assert [no for _, no in by_year][:2] == [f"衡预售{REFERENCE_DAY:%Y}-001", f"衡预售{REFERENCE_DAY:%Y}-002"]


def test_the_epilogue_ends_two_earlier_accounts_in_the_period_and_opens_new_ones_today():
    """One earlier project carried to its end, one moved to another bank, new projects with buildings."""
    for scale in SCALES.values():
        plan = plan_city(scale)
        cal, e = plan.calendar, plan.epilogue
        closing, moving = e.earlier[e.closure.project], e.earlier[e.bank_change.project]
        assert closing is not moving and not closing.strays and not moving.strays
        assert closing.opened_on < cal.period_start and moving.opened_on < cal.period_start
        assert [n.code for n in e.closure.nodes] == list(NODE_GAPS)  # every node, so closure may follow
        assert e.closure.nodes[: len(closing.nodes)] == tuple(closing.nodes)
        reached = [n.reached_on for n in e.closure.nodes]
        assert reached == sorted(reached) and len(set(reached)) == len(reached)
        assert all(n.reached_on < n.confirmed_on < cal.today for n in e.closure.nodes)
        assert e.closure.nodes[-1].confirmed_on <= cal.closure_by + timedelta(days=6)
        assert e.bank_change.bank != moving.bank
        assert cal.earlier_end < cal.settle_on < cal.bank_change_on < cal.closure_by < cal.today
        assert len(e.projects) == scale.epilogue_projects
        for p in e.projects:
            assert p.permit_date == p.opened_on == cal.today and p.agreement_no
            assert 2 <= len(p.buildings) <= 4
            assert sum(b.area_x100 for b in p.buildings) == p.area_x100
            assert len({b.nodes for b in p.buildings}) >= 2  # the buildings stand at different nodes
            assert all(b.nodes == tuple(NODE_GAPS)[: len(b.nodes)] for b in p.buildings)
            codes = {b.code for b in p.buildings}
            for c in p.contracts:
                assert c.building in codes and c.unit.startswith(c.building)
                assert c.signed_on == cal.today
                assert 6000 * c.area_x100 <= c.total_fen <= 12000 * c.area_x100
                assert sum(pay.amount_fen for pay in c.payments) <= c.total_fen
                assert all(pay.paid_on in (None, cal.today) for pay in c.payments)
        first, *others = e.projects
        assert first.developer == 0 and not any(p.fund_plan for p in others)
        assert {(i.building, i.node_code) for i in first.fund_plan} == {
            (b.code, code) for b in first.buildings for code in NODE_GAPS
        }
        assert all(i.amount_fen > 0 and i.amount_fen % 1_000_000 == 0 for i in first.fund_plan)
        assert all(i.month >= f"{cal.today:%Y-%m}" for i in first.fund_plan)


def test_incidents_a_handful_of_late_payments_refunds_a_freeze_and_a_guarantee():
    plan = plan_city(SCALES["city"])
    cal, inc = plan.calendar, plan.incidents
    late = [
        pay
        for p in plan.projects
        for c in p.contracts
        for pay in c.payments
        if pay.paid_on is None and pay.due_on < cal.today
    ]
    assert 2 <= len(late) <= 12 and all(pay.kind == "mortgage" for pay in late)
    cancelled = [c for p in plan.projects for c in p.contracts if c.cancelled_on]
    assert 1 <= len(cancelled) <= 5
    assert inc.freeze_fen > 0 and inc.freeze_project != 0 and 0 not in inc.guarantee_candidates
    assert inc.freeze_project not in inc.guarantee_candidates
    assert inc.guarantee_from < cal.today < inc.guarantee_until <= cal.today + timedelta(days=30)
