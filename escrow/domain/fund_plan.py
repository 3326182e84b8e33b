"""The fund demand plan (资金需求计划): what a developer expects to draw at each node, by payee role and
month, and the arithmetic of plan against actual (CONTRACT.md §8).

The measures of the demo city say releases follow "the construction progress and the fund demand plan"
(按照项目工程建设进度和资金需求计划, 衡水市商品房预售资金监督管理办法); the thresholds the alerts use
(`fund_plan.ahead_tolerance`, `fund_plan.behind_days`) are configured values of the rule book.

Every formula is here, once:
- planned to date: the items of the approved plan whose month is the given month or earlier;
- drawn: the payee amounts of the project's node releases that were approved (or since executed), matched
  to an item by node, payee role and the month of the release's last approval step (when the instruction was
  created; the month of execution does not move a drawing);
- a release is beyond the plan when, for any payee role it pays, what was drawn at its node in that role up
  to and including its month plus what it asks exceeds what the plan holds for that node and role to date;
- ahead: drawn to date exceeds planned to date by more than `ahead_tolerance` of it;
- behind: a node planned for a month is not confirmed `behind_days` after that month ended.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from escrow.domain.errors import FieldError
from escrow.domain.money import ZERO, above_largest_amount, largest_amount_error, quantize

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_ITEMS = 500


def valid_month(value: str) -> bool:
    return bool(MONTH.match(value)) and int(value[:4]) >= 1900


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_end(month: str) -> date:
    """The last day of a YYYY-MM month."""
    year, mon = int(month[:4]), int(month[5:7])
    first_next = date(year + (mon == 12), 1 if mon == 12 else mon + 1, 1)
    return first_next - timedelta(days=1)


@dataclass(frozen=True)
class Item:
    """One line of a plan: `amount` expected to be drawn at `node_code` for payees of `role` in `month`."""

    node_code: str
    month: str  # YYYY-MM
    role: str
    amount: Decimal
    building_code: str | None = None


@dataclass(frozen=True)
class Drawing:
    """What one approved node release paid payees of one role, in the month of its last approval."""

    node_code: str
    month: str
    role: str
    amount: Decimal


def check_items(items: Iterable[Item], nodes: Collection[str], roles: Collection[str]) -> list[FieldError]:
    """Field errors for the items of a plan (`items[i].field`): a node of the project's rule book, one of the
    release payee roles, a YYYY-MM month, a positive amount within the largest single amount, and each
    (node, building, role, month) at most once."""
    errors: list[FieldError] = []
    seen: set[tuple[str, str | None, str, str]] = set()
    listed = list(items)
    if not listed:
        errors.append(FieldError.coded("items", "required"))
    if len(listed) > MAX_ITEMS:
        errors.append(FieldError.at_most("items", MAX_ITEMS))
    for i, item in enumerate(listed):
        if item.node_code not in nodes:
            errors.append(FieldError.coded(f"items[{i}].node_code", "not_a_node"))
        if item.role not in roles:
            errors.append(FieldError.one_of(f"items[{i}].role", roles))
        if not valid_month(item.month):
            errors.append(FieldError.coded(f"items[{i}].month", "must_be", value="YYYY-MM"))
        if item.amount <= 0:
            errors.append(FieldError.coded(f"items[{i}].amount", "positive"))
        elif above_largest_amount(item.amount):
            errors.append(largest_amount_error(f"items[{i}].amount"))
        key = (item.node_code, item.building_code, item.role, item.month)
        if key in seen:
            errors.append(FieldError.coded(f"items[{i}]", "duplicate_plan_item"))
        seen.add(key)
    return errors


def _matches(x: Item | Drawing, node: str | None, roles: Collection[str] | None) -> bool:
    return (node is None or x.node_code == node) and (roles is None or x.role in roles)


def planned_to(
    items: Iterable[Item], month: str, node: str | None = None, roles: Collection[str] | None = None
) -> Decimal:
    """What the plan holds for months up to and including `month` (of one node, of some roles)."""
    return quantize(sum((i.amount for i in items if i.month <= month and _matches(i, node, roles)), ZERO))


def drawn_to(
    drawings: Iterable[Drawing], month: str, node: str | None = None, roles: Collection[str] | None = None
) -> Decimal:
    """What was drawn in months up to and including `month` (of one node, of some roles)."""
    return quantize(sum((d.amount for d in drawings if d.month <= month and _matches(d, node, roles)), ZERO))


def drawn_against(item: Item, drawings: Iterable[Drawing]) -> Decimal:
    """What was drawn against one item: its node and role, in its month."""
    return quantize(
        sum(
            (
                d.amount
                for d in drawings
                if (d.node_code, d.role, d.month) == (item.node_code, item.role, item.month)
            ),
            ZERO,
        )
    )


@dataclass(frozen=True)
class RoleJudgement:
    role: str
    planned: Decimal  # planned to date for the node and role
    drawn: Decimal  # drawn to date at the node in the role, before this release
    requested: Decimal  # what this release pays the role

    @property
    def beyond(self) -> bool:
        return self.drawn + self.requested > self.planned


@dataclass(frozen=True)
class ReleaseJudgement:
    """A release against the plan: `planned` and `drawn` summed over the roles it pays."""

    planned: Decimal
    drawn: Decimal
    requested: Decimal
    roles: tuple[RoleJudgement, ...]
    has_plan: bool

    @property
    def beyond_plan(self) -> bool:
        return not self.has_plan or any(r.beyond for r in self.roles)


def judge_release(
    items: Collection[Item] | None,
    drawings: Collection[Drawing],
    node: str,
    requested: Mapping[str, Decimal],
    month: str,
) -> ReleaseJudgement:
    """A release at `node` paying `requested` (role → amount) in `month`, against the approved plan's items
    (None: there is no approved plan, and every release is beyond it)."""
    plan = list(items or ())
    roles = tuple(
        RoleJudgement(
            role=role,
            planned=planned_to(plan, month, node, (role,)),
            drawn=drawn_to(drawings, month, node, (role,)),
            requested=quantize(amount),
        )
        for role, amount in sorted(requested.items())
    )
    return ReleaseJudgement(
        planned=quantize(sum((r.planned for r in roles), ZERO)),
        drawn=quantize(sum((r.drawn for r in roles), ZERO)),
        requested=quantize(sum((r.requested for r in roles), ZERO)),
        roles=roles,
        has_plan=items is not None,
    )


@dataclass(frozen=True)
class Cell:
    """One node × role of the plan-against-actual table (all months)."""

    node_code: str
    role: str
    planned: Decimal
    drawn: Decimal


def table(
    items: Iterable[Item], drawings: Iterable[Drawing], node_order: Collection[str] = ()
) -> tuple[Cell, ...]:
    """Planned and drawn by node × role over every month, in the rule book's node order, then by role; a
    drawing at a node or role the plan does not name shows with nothing planned."""
    planned: dict[tuple[str, str], Decimal] = {}
    drawn: dict[tuple[str, str], Decimal] = {}
    for i in items:
        planned[(i.node_code, i.role)] = planned.get((i.node_code, i.role), ZERO) + i.amount
    for d in drawings:
        drawn[(d.node_code, d.role)] = drawn.get((d.node_code, d.role), ZERO) + d.amount
    order = {code: n for n, code in enumerate(node_order)}
    keys = sorted(set(planned) | set(drawn), key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    return tuple(
        Cell(node, role, quantize(planned.get((node, role), ZERO)), quantize(drawn.get((node, role), ZERO)))
        for node, role in keys
    )


@dataclass(frozen=True)
class Ahead:
    planned: Decimal
    drawn: Decimal
    limit: Decimal  # planned × (1 + tolerance)

    @property
    def ahead(self) -> bool:
        return self.drawn > self.limit


def ahead_of_plan(
    items: Iterable[Item], drawings: Iterable[Drawing], month: str, tolerance: Decimal
) -> Ahead:
    """Drawn to date against planned to date, and whether it exceeds the plan by more than `tolerance`."""
    listed = list(items)
    planned = planned_to(listed, month)
    return Ahead(planned, drawn_to(drawings, month), quantize(planned * (1 + tolerance)))


@dataclass(frozen=True)
class Behind:
    node_code: str
    month: str
    due: date  # the day after which it is behind: the month's end plus `behind_days`


def behind_plan(
    items: Iterable[Item], confirmed: Collection[str], today: date, behind_days: int
) -> tuple[Behind, ...]:
    """The nodes planned in a month (their earliest) still unconfirmed more than `behind_days` after it."""
    first: dict[str, str] = {}
    for i in items:
        if i.node_code not in first or i.month < first[i.node_code]:
            first[i.node_code] = i.month
    found = []
    for node, month in sorted(first.items(), key=lambda kv: (kv[1], kv[0])):
        due = month_end(month) + timedelta(days=behind_days)
        if node not in confirmed and today > due:
            found.append(Behind(node, month, due))
    return tuple(found)
