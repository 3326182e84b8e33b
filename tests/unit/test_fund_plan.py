"""Fund plan arithmetic (escrow.domain.fund_plan): planned and drawn to date, a release against the plan, the
node × role table, ahead of plan and behind it, and the checks of a plan's items."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from escrow.domain import fund_plan as fp

D = Decimal
NODES = ("half_structure", "topped_out", "completion_report")
ROLES = ("construction", "equipment", "materials")
money = st.integers(min_value=1, max_value=10**9).map(lambda fen: D(fen) / 100)
months = st.sampled_from(["2026-11", "2026-12", "2027-01", "2027-02", "2027-03"])
items = st.builds(fp.Item, st.sampled_from(NODES), months, st.sampled_from(ROLES), money)
drawings = st.builds(fp.Drawing, st.sampled_from(NODES), months, st.sampled_from(ROLES), money)

PLAN = [
    fp.Item("half_structure", "2026-12", "construction", D("2000000.00")),
    fp.Item("half_structure", "2027-01", "construction", D("500000.00")),
    fp.Item("half_structure", "2026-12", "materials", D("1000000.00")),
    fp.Item("topped_out", "2027-03", "construction", D("3000000.00")),
]


def test_planned_and_drawn_to_date_count_the_months_up_to_it():
    assert fp.planned_to(PLAN, "2026-11") == D("0.00")
    assert fp.planned_to(PLAN, "2026-12") == D("3000000.00")
    assert fp.planned_to(PLAN, "2027-01", "half_structure", ("construction",)) == D("2500000.00")
    assert fp.planned_to(PLAN, "2027-12") == D("6500000.00")
    drawn = [fp.Drawing("half_structure", "2026-12", "construction", D("100.00"))]
    assert fp.drawn_to(drawn, "2026-11") == D("0.00") and fp.drawn_to(drawn, "2026-12") == D("100.00")


def test_a_release_is_beyond_the_plan_when_any_role_it_pays_is():
    drawn = [fp.Drawing("half_structure", "2026-12", "construction", D("1500000.00"))]
    within = fp.judge_release(PLAN, drawn, "half_structure", {"construction": D("500000.00")}, "2026-12")
    assert (within.planned, within.drawn, within.beyond_plan) == (D("2000000.00"), D("1500000.00"), False)
    beyond = fp.judge_release(
        PLAN,
        drawn,
        "half_structure",
        {"construction": D("500000.01"), "materials": D("1.00")},
        "2026-12",
    )
    assert beyond.beyond_plan and [r.beyond for r in beyond.roles] == [True, False]
    # drawing a later month's plan early is beyond the plan to date
    early = fp.judge_release(PLAN, [], "topped_out", {"construction": D("1.00")}, "2026-12")
    assert early.planned == D("0.00") and early.beyond_plan
    assert fp.judge_release(None, [], "half_structure", {"construction": D("1.00")}, "2026-12").beyond_plan


def test_the_table_is_by_node_then_role_and_shows_drawings_the_plan_does_not_name():
    drawn = [
        fp.Drawing("half_structure", "2026-12", "construction", D("10.00")),
        fp.Drawing("half_structure", "2026-12", "equipment", D("5.00")),
    ]
    cells = fp.table(PLAN, drawn, NODES)
    assert [(c.node_code, c.role, c.planned, c.drawn) for c in cells] == [
        ("half_structure", "construction", D("2500000.00"), D("10.00")),
        ("half_structure", "equipment", D("0.00"), D("5.00")),
        ("half_structure", "materials", D("1000000.00"), D("0.00")),
        ("topped_out", "construction", D("3000000.00"), D("0.00")),
    ]


def test_ahead_beyond_the_tolerance_and_behind_after_the_days():
    drawn = [fp.Drawing("half_structure", "2026-12", "construction", D("3300000.00"))]
    assert not fp.ahead_of_plan(PLAN, drawn, "2026-12", D("0.10")).ahead  # exactly 10% more
    drawn.append(fp.Drawing("half_structure", "2026-12", "materials", D("0.01")))
    found = fp.ahead_of_plan(PLAN, drawn, "2026-12", D("0.10"))
    assert found.ahead and found.limit == D("3300000.00")
    # half_structure planned in 2026-12: behind once 30 days after 31 December have passed, unless confirmed
    assert fp.behind_plan(PLAN, set(), date(2027, 1, 30), 30) == ()
    [late] = fp.behind_plan(PLAN, set(), date(2027, 1, 31), 30)
    assert (late.node_code, late.month, late.due) == ("half_structure", "2026-12", date(2027, 1, 30))
    assert fp.behind_plan(PLAN, {"half_structure"}, date(2027, 1, 31), 30) == ()


def test_items_are_checked_and_each_error_names_its_field():
    bad = [
        fp.Item("roof", "2026-12", "construction", D("1.00")),
        fp.Item("half_structure", "2026-13", "developer", D("0.00")),
        fp.Item("roof", "2026-12", "construction", D("1.00")),
    ]
    errors = fp.check_items(bad, NODES, ROLES)
    assert [(e.field, e.code) for e in errors] == [
        ("items[0].node_code", "not_a_node"),
        ("items[1].role", "one_of"),
        ("items[1].month", "must_be"),
        ("items[1].amount", "positive"),
        ("items[2].node_code", "not_a_node"),
        ("items[2]", "duplicate_plan_item"),
    ]
    assert fp.check_items(PLAN, NODES, ROLES) == []
    assert fp.month_end("2024-02") == date(2024, 2, 29) and fp.month_end("2026-12") == date(2026, 12, 31)


@given(st.lists(items, max_size=12), st.lists(drawings, max_size=12), months)
def test_the_table_and_the_items_account_for_every_fen(plan, drawn, month):
    cells = fp.table(plan, drawn, NODES)
    assert sum((c.planned for c in cells), D(0)) == sum((i.amount for i in plan), D(0))
    assert sum((c.drawn for c in cells), D(0)) == sum((d.amount for d in drawn), D(0))
    # planned to date is the whole plan split by node and role, and never more than the whole plan
    assert fp.planned_to(plan, month) == sum(
        (fp.planned_to(plan, month, n, (r,)) for n in NODES for r in ROLES), D(0)
    )
    assert fp.planned_to(plan, month) <= fp.planned_to(plan, "9999-12")
    # drawn against the items is at most drawn in all (a drawing the plan does not name is in no item)
    keys = {(i.node_code, i.role, i.month) for i in plan}
    assert sum((fp.drawn_against(fp.Item(n, m, r, D(1)), drawn) for n, r, m in keys), D(0)) <= sum(
        (d.amount for d in drawn), D(0)
    )


@given(st.lists(items, min_size=1, max_size=8), st.lists(drawings, max_size=8), months, money)
def test_a_release_is_beyond_exactly_when_some_role_would_pass_its_plan(plan, drawn, month, amount):
    node, role = plan[0].node_code, plan[0].role
    found = fp.judge_release(plan, drawn, node, {role: amount}, month)
    room = fp.planned_to(plan, month, node, (role,)) - fp.drawn_to(drawn, month, node, (role,))
    assert found.beyond_plan == (amount > room)
    assert found.requested == amount
