"""The plan of the demo city as of one day: what it looks like, drawn in memory from seeded generators.

Pure: no database and no services. Two plans of one scale and day are equal, so two seeds give the same city
(only the voucher verification codes and API keys, made by the services, come from `secrets`). The plan holds
the developers, the projects with their buildings, units, pre-sale permits and tri-party agreements, the
contracts with their payment schedules, the unidentified payments, the days each node is reached and
confirmed, and for each node the release the developer will apply for: when, what share of the cap, how it
is split among the partners and how long each approval step takes. Only what depends on the books (the
releasable amount on the day) is left to the seeding.

Every day is counted back from `today`, the day the demo is seeded (`Calendar`): the period of the figures is
the 365 days ending today, so that the dashboard's default period (the last 12 months) shows the city. The
scale's figures (city: 191 accounts, 1,400,000.00 m², ¥7.285 billion) are those of the period: the newest
projects, opened today, are drawn first (their own generator) and the year's projects make up the rest of
the accounts and the area exactly; contracts are added to them (weighted by value and by how long the
project was on sale) until the deposits inside the period reach the rest of the target, which is why the
deposits land within a fraction of a per cent (a few late mortgage payments, drawn last, keep them just
under it).

Around the year (each drawn from its own generator, so that the year's draws stay put):

- two earlier projects, permitted in the year before the period (`EARLIER`), end their supervision in it:
  whatever they left with the bureau is settled early in the period; one is carried to its end (its
  remaining nodes confirmed, then the closure, 解除监管, which its bank executes, paying the balance to the
  developer's own account: the account is closed at 0), the other moves to another supervising bank (the
  old bank executes the transfer: the old account is closed, the new one holds the balance). Their accounts
  opened before the period and their sales ended with their year, so the period's figures leave them out;
- the newest projects, opened today under the rule book in force today (hengshui@2026.2 from REFERENCE_DAY),
  each with two to four buildings (楼栋) whose areas sum to the project's, a tri-party agreement the bank
  confirms, a few contracts naming their building with their first payments, and per-building node
  confirmations at different nodes (the buildings stand at the nodes they had reached when the permit was
  granted). The first of them (the demo developer's) also files its fund demand plan (资金需求计划) for every
  building and node, which the bureau approves;
- incidents (`Incidents`): a few buyers whose mortgage has not arrived by its due day (overdue notices), a
  few cancelled contracts refunded, a court freeze on one account and a bank guarantee on another, expiring
  soon: what a bureau's first look should find.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from escrow.demo.city import (
    BANKS,
    BIRTH_REGIONS,
    CONTRACTORS,
    DEVELOPER_SUFFIXES,
    DEVELOPER_WORDS,
    DISTRICTS,
    GIVEN,
    LAYOUTS,
    LENDER_WEIGHTS,
    LENDERS,
    PHASES,
    PROJECT_FIRST,
    PROJECT_SECOND,
    SUPPLIERS,
    SURNAMES,
)
from escrow.domain import credit_code

NODE_GAPS = {  # days from the previous node (or the permit) to reaching this one
    "half_structure": (35, 120),
    "topped_out": (70, 140),
    "completion_report": (110, 200),
    "completion_filed": (20, 45),
    "first_registration": (30, 80),
}
APPROVAL_STEPS_AT_MOST = 3  # the shipped rule book's longest chain: reviewer, approver, director
# The first day the demo can be seeded: its newest projects are supervised by building, which hengshui@2026.2
# brings into force on this day. The tests seed as of this day, so that their figures are fixed.
REFERENCE_DAY = date(2026, 12, 7)


@dataclass(frozen=True)
class Calendar:
    """The demo's days, all counted back from the day it is seeded (`today`): the period of the figures is
    the 365 days ending today; the two earlier projects were permitted in the year before it."""

    today: date

    @property
    def period_start(self) -> date:
        return self.today - timedelta(days=364)

    @property
    def period_end(self) -> date:
        return self.today

    @property
    def earlier_end(self) -> date:  # the earlier projects' year, before the period
        return self.period_start - timedelta(days=1)

    @property
    def settle_on(self) -> date:  # what the earlier projects left with the bureau is approved from this day
        return self.earlier_end + timedelta(days=12)

    @property
    def bank_change_on(self) -> date:  # the bureau orders the change of supervising bank
        return self.earlier_end + timedelta(days=61)

    @property
    def closure_by(self) -> date:  # the last node of the project carried to its end is confirmed by this day
        return self.today - timedelta(days=17)


@dataclass(frozen=True)
class Window:
    """The year a group of projects is planned in: permits between two days, sales until `end`."""

    start: date
    end: date
    permits_from: date
    permits_to: date


@dataclass(frozen=True)
class Scale:
    name: str
    projects: int  # supervised accounts opened in the period (the newest ones, opened today, included)
    developers: int
    area_m2: int  # pre-sale area of the accounts opened in the period
    deposits_yuan: int  # deposits booked in the period
    suspense_assigned: int  # payments without a notice number, traced and assigned to their contract
    suspense_open: int  # unidentified payments still in suspense at the end of the period
    permits_back: tuple[int, int]  # the period's permits: from and to this many days before today
    seed: int
    epilogue_projects: int = 2  # new projects opened today, supervised by building
    bulk: bool = False  # seeded through the bulk path (escrow.services.bulk), not one use case a sale

    @property
    def year_projects(self) -> int:
        """The projects of the period's year, besides the newest opened today."""
        return self.projects - self.epilogue_projects


