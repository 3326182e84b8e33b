"""`escrow demo`: seed a Hengshui-like demo city into an empty database.

`city` reproduces the figures the revised Hengshui measures were reported with after their first year:
191 supervised accounts opened, 1.40 million m² of pre-sale area and ¥7.285 billion deposited, all inside the
fixed period 2025-01-01 … 2025-12-31, so that `GET /api/v1/stats?from=2025-01-01&to=2025-12-31` reports
them. `small` seeds four projects for a quick look.

How it is built:

* Everything is drawn from one seeded `random.Random`, so two runs give the same city (only the voucher
  verification codes and API keys come from `secrets`). The seed is *planned* in memory first: projects, their
  buildings and units, contracts and payment schedules. Contracts are added to projects (weighted by value
  and by how long the project was on sale) until the deposits inside the period reach the target, which is
  why the figures land within a fraction of a per cent.
* Low-volume objects go through the services (banks, developers, users, API keys, `open_project`,
  `confirm_node`), so that audit events are written and the rule book is pinned as in real use.
* High-volume rows (contracts, notices, deposits, vouchers, journal entries and legs) are bulk inserted with
  SQLAlchemy Core inside the same unit of work, with ids assigned here (PostgreSQL sequences are moved past
  them at the end). Journal entries are built with `escrow.domain.ledger`, so their legs always balance.
* Each project's journal is written in booking order; before a node is confirmed or a release is decided the
  journal up to that day is flushed, so that `services.projects.release_cap` sees the account as it was on
  that day. Every release stays within that cap, and is re-checked at each approval step.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import Engine, func, insert, select, text

from escrow.cli import CliError
from escrow.config import Settings
from escrow.domain import checks, credit_code, ledger
from escrow.domain.money import from_fen, to_wire
from escrow.domain.principal import SYSTEM, Principal
from escrow.rulebooks import RuleBook, load_dir
from escrow.services import parties, projects, stats
from escrow.services.context import Context
from escrow.services.deposits import new_verification_code
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    ApprovalStep,
    Bank,
    Contract,
    Deposit,
    JournalEntry,
    JournalLeg,
    PaymentInstruction,
    PaymentNotice,
    Project,
    Release,
    ReleaseDocument,
    ReleasePayee,
    SupervisedAccount,
    User,
    Voucher,
)

PERIOD_START = date(2025, 1, 1)
PERIOD_END = date(2025, 12, 31)
URL = "http://127.0.0.1:8000"


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


SCALES = {
    "city": Scale(
        "city", 191, 32, 1_400_000, 7_285_000_000, 8, 6, date(2025, 1, 3), date(2025, 12, 19), 20250101
    ),
    "small": Scale("small", 4, 3, 46_000, 170_000_000, 1, 1, date(2025, 1, 6), date(2025, 4, 18), 20250102),
}

# --- the cast -------------------------------------------------------------------------------------------

BANKS = (  # code, name, account number prefix, share of the supervised accounts
    ("HSB", "衡水银行股份有限公司", "6011", 0.34),
    ("CCBHS", "中国建设银行股份有限公司衡水分行", "1305", 0.20),
    ("ICBCHS", "中国工商银行股份有限公司衡水分行", "0408", 0.16),
    ("ABCHS", "中国农业银行股份有限公司衡水分行", "5071", 0.16),
    ("BOCHS", "中国银行股份有限公司衡水分行", "1003", 0.14),
)
LENDERS = (  # mortgage lenders paying buyers' mortgage notices: name, disbursement account
    ("中国建设银行股份有限公司衡水分行", "13050168360800000017"),
    ("中国工商银行股份有限公司衡水分行", "0408020109024500981"),
    ("中国农业银行股份有限公司衡水分行", "50710101040011577"),
    ("中国银行股份有限公司衡水分行", "100363521866"),
    ("衡水银行股份有限公司", "601101200100002281"),
    ("中国邮政储蓄银行股份有限公司衡水市分行", "913003010000155811"),
)
LENDER_WEIGHTS = (30, 22, 18, 12, 10, 8)

BUREAU_USERS = (  # username, role, display name, demo password (deterministic, ≥ 10 characters)
    ("admin", "admin", "王志刚（系统管理员）", "demo-admin-2025"),
    ("reviewer", "reviewer", "李静（初审）", "demo-reviewer-2025"),
    ("approver", "approver", "张伟（审批）", "demo-approver-2025"),
    ("director", "director", "刘建华（局领导）", "demo-director-2025"),
    ("inspector", "inspector", "陈磊（节点核验）", "demo-inspector-2025"),
    ("auditor", "auditor", "赵敏（审计）", "demo-auditor-2025"),
)
DEVELOPER_USER = ("developer", "demo-developer-2025")

# district, short name, division code, share of projects, shell price range (¥/m²), typical floors
DISTRICTS = (
    ("桃城区", "桃城", "131102", 0.30, (8600, 10600), (11, 18, 26)),
    ("衡水高新技术产业开发区", "高新区", "131171", 0.10, (8200, 10000), (11, 18, 26)),
    ("衡水滨湖新区", "滨湖新区", "131172", 0.07, (9000, 10800), (6, 11, 18)),
    ("冀州区", "冀州", "131103", 0.11, (7000, 8800), (11, 18)),
    ("深州市", "深州", "131182", 0.08, (6800, 8500), (11, 18)),
    ("枣强县", "枣强", "131121", 0.05, (6100, 7600), (6, 11, 18)),
    ("武邑县", "武邑", "131122", 0.04, (6000, 7400), (6, 11, 18)),
    ("武强县", "武强", "131123", 0.03, (6000, 7300), (6, 11)),
    ("饶阳县", "饶阳", "131124", 0.03, (6000, 7300), (6, 11)),
    ("安平县", "安平", "131125", 0.05, (6300, 7800), (6, 11, 18)),
    ("故城县", "故城", "131126", 0.05, (6000, 7500), (6, 11, 18)),
    ("景县", "景县", "131127", 0.05, (6100, 7600), (6, 11, 18)),
    ("阜城县", "阜城", "131128", 0.04, (6000, 7300), (6, 11)),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PROJECT_FIRST = _words(
    "滏阳 衡湖 人民 中华 育才 和平 永兴 榕花 前进 胜利 红旗 大庆 新华 宝云 东明 安济 朝阳 "
    "锦绣 翰林 书香 怡然 阳光 盛世 御景 天宸 湖韵 桃源 长安 康宁 泰和 丰泽 明珠 紫薇 "
    "悦湖 北辰 金融街 西湖"
)
PROJECT_SECOND = _words(
    "华府 名苑 雅居 花园 尚城 公馆 御府 美庐 春晓 家园 壹号院 悦府 天著 玺园 学府 佳苑 "
    "新城 锦园 兰亭 云著 澜庭 府邸 嘉园 和院"
)
PHASES = ("", "", "一期", "二期", "二期", "三期", "四期", "东区", "西区", "北区")
DEVELOPER_WORDS = _words(
    "安居 恒泰 滏阳 湖景 宏业 鼎盛 锦程 瑞祥 康泰 盛世 嘉禾 泰和 丰泽 永兴 和悦 鸿运 中浩 "
    "汇通 广源 明珠 翰林 君悦 天成 信达 润泽 福源 德润 兴业 宝隆 华庭 金桥 正弘 隆基 "
    "新天地 众成 同创 博远 睿城 海润 昌盛"
)
DEVELOPER_SUFFIXES = ("房地产开发有限公司", "房地产开发有限公司", "置业有限公司", "房地产开发集团有限公司")
CONTRACTORS = (
    ("衡水恒建建筑工程有限公司", "河北银行股份有限公司衡水分行"),
    ("河北冀衡建设集团有限公司", "中国建设银行股份有限公司衡水分行"),
    ("衡水市宏远建筑安装工程有限公司", "中国工商银行股份有限公司衡水分行"),
    ("冀州区广厦建筑工程有限公司", "中国农业银行股份有限公司冀州支行"),
    ("深州市华兴建设工程有限公司", "衡水银行股份有限公司深州支行"),
    ("衡水湖滨建筑工程有限公司", "中国银行股份有限公司衡水分行"),
    ("河北衡安建工集团有限公司", "衡水银行股份有限公司"),
)
SUPPLIERS = {
    "materials": (
        ("衡水安泰商品混凝土有限公司", "衡水银行股份有限公司"),
        ("河北衡钢建材贸易有限公司", "中国建设银行股份有限公司衡水分行"),
        ("衡水鑫源钢材销售有限公司", "中国工商银行股份有限公司衡水分行"),
        ("衡水宏达保温材料有限公司", "中国农业银行股份有限公司衡水分行"),
    ),
    "equipment": (
        ("河北衡远电梯工程有限公司", "中国银行股份有限公司衡水分行"),
        ("衡水新风暖通设备有限公司", "衡水银行股份有限公司"),
        ("衡水恒通消防设备有限公司", "中国建设银行股份有限公司衡水分行"),
    ),
}
SURNAMES = _words(
    "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 马 胡 朱 郭 何 高 林 贾 董 田 韩 冯 崔 耿 齐 魏 "
    "孟 石 谷 宋 郑 梁 谢 曹 袁 许 吕 苏 卢 蒋 丁 任 姚 范 金 侯 秦 薛 尹 段 史 贺 郝 邵 "
    "武 牛 常 路 边 霍 甄 申 白 安"
)
GIVEN = _words(
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 志强 "
    "晓东 海燕 红梅 国庆 立新 子涵 浩然 欣怡 梓萱 宇航 雨桐 思远 佳琪 俊杰 文博 振华 丽娟 "
    "建军 春生 玉兰 淑芬 志刚 亚楠 晨阳 一鸣 嘉怡 铭轩 若曦 子墨 金凤 永强 少华 海涛 文静 "
    "晓燕"
)
BIRTH_REGIONS = _words(  # resident ID region codes: mostly Hengshui, some from elsewhere in Hebei and beyond
    "131102 131102 131102 131103 131182 131121 131122 131123 131124 131125 131126 131127 "
    "131128 130102 130902 130503 110105 371402"
)
LAYOUTS = (  # building area of a flat type (m²) and how common it is
    *((72.6, 2), (89.3, 14), (98.7, 14), (105.2, 10), (115.8, 16), (120.4, 12)),
    *((128.9, 12), (135.6, 9), (143.2, 7), (159.8, 3), (178.5, 1)),
)
EVIDENCE = {
    "construction_progress_report": "施工进度报告（主体结构完成二分之一）",
    "supervision_engineer_confirmation": "监理单位形象进度确认意见",
    "topping_out_acceptance": "主体结构封顶验收记录",
    "completion_acceptance_report": "建设工程竣工验收报告",
    "completion_filing_certificate": "建设工程竣工验收备案证明",
    "first_registration_certificate": "不动产首次登记证明",
}
DOCUMENTS = {"wage_arrears_statement": "农民工工资无拖欠情况说明"}
APPROVAL_COMMENTS = {
    "reviewer": ("材料齐全，节点已核验，同意", "经初审，符合拨付条件", "资料完整，提交审批"),
    "approver": ("同意拨付", "同意，按节点比例拨付", "审批通过"),
    "director": ("同意", "同意拨付，注意留存资金", "同意，请银行按指令支付"),
}


# --- what the seed produced -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    display_name: str
    developer: str | None = None  # credit code, for developer staff


@dataclass
class DemoResult:
    scale: str
    period: tuple[date, date]
    figures: dict[str, Any]  # services.stats.city_stats for the period
    logins: list[Login]
    api_keys: dict[str, str]  # "bank", "developer", "admin" → plaintext key
    bank_code: str
    developer_code: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# --- the plan (pure, in memory) -------------------------------------------------------------------------


@dataclass
class _Payment:
    kind: str  # earnest | down_payment | full | mortgage
    amount_fen: int
    notice_on: date
    due_on: date
    paid_on: date | None  # None: not paid within the period
    channel: str
    lender: int | None = None  # index into LENDERS for a mortgage
    assigned_on: date | None = None  # paid without the notice number: suspense, assigned on this day
    notice_id: int = 0  # set while writing
    deposit_id: int = 0


@dataclass
class _Contract:
    seq: int
    unit: str
    area_x100: int
    total_fen: int
    signed_on: date
    buyer_name: str
    buyer_id_no: str
    payments: list[_Payment]
    contract_id: int = 0

    @property
    def in_period_fen(self) -> int:
        return sum(p.amount_fen for p in self.payments if p.paid_on is not None)


@dataclass
class _Stray:
    """Money that reached an account with no notice number and could not be traced by the period's end."""

    paid_on: date
    amount_fen: int
    payer_name: str
    payer_account: str
    channel: str


