"""`escrow report KIND … [-o FILE.pdf]`: render a report from the command line (CONTRACT.md §1, §5).

    escrow report voucher PZ202611220000001 -o voucher.pdf
    escrow report notice TZ202611220000001
    escrow report release 12
    escrow report monthly 6222000011112222 2026-10
    escrow report city 2025-01-01 2025-12-31 -o city-2025.pdf

Without -o the file is written to the working directory under the report's own name. Bad input (an unknown
account, an empty period, an unwritable file) is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from escrow.config import Settings
from escrow.errors import CliError


def register(sub: Any) -> None:
    """Add `report` to the CLI's subcommands."""
    report = sub.add_parser("report", help="render a report as PDF (voucher, notice, release, monthly, city)")
    kinds = report.add_subparsers(dest="kind", required=True, metavar="KIND")

    def kind(name: str, help_text: str) -> argparse.ArgumentParser:
        p = kinds.add_parser(name, help=help_text)
        p.set_defaults(func=cmd_report)
        return p

    kind("voucher", "缴款凭证: a payment voucher with its QR code").add_argument("voucher_no")
    kind("notice", "缴款通知书: a payment notice").add_argument("notice_no")
    kind("release", "拨付审批表: a release approval form").add_argument("release_id")
    p = kind("monthly", "one supervised account's month")
    p.add_argument("account_no")
    p.add_argument("month", metavar="YYYY-MM")
    p = kind("city", "a period's figures across all accounts")
    p.add_argument("start", metavar="FROM", help="first day, YYYY-MM-DD")
    p.add_argument("end", metavar="TO", help="last day, YYYY-MM-DD")
    for action in kinds.choices.values():
        action.add_argument("-o", "--output", metavar="FILE.pdf", help="where to write the PDF")


PARAMS = {
    "voucher": ("voucher_no",),
    "notice": ("notice_no",),
    "release": ("release_id",),
    "monthly": ("account_no", "month"),
    "city": ("start", "end"),
}


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from escrow import reports
    from escrow.app import build_context
    from escrow.services.database import open_database

    params = {name: getattr(args, name) for name in PARAMS[args.kind]}
    reports.normalise(args.kind, params)  # bad input fails before the database is opened
    ctx = build_context(settings, open_database(settings.database_url))
    with ctx.reading() as uow:
        name, content = reports.render(args.kind, uow, ctx, **params)
    out = Path(args.output) if args.output else Path.cwd() / name
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"{args.kind} report written to {out} ({len(content):,} bytes)", file=sys.stdout)
    return 0