SCALES = {
    "city": Scale("city", 191, 32, 1_400_000, 7_285_000_000, 8, 6, (362, 12), 20250101, 3),
    "small": Scale("small", 6, 3, 98_000, 170_000_000, 1, 1, (359, 257), 20250102),
    # ten times the city, and a province of 20,000 projects (area, deposits and counts scaled by 20000/191)
    "10x": Scale("10x", 1910, 320, 14_000_000, 72_850_000_000, 80, 60, (362, 12), 20250110, 3, bulk=True),
    "province": Scale(
        "province", 20_000, 3351, 146_596_859, 762_827_225_131, 838, 628, (362, 12), 20250120, 3, bulk=True
    ),
}
# The two earlier projects (permitted in the year before the period, carried to their end in it): their
# area and the deposits of their year, which fall before the period and so leave its figures alone.
EARLIER = Scale("earlier", 2, 0, 24_000, 110_000_000, 0, 0, (727, 690), 0, 0)
FENWICK_FROM = 2000  # projects: from here a sale's project is drawn from a Fenwick tree, not a prefix sum
NAME_TRIES = 50  # draws of a project's name before a numbered phase is added (a big city runs out of names)


@dataclass(frozen=True)
class Developer:
    credit_code: str
    name: str
    grade: str  # credit grade: scales the key supervised amount


@dataclass
class Payment:
    kind: str  # earnest | down_payment | full | mortgage
    amount_fen: int
    notice_on: date
    due_on: date
    paid_on: date | None  # None: not paid within the period
    channel: str
    lender: int | None = None  # index into LENDERS for a mortgage
    assigned_on: date | None = None  # paid without the notice number: suspense, assigned on this day
    payer_account: str = ""  # the buyer's own card; a lender pays from its disbursement account


@dataclass
class Contract:
    seq: int
    unit: str
    area_x100: int
    total_fen: int
    signed_on: date
    buyer_name: str
    buyer_id_no: str
    payments: list[Payment]
    contract_no: str = ""
    building: str | None = None  # the building's code, in a project supervised by building
    cancelled_on: date | None = None  # the buyer withdrew (退房): cancelled and refunded from this day

    @property
    def in_period_fen(self) -> int:
        return sum(p.amount_fen for p in self.payments if p.paid_on is not None)


@dataclass
class Stray:
    """Money that reached an account with no notice number and could not be traced by the period's end."""

    paid_on: date
    amount_fen: int
    payer_name: str
    payer_account: str
    channel: str


@dataclass(frozen=True)
class Payee:
    role: str  # construction | equipment | materials
    name: str
    bank_name: str
    account_no: str


@dataclass(frozen=True)
class ReleasePlan:
    """The application the developer files after a node, in days and shares; the amount is the share of what
    is releasable on the day it applies."""

    applies_after: int  # days after the node's confirmation
    share_permille: int  # of the releasable amount, rounded down to ¥10,000
    construction_percent: (
        int  # of the amount; equipment an eighth (not at half structure); materials the rest
    )
    payees: tuple[Payee, ...]  # construction, equipment, materials
    step_gaps: tuple[int, ...]  # days from the application (then from each step) to the next approval step
    executes_after: int  # days from the last approval to the bank's payment
    comments: tuple[int, ...]  # which of the role's stock comments each step writes


@dataclass(frozen=True)
class NodePlan:
    code: str
    reached_on: date
    confirmed_on: date  # planned; never before the previous node's release was paid
    release: ReleasePlan | None  # None: the developer does not apply at this node


@dataclass
class Project:
    index: int
    district: tuple
    name: str
    permit_no: str
    permit_date: date
    opened_on: date
    area_x100: int
    finish: str
    price: int  # ¥/m² of a middle floor
    developer: int
    bank: int
    account_no: str
    sales_start: date
    floors: int
    slots: list[tuple[str, int, int]] = field(default_factory=list)  # unit label, area_x100, floor
    contracts: list[Contract] = field(default_factory=list)
    strays: list[Stray] = field(default_factory=list)
    sold_x100: int = 0
    exhausted: bool = False
    nodes: list[NodePlan] = field(default_factory=list)
    buildings: tuple[BuildingPlan, ...] = ()  # an epilogue project's buildings (none: one building)
    agreement_no: str | None = None  # the tri-party agreement named at opening (epilogue projects)
    fund_plan: tuple[FundItem, ...] = ()  # the fund demand plan filed and approved on its first day
    number: int = 0  # the project's number in the city: in its account and contract numbers
    year_end: date = date.max  # its planned year ends here: no sale, node or release after it