@dataclass
class _Project:
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
    contracts: list[_Contract] = field(default_factory=list)
    strays: list[_Stray] = field(default_factory=list)
    sold_x100: int = 0
    exhausted: bool = False
    nodes: list[tuple[str, date, date]] = field(default_factory=list)  # code, reached_on, confirmed on


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


def _layouts(rng: random.Random) -> list[int]:
    areas, weights = zip(*LAYOUTS, strict=True)
    return [round(a * 100) + rng.randint(-40, 40) for a in rng.choices(areas, weights=weights, k=4)]


def _plan_units(rng: random.Random, p: _Project) -> None:
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


def _plan_projects(rng: random.Random, scale: Scale, developer_count: int) -> list[_Project]:
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
        while True:
            name = district[1] + "·" + rng.choice(PROJECT_FIRST) + rng.choice(PROJECT_SECOND)
            name += rng.choice(PHASES)
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
        p = _Project(
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
        p.nodes = _plan_nodes(rng, p.permit_date)
        result.append(p)
    return result


NODE_GAPS = {  # days from the previous node (or the permit) to reaching this one
    "half_structure": (35, 120),
    "topped_out": (70, 140),
    "completion_report": (110, 200),
    "completion_filed": (20, 45),
    "first_registration": (30, 80),
}


def _plan_nodes(rng: random.Random, permit: date) -> list[tuple[str, date, date]]:
    nodes, reached = [], permit
    for code, (lo, hi) in NODE_GAPS.items():
        reached = reached + timedelta(days=rng.randint(lo, hi))
        confirmed = reached + timedelta(days=rng.randint(1, 6))
        if confirmed > PERIOD_END - timedelta(days=1):
            break
        nodes.append((code, reached, confirmed))
    return nodes


def _round_yuan(fen: int, step: int = 100) -> int:
    return fen // (step * 100) * (step * 100)


def _plan_contract(rng: random.Random, p: _Project, seq: int) -> _Contract | None:
    if not p.slots:
        return None
    unit, area, floor = p.slots[-1]
    if p.sold_x100 + area > p.area_x100 * 95 // 100:
        return None
    p.slots.pop()
    p.sold_x100 += area
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

    payments = [_Payment("earnest", earnest, signed, signed, signed, channel)]
    if rng.random() < 0.28:  # paid in full
        due = signed + timedelta(days=rng.randint(5, 20))
        payments.append(_Payment("full", total_fen - earnest, signed, due, paid(due, signed), channel))
    else:
        share = rng.choice((15, 20, 20, 30, 30, 30, 35, 40))
        down = _round_yuan(total_fen * share // 100) - earnest
        due = signed + timedelta(days=rng.randint(3, 15))
        down_paid = paid(due, signed)
        payments.append(_Payment("down_payment", down, signed, due, down_paid, channel))
        notice_on = (down_paid or due) + timedelta(days=rng.randint(8, 35))  # the loan is approved
        if notice_on <= PERIOD_END:
            lender = rng.choices(range(len(LENDERS)), weights=LENDER_WEIGHTS)[0]
            due = notice_on + timedelta(days=rng.randint(3, 10))
            payments.append(
                _Payment(
                    "mortgage",
                    total_fen - earnest - down,
                    notice_on,
                    due,
                    paid(due, notice_on),
                    "mortgage",
                    lender,
                )
            )
    return _Contract(seq, unit, area, total_fen, signed, buyer, _id_number(rng), payments)


def _plan_sales(rng: random.Random, scale: Scale, plan: list[_Project]) -> None:
    """Add contracts, one at a time, to projects chosen by value and time on sale, until the money paid in
    the period reaches the target. The last contract overshoots by less than one flat's payments."""
    target = scale.deposits_yuan * 100
    total = 0
    for p in plan[-scale.suspense_open :] if scale.suspense_open else []:  # unidentified money near year end
        day = _between(rng, max(p.sales_start, PERIOD_END - timedelta(days=6)), PERIOD_END)
        amount = rng.choice((20_000, 30_000, 50_000, 86_000, 120_000)) * 100
        p.strays.append(_Stray(day, amount, _person(rng), f"6217{rng.randrange(10**15):015d}", "transfer"))
        total += amount

    def weight(p: _Project) -> float:
        on_sale = max(1, (PERIOD_END - p.sales_start).days) / 365
        left = 1 - p.sold_x100 / p.area_x100
        return 0.0 if p.exhausted else p.area_x100 * p.price * on_sale**0.8 * max(0.0, left) ** 1.2

    weights = [weight(p) for p in plan]
    seq = itertools.count(1)
    while total < target:
        cumulative = list(itertools.accumulate(weights))
        if cumulative[-1] <= 0:
            raise RuntimeError("the demo city sold out before reaching its deposit figure")
        i = bisect.bisect(cumulative, rng.random() * cumulative[-1])
        p = plan[min(i, len(plan) - 1)]
        contract = _plan_contract(rng, p, next(seq))
        if contract is None:
            p.exhausted = True
        else:
            p.contracts.append(contract)
            total += contract.in_period_fen
        weights[p.index] = weight(p)

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


# --- writing the plan -----------------------------------------------------------------------------------


def _at(day: date, rng: random.Random) -> datetime:
    """A moment in office hours (Beijing time) of `day`, as UTC."""
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(8 * 3600)
    )


class _Clock:
    """The simulated day: the services' idea of today while the year is replayed."""

    def __init__(self, day: date):
        self.day = day

    def __call__(self) -> date:
        return self.day


class _Bulk:
    """Rows for Core bulk inserts, with ids assigned here; flushed in foreign-key order."""

    ORDER = (Contract, PaymentNotice, Deposit, Voucher)
    JOURNAL = (JournalEntry, JournalLeg)

    def __init__(self, uow: UnitOfWork):
        self.uow = uow
        self.connection = uow.session.connection()  # the unit of work's transaction, without ORM autoflush
        self.rows: dict[type, list[dict]] = {t: [] for t in (*self.ORDER, *self.JOURNAL)}
        self.next_id: dict[type, int] = {}
        self.counts: dict[type, int] = {t: 0 for t in self.rows}
        for table in self.rows:
            top = uow.session.scalar(select(func.max(table.__table__.c.id)))
            self.next_id[table] = (top or 0) + 1

    def id(self, table: type) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def add(self, table: type, row: dict) -> None:
        self.rows[table].append(row)

    def post(self, account_id: int, entry: ledger.Entry, at: datetime) -> int:
        entry_id = self.id(JournalEntry)
        self.add(
            JournalEntry,
            {
                "id": entry_id,
                "account_id": account_id,
                "kind": entry.kind.value,
                "booked_on": entry.booked_on,
                "reference": entry.reference,
                "amount_fen": sum(leg.amount_fen for leg in entry.legs if leg.amount_fen > 0),
                "created_at": at,
            },
        )
        for leg in entry.legs:
            self.add(
                JournalLeg,
                {
                    "id": self.id(JournalLeg),
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "ledger": leg.ledger.value,
                    "amount_fen": leg.amount_fen,
                },
            )
        return entry_id

    def flush(self, tables: tuple[type, ...]) -> None:
        for table in tables:
            rows = self.rows[table]
            if rows:
                self.connection.execute(insert(table.__table__), rows)
                self.counts[table] += len(rows)
                self.rows[table] = []

    def flush_journal(self) -> None:
        """Bulk-inserted journal rows are claimed by an audit event, as every booking is (audit verify)."""
        entries, legs = self.rows[JournalEntry], self.rows[JournalLeg]
        if not entries:
            return
        audit.note_journal(self.uow.session, entries, legs)
        self.flush(self.JOURNAL)
        audit.record(
            self.uow.session,
            actor="operator:demo",
            action="journal.seeded",
            subject_type="journal",
            subject_id=f"{entries[0]['id']}-{entries[-1]['id']}",
            details={"entries": len(entries)},
        )

    def flush_all(self) -> None:
        self.flush(self.ORDER)
        self.flush_journal()

    def move_sequences(self) -> None:
        """PostgreSQL: ids were assigned here, so move each table's sequence past them."""
        if self.uow.dialect != "postgresql":
            return
        for table in self.rows:
            name = table.__tablename__
            self.uow.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
            )


