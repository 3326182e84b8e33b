"""The plan of the demo city: what it looks like, drawn in memory from one seeded `random.Random`.

Pure: no database and no services. Two plans of one scale are equal, so two seeds give the same city (only the
voucher verification codes and API keys, made by the services, come from `secrets`). The plan holds the
developers, the projects with their buildings, units and pre-sale permits, the contracts with their payment
schedules, the unidentified payments, the days each node is reached and confirmed, and for each node the
release the developer will apply for: when, what share of the cap, how it is split among the partners and
how long each approval step takes. Only what depends on the books (the releasable amount on the day) is left
to the seeding.

Contracts are added to projects (weighted by value and by how long the project was on sale) until the
deposits inside the period reach the target, which is why the figures land within a fraction of a per cent.
The order of the draws is part of the figures: the cast, the projects and the sales are drawn first and in
the same order as ever, so the city's figures (191 accounts, 1,400,000.00 m², ¥7,285,623,257.00) stay put;
anything new is drawn after them.

The epilogue (`Epilogue`, drawn last of all) carries the city past its year to the day the rule book
hengshui@2026.2 comes into force (EPILOGUE_DAY, 2026-12-07) and shows an account's whole life:

- one 2025 project carried to its end: whatever it left open at the year's end is settled early in 2026, its
  remaining nodes are reached and confirmed through 2026, and the bureau orders the closure (解除监管), which
  its bank executes, paying the balance to the developer's own account: the account is closed at 0;
- one 2025 project moved to another supervising bank: the bureau orders the change early in 2026 and the old
  bank executes the transfer: the old account is closed, the new one at the other bank holds the balance;
- a few new projects opened on EPILOGUE_DAY under hengshui@2026.2, each with two to four buildings (楼栋)
  whose areas sum to the project's, a tri-party agreement number the bank confirms, a few contracts naming
  their building with their first payments, and per-building node confirmations at different nodes. Their
  permit is dated EPILOGUE_DAY (the book in force on the permit date is the one pinned) and a node cannot be
  reached before the permit nor after today, so everything of theirs happens on that one day: the buildings
  stand at the nodes they had reached when the permit was granted. The first of them (the demo developer's)
  also files its fund demand plan (资金需求计划) for every building and node, which the bureau approves.

Nothing of the epilogue falls inside the period, so the year's figures do not move.
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

PERIOD_START = date(2025, 1, 1)
PERIOD_END = date(2025, 12, 31)
NODE_GAPS = {  # days from the previous node (or the permit) to reaching this one
    "half_structure": (35, 120),
    "topped_out": (70, 140),
    "completion_report": (110, 200),
    "completion_filed": (20, 45),
    "first_registration": (30, 80),
}
APPROVAL_STEPS_AT_MOST = 3  # the shipped rule book's longest chain: reviewer, approver, director
EPILOGUE_DAY = date(2026, 12, 7)  # hengshui@2026.2 comes into force: the new projects open on this day
SETTLE_ON = date(2026, 1, 12)  # what the two projects left open at the year's end is approved from this day
BANK_CHANGE_ON = date(2026, 3, 2)  # the bureau orders the change of supervising bank
CLOSURE_BY = date(2026, 11, 20)  # the last node of the project carried to its end is confirmed by this day


@dataclass(frozen=True)
class Scale:
    name: str
    projects: int
    developers: int
    area_m2: int  # pre-sale area of the accounts opened in the period
    deposits_yuan: int  # deposits booked in the period
    suspense_assigned: int  # payments without a notice number, traced and assigned to their contract
    suspense_open: int  # unidentified payments still in suspense at the end of the period
    permits_from: date
    permits_to: date
    seed: int
    epilogue_projects: int = 2  # new projects opened on EPILOGUE_DAY, supervised by building
    bulk: bool = False  # seeded through the bulk path (escrow.services.bulk), not one use case a sale


SCALES = {
    "city": Scale(
        "city", 191, 32, 1_400_000, 7_285_000_000, 8, 6, date(2025, 1, 3), date(2025, 12, 19), 20250101, 3
    ),
    "small": Scale("small", 4, 3, 46_000, 170_000_000, 1, 1, date(2025, 1, 6), date(2025, 4, 18), 20250102),
    # ten times the city, and a province of 20,000 projects (area, deposits and counts scaled by 20000/191)
    "10x": Scale(
        "10x", 1910, 320, 14_000_000, 72_850_000_000, 80, 60,
        date(2025, 1, 3), date(2025, 12, 19), 20250110, 3, bulk=True,
    ),
    "province": Scale(
        "province", 20_000, 3351, 146_596_859, 762_827_225_131, 838, 628,
        date(2025, 1, 3), date(2025, 12, 19), 20250120, 3, bulk=True,
    ),
}  # fmt: skip
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


@dataclass(frozen=True)
class BuildingPlan:
    code: str
    name: str
    area_x100: int
    nodes: tuple[str, ...]  # the node codes confirmed on EPILOGUE_DAY, in order


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
    """A 2025 project carried to its end: its remaining nodes, then the closing payout to the developer."""

    project: int  # index into CityPlan.projects
    nodes: tuple[NodePlan, ...]  # every node, with the days of 2026 for those the year did not confirm
    payee_name: str
    payee_account_no: str
    payee_bank_name: str
    reason: str


@dataclass(frozen=True)
class BankChange:
    """A 2025 project moved to another supervising bank: ordered on BANK_CHANGE_ON, executed days later."""

    project: int  # index into CityPlan.projects
    bank: int  # the new bank, index into BANKS
    account_no: str
    executes_after: int  # days
    reason: str


@dataclass(frozen=True)
class Epilogue:
    closure: Closure
    bank_change: BankChange
    projects: tuple[Project, ...]  # opened on EPILOGUE_DAY, supervised by building


@dataclass(frozen=True)
class CityPlan:
    scale: Scale
    developers: tuple[Developer, ...]
    projects: tuple[Project, ...]
    epilogue: Epilogue  # 2026: after the period


def plan_city(scale: Scale) -> CityPlan:
    """The whole city, deterministic from `scale.seed`."""
    rng = random.Random(scale.seed)
    developers = _plan_developers(rng, scale)
    projects = _plan_projects(rng, scale, len(developers))
    _plan_sales(rng, scale, projects)
    for p in projects:  # drawn after the sales, so that the figures above do not move
        _plan_payer_accounts(rng, p)
        p.nodes = [replace(node, release=_plan_release(rng, p, node.code)) for node in p.nodes]
    epilogue = _plan_epilogue(rng, scale, developers, projects)  # last: the year above stays as it was
    return CityPlan(scale, tuple(developers), tuple(projects), epilogue)


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


def _plan_projects(rng: random.Random, scale: Scale, developer_count: int) -> list[Project]:
    n = scale.projects
    span = (scale.permits_to - scale.permits_from).days
    permits = sorted(scale.permits_from + timedelta(days=rng.randint(0, span)) for _ in range(n))
    raw = [min(4.0, max(0.3, rng.lognormvariate(0, 0.45))) for _ in range(n)]
    total_x100 = scale.area_m2 * 100
    areas = [int(total_x100 * r / sum(raw)) for r in raw]
    areas[-1] += total_x100 - sum(areas)  # the figure is exact
    dev_weights = [1 / (i + 1) ** 0.7 for i in range(developer_count)]
    bank_weights = [b[3] for b in BANKS]
    names: set[str] = set()
    result = []
    for i in range(n):
        district = rng.choices(DISTRICTS, weights=[d[3] for d in DISTRICTS])[0]
        for tries in itertools.count(1):
            name = district[1] + "·" + rng.choice(PROJECT_FIRST) + rng.choice(PROJECT_SECOND)
            name += rng.choice(PHASES)
            if tries > NAME_TRIES:  # never in the city (whose names stay as they were drawn)
                name += f"{tries}期"
            if name not in names:
                names.add(name)
                break
        finish = "finished" if rng.random() < 0.35 else "shell"
        lo, hi = district[4]
        price = rng.randint(lo, hi) // 10 * 10
        if finish == "finished":  # 精装修: the fit-out is in the price
            price += rng.randint(1000, 1500) // 10 * 10
        bank = 0 if i == 0 else rng.choices(range(len(BANKS)), weights=bank_weights)[0]
        permit = permits[i]
        p = Project(
            index=i,
            district=district,
            name=name,
            permit_no=f"衡预售2025-{i + 1:03d}",
            permit_date=permit,
            opened_on=max(PERIOD_START, permit - timedelta(days=rng.randint(0, 6))),
            area_x100=areas[i],
            finish=finish,
            price=min(price, 11800),
            developer=0 if i == 0 else rng.choices(range(developer_count), weights=dev_weights)[0],
            bank=bank,
            account_no=f"{BANKS[bank][2]}{rng.randint(1000, 9999)}{i + 1:05d}{rng.randint(100, 999)}",
            sales_start=min(PERIOD_END, permit + timedelta(days=rng.randint(2, 20))),
            floors=rng.choice(district[5]),
        )
        _plan_units(rng, p)
        p.nodes = [NodePlan(*node, release=None) for node in _plan_nodes(rng, p.permit_date)]
        result.append(p)
    return result


def _plan_nodes(rng: random.Random, permit: date) -> list[tuple[str, date, date]]:
    nodes, reached = [], permit
    for code, (lo, hi) in NODE_GAPS.items():
        reached = reached + timedelta(days=rng.randint(lo, hi))
        confirmed = reached + timedelta(days=rng.randint(1, 6))
        if confirmed > PERIOD_END - timedelta(days=1):
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
        signed = _between(rng, p.sales_start, min(PERIOD_END, p.sales_start + timedelta(days=14)))
    else:
        signed = _between(rng, p.sales_start, PERIOD_END)
    buyer = _person(rng)
    channel = rng.choices(("counter", "transfer", "pos"), weights=(3, 5, 2))[0]
    earnest = rng.choice((20_000, 30_000, 50_000)) * 100

    def paid(due: date, notice_on: date) -> date | None:
        on = max(notice_on, due - timedelta(days=rng.choice((0, 0, 0, 1, 2, 3))))
        return on if on <= PERIOD_END else None

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
        if notice_on <= PERIOD_END:
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
    contract_no = f"YS{signed:%Y}{p.index + 1:03d}{seq:06d}"
    return Contract(seq, unit, area, total_fen, signed, buyer, _id_number(rng), payments, contract_no)


def _plan_sales(rng: random.Random, scale: Scale, plan: list[Project]) -> None:
    """Add contracts, one at a time, to projects chosen by value and time on sale, until the money paid in
    the period reaches the target. The last contract overshoots by less than one flat's payments."""
    target = scale.deposits_yuan * 100
    total = 0
    for p in plan[-scale.suspense_open :] if scale.suspense_open else []:  # unidentified money near year end
        day = _between(rng, max(p.sales_start, PERIOD_END - timedelta(days=6)), PERIOD_END)
        amount = rng.choice((20_000, 30_000, 50_000, 86_000, 120_000)) * 100
        p.strays.append(Stray(day, amount, _person(rng), _card_number(rng), "transfer"))
        total += amount

    def weight(p: Project) -> float:
        on_sale = max(1, (PERIOD_END - p.sales_start).days) / 365
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
        if c.signed_on <= PERIOD_END - timedelta(days=8) and c.signed_on >= PERIOD_START + timedelta(days=20)
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
    rng: random.Random, scale: Scale, developers: list[Developer], projects: list[Project]
) -> Epilogue:
    """Two 2025 projects (not the first, whose developer and bank the demo's logins act for, and none with
    unidentified money) end their supervision at their bank; new projects open with buildings."""
    ending = [p for p in projects[1:] if not p.strays][:2]
    if len(ending) < 2:
        raise RuntimeError("the demo city needs two projects without unidentified money for its epilogue")
    closing, moving = ending
    dev = developers[closing.developer]
    closure = Closure(
        project=closing.index,
        nodes=_remaining_nodes(rng, closing),
        payee_name=dev.name,
        payee_account_no=_account_no(rng),
        payee_bank_name=rng.choice(BANKS)[1],
        reason="项目已完成首次登记，预售资金监管账户结清，解除监管",
    )
    new_bank = rng.choice([i for i in range(len(BANKS)) if i != moving.bank])
    taken = {p.account_no for p in projects}
    bank_change = BankChange(
        project=moving.index,
        bank=new_bank,
        account_no=_new_account_no(rng, new_bank, len(projects) + 1, taken),
        executes_after=rng.randint(1, 3),
        reason="开发企业申请变更监管银行，经三方协商一致",
    )
    names = {p.name for p in projects}
    new = [
        _plan_new_project(rng, developers, len(projects) + k, k + 1, names, taken)
        for k in range(scale.epilogue_projects)
    ]
    return Epilogue(closure, bank_change, tuple(new))