@dataclass(frozen=True)
class BuildingPlan:
    code: str
    name: str
    area_x100: int
    nodes: tuple[str, ...]  # the node codes confirmed on its first day, in order


@dataclass(frozen=True)
class FundItem:
    """One line of a fund demand plan (资金需求计划): what the developer expects to draw for a building at a
    node, for one payee role, in a month."""

    building: str
    node_code: str
    month: str  # YYYY-MM
    role: str  # construction | materials
    amount_fen: int


@dataclass(frozen=True)
class Closure:
    """An earlier project carried to its end: its remaining nodes, then the closing payout to the
    developer."""

    project: int  # index into CityPlan.projects
    nodes: tuple[NodePlan, ...]  # every node, with the days of 2026 for those the year did not confirm
    payee_name: str
    payee_account_no: str
    payee_bank_name: str
    reason: str


@dataclass(frozen=True)
class BankChange:
    """An earlier project moved to another supervising bank: ordered on `bank_change_on`, executed days
    later."""

    project: int  # index into CityPlan.projects
    bank: int  # the new bank, index into BANKS
    account_no: str
    executes_after: int  # days
    reason: str


@dataclass(frozen=True)
class Epilogue:
    earlier: tuple[Project, ...]  # permitted in the year before the period: one closed, one moved
    closure: Closure
    bank_change: BankChange
    projects: tuple[Project, ...]  # opened today, supervised by building


@dataclass(frozen=True)
class Incidents:
    """What a year brings besides sales and nodes, at the period's end: a court freezes part of one account
    (recorded by its bank), and a bank guarantee (保函) stands in for part of another's retention, expiring
    soon. Refunds (cancelled contracts) and late mortgage payments are marked on their contracts."""

    freeze_project: int  # index into CityPlan.projects
    freeze_fen: int
    freeze_order_no: str
    guarantee_candidates: tuple[int, ...]  # the first whose balance has reached its key amount takes it
    guarantee_from: date
    guarantee_until: date


@dataclass(frozen=True)
class CityPlan:
    scale: Scale
    calendar: Calendar
    developers: tuple[Developer, ...]
    projects: tuple[Project, ...]  # the period's year
    epilogue: Epilogue
    incidents: Incidents


def plan_city(scale: Scale, today: date = REFERENCE_DAY) -> CityPlan:
    """The whole city as of `today`, deterministic from `scale.seed` and `today`. The newest projects are
    drawn first (their own generator), so that the year's projects make up the rest of the figures."""
    cal = Calendar(today)
    rng = random.Random(scale.seed)
    developers = _plan_developers(rng, scale)
    names: set[str] = set()
    taken: set[str] = set()  # account numbers
    newest_rng = random.Random(scale.seed + 1)
    newest = [
        _plan_new_project(
            newest_rng, cal.today, developers, EARLIER.projects + scale.year_projects + k, k, names, taken
        )
        for k in range(1, scale.epilogue_projects + 1)
    ]
    earlier = _plan_year(random.Random(scale.seed + 2), EARLIER, cal, developers, names, taken)
    year = _plan_year(
        rng,
        scale,
        cal,
        developers,
        names,
        taken,
        area_x100=scale.area_m2 * 100 - sum(p.area_x100 for p in newest),
        deposits_fen=scale.deposits_yuan * 100 - sum(c.in_period_fen for p in newest for c in p.contracts),
        number_from=EARLIER.projects + 1,
    )
    epilogue = _plan_epilogue(random.Random(scale.seed + 3), cal, developers, earlier, newest, taken)
    incidents = _plan_incidents(random.Random(scale.seed + 4), cal, year)
    _number(earlier, year, newest)
    return CityPlan(scale, cal, tuple(developers), tuple(year), epilogue, incidents)


def _plan_year(
    rng: random.Random,
    scale: Scale,
    cal: Calendar,
    developers: list[Developer],
    names: set[str],
    taken: set[str],
    *,
    area_x100: int | None = None,
    deposits_fen: int | None = None,
    number_from: int = 1,
) -> list[Project]:
    """A year of projects: the period's (ending today), or the earlier one's (ending the day before it)."""
    end = cal.earlier_end if scale is EARLIER else cal.today
    window = Window(
        end - timedelta(days=364),
        end,
        cal.today - timedelta(days=scale.permits_back[0]),
        cal.today - timedelta(days=scale.permits_back[1]),
    )
    n = scale.projects if scale is EARLIER else scale.year_projects
    total_x100 = area_x100 or scale.area_m2 * 100
    earlier = scale is EARLIER
    projects = _plan_projects(
        rng,
        window,
        n,
        total_x100,
        len(developers),
        names,
        taken,
        demo_first=not earlier,
        number_from=number_from,
    )
    _plan_sales(rng, scale, window, projects, deposits_fen or scale.deposits_yuan * 100)
    for p in projects:  # drawn after the sales, so that the figures above do not move
        if earlier:  # carried to their end: a notice still unpaid when their year ends is never issued
            for c in p.contracts:
                c.payments = [pay for pay in c.payments if pay.paid_on is not None]
        _plan_payer_accounts(rng, p)
        p.nodes = [replace(node, release=_plan_release(rng, p, node.code)) for node in p.nodes]
    return projects


