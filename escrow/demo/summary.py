"""What the seed made, as `escrow demo` prints it: the period's figures, the logins and the API keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from escrow.demo.seeding import Login

URL = "http://127.0.0.1:8000"


@dataclass
class DemoResult:
    scale: str
    period: tuple[date, date]
    figures: dict[str, Any]  # services.stats.city_stats for the period
    logins: list[Login]
    api_keys: dict[str, str]  # "bank", "developer", "admin" → plaintext key
    bank_code: str
    developer_code: str
    bank_name: str = ""
    developer_name: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    epilogue: dict[str, Any] = field(default_factory=dict)  # Seeder.epilogue: the city after the period


def _yuan(value: str) -> str:
    return f"¥{Decimal(value):,.2f}"


def _epilogue(e: dict[str, Any]) -> list[str]:
    if not e:
        return []
    name, account_no = e["closed"]
    moved, old, new = e["moved"]
    return [
        "",
        "After the period (2026; hengshui@2026.2 in force from 2026-12-07, supervision by building):",
        f"  closed (解除监管)            {name}: account {account_no}",
        f"  moved to another bank       {moved}: account {old} closed, now {new}",
        f"  opened with buildings       {', '.join(e['new_projects'])}",
    ]


def write(r: DemoResult, out: TextIO) -> None:
    f, c = r.figures, r.counts
    first, last = r.period
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
        *_epilogue(r.epilogue),
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
        f"  bank {r.bank_code} ({r.bank_name}):",
        f"    {r.api_keys['bank']}",
        f"  developer {r.developer_code} ({r.developer_name}):",
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