def _new_account_no(rng: random.Random, bank: int, seq: int, taken: set[str]) -> str:
    while True:
        number = f"{BANKS[bank][2]}{rng.randint(1000, 9999)}{seq:05d}{rng.randint(100, 999)}"
        if number not in taken:
            taken.add(number)
            return number


def _remaining_nodes(rng: random.Random, p: Project) -> tuple[NodePlan, ...]:
    """The project's nodes of the year, then the rest reached through 2026, each confirmed days later; the
    last confirmed by CLOSURE_BY (the gaps are squeezed where the drawn ones would run past it)."""
    nodes = list(p.nodes)
    codes = list(NODE_GAPS)
    reached = nodes[-1].reached_on if nodes else p.permit_date
    rest = codes[len(nodes) :]
    for k, code in enumerate(rest):
        lo, hi = NODE_GAPS[code]
        latest = CLOSURE_BY - timedelta(days=8 * (len(rest) - k))  # room for the nodes still to come
        reached = max(reached + timedelta(days=1), min(reached + timedelta(days=rng.randint(lo, hi)), latest))
        nodes.append(NodePlan(code, reached, reached + timedelta(days=rng.randint(1, 6)), release=None))
    return tuple(nodes)


def _plan_new_project(
    rng: random.Random, developers: list[Developer], index: int, k: int, names: set[str], taken: set[str]
) -> Project:
    """A project permitted on EPILOGUE_DAY with two to four buildings, its first contracts signed that day."""
    district = DISTRICTS[0] if k == 1 else rng.choices(DISTRICTS, weights=[d[3] for d in DISTRICTS])[0]
    for tries in itertools.count(1):
        name = district[1] + "·" + rng.choice(PROJECT_FIRST) + rng.choice(PROJECT_SECOND)
        if tries > NAME_TRIES:
            name += f"{tries}期"
        if name not in names:
            names.add(name)
            break
    developer = 0 if k == 1 else rng.randrange(len(developers))  # the demo's developer login sees the first
    bank = rng.choices(range(len(BANKS)), weights=[b[3] for b in BANKS])[0]
    floors = rng.choice(district[5])
    lo, hi = district[4]
    p = Project(
        index=index,
        district=district,
        name=name,
        permit_no=f"衡预售{EPILOGUE_DAY:%Y}-{k:03d}",
        permit_date=EPILOGUE_DAY,
        opened_on=EPILOGUE_DAY,
        area_x100=0,
        finish="shell",
        price=rng.randint(lo, hi) // 10 * 10,
        developer=developer,
        bank=bank,
        account_no=_new_account_no(rng, bank, index + 1, taken),
        sales_start=EPILOGUE_DAY,
        floors=floors,
        agreement_no=f"衡监协{EPILOGUE_DAY:%Y}-{k:03d}",
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
        due = EPILOGUE_DAY + timedelta(days=rng.randint(3, 15))
        paid = EPILOGUE_DAY if rng.random() < 0.5 else None  # some pay the down payment at once
        payments = [
            Payment("earnest", earnest, EPILOGUE_DAY, EPILOGUE_DAY, EPILOGUE_DAY, channel),
            Payment("down_payment", down, EPILOGUE_DAY, due, paid, channel),
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
                EPILOGUE_DAY,
                _person(rng),
                _id_number(rng),
                payments,
                f"YS{EPILOGUE_DAY:%Y}{index + 1:03d}{seq:06d}",
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
