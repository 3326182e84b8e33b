"""The `escrow` command (also `python -m escrow`). Errors: one readable line on stderr and a non-zero exit.

Every command goes through the services: the database is opened (and the embedded one migrated) by
`services.database`, and a command's work runs in a unit of work handed out by its `Context`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from escrow.cli_access import register as register_access
from escrow.config import Settings
from escrow.domain import approvals
from escrow.domain.errors import DomainError
from escrow.domain.money import to_wire
from escrow.domain.principal import USER_ROLES, Principal
from escrow.errors import CliError
from escrow.reports.cli import register as register_report
from escrow.rulebooks import RuleBookError, RuleBooks, load_dir
from escrow.services.context import Context
from escrow.services.database import DatabaseNotReady, current_schema, migrated, open_database

OPERATOR = Principal(kind="operator", id=0, name="cli")


def _in_transaction(settings: Settings, work: Callable[[Any], Any]) -> Any:
    """Run `work` in one unit of work and commit it. Banks, developers, users and keys need no rule book."""
    ctx = Context(
        settings=settings,
        rulebooks=RuleBooks([], settings.rules_dir),
        engine=open_database(settings.database_url),
    )
    with ctx.writing() as uow:
        return ctx.commit(uow, work(uow))


# --- commands -------------------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    migrated(settings.database_url)
    print("database is at the latest revision")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.ops.serve import serve

    serve(
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def _day(flag: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: not a date YYYY-MM-DD: {value!r}") from None


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.demo import check_day, check_scale, seed

    check_scale(args.scale)  # before the database is opened: one line naming the scales there are
    today = check_day(_day("--as-of", args.as_of) if args.as_of else date.today())
    # an empty database (SQLite or PostgreSQL) is migrated first, as `escrow serve` does
    seed(migrated(settings.database_url), settings, scale=args.scale, out=sys.stdout, today=today)
    return 0


def cmd_bank_create(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import parties

    bank = _in_transaction(
        settings, lambda uow: parties.create_bank(uow, code=args.code, name=args.name, actor=OPERATOR)
    )
    print(f"bank {bank.code} created: {bank.name}")
    return 0


def cmd_developer_create(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import parties

    dev = _in_transaction(
        settings,
        lambda uow: parties.create_developer(
            uow, credit_code_value=args.credit_code, name=args.name, credit_grade=args.grade, actor=OPERATOR
        ),
    )
    print(f"developer {dev.credit_code} created: {dev.name}")
    return 0


def cmd_user_create(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import parties

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("no password on standard input")
    user = _in_transaction(
        settings,
        lambda uow: parties.create_user(
            uow,
            username=args.username,
            role=args.role,
            password=password,
            developer_code=args.developer,
            bank_code=args.bank,
            display_name=args.display_name or "",
            email=args.email,
            actor=OPERATOR,
        ),
    )
    print(f"user {user.username} created with role {user.role}")
    return 0


def cmd_api_key_create(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import parties

    issued = _in_transaction(
        settings,
        lambda uow: parties.create_api_key(
            uow, bank_code=args.bank, developer_code=args.developer, username=args.user, actor=OPERATOR
        ),
    )
    print(f"API key for a {issued.principal_kind}; it is shown once, store it now:", file=sys.stderr)
    print(issued.plaintext)
    return 0


def cmd_rules_list(args: argparse.Namespace, settings: Settings) -> int:
    for book in load_dir(settings.rules_dir):
        print(f"{book.id}\teffective {book.effective_from}\t{book.title}")
    return 0


def cmd_rules_show(args: argparse.Namespace, settings: Settings) -> int:
    books = load_dir(settings.rules_dir)
    book = books.get(args.id)
    if book is None:
        raise CliError(f"no rule book {args.id} (known: {', '.join(b.id for b in books)})")
    if args.json:
        print(json.dumps(book.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(f"{book.id}  {book.title}")
    if book.title_en:
        print(f"  {book.title_en}")
    print(
        f"  effective from {book.effective_from}"
        + (f", supersedes {book.supersedes}" if book.supersedes else "")
    )
    print(f"  sha256 {book.sha256}")
    print("  nodes (retention share of the key supervised amount):")
    for n in book.nodes:
        surcharge = book.surcharge_for(n, "finished")
        print(f"    {n.code:<20} {n.retention}  (+{surcharge} finished)  {n.name_zh} / {n.name_en}")
    for label, policy in (("release", book.release), ("non-key release", book.non_key_release)):
        if policy is None:
            print(f"  {label}s: none in this version")
            continue
        chain = " → ".join(
            s.role + (f" (from {s.min_amount})" if s.min_amount is not None else "")
            for s in policy.approval_chain
        )
        print(f"  {label} approval: {chain}; documents: {', '.join(policy.required_documents)}")
        print(f"  {label} payee roles: {', '.join(policy.payee_roles)}")
    print(
        f"  guarantee cap {book.guarantee_max_share} of the {book.guarantee_share_of.replace('_', ' ')}; "
        f"freezes do not stop: {', '.join(book.freeze_exempt) or 'nothing'}"
    )
    print(f"  supervised by building: {'yes' if book.by_building else 'no (the project as one)'}")
    changes = approvals.supervised_amount_change_chain(book)
    print(f"  key amount change approval: {' → '.join(s.role for s in changes)}")
    plan = book.fund_plan
    print(
        f"  fund plan approval: {' → '.join(s.role for s in approvals.fund_plan_chain(book))}"
        + (f"; beyond the plan adds {plan.beyond_plan_step.role}" if plan and plan.beyond_plan_step else "")
        + (f"; alerts {plan.ahead_tolerance} ahead, {plan.behind_days} days behind" if plan else "")
    )
    for c in book.deposit_checks:
        print(f"  check {c.rule:<26} {c.severity}" + (f"  {c.params}" if c.params else ""))
    for name, value in book.limits.items():
        print(f"  limit {name:<28} {value}")
    return 0


def cmd_rules_check(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.app import check_published_rulebooks

    books = load_dir(settings.rules_dir)
    for book in books:
        print(f"ok  {book.id}  sha256 {book.sha256[:16]}…  {book.path}")
    engine = current_schema(settings.database_url)
    if engine is not None:
        check_published_rulebooks(engine, books)
        print("published versions match their recorded hashes")
    else:
        print("no database to compare published hashes with; syntax and references checked")
    return 0


def cmd_import_statement(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from escrow.app import build_context
    from escrow.feeds import FeedError
    from escrow.services import parties, reconcile

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    ctx = build_context(settings, open_database(settings.database_url))
    actor = parties.bank_principal(ctx, args.bank)
    if actor is None:
        raise CliError(f"no bank with code {args.bank}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=None, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(f"reconciling {path.name}", total=None)
        try:
            result = reconcile.import_file(
                ctx,
                path,  # read in batches (a CSV is never held whole), not read into memory here
                actor,
                fmt=args.format,
                filename=path.name,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except FeedError as exc:
            raise CliError(f"{path.name}: {exc}") from None
    again = "" if result.imported_now else " (already imported; nothing changed)"
    for item in getattr(result, "statements", None) or [result]:
        print(
            f"statement {item.statement_id} for {item.account_no} on {item.statement_date}: "
            f"{item.status}, {item.matched} matched, {item.bank_only} bank only, "
            f"{item.books_only} books only, balance difference {to_wire(item.balance_difference)}{again}"
        )
    return 0


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {value!r}")
    return int(value)


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.app import build_context
    from escrow.jobs import scheduler
    from escrow.ops import logs
    from escrow.ops.serve import check_secret_key

    # stopped while still starting (migrating, the first runs): leave quietly; run_blocking then takes over
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    check_secret_key(settings, "scheduler")
    logs.configure(
        settings.log_format
    )  # alembic and apscheduler at WARNING: every run is logged by escrow.jobs
    if args.archive_workers is not None:
        settings = replace(settings, archive_workers=args.archive_workers)
    engine = open_database(settings.database_url)
    ctx = build_context(settings, engine)
    if args.once:
        outcomes = scheduler.run_once(engine, ctx)
        for job_id, outcome in outcomes.items():
            print(f"{job_id}\t{outcome}")
        return 1 if "failed" in outcomes.values() else 0
    scheduler.run_blocking(engine, ctx)
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from escrow.services import auditing

    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise CliError(f"no such file: {path}")
        try:
            report = auditing.verify_file(path, anchor=args.anchor)
        except auditing.BadExport as exc:
            raise CliError(str(exc)) from None
    else:
        report = auditing.verify(open_database(settings.database_url, migrate=False), anchor=args.anchor)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def cmd_audit_anchor(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import auditing

    made = auditing.anchor(open_database(settings.database_url, migrate=False), actor=OPERATOR.ref)
    print(f"anchor {made.id} over {made.chains} chains, recorded by audit event {made.event_id}; root:")
    print(made.root)
    return 0


def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from escrow.services import auditing

    engine = open_database(settings.database_url, migrate=False)
    path = Path(args.output)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            report = auditing.export(engine, out)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None
    partial.replace(path)
    print(
        f"exported {report.events} audit events in {report.chains} chains, {report.entries} journal entries "
        f"and {report.anchors} anchors to {path}; head: event {report.head_id} {report.head_hash}"
    )
    if not report.ok:
        print(f"warning: the exported trail does not verify: {report.first}", file=sys.stderr)
        return 1
    return 0


def _guarantee_line(view: Any) -> str:
    return (
        f"guarantee {view.guarantee_id} {view.guarantee_no} of {to_wire(view.amount)} ({view.issuer}, valid "
        f"{view.valid_from} to {view.valid_until}) on account {view.account_no}: {view.status}; counted "
        f"{to_wire(view.counted)}, releasable now {to_wire(view.cap.releasable)}"
    )


def _refused(exc: DomainError) -> CliError:
    """A refusal on one line: what was refused, the rule it breaks, and the fields at fault."""
    fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return CliError(
        f"{exc.detail}" + (f" [{exc.rule}]" if exc.rule else "") + (f" ({fields})" if fields else "")
    )


def cmd_guarantee_register(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.app import build_context
    from escrow.domain.money import MoneyError, parse_wire
    from escrow.services import guarantees

    try:
        amount = parse_wire(args.amount)
    except MoneyError as exc:
        raise CliError(f"--amount: {exc}") from None
    days = {}
    for name in ("valid_from", "valid_until"):
        try:
            days[name] = date.fromisoformat(getattr(args, name))
        except ValueError:
            raise CliError(
                f"--{'from' if name == 'valid_from' else 'until'}: not a date YYYY-MM-DD"
            ) from None
    cmd = guarantees.RegisterGuarantee(
        project_id=args.project, guarantee_no=args.no, issuer=args.issuer, amount=amount, **days
    )
    ctx = build_context(settings, open_database(settings.database_url))
    try:
        print(_guarantee_line(guarantees.register(ctx, cmd, OPERATOR)))
    except DomainError as exc:
        raise _refused(exc) from None
    return 0


def cmd_guarantee_release(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.app import build_context
    from escrow.services import guarantees

    ctx = build_context(settings, open_database(settings.database_url))
    try:
        print(_guarantee_line(guarantees.release(ctx, args.id, OPERATOR)))
    except DomainError as exc:
        raise _refused(exc) from None
    return 0


# --- wiring ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from escrow.ops.serve import package_version

    p = argparse.ArgumentParser(prog="escrow", description="Supervision of housing pre-sale funds")
    p.add_argument("--version", action="version", version=f"escrow {package_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="migrate if needed, then serve the API and web UI")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--workers", type=int, default=1, help="server processes (PostgreSQL only above 1; default 1)"
    )
    s.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses (or *) of the proxies whose X-Forwarded-For and X-Forwarded-Proto "
        "are believed (default ESCROW_FORWARDED_ALLOW_IPS, else 127.0.0.1)",
    )
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("demo", help="seed the demo city and print logins and API keys")
    s.add_argument("--scale", default="small", help="small, city, 10x or province (default small)")
    s.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the day the city is seeded as of (default today; its figures "
        "are those of the 365 days ending then)",
    )
    s.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    bank = sub.add_parser("bank", help="supervising banks").add_subparsers(dest="sub", required=True)
    s = bank.add_parser("create", help="register a supervising bank")
    s.add_argument("--code", required=True)
    s.add_argument("--name", required=True)
    s.set_defaults(func=cmd_bank_create)

    dev = sub.add_parser("developer", help="developers").add_subparsers(dest="sub", required=True)
    s = dev.add_parser("create", help="register a developer")
    s.add_argument("--credit-code", required=True, help="18-character unified social credit code")
    s.add_argument("--name", required=True)
    s.add_argument(
        "--grade", default="B", choices=("A", "B", "C"), help="credit grade (scales the key amount)"
    )
    s.set_defaults(func=cmd_developer_create)

    user = sub.add_parser("user", help="bureau users, developer staff and bank staff").add_subparsers(
        dest="sub", required=True
    )
    s = user.add_parser("create", help="create a user")
    s.add_argument("--username", required=True)
    s.add_argument("--role", required=True, choices=USER_ROLES)
    s.add_argument("--developer", help="credit code, for developer staff")
    s.add_argument("--bank", help="bank code, for bank staff (role bank: the read-only bank portal)")
    s.add_argument("--display-name")
    s.add_argument("--email", help="where notifications are e-mailed (with ESCROW_SMTP_URL)")
    s.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s.set_defaults(func=cmd_user_create)

    key = sub.add_parser("api-key", help="API keys").add_subparsers(dest="sub", required=True)
    s = key.add_parser("create", help="create a key; prints it once, as the last line")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--bank", metavar="CODE")
    who.add_argument("--developer", metavar="CREDIT_CODE")
    who.add_argument("--user", metavar="USERNAME")
    s.set_defaults(func=cmd_api_key_create)
    register_access(user, key)  # escrow user disable|enable, escrow api-key revoke

    s = sub.add_parser("import-statement", help="import and reconcile a bank statement")
    s.add_argument("file")
    s.add_argument("--bank", required=True, metavar="CODE")
    s.add_argument("--format", choices=("camt", "camt053", "camt054", "mt940", "csv", "json"))
    s.set_defaults(func=cmd_import_statement)

    register_report(sub)  # escrow report KIND … -o FILE.pdf

    guarantee = sub.add_parser("guarantee", help="bank guarantees (保函)").add_subparsers(
        dest="sub", required=True
    )
    s = guarantee.add_parser("register", help="register a guarantee standing in for part of the retention")
    s.add_argument("--project", required=True, type=int, metavar="ID")
    s.add_argument("--no", required=True, metavar="NUMBER", help="the number the bank wrote on it")
    s.add_argument("--issuer", required=True, metavar="BANK")
    s.add_argument("--amount", required=True, metavar="YUAN", help="e.g. 1500000.00")
    s.add_argument("--from", dest="valid_from", required=True, metavar="YYYY-MM-DD")
    s.add_argument("--until", dest="valid_until", required=True, metavar="YYYY-MM-DD", help="last valid day")
    s.set_defaults(func=cmd_guarantee_register)
    s = guarantee.add_parser("release", help="release a guarantee: it counts no more")
    s.add_argument("id", type=int, metavar="ID")
    s.set_defaults(func=cmd_guarantee_release)

    rules = sub.add_parser("rules", help="rule books").add_subparsers(dest="sub", required=True)
    rules.add_parser("list", help="list rule book versions").set_defaults(func=cmd_rules_list)
    s = rules.add_parser("show", help="print a rule book version")
    s.add_argument("id", metavar="ID@VERSION")
    s.add_argument("--json", action="store_true", help="the parsed rule book as JSON")
    s.set_defaults(func=cmd_rules_show)
    rules.add_parser("check", help="validate every rule book").set_defaults(func=cmd_rules_check)

    s = sub.add_parser("scheduler", help="run the scheduled jobs in the foreground")
    s.add_argument("--once", action="store_true", help="run each job once for its latest due period and exit")
    s.add_argument(
        "--archive-workers",
        type=_positive,
        metavar="N",
        help="processes rendering the monthly archive (default ESCROW_ARCHIVE_WORKERS, else one per CPU)",
    )
    s.set_defaults(func=cmd_scheduler)

    trail = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="sub", required=True)
    s = trail.add_parser("verify", help="verify the hash chain and the journal; exit 1 at the first break")
    s.add_argument("--file", metavar="FILE.jsonl", help="verify an export instead of the database")
    s.add_argument(
        "--anchor",
        metavar="HASH",
        help="an anchor root (or an event hash) noted earlier: it must still be in the trail and verify",
    )
    s.set_defaults(func=cmd_audit_verify)
    s = trail.add_parser(
        "anchor", help="anchor every chain's head by a Merkle root, recorded on the city chain"
    )
    s.set_defaults(func=cmd_audit_anchor)
    s = trail.add_parser("export", help="export the trail as JSON lines for an outside auditor")
    s.add_argument("-o", "--output", required=True, metavar="FILE.jsonl")
    s.set_defaults(func=cmd_audit_export)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # --help and usage errors exit here, before the app is imported
    from escrow.app import StartupRefused

    try:
        return args.func(args, Settings.from_env())
    except (CliError, DatabaseNotReady, DomainError, RuleBookError, StartupRefused) as exc:
        print(f"escrow: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
