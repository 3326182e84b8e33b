"""The notice pool of bench/deposits_http.py: a fresh PostgreSQL database seeded so that every request of the
benchmark pays a different open payment notice, and the data file bench/deposits_http.lua reads.

The bank, its API key, the developer and --projects projects with their supervised accounts go through the
services in one transaction (services.parties, services.projects), with one contract and its notices per
project through services.sales; the bulk of the contracts and notices is inserted directly with the same
column values. Every notice is paid exactly once, by the buyer (or, for mortgage notices, by the lending
bank through the mortgage channel), for its exact amount, so that every posted deposit passes every
blocking check of the rule book and gets a voucher.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import harness

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
LENDER = "中国建设银行衡水分行"
BUYER_ID = "110101199003070011"  # a resident ID with a valid check character (GB 11643)


@dataclass
class Seeded:
    token: str
    lines: int  # notices in the data file
    data_file: Path
    seconds: float


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def seed(url: str, n_notices: int, n_projects: int, today: date, data_file: Path) -> Seeded:
    """Bank, API key, developer and projects through the services in one transaction; a few contracts and
    notices per project through services.sales; the rest of the contracts and notices by bulk insert."""
    from sqlalchemy import func, insert, select, text

    from escrow.app import build_context
    from escrow.domain.money import from_fen, to_wire
    from escrow.domain.principal import SYSTEM, Principal
    from escrow.services import parties, projects, sales
    from escrow.store.db import UnitOfWork
    from escrow.store.models import Contract, PaymentNotice, SupervisedAccount

    started = time.perf_counter()
    engine = harness.migrated_engine(url)
    ctx = build_context(harness.settings(url), engine, today=lambda: today)
    rng = random.Random(20261122)
    signed_on = date(2025, 4, 1)

    def plan(price_fen: int) -> list[tuple[str, int]]:
        """A buyer's notices: earnest, 30 % down payment, a mortgage for the rest less a final payment."""
        earnest = 2_000_000
        down = price_fen * 30 // 100 // 100 * 100 - earnest
        final = 500_000
        return [
            ("earnest", earnest),
            ("down_payment", down),
            ("mortgage", price_fen - earnest - down - final),
            ("other", final),
        ]

    per_account: list[list[tuple[str, str, int, str, str]]] = [[] for _ in range(n_projects)]

    with UnitOfWork(engine) as uow:
        developer = harness.create_bank_and_developer(uow)
        token = parties.create_api_key(uow, bank_code="HSB", actor=SYSTEM).plaintext
        dev_actor = Principal("developer", developer.id, developer.name, developer_id=developer.id)
        for p in range(n_projects):
            projects.open_project(
                uow,
                ctx,
                projects.OpenProject(
                    developer_credit_code=developer.credit_code,
                    name=f"桃城·安居花园{p + 1}期",
                    permit_no=f"衡预售2025-{p + 1:03d}",
                    permit_date=date(2025, 3, 1),
                    presale_area_m2=Decimal("60000.00"),
                    finish="shell",
                    bank_code="HSB",
                    account_no=f"62220000{p + 1:08d}",
                    account_name="衡水安居置业有限公司预售资金监管账户",
                    supervised_amount=Decimal("150000000.00"),
                    opened_on=date(2025, 3, 5),
                ),
                SYSTEM,
            )
            # one contract per project through the services, as POST /contracts and /notices would
            buyer = _name(rng)
            price_fen = rng.randrange(50_000_000, 150_000_000, 10_000)
            contract_no = f"HT-S-{p + 1:03d}"
            sales.register_contract(
                uow,
                ctx,
                sales.RegisterContract(
                    permit_no=f"衡预售2025-{p + 1:03d}",
                    contract_no=contract_no,
                    buyer_name=buyer,
                    buyer_id_no=BUYER_ID,
                    unit=f"1-1-{p + 101}",
                    area_m2=Decimal("98.50"),
                    total_price=from_fen(price_fen),
                    signed_on=signed_on,
                ),
                dev_actor,
            )
            for kind, amount in plan(price_fen):
                view = sales.issue_notice(
                    uow,
                    ctx,
                    sales.IssueNotice(contract_no, kind, from_fen(amount), date(2026, 12, 1)),
                    dev_actor,
                )
                per_account[p].append((view["account_no"], view["notice_no"], amount, buyer, kind))
        uow.commit()

    # the bulk: contracts and notices with the same column values the services write
    with UnitOfWork(engine, readonly=True) as uow:
        accounts = list(uow.session.scalars(select(SupervisedAccount).order_by(SupervisedAccount.id)))
        next_contract = (uow.session.scalar(select(func.max(Contract.id))) or 0) + 1
        next_notice = (uow.session.scalar(select(func.max(PaymentNotice.id))) or 0) + 1
    remaining = max(0, n_notices - 4 * n_projects)
    now = datetime.now(UTC)
    contracts, notices = [], []
    for c in range((remaining + 3) // 4):
        account = accounts[c % n_projects]
        buyer = _name(rng)
        price_fen = rng.randrange(50_000_000, 150_000_000, 10_000)
        cid = next_contract + c
        contracts.append(
            {
                "id": cid,
                "project_id": account.project_id,
                "account_id": account.id,
                "contract_no": f"HT-B-{cid:07d}",
                "buyer_name": buyer,
                "buyer_id_no": BUYER_ID,
                "unit": f"{c // 1000 % 50 + 1}-{c // 100 % 10 + 1}-{c % 100 + 101}",
                "area_x100": rng.randrange(6000, 14000) * 100,
                "total_price_fen": price_fen,
                "signed_on": signed_on,
                "status": "signed",
                "created_at": now,
            }
        )
        for kind, amount in plan(price_fen):
            nid = next_notice + len(notices)
            notice_no = f"TZ{today:%Y%m%d}{nid:07d}"
            notices.append(
                {
                    "id": nid,
                    "notice_no": notice_no,
                    "contract_id": cid,
                    "account_id": account.id,
                    "kind": kind,
                    "amount_fen": amount,
                    "due_on": date(2026, 12, 1),
                    "status": "open",
                    "created_at": now,
                }
            )
            per_account[c % n_projects].append((account.account_no, notice_no, amount, buyer, kind))
    with engine.begin() as conn:
        for start in range(0, len(contracts), 5000):
            conn.execute(insert(Contract.__table__), contracts[start : start + 5000])
        for start in range(0, len(notices), 5000):
            conn.execute(insert(PaymentNotice.__table__), notices[start : start + 5000])
        for table in ("contracts", "payment_notices"):
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()

    # the data file interleaves the accounts: consecutive requests pay into different accounts
    channels = ("counter", "transfer", "pos")
    lines = 0
    with data_file.open("w", encoding="utf-8") as out:
        depth = max(len(a) for a in per_account)
        for i in range(depth):
            for a in per_account:
                if i < len(a):
                    account_no, notice_no, amount, buyer, kind = a[i]
                    if kind == "mortgage":
                        payer, payer_account, channel = LENDER, "1306000000000001", "mortgage"
                    else:
                        payer, payer_account = buyer, f"62170000{rng.randrange(10**8):08d}"
                        channel = channels[lines % 3]
                    out.write(
                        f"{account_no}|{notice_no}|{to_wire(from_fen(amount))}|{payer}|{payer_account}|{kind}|{channel}\n"
                    )
                    lines += 1
    return Seeded(token=token, lines=lines, data_file=data_file, seconds=time.perf_counter() - started)