def _number(earlier: list[Project], year: list[Project], newest: list[Project]) -> None:
    """Permit and tri-party agreement numbers as the bureau gives them: counted within each year, in the
    order of the permit (of the opening) date."""
    every = (*earlier, *year, *newest)
    seq: dict[int, int] = {}
    for p in sorted(every, key=lambda p: (p.permit_date, p.number)):
        seq[p.permit_date.year] = seq.get(p.permit_date.year, 0) + 1
        p.permit_no = f"衡预售{p.permit_date:%Y}-{seq[p.permit_date.year]:03d}"
    seq = {}
    for p in sorted(every, key=lambda p: (p.opened_on, p.number)):
        seq[p.opened_on.year] = seq.get(p.opened_on.year, 0) + 1
        p.agreement_no = f"衡监协{p.opened_on:%Y}-{seq[p.opened_on.year]:03d}"


def _plan_incidents(rng: random.Random, cal: Calendar, year: list[Project]) -> Incidents:
    """Late mortgage payments, refunds, a court freeze and a guarantee (drawn last: the sales stay put)."""
    late = max(2, len(year) // 25)
    due_late = [
        pay
        for p in year
        for c in p.contracts
        for pay in c.payments
        if pay.kind == "mortgage"
        and cal.today - timedelta(days=25) <= pay.due_on <= cal.today - timedelta(days=3)
    ]
    for pay in rng.sample(due_late, min(late, len(due_late))):
        pay.paid_on = None  # the lender has not paid: the notice is overdue
        pay.payer_account = ""
    settled = [  # contracts fully paid well inside the period, not in the first project (the demo's own)
        c
        for p in year[1:]
        for c in p.contracts
        if all(pay.paid_on is not None for pay in c.payments)
        and cal.period_start + timedelta(days=30) <= c.signed_on
        and max(pay.paid_on for pay in c.payments) <= cal.today - timedelta(days=60)  # type: ignore[type-var]
    ]
    for c in rng.sample(settled, min(max(1, len(year) // 60), len(settled))):
        last_paid = max(pay.paid_on for pay in c.payments if pay.paid_on is not None)
        c.cancelled_on = last_paid + timedelta(days=rng.randint(10, 40))
    by_money = sorted(year[1:], key=lambda p: -sum(c.in_period_fen for c in p.contracts))
    frozen = by_money[0]
    return Incidents(
        freeze_project=frozen.index,
        freeze_fen=round_yuan(sum(c.in_period_fen for c in frozen.contracts) * 3 // 100, 10_000),
        freeze_order_no=f"({cal.today:%Y})冀1102执保{rng.randint(100, 999)}号",
        guarantee_candidates=tuple(p.index for p in by_money[1:]),
        guarantee_from=cal.today - timedelta(days=rng.randint(150, 200)),
        guarantee_until=cal.today + timedelta(days=rng.randint(12, 25)),
    )


def account_name(plan: CityPlan, p: Project) -> str:
    return plan.developers[p.developer].name + p.name.split("·", 1)[-1] + "预售资金监管账户"


# --- the cast ---------------------------------------------------------------------------------------------


def _credit_code(rng: random.Random, division: str, taken: set[str]) -> str:
    while True:
        body = "".join(rng.choice(credit_code.ALPHABET) for _ in range(6))
        code = credit_code.complete(f"91{division}MA0{body}")
        if code not in taken:
            taken.add(code)
            return code


def _plan_developers(rng: random.Random, scale: Scale) -> list[Developer]:
    """The first developer (安居, grade B, in 桃城) is the one the demo's developer login and key act for."""
    taken: set[str] = set()
    if scale.developers <= len(DEVELOPER_WORDS):
        words = rng.sample(DEVELOPER_WORDS, scale.developers)
    else:  # a province: two words, then three
        pairs = [a + b for a in DEVELOPER_WORDS for b in DEVELOPER_WORDS if a != b]
        if scale.developers > len(pairs):
            pairs += [a + b for a in pairs for b in DEVELOPER_WORDS if b not in a][: scale.developers]
        words = rng.sample(pairs, scale.developers)
    words[0] = "安居"
    developers = []
    for i, word in enumerate(words):
        district = DISTRICTS[0] if i == 0 else rng.choices(DISTRICTS, weights=[d[3] for d in DISTRICTS])[0]
        place = "衡水" if district[2].startswith(("13110", "13117")) else district[1].removesuffix("县")
        suffix = DEVELOPER_SUFFIXES[0] if i == 0 else rng.choice(DEVELOPER_SUFFIXES)
        grade = "B" if i == 0 else rng.choices("ABC", weights=(25, 60, 15))[0]
        code = _credit_code(rng, district[2], taken)
        developers.append(Developer(code, f"{place}{word}{suffix}", grade))
    return developers


# --- projects ---------------------------------------------------------------------------------------------


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _id_number(rng: random.Random) -> str:
    """An 18-character resident ID number (GB 11643) with a valid check character."""
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 43))
    body = f"{rng.choice(BIRTH_REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _card_number(rng: random.Random) -> str:
    return f"6217{rng.randrange(10**15):015d}"


def _layouts(rng: random.Random) -> list[int]:
    areas, weights = zip(*LAYOUTS, strict=True)
    return [round(a * 100) + rng.randint(-40, 40) for a in rng.choices(areas, weights=weights, k=4)]


def _plan_units(rng: random.Random, p: Project) -> None:
    """Buildings of two stairwells with two flats a floor, until they hold the pre-sale area."""
    slots: list[tuple[str, int, int]] = []
    total, building = 0, 0
    while total < p.area_x100:
        building += 1
        layout = _layouts(rng)
        for floor in range(2, p.floors + 1):
            for stair in (1, 2):
                for room in (1, 2):
                    area = layout[(stair - 1) * 2 + room - 1]
                    slots.append((f"{building}号楼{stair}单元{floor}{room:02d}", area, floor))
                    total += area
    rng.shuffle(slots)
    p.slots = slots


def _plan_projects(
    rng: random.Random,
    window: Window,
    n: int,
    total_x100: int,
    developer_count: int,
    names: set[str],
    taken: set[str],
    *,
    demo_first: bool,
    number_from: int,
) -> list[Project]:
    """`n` projects permitted in the window, their areas summing to `total_x100` exactly. `demo_first`: the
    first is the demo developer's at the first bank (the demo's logins act for both)."""
    span = (window.permits_to - window.permits_from).days
    permits = sorted(window.permits_from + timedelta(days=rng.randint(0, span)) for _ in range(n))
    raw = [min(4.0, max(0.3, rng.lognormvariate(0, 0.45))) for _ in range(n)]
    areas = [int(total_x100 * r / sum(raw)) for r in raw]
    areas[-1] += total_x100 - sum(areas)  # the figure is exact
    dev_weights = [1 / (i + 1) ** 0.7 for i in range(developer_count)]
    bank_weights = [b[3] for b in BANKS]
    result = []
    for i in range(n):
        district = rng.choices(DISTRICTS, weights=[d[3] for d in DISTRICTS])[0]
        name = _project_name(rng, district, names, phases=True)
        finish = "finished" if rng.random() < 0.35 else "shell"
        lo, hi = district[4]
        price = rng.randint(lo, hi) // 10 * 10
        if finish == "finished":  # 精装修: the fit-out is in the price
            price += rng.randint(1000, 1500) // 10 * 10
        first = demo_first and i == 0
        bank = 0 if first else rng.choices(range(len(BANKS)), weights=bank_weights)[0]
        permit = permits[i]
        number = number_from + i
        p = Project(
            index=i,
            district=district,
            name=name,
            permit_no="",  # numbered when the whole city is drawn (_number)
            permit_date=permit,
            opened_on=max(window.start, permit - timedelta(days=rng.randint(0, 6))),
            area_x100=areas[i],
            finish=finish,
            price=min(price, 11800),
            developer=0 if first else rng.choices(range(developer_count), weights=dev_weights)[0],
            bank=bank,
            account_no=_new_account_no(rng, bank, number, taken),
            sales_start=min(window.end, permit + timedelta(days=rng.randint(2, 20))),
            floors=rng.choice(district[5]),
            number=number,
            year_end=window.end,
        )
        _plan_units(rng, p)
        p.nodes = [NodePlan(*node, release=None) for node in _plan_nodes(rng, p.permit_date, window.end)]
        result.append(p)
    return result


def _project_name(rng: random.Random, district: tuple, names: set[str], *, phases: bool) -> str:
    """A name no other project of the city has (a numbered phase is added when the draws run out)."""
    for tries in itertools.count(1):
        name = district[1] + "·" + rng.choice(PROJECT_FIRST) + rng.choice(PROJECT_SECOND)
        if phases:
            name += rng.choice(PHASES)
        if tries > NAME_TRIES:
            name += f"{tries}期"
        if name not in names:
            names.add(name)
            return name
    raise AssertionError("unreachable")


def _plan_nodes(rng: random.Random, permit: date, end: date) -> list[tuple[str, date, date]]:
    nodes, reached = [], permit
    for code, (lo, hi) in NODE_GAPS.items():
        reached = reached + timedelta(days=rng.randint(lo, hi))
        confirmed = reached + timedelta(days=rng.randint(1, 6))
        if confirmed > end - timedelta(days=1):
            break
        nodes.append((code, reached, confirmed))
    return nodes


# --- sales ------------------------------------------------------------------------------------------------


def round_yuan(fen: int, step: int = 100) -> int:
    """Down to a whole multiple of `step` yuan."""
    return fen // (step * 100) * (step * 100)


def _plan_contract(rng: random.Random, p: Project, seq: int) -> Contract | None:
    if not p.slots:
        return None
    unit, area, floor = p.slots[-1]
    if p.sold_x100 + area > p.area_x100 * 95 // 100:
        return None
    p.slots.pop()
    p.sold_x100 += area
    # the price per m² is drawn as a float, as it always was: the city's deposit figure depends on each draw
    price = p.price * (1 + (floor - p.floors / 2) / p.floors * 0.06) * rng.uniform(0.985, 1.015)
    price = min(12000.0, max(6000.0, price))
    total_fen = round(area * price)  # area in hundredths of m² × ¥/m² = fen
    total_fen -= total_fen % 100  # whole yuan
    if rng.random() < 0.35:
        signed = _between(rng, p.sales_start, min(p.year_end, p.sales_start + timedelta(days=14)))
    else:
        signed = _between(rng, p.sales_start, p.year_end)
    buyer = _person(rng)
    channel = rng.choices(("counter", "transfer", "pos"), weights=(3, 5, 2))[0]
    earnest = rng.choice((20_000, 30_000, 50_000)) * 100

    def paid(due: date, notice_on: date) -> date | None:
        on = max(notice_on, due - timedelta(days=rng.choice((0, 0, 0, 1, 2, 3))))
        return on if on <= p.year_end else None

    payments = [Payment("earnest", earnest, signed, signed, signed, channel)]
    if rng.random() < 0.28:  # paid in full
        due = signed + timedelta(days=rng.randint(5, 20))
        payments.append(Payment("full", total_fen - earnest, signed, due, paid(due, signed), channel))
    else:
        share = rng.choice((15, 20, 20, 30, 30, 30, 35, 40))
        down = round_yuan(total_fen * share // 100) - earnest
        due = signed + timedelta(days=rng.randint(3, 15))
        down_paid = paid(due, signed)
        payments.append(Payment("down_payment", down, signed, due, down_paid, channel))
        notice_on = (down_paid or due) + timedelta(days=rng.randint(8, 35))  # the loan is approved
        if notice_on <= p.year_end:
            lender = rng.choices(range(len(LENDERS)), weights=LENDER_WEIGHTS)[0]
            due = notice_on + timedelta(days=rng.randint(3, 10))
            payments.append(
                Payment(
                    "mortgage",
                    total_fen - earnest - down,
                    notice_on,
                    due,
                    paid(due, notice_on),
                    "mortgage",
                    lender,
                )
            )
    contract_no = f"YS{signed:%Y}{p.number:03d}{seq:06d}"
    return Contract(seq, unit, area, total_fen, signed, buyer, _id_number(rng), payments, contract_no)


def _plan_sales(rng: random.Random, scale: Scale, window: Window, plan: list[Project], target: int) -> None:
    """Add contracts, one at a time, to projects chosen by value and time on sale, until the money paid in
    the window reaches the target (fen). The last contract overshoots by less than one flat's payments."""
    total = 0
    end = window.end
    for p in plan[-scale.suspense_open :] if scale.suspense_open else []:  # unidentified money near year end
        day = _between(rng, max(p.sales_start, end - timedelta(days=6)), end)
        amount = rng.choice((20_000, 30_000, 50_000, 86_000, 120_000)) * 100
        p.strays.append(Stray(day, amount, _person(rng), _card_number(rng), "transfer"))
        total += amount

    def weight(p: Project) -> float:
        on_sale = max(1, (end - p.sales_start).days) / 365
        left = 1 - p.sold_x100 / p.area_x100
        return 0.0 if p.exhausted else p.area_x100 * p.price * on_sale**0.8 * max(0.0, left) ** 1.2

    weights = [weight(p) for p in plan]
    tree = _Fenwick(weights) if len(plan) >= FENWICK_FROM else None
    seq = itertools.count(1)
    while total < target:
        if tree is None:  # the city's own draws, as they always were
            cumulative = list(itertools.accumulate(weights))
            if cumulative[-1] <= 0:
                raise RuntimeError("the demo city sold out before reaching its deposit figure")
            i = bisect.bisect(cumulative, rng.random() * cumulative[-1])
        else:
            if tree.total() <= 0:
                raise RuntimeError("the demo city sold out before reaching its deposit figure")
            i = tree.find(rng.random() * tree.total())
        p = plan[min(i, len(plan) - 1)]
        contract = _plan_contract(rng, p, next(seq))
        if contract is None:
            p.exhausted = True
        else:
            p.contracts.append(contract)
            total += contract.in_period_fen
        weights[p.index] = weight(p)
        if tree is not None:
            tree.set(p.index, weights[p.index])

    # A few buyers paid their earnest without the notice number: suspense first, traced within days.
    candidates = [
        c
        for p in plan
        for c in p.contracts
        if window.start + timedelta(days=20) <= c.signed_on <= end - timedelta(days=8)
    ]
    for c in rng.sample(candidates, min(scale.suspense_assigned, len(candidates))):
        c.payments[0].assigned_on = c.payments[0].paid_on + timedelta(days=rng.randint(1, 3))
    for p in plan:
        p.contracts.sort(key=lambda c: (c.signed_on, c.seq))


class _Fenwick:
    """Weights with prefix sums in O(log n): a province's projects are drawn from it, where a fresh prefix
    sum for each of its ~800,000 contracts would cost minutes."""

    def __init__(self, weights: list[float]):
        self.n = len(weights)
        self.values = list(weights)
        self.tree = [0.0] * (self.n + 1)
        for i, w in enumerate(weights):
            self._add(i, w)

    def _add(self, i: int, delta: float) -> None:
        i += 1
        while i <= self.n:
            self.tree[i] += delta
            i += i & -i

    def set(self, i: int, weight: float) -> None:
        self._add(i, weight - self.values[i])
        self.values[i] = weight

    def total(self) -> float:
        i, s = self.n, 0.0
        while i > 0:
            s += self.tree[i]
            i -= i & -i
        return s

    def find(self, x: float) -> int:
        """The first index whose prefix sum exceeds `x` (bisect.bisect over the prefix sums)."""
        pos, step = 0, 1 << self.n.bit_length()
        while step:
            nxt = pos + step
            if nxt <= self.n and self.tree[nxt] <= x:
                pos = nxt
                x -= self.tree[nxt]
            step >>= 1
        while pos < self.n - 1 and self.values[pos] <= 0:  # float dust must not pick a sold-out project
            pos += 1
        return pos


def _plan_payer_accounts(rng: random.Random, p: Project) -> None:
    for c in p.contracts:
        for pay in c.payments:
            if pay.paid_on is None:
                continue
            pay.payer_account = LENDERS[pay.lender][1] if pay.lender is not None else _card_number(rng)


# --- releases ---------------------------------------------------------------------------------------------


def _plan_release(rng: random.Random, p: Project, node_code: str) -> ReleasePlan | None:
    """Most developers apply within two weeks of a node; each partner is paid to its own account."""
    if rng.random() >= 0.85:
        return None
    contractor = CONTRACTORS[p.index % len(CONTRACTORS)]
    payees = [Payee("construction", *contractor, _account_no(rng))]
    if node_code != "half_structure":
        payees.append(Payee("equipment", *rng.choice(SUPPLIERS["equipment"]), _account_no(rng)))
    payees.append(Payee("materials", *rng.choice(SUPPLIERS["materials"]), _account_no(rng)))
    return ReleasePlan(
        applies_after=rng.randint(3, 12),
        share_permille=rng.randint(550, 900),
        construction_percent=rng.randint(60, 80),
        payees=tuple(payees),
        step_gaps=tuple(rng.randint(1, 3) for _ in range(APPROVAL_STEPS_AT_MOST)),
        executes_after=rng.randint(1, 2),
        comments=tuple(rng.randrange(3) for _ in range(APPROVAL_STEPS_AT_MOST)),
    )


def _account_no(rng: random.Random) -> str:
    return f"{rng.randint(10**15, 10**16 - 1)}"


# --- the epilogue: 2026 -----------------------------------------------------------------------------------


def _plan_epilogue(
    rng: random.Random,
    cal: Calendar,
    developers: list[Developer],
    earlier: list[Project],
    newest: list[Project],
    taken: set[str],
) -> Epilogue:
    """The two earlier projects end their supervision at their bank within the period: one is carried to
    its end and closed, the other moves to another bank."""
    closing, moving = earlier
    dev = developers[closing.developer]
    closure = Closure(
        project=closing.index,
        nodes=_remaining_nodes(rng, closing, cal.closure_by),
        payee_name=dev.name,
        payee_account_no=_account_no(rng),
        payee_bank_name=rng.choice(BANKS)[1],
        reason="项目已完成首次登记，预售资金监管账户结清，解除监管",
    )
    new_bank = rng.choice([i for i in range(len(BANKS)) if i != moving.bank])
    bank_change = BankChange(
        project=moving.index,
        bank=new_bank,
        account_no=_new_account_no(rng, new_bank, moving.number, taken),
        executes_after=rng.randint(1, 3),
        reason="开发企业申请变更监管银行，经三方协商一致",
    )
    return Epilogue(tuple(earlier), closure, bank_change, tuple(newest))


def _new_account_no(rng: random.Random, bank: int, seq: int, taken: set[str]) -> str:
    while True:
        number = f"{BANKS[bank][2]}{rng.randint(1000, 9999)}{seq:05d}{rng.randint(100, 999)}"
        if number not in taken:
            taken.add(number)
            return number


def _remaining_nodes(rng: random.Random, p: Project, closure_by: date) -> tuple[NodePlan, ...]:
    """The project's nodes of its year, then the rest reached in the period, each confirmed days later; the
    last confirmed by `closure_by` (the gaps are squeezed where the drawn ones would run past it)."""
    nodes = list(p.nodes)
    codes = list(NODE_GAPS)
    reached = nodes[-1].reached_on if nodes else p.permit_date
    rest = codes[len(nodes) :]
    for k, code in enumerate(rest):
        lo, hi = NODE_GAPS[code]
        latest = closure_by - timedelta(days=8 * (len(rest) - k))  # room for the nodes still to come
        reached = max(reached + timedelta(days=1), min(reached + timedelta(days=rng.randint(lo, hi)), latest))
        nodes.append(NodePlan(code, reached, reached + timedelta(days=rng.randint(1, 6)), release=None))
    return tuple(nodes)


def _plan_new_project(
    rng: random.Random,
    today: date,
    developers: list[Developer],
    number: int,
    k: int,
    names: set[str],
    taken: set[str],
) -> Project:
    """A project permitted today with two to four buildings, its first contracts signed today."""
    district = DISTRICTS[0] if k == 1 else rng.choices(DISTRICTS, weights=[d[3] for d in DISTRICTS])[0]
    name = _project_name(rng, district, names, phases=False)
    developer = 0 if k == 1 else rng.randrange(len(developers))  # the demo's developer login sees the first
    bank = rng.choices(range(len(BANKS)), weights=[b[3] for b in BANKS])[0]
    floors = rng.choice(district[5])
    lo, hi = district[4]
    p = Project(
        index=k - 1,
        district=district,
        name=name,
        permit_no="",  # numbered when the whole city is drawn (_number)
        permit_date=today,
        opened_on=today,
        area_x100=0,
        finish="shell",
        price=rng.randint(lo, hi) // 10 * 10,
        developer=developer,
        bank=bank,
        account_no=_new_account_no(rng, bank, number, taken),
        sales_start=today,
        floors=floors,
        agreement_no=f"衡监协{today:%Y}-{k:03d}",
        number=number,
        year_end=today,
    )
    count = rng.randint(2, 4)
    progress = [2, 1] + [rng.randint(0, 2) for _ in range(count - 2)]  # at least two nodes apart
    rng.shuffle(progress)
    buildings, slots = [], []
    for b in range(1, count + 1):
        layout = _layouts(rng)
        area = 0
        for floor in range(2, floors + 1):
            for stair in (1, 2):
                for room in (1, 2):
                    flat = layout[(stair - 1) * 2 + room - 1]
                    slots.append((f"{b}号楼", f"{b}号楼{stair}单元{floor}{room:02d}", flat, floor))
                    area += flat
        code = f"{b}号楼"
        buildings.append(BuildingPlan(code, code, area, tuple(list(NODE_GAPS)[: progress[b - 1]])))
    p.buildings = tuple(buildings)
    p.area_x100 = sum(b.area_x100 for b in buildings)
    if k == 1:
        p.fund_plan = _plan_fund_plan(rng, p)
    for seq, (building, unit, area, floor) in enumerate(rng.sample(slots, rng.randint(4, 8)), start=1):
        price = p.price + (floor - floors // 2) * 20 + rng.randint(-60, 60)
        total_fen = area * min(12000, max(6000, price)) // 100 * 100  # whole yuan
        earnest = rng.choice((20_000, 30_000, 50_000)) * 100
        down = round_yuan(total_fen * rng.choice((20, 30, 30, 40)) // 100) - earnest
        channel = rng.choices(("counter", "transfer", "pos"), weights=(3, 5, 2))[0]
        due = today + timedelta(days=rng.randint(3, 15))
        paid = today if rng.random() < 0.5 else None  # some pay the down payment at once
        payments = [
            Payment("earnest", earnest, today, today, today, channel),
            Payment("down_payment", down, today, due, paid, channel),
        ]
        for pay in payments:
            if pay.paid_on is not None:
                pay.payer_account = _card_number(rng)
        p.contracts.append(
            Contract(
                seq,
                unit,
                area,
                total_fen,
                today,
                _person(rng),
                _id_number(rng),
                payments,
                f"YS{today:%Y}{number:03d}{seq:06d}",
                building,
            )
        )
    return p


# Of the building's cost (¥ a m² of pre-sale area), what each node draws, and the months after the permit
# it is expected in; a node already reached is drawn in the permit's month.
FUND_PLAN_NODES = {
    "half_structure": (600, 3),
    "topped_out": (700, 7),
    "completion_report": (500, 13),
    "completion_filed": (200, 15),
    "first_registration": (200, 18),
}


def _plan_fund_plan(rng: random.Random, p: Project) -> tuple[FundItem, ...]:
    """Each building's draws by node: the general contractor most, materials the rest, rounded to ¥10,000."""
    items = []
    for b in p.buildings:
        for code, (per_m2, months) in FUND_PLAN_NODES.items():
            month = 0 if code in b.nodes else months + rng.randint(-1, 1)
            year, month0 = divmod(p.permit_date.month - 1 + month, 12)
            on = f"{p.permit_date.year + year}-{month0 + 1:02d}"
            total = round_yuan(b.area_x100 * per_m2, 10_000)  # hundredths of m² × ¥/m² = fen
            construction = round_yuan(total * rng.randint(65, 80) // 100, 10_000)
            items.append(FundItem(b.code, code, on, "construction", construction))
            items.append(FundItem(b.code, code, on, "materials", total - construction))
    return tuple(items)