def _check_results(book: RuleBook, facts: checks.DepositFacts) -> tuple[list[dict[str, str]], bool]:
    """The rule book's deposit checks on `facts`: (results as stored, whether a blocking check failed)."""
    results, blocked = [], False
    for spec in book.deposit_checks:
        outcome = checks.REGISTRY[spec.rule](facts, spec.params)
        if outcome.passed:
            result = "pass"
        elif spec.severity == "block":
            result, blocked = "fail", True
        else:
            result = "warn"
        results.append({"rule": spec.rule, "result": result, "message": outcome.message})
    return results, blocked


@dataclass
class _Cast:
    banks: list[Bank]
    developers: list[str]  # credit codes
    developer_names: list[str]
    users: dict[str, User]  # by role


class _Seeder:
    def __init__(self, uow: UnitOfWork, ctx: Context, clock: _Clock, rng: random.Random, cast: _Cast):
        self.uow, self.ctx, self.clock, self.rng, self.cast = uow, ctx, clock, rng, cast
        self.bulk = _Bulk(uow)
        self.bank_seq: dict[int, itertools.count] = {}
        self.releases = {"executed": 0, "submitted": 0}
        self.suspense = 0

    def actor(self, role: str) -> Principal:
        user = self.cast.users[role]
        return Principal("user", user.id, user.username, role=user.role, user_id=user.id)

    def bank_reference(self, bank: Bank, day: date) -> str:
        seq = self.bank_seq.setdefault(bank.id, itertools.count(1))
        return f"{bank.code}{day:%Y%m%d}{next(seq):07d}"

    # -- one project ------------------------------------------------------------------------------------

    def open(self, p: _Project) -> tuple[Project, SupervisedAccount]:
        developer_code = self.cast.developers[p.developer]
        self.clock.day = p.opened_on
        view = projects.open_project(
            self.uow,
            self.ctx,
            projects.OpenProject(
                developer_credit_code=developer_code,
                name=p.name,
                permit_no=p.permit_no,
                permit_date=p.permit_date,
                presale_area_m2=Decimal(p.area_x100) / 100,
                finish=p.finish,
                bank_code=self.cast.banks[p.bank].code,
                account_no=p.account_no,
                account_name=self.cast.developer_names[p.developer]
                + p.name.split("·", 1)[-1]
                + "预售资金监管账户",
                opened_on=p.opened_on,
            ),
            self.actor("admin"),
        )
        project = self.uow.projects.get(view["project_id"])
        return project, self.uow.projects.account_for(project.id)

    def run(self, p: _Project, project: Project, account: SupervisedAccount) -> None:
        book = self.ctx.rulebook(project.rulebook_id)
        bank = self.cast.banks[p.bank]
        journal = self.write_sales(p, project, account, book, bank)
        journal.sort(key=lambda item: (item[0], item[1]))
        position = 0

        def advance(day: date) -> None:
            nonlocal position
            while position < len(journal) and journal[position][0] <= day:
                journal[position][2]()
                position += 1
            self.bulk.flush_journal()
            self.clock.day = max(self.clock.day, day)

        for code, reached, planned in p.nodes:
            confirmed = max(planned, self.clock.day)  # not before the last release of the previous node
            if confirmed > PERIOD_END:
                break
            advance(confirmed)
            node = book.node(code)
            evidence = tuple(
                projects.Evidence(
                    kind=kind,
                    description=EVIDENCE.get(kind, kind),
                    filename=f"{EVIDENCE.get(kind, kind)}.pdf",
                    sha256=hashlib.sha256(f"{p.permit_no}/{code}/{kind}".encode()).hexdigest(),
                )
                for kind in node.evidence
            )
            projects.confirm_node(
                self.uow,
                self.ctx,
                projects.ConfirmNode(project.id, code, reached, evidence),
                self.actor("inspector"),
            )
            if self.rng.random() < 0.85:
                applied = confirmed + timedelta(days=self.rng.randint(3, 12))
                if applied <= PERIOD_END:
                    self.release(p, project, account, book, code, applied, advance)
        advance(PERIOD_END)

    def write_sales(
        self, p: _Project, project: Project, account: SupervisedAccount, book: RuleBook, bank: Bank
    ) -> list[tuple[date, int, Callable[[], None]]]:
        """Contracts and notices now; deposits, vouchers and journal entries as callables by booking day."""
        bulk, rng = self.bulk, self.rng
        journal: list[tuple[date, int, Callable[[], None]]] = []
        order = itertools.count()
        for c in p.contracts:
            c.contract_id = bulk.id(Contract)
            bulk.add(
                Contract,
                {
                    "id": c.contract_id,
                    "project_id": project.id,
                    "account_id": account.id,
                    "contract_no": f"YS{c.signed_on:%Y}{p.index + 1:03d}{c.seq:06d}",
                    "buyer_name": c.buyer_name,
                    "buyer_id_no": c.buyer_id_no,
                    "unit": c.unit,
                    "area_x100": c.area_x100,
                    "total_price_fen": c.total_fen,
                    "signed_on": c.signed_on,
                    "status": "signed",
                    "created_at": _at(c.signed_on, rng),
                },
            )
            paid_so_far = [0]
            for pay in c.payments:
                pay.notice_id = bulk.id(PaymentNotice)
                bulk.add(
                    PaymentNotice,
                    {
                        "id": pay.notice_id,
                        "notice_no": f"TZ{pay.notice_on:%Y%m%d}{pay.notice_id:07d}",  # as services.sales does
                        "contract_id": c.contract_id,
                        "account_id": account.id,
                        "kind": pay.kind,
                        "amount_fen": pay.amount_fen,
                        "due_on": pay.due_on,
                        "status": "paid" if pay.paid_on else "open",
                        "created_at": _at(pay.notice_on, rng),
                    },
                )
                if pay.paid_on is not None:
                    journal.append(
                        (
                            pay.paid_on,
                            next(order),
                            self._deposit_writer(account, book, bank, c, pay, paid_so_far),
                        )
                    )
                    if pay.assigned_on is not None:
                        journal.append((pay.assigned_on, next(order), self._assignment_writer(account, pay)))
        for stray in p.strays:
            journal.append((stray.paid_on, next(order), self._stray_writer(account, book, bank, stray)))
        return journal

    def _deposit_writer(
        self,
        account: SupervisedAccount,
        book: RuleBook,
        bank: Bank,
        c: _Contract,
        pay: _Payment,
        paid_so_far: list[int],
    ) -> Callable[[], None]:
        def write() -> None:
            bulk, rng = self.bulk, self.rng
            day = pay.paid_on
            reference = self.bank_reference(bank, day)
            at = _at(day, rng)
            if pay.lender is not None:
                payer_name, payer_account = LENDERS[pay.lender]
            else:
                payer_name, payer_account = c.buyer_name, f"6217{rng.randrange(10**15):015d}"
            traced_later = pay.assigned_on is not None
            facts = checks.DepositFacts(
                account_no=account.account_no,
                amount=from_fen(pay.amount_fen),
                payer_name=payer_name,
                value_date=day,
                today=day,
                notice_given=not traced_later,
                notice_account_no=None if traced_later else account.account_no,
                notice_status=None if traced_later else "open",
                notice_amount=None if traced_later else from_fen(pay.amount_fen),
                notice_kind=None if traced_later else pay.kind,
                buyer_name=None if traced_later else c.buyer_name,
                contract_status=None if traced_later else "signed",
                contract_price=None if traced_later else from_fen(c.total_fen),
                paid_so_far=from_fen(paid_so_far[0]),
                payer_is_lender=pay.lender is not None,
            )
            results, blocked = _check_results(book, facts)
            if blocked != traced_later:
                raise RuntimeError(f"demo deposit {reference}: checks {results} disagree with the plan")
            paid_so_far[0] += pay.amount_fen
            deposit_id = bulk.id(Deposit)
            bulk.add(
                Deposit,
                {
                    "id": deposit_id,
                    "account_id": account.id,
                    "bank_id": bank.id,
                    "bank_reference": reference,
                    "amount_fen": pay.amount_fen,
                    "payer_name": payer_name,
                    "payer_account": payer_account,
                    "notice_id": pay.notice_id,
                    "contract_id": c.contract_id,
                    "kind": pay.kind,
                    "channel": pay.channel,
                    "value_date": day,
                    "status": "assigned" if traced_later else "accepted",
                    "checks": results,
                    "rulebook_id": book.id,
                    "created_at": at,
                },
            )
            entry = ledger.deposit(
                pay.amount_fen, suspense=traced_later, booked_on=day, reference=f"deposit:{deposit_id}"
            )
            bulk.post(account.id, entry, at)
            pay.deposit_id = deposit_id
            if traced_later:
                self.suspense += 1
            else:
                self._voucher(account, deposit_id, day, at)

        return write

    def _assignment_writer(self, account: SupervisedAccount, pay: _Payment) -> Callable[[], None]:
        def write() -> None:
            day = pay.assigned_on
            at = _at(day, self.rng)
            entry = ledger.suspense_assigned(
                pay.amount_fen, booked_on=day, reference=f"suspense_assigned:{pay.deposit_id}"
            )
            self.bulk.post(account.id, entry, at)
            self._voucher(account, pay.deposit_id, day, at)

        return write

    def _stray_writer(
        self, account: SupervisedAccount, book: RuleBook, bank: Bank, stray: _Stray
    ) -> Callable[[], None]:
        def write() -> None:
            day, at = stray.paid_on, _at(stray.paid_on, self.rng)
            reference = self.bank_reference(bank, day)
            facts = checks.DepositFacts(
                account_no=account.account_no,
                amount=from_fen(stray.amount_fen),
                payer_name=stray.payer_name,
                value_date=day,
                today=day,
                notice_given=False,
            )
            results, _ = _check_results(book, facts)
            deposit_id = self.bulk.id(Deposit)
            self.bulk.add(
                Deposit,
                {
                    "id": deposit_id,
                    "account_id": account.id,
                    "bank_id": bank.id,
                    "bank_reference": reference,
                    "amount_fen": stray.amount_fen,
                    "payer_name": stray.payer_name,
                    "payer_account": stray.payer_account,
                    "notice_id": None,
                    "contract_id": None,
                    "kind": "other",
                    "channel": stray.channel,
                    "value_date": day,
                    "status": "suspense",
                    "checks": results,
                    "rulebook_id": book.id,
                    "created_at": at,
                },
            )
            entry = ledger.deposit(
                stray.amount_fen, suspense=True, booked_on=day, reference=f"deposit:{deposit_id}"
            )
            self.bulk.post(account.id, entry, at)
            self.suspense += 1

        return write

    def _voucher(self, account: SupervisedAccount, deposit_id: int, day: date, at: datetime) -> None:
        voucher_id = self.bulk.id(Voucher)
        self.bulk.add(
            Voucher,
            {
                "id": voucher_id,
                "voucher_no": f"PZ{day:%Y%m%d}{voucher_id:07d}",  # as services.deposits numbers them
                "deposit_id": deposit_id,
                "account_id": account.id,
                "verification_code": new_verification_code(),
                # confirmed: matched to the bank's statement line; the last days are not yet matched
                "status": "confirmed" if day <= PERIOD_END - timedelta(days=2) else "issued",
                "receipt_no": None,
                "issued_at": at,
            },
        )

    # -- releases -------------------------------------------------------------------------------------

    def release(
        self,
        p: _Project,
        project: Project,
        account: SupervisedAccount,
        book: RuleBook,
        node_code: str,
        applied: date,
        advance: Callable[[date], None],
    ) -> None:
        uow, rng = self.uow, self.rng
        advance(applied)
        cap = projects.release_cap(uow, self.ctx, project, account)
        amount_fen = _round_yuan(int(cap.releasable * 100 * Decimal(str(rng.uniform(0.55, 0.9)))), 10_000)
        if amount_fen < 1_000_000_00:
            return
        node = book.node(node_code)
        contractor = CONTRACTORS[p.index % len(CONTRACTORS)]
        payees = [("construction", *contractor, round(amount_fen * rng.uniform(0.6, 0.8) / 100) * 100)]
        if node_code != "half_structure":
            payees.append(("equipment", *rng.choice(SUPPLIERS["equipment"]), _round_yuan(amount_fen // 8, 1)))
        payees.append(
            ("materials", *rng.choice(SUPPLIERS["materials"]), amount_fen - sum(x[3] for x in payees))
        )
        release = uow.projects.add(
            Release(
                project_id=project.id,
                account_id=account.id,
                developer_id=project.developer_id,
                node_code=node_code,
                amount_fen=amount_fen,
                purpose=f"{node.name_zh}节点资金拨付：支付总包工程进度款、材料款"
                + ("及设备款" if len(payees) == 3 else ""),
                status="submitted",
                cap={"releasable": to_wire(cap.releasable), "explanation": cap.to_json()},
                rulebook_id=book.id,
                created_at=_at(applied, rng),
            )
        )
        for role, name, bank_name, fen in payees:
            uow.session.add(
                ReleasePayee(
                    release_id=release.id,
                    account_id=account.id,
                    name=name,
                    account_no=f"{rng.randint(10**15, 10**16 - 1)}",
                    bank_name=bank_name,
                    role=role,
                    amount_fen=fen,
                )
            )
        for kind in book.release.required_documents:
            body = f"{p.name} {node.name_zh} {DOCUMENTS.get(kind, kind)} {applied}".encode()
            uow.session.add(
                ReleaseDocument(
                    release_id=release.id,
                    account_id=account.id,
                    kind=kind,
                    filename=f"{DOCUMENTS.get(kind, kind)}.pdf",
                    sha256=hashlib.sha256(body).hexdigest(),
                    size=48_000 + rng.randrange(200_000),
                )
            )
        developer = f"developer:{project.developer_id}"
        audit.record(
            uow.session,
            actor=developer,
            action="release.submitted",
            subject_type="release",
            subject_id=release.id,
            account_id=account.id,
            after={"amount": to_wire(from_fen(amount_fen)), "node_code": node_code, "cap": release.cap},
        )
        steps = book.approval_steps_for(from_fen(amount_fen))
        day, decided = applied, []
        for _ in steps:
            day = day + timedelta(days=rng.randint(1, 3))
            decided.append(day)
        executed_on = day + timedelta(days=rng.randint(1, 2))
        if executed_on > PERIOD_END:  # still with the bureau when the period ends
            self.releases["submitted"] += 1
            return
        for step_no, (step, day) in enumerate(zip(steps, decided, strict=True), start=1):
            advance(day)
            recheck = projects.release_cap(uow, self.ctx, project, account)
            if recheck.releasable * 100 < amount_fen:  # balances only grew since the application
                raise RuntimeError(f"demo release {release.id} exceeds the cap at step {step_no}")
            user = self.cast.users[step.role]
            uow.session.add(
                ApprovalStep(
                    release_id=release.id,
                    account_id=account.id,
                    step_no=step_no,
                    role=step.role,
                    decided_by=user.id,
                    decision="approve",
                    comment=rng.choice(APPROVAL_COMMENTS.get(step.role, ("同意",))),
                    cap={"releasable": to_wire(recheck.releasable), "explanation": recheck.to_json()},
                    rulebook_id=book.id,
                    decided_at=_at(day, rng),
                )
            )
            audit.record(
                uow.session,
                actor=f"user:{user.id}",
                action="release.step_approved",
                subject_type="release",
                subject_id=release.id,
                account_id=account.id,
                before={"status": "submitted", "steps": step_no - 1},
                after={"status": "approved" if step_no == len(steps) else "submitted", "steps": step_no},
                details={"step_no": step_no, "role": step.role, "releasable": to_wire(recheck.releasable)},
            )
        audit.record(
            uow.session,
            actor=f"user:{self.cast.users[steps[-1].role].id}",
            action="release.approved",
            subject_type="release",
            subject_id=release.id,
            account_id=account.id,
            before={"status": "submitted"},
            after={"status": "approved"},
        )
        advance(executed_on)
        bank = self.cast.banks[p.bank]
        reference = self.bank_reference(bank, executed_on)
        instruction = uow.projects.add(
            PaymentInstruction(
                kind="release",
                release_id=release.id,
                account_id=account.id,
                amount_fen=amount_fen,
                status="executed",
                bank_reference=reference,
                executed_on=executed_on,
                created_at=_at(decided[-1], rng),
            )
        )
        release.status = "executed"
        self.bulk.post(
            account.id,
            ledger.release(amount_fen, booked_on=executed_on, reference=f"release:{release.id}"),
            _at(executed_on, rng),
        )
        self.bulk.flush_journal()
        audit.record(
            uow.session,
            actor=f"bank:{bank.id}",
            action="instruction.executed.release",
            subject_type="instruction",
            subject_id=instruction.id,
            account_id=account.id,
            details={"bank_reference": reference, "executed_on": executed_on.isoformat()},
        )
        audit.record(
            uow.session,
            actor=f"bank:{bank.id}",
            action="release.executed",
            subject_type="release",
            subject_id=release.id,
            account_id=account.id,
            before={"status": "approved"},
            after={"status": "executed"},
            details={"instruction_id": instruction.id, "bank_reference": reference},
        )
        self.releases["executed"] += 1


# --- the cast, through the services ---------------------------------------------------------------------


def _credit_code(rng: random.Random, division: str, taken: set[str]) -> str:
    while True:
        body = "".join(rng.choice(credit_code.ALPHABET) for _ in range(6))
        code = credit_code.complete(f"91{division}MA0{body}")
        if code not in taken:
            taken.add(code)
            return code


def _cast(uow: UnitOfWork, rng: random.Random, scale: Scale) -> tuple[_Cast, list[Login], dict[str, str]]:
    banks = [parties.create_bank(uow, code=code, name=name, actor=SYSTEM) for code, name, _, _ in BANKS]
    codes: list[str] = []
    names: list[str] = []
    taken: set[str] = set()
    words = rng.sample(DEVELOPER_WORDS, scale.developers)
    words[0] = "安居"
    for i, word in enumerate(words):
        district = DISTRICTS[0] if i == 0 else rng.choices(DISTRICTS, weights=[d[3] for d in DISTRICTS])[0]
        place = "衡水" if district[2].startswith(("13110", "13117")) else district[1].removesuffix("县")
        suffix = DEVELOPER_SUFFIXES[0] if i == 0 else rng.choice(DEVELOPER_SUFFIXES)
        grade = "B" if i == 0 else rng.choices("ABC", weights=(25, 60, 15))[0]
        code = _credit_code(rng, district[2], taken)
        dev = parties.create_developer(
            uow, credit_code_value=code, name=f"{place}{word}{suffix}", credit_grade=grade, actor=SYSTEM
        )
        codes.append(code)
        names.append(dev.name)
    users: dict[str, User] = {}
    logins = []
    for username, role, display, password in BUREAU_USERS:
        users[role] = parties.create_user(
            uow, username=username, role=role, password=password, display_name=display, actor=SYSTEM
        )
        logins.append(Login(username, password, role, display))
    username, password = DEVELOPER_USER
    parties.create_user(
        uow,
        username=username,
        role="developer",
        password=password,
        display_name=f"{names[0]}销售部",
        developer_code=codes[0],
        actor=SYSTEM,
    )
    logins.append(Login(username, password, "developer", f"{names[0]}销售部", developer=codes[0]))
    keys = {
        "bank": parties.create_api_key(uow, bank_code=banks[0].code, actor=SYSTEM).plaintext,
        "developer": parties.create_api_key(uow, developer_code=codes[0], actor=SYSTEM).plaintext,
        "admin": parties.create_api_key(uow, username="admin", actor=SYSTEM).plaintext,
    }
    return _Cast(banks, codes, names, users), logins, keys


def _refuse_unless_empty(uow: UnitOfWork) -> None:
    projects_count = uow.session.scalar(select(func.count()).select_from(Project)) or 0
    if projects_count:
        raise CliError(
            f"the database already has {projects_count} project(s); the demo seeds only an empty database "
            "(point ESCROW_DATABASE_URL at a new one, e.g. sqlite:///escrow-demo.db)"
        )
    clashes = [u for u, *_ in BUREAU_USERS if uow.parties.user_by_name(u)]
    clashes += [code for code, *_ in BANKS if uow.parties.bank_by_code(code)]
    if clashes:
        raise CliError(
            f"the database already has {', '.join(clashes)}; the demo seeds only an empty database "
            "(point ESCROW_DATABASE_URL at a new one)"
        )


# --- entry point ----------------------------------------------------------------------------------------


def seed(engine: Engine, settings: Settings, *, scale: str = "small", out: TextIO) -> DemoResult:
    """Seed the demo city into an empty database, print what it made and how to log in, and return it."""
    if scale not in SCALES:
        raise CliError(f"unknown demo scale {scale!r} (known: {', '.join(SCALES)})")
    spec = SCALES[scale]
    started = time.perf_counter()
    rng = random.Random(spec.seed)
    clock = _Clock(PERIOD_START)
    ctx = Context(settings=settings, rulebooks=load_dir(settings.rules_dir), today=clock)
    with UnitOfWork(engine) as uow:
        _refuse_unless_empty(uow)
        cast, logins, keys = _cast(uow, rng, spec)
        plan = _plan_projects(rng, spec, len(cast.developers))
        _plan_sales(rng, spec, plan)
        seeder = _Seeder(uow, ctx, clock, rng, cast)
        opened = [seeder.open(p) for p in plan]
        for p, (project, account) in zip(plan, opened, strict=True):
            clock.day = p.opened_on
            seeder.run(p, project, account)
            if sum(len(rows) for rows in seeder.bulk.rows.values()) > 20_000:
                seeder.bulk.flush_all()
        seeder.bulk.flush_all()
        seeder.bulk.move_sequences()
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        figures = stats.city_stats(uow, PERIOD_START, PERIOD_END)
    counts = {
        "projects": len(plan),
        "contracts": seeder.bulk.counts[Contract],
        "notices": seeder.bulk.counts[PaymentNotice],
        "deposits": seeder.bulk.counts[Deposit],
        "vouchers": seeder.bulk.counts[Voucher],
        "journal_entries": seeder.bulk.counts[JournalEntry],
        "suspense_deposits": seeder.suspense,
        "releases_executed": seeder.releases["executed"],
        "releases_submitted": seeder.releases["submitted"],
    }
    result = DemoResult(
        scale=scale,
        period=(PERIOD_START, PERIOD_END),
        figures=figures,
        logins=logins,
        api_keys=keys,
        bank_code=cast.banks[0].code,
        developer_code=cast.developers[0],
        counts=counts,
        seconds=time.perf_counter() - started,
    )
    _print(result, cast, out)
    return result


def _yuan(value: str) -> str:
    return f"¥{Decimal(value):,.2f}"


def _print(r: DemoResult, cast: _Cast, out: TextIO) -> None:
    f, c = r.figures, r.counts
    first, last = r.period
    bank = cast.banks[0]
    lines = [
        f"Demo city seeded (scale {r.scale}) in {r.seconds:.1f} s: a Hengshui-like city.",
        f"Period {first} – {last} (GET /api/v1/stats?from={first}&to={last}):",
        f"  supervised accounts opened  {f['accounts_opened']}",
        f"  pre-sale area               {Decimal(f['presale_area_m2']):,.2f} m²",
        f"  deposits                    {_yuan(f['deposits_total'])}",
        f"  releases                    {_yuan(f['releases_total'])}",
        f"  balance at the period's end {_yuan(f['balance_total'])}",
        f"  ({c['contracts']:,} contracts, {c['notices']:,} payment notices, {c['deposits']:,} deposits"
        f" of which {c['suspense_deposits']} via suspense, {c['vouchers']:,} vouchers,"
        f" {c['releases_executed']} releases executed and {c['releases_submitted']} awaiting review)",
        "",
        f"Web UI and API: {URL}  (start it with: escrow serve)",
        "",
        "Bureau logins (username / password / role):",
    ]
    lines += [f"  {x.username:<10} {x.password:<22} {x.role}" for x in r.logins if x.developer is None]
    lines.append("Developer staff login (username / password / role / developer):")
    lines += [
        f"  {x.username:<10} {x.password:<22} {x.role}  developer={x.developer}"
        for x in r.logins
        if x.developer is not None
    ]
    lines += [
        "",
        "API keys (send as 'Authorization: Bearer <key>'; shown only now, store them):",
        f"  bank {bank.code} ({bank.name}):",
        f"    {r.api_keys['bank']}",
        f"  developer {r.developer_code} ({cast.developer_names[0]}):",
        f"    {r.api_keys['developer']}",
        "  user admin (bureau administrator):",
        f"    {r.api_keys['admin']}",
        "",
        "Try:",
        f"  curl -H 'Authorization: Bearer {r.api_keys['admin']}' \\",
        f"       '{URL}/api/v1/stats?from={first}&to={last}'",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()
