"""What the seed made, as `escrow demo` prints it: the period's figures, the logins and the API keys."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from escrow.demo.seeding import Login

URL = "http://127.0.0.1:8000"


@dataclass
class DemoResult:
    scale: str
    period: tuple[date, date]
    figures: dict[str, Any]  # services.stats.city_stats for the period
    logins: list[Login]
    api_keys: dict[str, str]  # shell variable name (ADMIN_KEY, BANK_HSB_KEY, …) → plaintext key
    bank_code: str
    developer_code: str
    bank_name: str = ""
    developer_name: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    epilogue: dict[str, Any] = field(default_factory=dict)  # Seeder.epilogue: the city after the period
    key_owners: dict[str, str] = field(default_factory=dict)  # api_keys' names → whose key, in words
    database_url: str = ""  # where the city was seeded

    @property
    def bank_key(self) -> str:
        """The key of the first bank (the one the summary's examples use)."""
        return self.api_keys[f"BANK_{self.bank_code}_KEY"]


def _yuan(value: str) -> str:
    return f"¥{Decimal(value):,.2f}"


def _epilogue(e: dict[str, Any]) -> list[str]:
    if not e:
        return []
    name, account_no = e["closed"]
    moved, old, new = e["moved"]
    lines = [
        "",
        "In the period, besides the year's sales, nodes and releases:",
        f"  closed (解除监管)            {name} (permitted the year before): account {account_no}",
        f"  moved to another bank       {moved}: account {old} closed, now {new}",
        f"  opened today by building    {', '.join(e['new_projects'])} (rule book {e['rulebook']})",
    ]
    if e.get("frozen"):
        lines.append(f"  court freeze (司法冻结)      {e['frozen'][0]}: {_yuan(e['frozen'][1])}")
    if e.get("guarantee"):
        lines.append(f"  guarantee (保函)             {e['guarantee'][0]}: expires on {e['guarantee'][1]}")
    return lines


def write(r: DemoResult, out: TextIO) -> None:
    f, c = r.figures, r.counts
    first, last = r.period
    lines = [
        f"Demo city seeded (scale {r.scale}) in {r.seconds:.1f} s: a Hengshui-like city.",
        f"The 365 days ending today, {first} – {last} (GET /api/v1/stats?from={first}&to={last}):",
        f"  supervised accounts opened  {f['accounts_opened']}",
        f"  pre-sale area               {Decimal(f['presale_area_m2']):,.2f} m²",
        f"  deposits                    {_yuan(f['deposits_total'])}",
        f"  releases                    {_yuan(f['releases_total'])}",
        f"  balance at the period's end {_yuan(f['balance_total'])}",
        f"  ({c['contracts']:,} contracts, {c['notices']:,} payment notices, {c['deposits']:,} deposits"
        f" of which {c['suspense_deposits']} via suspense, {c['vouchers']:,} vouchers,"
        f" {c['releases_executed']} releases executed and {c['releases_submitted']} awaiting review,"
        f" {c['refunds_executed']} refunds paid)",
        *_epilogue(r.epilogue),
        "",
        f"Web UI and API: {URL}, once served again with:",
        f"  {serve_command(r.database_url)}",
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
        "API keys (send as 'Authorization: Bearer <key>'; shown only now, store them), as the shell",
        "variables of the README's tour (paste these lines into the shell you run it from):",
        *(f"  export {name}={key}  # {r.key_owners.get(name, '')}" for name, key in r.api_keys.items()),
        "",
        "Try:",
        '  curl -H "Authorization: Bearer $ADMIN_KEY" \\',
        f"       '{URL}/api/v1/stats?from={first}&to={last}'",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def serve_command(database_url: str) -> str:
    """The exact command that serves the seeded database again: the `escrow` installed beside this Python
    (`.venv/bin/escrow` after `make install`; it need not be on PATH), with the database named (a password
    in its URL masked: the summary is often pasted where it should not be)."""
    installed = Path(sys.executable).with_name("escrow")
    program = shlex.quote(str(installed)) if installed.exists() else "escrow"
    shown = _masked(database_url)
    url = f"ESCROW_DATABASE_URL={shlex.quote(shown)} " if shown else ""
    return f"{url}{program} serve --host 127.0.0.1 --port 8000"


def _masked(url: str) -> str:
    """`url` with the password of its user info, if any, shown as ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user_info, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user_info.partition(':')[0]}:***@{host}"))
