"""Benchmark: deposit posting through HTTP on PostgreSQL at 8 concurrent clients, against pgbench TPC-B.

    .venv/bin/python bench/deposits_http.py                    # workers 1 and 2, 30 s each, then pgbench
    .venv/bin/python bench/deposits_http.py --workers 1 --duration 10 --skip-pgbench
    .venv/bin/python bench/deposits_http.py --profile /tmp/prof # also py-spy the server while measuring

Target (the issue): deposits/s through `POST /api/v1/deposits` at 8 clients ≥ 0.5 × the TPS of
`pgbench -c 8 -j 2 -T 30` (TPC-B, scale 10) on the same machine, measured in the same run.

What it does, all on 127.0.0.1:
1. creates a fresh database on the PostgreSQL server of --pg-url, migrates it (escrow.store.migrate.upgrade)
   and seeds a bank with an API key, a developer, --projects projects with their supervised accounts
   (services.parties and services.projects in one transaction), a few contracts and notices per project
   through services.sales, and the bulk of the contracts and open payment notices by bulk insert with the
   same column values. Every notice is paid exactly once, by the buyer (or, for mortgage notices, by the
   lending bank through the mortgage channel), for its exact amount: every posted deposit passes every
   blocking check of the rule book and gets a voucher, the realistic path;
2. for each --workers count: starts the server (`escrow serve` for 1 worker, as production runs each
   worker; `uvicorn escrow.app:create_app --factory --workers N` for N > 1), warms it up for --warmup
   seconds, then drives it for --duration seconds with wrk (--clients connections, --wrk-threads threads,
   bench/deposits_http.lua), each request a different notice with a unique bank reference and
   Idempotency-Key. Records deposits/s, p50/p99 latency, non-201 answers (must be 0) and 201s without a
   voucher (must be 0), checks the database agrees, and accounts the CPU time of the server, its
   PostgreSQL backends, wrk itself and the rest of the machine over the window; samples pg_stat_activity
   to show what the server's connections wait on;
3. runs `pgbench -i -s 10` and `pgbench -c 8 -j 2 -T 30` against another fresh database on the same server;
4. prints the ratio deposits/s ÷ pgbench TPS per worker count and drops both databases.

Needs wrk (Debian: `apt-get install wrk`), pgbench (`postgresql-client`) and, for --profile, py-spy
(`pip install py-spy`). The server runs the same escrow package the script imports: this checkout's, or the
one a PYTHONPATH names (to benchmark another copy of the code).

Exits non-zero only on errors (a failed set-up, a non-201 answer, a deposit without a voucher, an exhausted
notice pool), never because the target was missed. Run by hand; never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):  # PYTHONPATH may name another copy of escrow to benchmark
    sys.path.insert(0, str(REPO))
LUA = Path(__file__).resolve().parent / "deposits_http.lua"
TARGET_RATIO = 0.5
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
LENDER = "中国建设银行衡水分行"
BUYER_ID = "110101199003070011"  # a resident ID with a valid check character (GB 11643)


class BenchError(Exception):
    """Something went wrong: the numbers would not be trustworthy."""


def log(msg: str = "") -> None:
    print(msg, flush=True)


# --- the machine and its CPU accounting --------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    ram_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{ram_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "code": code_version(),
    }


def code_version() -> str:
    """The commit the server runs, and whether escrow/ had uncommitted changes."""
    import escrow

    where = Path(escrow.__file__).resolve().parent.parent
    if where != REPO:
        return f"escrow from {where}"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "escrow"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = ""
    if not head:
        return f"escrow from {where} (not a git checkout)"
    return f"{head}{' + uncommitted changes in escrow/' if dirty else ''}"


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            parents[int(entry)] = st[0]
    tree, frontier = [root], [root]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier]
        tree += kids
        frontier = kids
    return tree


def cpu_of(pids: list[int]) -> dict[int, float]:
    return {p: st[1] for p in pids if (st := _stat(p)) is not None}


def postgres_pids(dbname: str) -> tuple[list[int], list[int]]:
    """The backends connected to `dbname`, and PostgreSQL's own background processes (WAL writer, …)."""
    ours, background = [], []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        cmd = _cmdline(int(entry))
        if not cmd.startswith("postgres: "):
            continue
        if f" {dbname} " in cmd:
            ours.append(int(entry))
        elif not re.match(r"postgres: \S+ \S+ \S+\(\d+\)", cmd) and "[local]" not in cmd:
            background.append(int(entry))
    return ours, background


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over all CPUs."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


@dataclass
class CpuWindow:
    """CPU seconds used during a window by the server tree, our PostgreSQL backends, PostgreSQL's background
    processes, and the whole machine."""

    server_root: int
    dbname: str
    start: dict[str, Any] = field(default_factory=dict)

    def _snap(self) -> dict[str, Any]:
        ours, background = postgres_pids(self.dbname)
        return {
            "server": cpu_of(process_tree(self.server_root)),
            "pg": cpu_of(ours),
            "pg_bg": cpu_of(background),
            "machine": machine_cpu(),
            "t": time.monotonic(),
        }

    def begin(self) -> None:
        self.start = self._snap()

    def end(self) -> dict[str, float]:
        end = self._snap()

        def delta(kind: str) -> float:
            a, b = self.start[kind], end[kind]
            # a process that appeared during the window counts from 0; one that vanished is lost (rare)
            return sum(b[p] - a.get(p, 0.0) for p in b)

        busy = end["machine"][0] - self.start["machine"][0]
        total = end["machine"][1] - self.start["machine"][1]
        return {
            "wall": end["t"] - self.start["t"],
            "server": delta("server"),
            "pg": delta("pg"),
            "pg_bg": delta("pg_bg"),
            "machine_busy": busy,
            "machine_total": total,
        }


class ActivitySampler(threading.Thread):
    """Samples pg_stat_activity of the benchmark database every `interval` seconds: what the server's
    connections are doing (active and running, waiting on a lock, on WAL flush, idle in transaction, idle);
    and pg_locks: how often a transaction holds an advisory lock (the audit chain's, the only one taken on
    this path), i.e. how busy that global serialisation point is."""

    def __init__(self, url: str, dbname: str, interval: float = 0.05):
        super().__init__(daemon=True)
        self.url, self.dbname, self.interval = url, dbname, interval
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self.lock_held = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (self.dbname,),
                ).fetchall()
                for state, wtype, wevent in rows:
                    if state == "active":
                        key = f"active, waiting on {wtype}:{wevent}" if wtype else "active, running"
                    else:
                        key = state or "unknown"
                    self.counts[key] += 1
                held = conn.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s",
                    (self.dbname,),
                ).fetchone()[0]
                self.lock_held += 1 if held else 0
                self.samples += 1
                self.stop.wait(self.interval)

    def summary(self) -> dict[str, float]:
        """Average number of connections in each state."""
        n = max(self.samples, 1)
        return {k: v / n for k, v in self.counts.most_common()}


# --- databases --------------------------------------------------------------------------------------------


def pg_urls(admin_url: str, dbname: str) -> tuple[str, str]:
    """(SQLAlchemy URL, libpq URL) of database `dbname` on the server of `admin_url`."""
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(database=dbname)
    sa = url.render_as_string(hide_password=False)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return sa, libpq


def create_database(admin_url: str, dbname: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    admin.dispose()


def drop_database(admin_url: str, dbname: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    admin.dispose()


# --- seeding ------------------------------------------------------------------------------------------------


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
    from escrow.config import Settings
    from escrow.domain import credit_code
    from escrow.domain.money import from_fen, to_wire
    from escrow.domain.principal import SYSTEM, Principal
    from escrow.services import parties, projects, sales
    from escrow.store.db import UnitOfWork, make_engine
    from escrow.store.migrate import upgrade
    from escrow.store.models import Contract, PaymentNotice, SupervisedAccount

    started = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings.from_env({"ESCROW_DATABASE_URL": url})
    ctx = build_context(settings, engine, today=lambda: today)
    rng = random.Random(20261122)
    dev_code = credit_code.complete("91131100MA0CXK7T4")
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
        parties.create_bank(uow, code="HSB", name="衡水银行", actor=SYSTEM)
        developer = parties.create_developer(
            uow, credit_code_value=dev_code, name="衡水安居置业有限公司", actor=SYSTEM
        )
        token = parties.create_api_key(uow, bank_code="HSB", actor=SYSTEM).plaintext
        dev_actor = Principal("developer", developer.id, developer.name, developer_id=developer.id)
        for p in range(n_projects):
            projects.open_project(
                uow,
                ctx,
                projects.OpenProject(
                    developer_credit_code=dev_code,
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


# --- the server and the load -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, workers: int, port: int, logfile: Path, cwd: Path) -> subprocess.Popen:
    import escrow

    # the server imports the same escrow package as this script
    code = str(Path(escrow.__file__).resolve().parent.parent)
    env = {**os.environ, "ESCROW_DATABASE_URL": url, "PYTHONPATH": code}
    if workers == 1:  # what production runs, once per worker process
        cmd = [sys.executable, "-m", "escrow", "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        cmd = [
            sys.executable, "-m", "uvicorn", "escrow.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "info",
        ]  # fmt: skip
    out = logfile.open("wb")
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    import urllib.request

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"the server exited with {proc.returncode}; see {logfile}:\n{logfile.read_text()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    # with several workers, give the others a moment to finish starting too
                    if workers > 1:
                        time.sleep(2)
                    return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise BenchError(f"the server did not answer /health within 60 s; see {logfile}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)  # the process group this script started
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def run_wrk(
    *,
    port: int,
    seeded: Seeded,
    first: int,
    last: int,
    tag: str,
    today: date,
    args: argparse.Namespace,
    duration: float,
    workdir: Path,
) -> tuple[dict[str, Any], float]:
    """One wrk run over lines first..last of the data file. Returns its BENCH_RESULT and wrk's CPU seconds."""
    env = {
        **os.environ,
        "BENCH_DATA": str(seeded.data_file),
        "BENCH_FIRST": str(first),
        "BENCH_LAST": str(last),
        "BENCH_THREADS": str(args.wrk_threads),
        "BENCH_TOKEN": seeded.token,
        "BENCH_TAG": tag,
        "BENCH_VALUE_DATE": today.isoformat(),
    }
    cmd = [
        args.wrk, "-t", str(args.wrk_threads), "-c", str(args.clients), "-d", f"{duration:g}s",
        "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    out_path = workdir / f"wrk-{tag}.out"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + duration + 60
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise BenchError("wrk did not stop in time")
            time.sleep(0.05)
    text = out_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{text[-2000:]}")
    match = re.search(r"^BENCH_RESULT (.*)$", text, re.M)
    if not match:
        raise BenchError(f"wrk printed no result:\n{text[-2000:]}")
    return json.loads(match.group(1)), usage.ru_utime + usage.ru_stime


def check_database(url: str, tag: str) -> dict[str, int]:
    """Deposits of one run in the database: by status, with vouchers, and issued vouchers."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT d.status, count(*), count(v.id), count(v.id) FILTER (WHERE v.status = 'issued') "
            "FROM deposits d LEFT JOIN vouchers v ON v.deposit_id = d.id "
            "WHERE d.bank_reference LIKE %s GROUP BY d.status",
            (f"{tag}-%",),
        ).fetchall()
    result = {"accepted": 0, "suspense": 0, "vouchers": 0, "issued": 0, "other": 0}
    for status, n, vouchers, issued in rows:
        result[status if status in ("accepted", "suspense") else "other"] += n
        result["vouchers"] += vouchers
        result["issued"] += issued
    return result


LIBRARIES = (
    "sqlalchemy", "psycopg", "sqlmodel", "litestar", "pydantic", "msgspec", "uvicorn", "h11", "httptools",
    "anyio", "asyncio", "concurrent", "threading", "json", "hashlib", "logging", "decimal", "secrets", "uuid",
)  # fmt: skip
STAGES = (  # where a sample of the server's time belongs, by the first of these frames on its stack
    ("authentication", "authenticate (escrow/api/deps.py)"),
    ("audit record (under the chain lock)", "record (escrow/store/audit.py)"),
    ("services.deposits.post", "post (escrow/services/deposits.py)"),
    ("idempotency record + commit", "idempotent (escrow/api/deps.py)"),
    ("event loop: uvicorn, h11, litestar routing and responses", "(uvicorn/"),
    ("other (py-spy's partial stacks, thread pool)", ""),
)


def profile_summary(raw: Path, top: int = 25) -> dict[str, Any]:
    """py-spy's collapsed stacks → samples, self and inclusive time per function, time per library (of the
    innermost frame) and per stage of the request."""
    selfs: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    libs: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or not stack:
            continue
        count = int(n)
        total += count
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        selfs[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
        path = "/" + frames[-1].rpartition("(")[2]  # py-spy names files relative to sys.path
        lib = "escrow" if "/escrow/" in path else "other"
        lib = next((name for name in LIBRARIES if f"/{name}/" in path or f"/{name}.py" in path), lib)
        libs[lib] += count
        joined = ";".join(frames)
        stage = next(name for name, marker in STAGES if marker in joined)
        stages[stage] += count
    return {
        "samples": total,
        "libraries": libs.most_common(),
        "stages": stages.most_common(),
        "self": selfs.most_common(top),
        "inclusive": incl.most_common(top),
    }


def run_workers(
    workers: int,
    *,
    url: str,
    libpq_url: str,
    dbname: str,
    seeded: Seeded,
    cursor: int,
    today: date,
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[dict[str, Any], int]:
    """Warm up and measure the server with `workers` processes. Returns its results and the next free line."""
    port = free_port()
    logfile = workdir / f"server-{workers}w.log"
    log(f"\n== {workers} worker process{'es' if workers > 1 else ''} (port {port}) ==")
    log(f"load average before: {loadavg()}")
    proc = start_server(url, workers, port, logfile, workdir)
    try:
        # each run takes a slice of the notices sized for --max-rate deposits/s
        warm_n = int(args.max_rate * args.warmup) + args.clients * 4
        warm, _ = run_wrk(
            port=port,
            seeded=seeded,
            first=cursor,
            last=cursor + warm_n - 1,
            tag=f"W{workers}",
            today=today,
            args=args,
            duration=args.warmup,
            workdir=workdir,
        )
        cursor += warm_n
        log(
            f"warm-up {args.warmup:g} s: {warm['requests']} requests, {warm['accepted']} accepted, "
            f"{warm['non201']} non-201"
        )
        n = int(args.max_rate * args.duration) + args.clients * 4
        if cursor + n - 1 > seeded.lines:
            raise BenchError("the notice pool is too small; raise --max-rate")
        sampler = ActivitySampler(libpq_url, dbname)
        window = CpuWindow(proc.pid, dbname)
        spies: list[subprocess.Popen] = []
        if args.profile:
            tree = process_tree(proc.pid)
            # one worker: the server process itself; several: uvicorn's spawned workers, not their supervisor
            targets = (
                [proc.pid]
                if workers == 1
                else [
                    p for p in tree if "spawn_main" in _cmdline(p) and "resource_tracker" not in _cmdline(p)
                ]
            )
            for p in targets:
                for mode in ("gil", "all"):
                    out = args.profile / f"{workers}w-{p}-{mode}.txt"
                    cmd = [
                        args.py_spy,
                        "record",
                        "--pid",
                        str(p),
                        "--duration",
                        str(int(args.duration)),
                        "--rate",
                        "100",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(out),
                    ]
                    if mode == "gil":
                        cmd.append("--gil")
                    spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        log(f"load average at start of measurement: {loadavg()}")
        sampler.start()
        window.begin()
        result, wrk_cpu = run_wrk(
            port=port,
            seeded=seeded,
            first=cursor,
            last=cursor + n - 1,
            tag=f"M{workers}",
            today=today,
            args=args,
            duration=args.duration,
            workdir=workdir,
        )
        cpu = window.end()
        sampler.stop.set()
        sampler.join(timeout=5)
        cursor += n
        for spy in spies:
            try:
                spy.wait(timeout=args.duration + 30)
            except subprocess.TimeoutExpired:
                spy.kill()
    finally:
        stop_server(proc)
    db = check_database(libpq_url, f"M{workers}")
    seconds = result["duration_us"] / 1e6
    rate = result["accepted"] / seconds
    out = {
        "workers": workers,
        "requests": result["requests"],
        "seconds": seconds,
        "deposits_per_s": rate,
        "accepted": result["accepted"],
        "non201": result["non201"],
        "other201": result["other201"],
        "socket_errors": sum(result["errors"].values()) - result["errors"]["status"],
        "exhausted": result["exhausted"],
        "first_bad": result["first_bad"],
        "latency_ms": {k: v / 1000 for k, v in result["latency_us"].items()},
        "database": db,
        "cpu": {
            "server": cpu["server"] / cpu["wall"],
            "postgres_backends": cpu["pg"] / cpu["wall"],
            "postgres_background": cpu["pg_bg"] / cpu["wall"],
            "wrk": wrk_cpu / cpu["wall"],
            "machine_busy": cpu["machine_busy"] / cpu["wall"],
            "machine_other": (cpu["machine_busy"] - cpu["server"] - cpu["pg"] - cpu["pg_bg"] - wrk_cpu)
            / cpu["wall"],
            "server_cpu_ms_per_deposit": 1000 * cpu["server"] / max(result["accepted"], 1),
            "pg_cpu_ms_per_deposit": 1000 * cpu["pg"] / max(result["accepted"], 1),
        },
        "pg_activity": sampler.summary(),
        "audit_lock_held": sampler.lock_held / max(sampler.samples, 1),
        "load_after": loadavg(),
    }
    if args.profile:
        out["profiles"] = {}
        for path in sorted(args.profile.glob(f"{workers}w-*.txt")):
            summary = profile_summary(path)
            (path.with_suffix(".summary.json")).write_text(json.dumps(summary, indent=1, ensure_ascii=False))
            out["profiles"][path.name] = {
                "samples": summary["samples"],
                "expected_samples": int(args.duration * 100),
                "libraries": summary["libraries"][:10],
                "stages": summary["stages"],
            }
    report_run(out)
    return out, cursor


def report_run(r: dict[str, Any]) -> None:
    lat, cpu, db = r["latency_ms"], r["cpu"], r["database"]
    log(
        f"{r['deposits_per_s']:.1f} deposits/s over {r['seconds']:.1f} s "
        f"({r['accepted']} accepted with a voucher); latency p50 {lat['p50']:.1f} ms, "
        f"p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms"
    )
    log(
        f"non-201 answers: {r['non201']}; 201 without a voucher: {r['other201']}; socket errors: "
        f"{r['socket_errors']}; database: {db['accepted']} accepted, {db['suspense']} suspense, "
        f"{db['issued']} vouchers issued"
    )
    log(
        "CPU (cores busy): server {server:.2f}, its PostgreSQL backends {postgres_backends:.2f}, PostgreSQL "
        "background {postgres_background:.2f}, wrk {wrk:.2f}, "
        "everything else on the machine {machine_other:.2f}; "
        "machine {machine_busy:.2f} of {n}".format(**cpu, n=os.cpu_count())
    )
    log(
        f"per deposit: {cpu['server_cpu_ms_per_deposit']:.2f} ms server CPU, "
        f"{cpu['pg_cpu_ms_per_deposit']:.2f} ms PostgreSQL backend CPU"
    )
    log(f"the audit chain's advisory lock was held in {100 * r['audit_lock_held']:.0f}% of the samples")
    log(
        "server connections in PostgreSQL (average count): "
        + ", ".join(f"{k} {v:.2f}" for k, v in r["pg_activity"].items())
    )
    for name, p in r.get("profiles", {}).items():
        log(
            f"profile {name} by stage: "
            + ", ".join(f"{stage} {n * 100 / max(p['samples'], 1):.0f}%" for stage, n in p["stages"])
        )
        log(
            f"profile {name}: {p['samples']} samples of {p['expected_samples']}; "
            + ", ".join(f"{lib} {n * 100 / max(p['samples'], 1):.0f}%" for lib, n in p["libraries"])
        )
    log(f"load average after: {r['load_after']}")


def run_pgbench(admin_url: str, dbname: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    _, libpq = pg_urls(admin_url, dbname)
    log(
        f"\n== pgbench TPC-B, scale {args.pgbench_scale}, {args.clients} clients, 2 threads, "
        f"{args.pgbench_duration:g} s =="
    )
    log(f"load average before: {loadavg()}")
    create_database(admin_url, dbname)
    started = time.perf_counter()
    init = subprocess.run(
        [args.pgbench, "-i", "-s", str(args.pgbench_scale), "-q", libpq],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if init.returncode != 0:
        raise BenchError(f"pgbench -i failed:\n{init.stderr[-2000:]}")
    log(f"pgbench -i -s {args.pgbench_scale}: {time.perf_counter() - started:.1f} s")
    logdir = workdir / "pgbench-log"
    logdir.mkdir()
    log(f"load average at start of measurement: {loadavg()}")
    busy0, _ = machine_cpu()
    measured_from = time.monotonic()
    run = subprocess.run(
        [args.pgbench, "-c", str(args.clients), "-j", "2", "-T", f"{int(args.pgbench_duration)}", "-l",
         "--log-prefix", str(logdir / "tx"), libpq],
        capture_output=True, text=True, timeout=args.pgbench_duration + 120,
    )  # fmt: skip
    busy1, _ = machine_cpu()
    wall = time.monotonic() - measured_from
    if run.returncode != 0:
        raise BenchError(f"pgbench failed:\n{run.stderr[-2000:]}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout).group(1))
    latencies = sorted(
        int(line.split()[2])
        for path in logdir.iterdir()
        for line in path.read_text().splitlines()
        if line.strip()
    )
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [0.0] * 99
    result = {
        "tps": tps,
        "transactions": len(latencies),
        "latency_ms": {"p50": q[49] / 1000, "p99": q[98] / 1000, "mean": statistics.fmean(latencies) / 1000},
        "machine_busy": (busy1 - busy0) / wall,
        "load_after": loadavg(),
    }
    lat = result["latency_ms"]
    log(
        f"pgbench: {tps:.1f} TPS ({len(latencies)} transactions); latency p50 {lat['p50']:.2f} ms, "
        f"p99 {lat['p99']:.2f} ms, mean {lat['mean']:.2f} ms; machine {result['machine_busy']:.2f} of "
        f"{os.cpu_count()} cores busy"
    )
    log(f"load average after: {result['load_after']}")
    return result


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a maintenance database on the server (the benchmark creates and drops its own)",
    )
    p.add_argument("--workers", default="1,2", help="server worker process counts to try, comma-separated")
    p.add_argument("--clients", type=int, default=8, help="concurrent connections (and pgbench clients)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--duration", type=float, default=30.0, help="measured seconds per worker count")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of load before each measurement")
    p.add_argument("--projects", type=int, default=16, help="projects (supervised accounts) paid into")
    p.add_argument(
        "--max-rate",
        type=float,
        default=1500.0,
        help="deposits/s the notice pool is sized for (the run fails if the server is faster)",
    )
    p.add_argument("--pgbench-scale", type=int, default=10)
    p.add_argument("--pgbench-duration", type=float, default=30.0)
    p.add_argument("--skip-pgbench", action="store_true")
    p.add_argument("--profile", type=Path, help="directory: py-spy the server during each measurement")
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    p.add_argument("--wrk", default=shutil.which("wrk"))
    p.add_argument(
        "--pgbench",
        default=shutil.which("pgbench")
        or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)), None),
    )
    p.add_argument("--py-spy", default=shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"))
    args = p.parse_args(argv)
    args.worker_counts = [int(x) for x in args.workers.split(",") if x.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from sqlalchemy.engine import make_url

    if make_url(args.pg_url).host not in LOOPBACK:
        print("error: --pg-url must point at a server on 127.0.0.1", file=sys.stderr)
        return 2
    if not args.wrk:
        print("error: wrk is not installed (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 2
    if not args.skip_pgbench and not args.pgbench:
        print(
            "error: pgbench is not installed (Debian/Ubuntu: apt-get install postgresql-client)",
            file=sys.stderr,
        )
        return 2
    if args.profile:
        if not Path(args.py_spy).exists():
            print("error: --profile needs py-spy (pip install py-spy)", file=sys.stderr)
            return 2
        args.profile.mkdir(parents=True, exist_ok=True)

    info = machine()
    today = date.today()
    suffix = uuid.uuid4().hex[:8]
    app_db, tpcb_db = f"bench_deposits_{suffix}", f"bench_pgbench_{suffix}"
    url, libpq_url = pg_urls(args.pg_url, app_db)
    results: dict[str, Any] = {
        "machine": info,
        "date": today.isoformat(),
        "runs": [],
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    created: list[str] = []
    try:
        import psycopg

        with psycopg.connect(pg_urls(args.pg_url, make_url(args.pg_url).database or "postgres")[1]) as conn:
            results["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
            settings = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('shared_buffers', 'synchronous_commit', "
                    "'fsync', 'max_connections', 'commit_delay', 'wal_sync_method')"
                ).fetchall()
            )
        log(
            f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}, "
            f"Python {info['python']}, PostgreSQL {results['postgresql']} on 127.0.0.1 ({settings})"
        )
        log(f"date {today}; code {info['code']}; load average at start: {loadavg()}")
        with tempfile.TemporaryDirectory(prefix="bench-deposits-") as tmp:
            workdir = Path(tmp)
            pool = sum(
                int(args.max_rate * args.warmup) + int(args.max_rate * args.duration) + 8 * args.clients
                for _ in args.worker_counts
            )
            create_database(args.pg_url, app_db)
            created.append(app_db)
            seeded = seed(url, pool, args.projects, today, workdir / "notices.txt")
            log(
                f"seeded {app_db}: 1 bank + API key, 1 developer, {args.projects} projects, "
                f"{seeded.lines} open notices on {(seeded.lines + 3) // 4} contracts "
                f"in {seeded.seconds:.1f} s"
            )
            cursor = 1
            for workers in args.worker_counts:
                run, cursor = run_workers(
                    workers,
                    url=url,
                    libpq_url=libpq_url,
                    dbname=app_db,
                    seeded=seeded,
                    cursor=cursor,
                    today=today,
                    args=args,
                    workdir=workdir,
                )
                results["runs"].append(run)
            drop_database(args.pg_url, app_db)
            created.remove(app_db)
            if not args.skip_pgbench:
                created.append(tpcb_db)
                results["pgbench"] = run_pgbench(args.pg_url, tpcb_db, args, workdir)
                drop_database(args.pg_url, tpcb_db)
                created.remove(tpcb_db)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for name in created:
            drop_database(args.pg_url, name)

    log("\n== summary ==")
    tps = results.get("pgbench", {}).get("tps")
    errors = []
    for r in results["runs"]:
        ratio = r["deposits_per_s"] / tps if tps else None
        r["ratio"] = ratio
        verdict = (
            ""
            if ratio is None
            else (
                f"; ratio {ratio:.3f} vs target ≥ {TARGET_RATIO} → "
                f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}"
            )
        )
        log(
            f"{r['workers']} worker(s): {r['deposits_per_s']:.1f} deposits/s, "
            f"p50 {r['latency_ms']['p50']:.1f} ms, "
            f"p99 {r['latency_ms']['p99']:.1f} ms, non-201 {r['non201']}{verdict}"
        )
        if r["non201"] or r["other201"] or r["socket_errors"]:
            errors.append(
                f"{r['workers']} worker(s): {r['non201']} non-201, {r['other201']} 201 without a voucher, "
                f"{r['socket_errors']} socket errors; first: {r['first_bad']}"
            )
        if r["exhausted"]:
            errors.append(f"{r['workers']} worker(s): the notice pool ran out; raise --max-rate")
        if r["database"]["suspense"] or r["database"]["issued"] < r["accepted"]:
            errors.append(f"{r['workers']} worker(s): the database disagrees: {r['database']}")
    if tps:
        log(
            f"pgbench TPC-B: {tps:.1f} TPS (p50 {results['pgbench']['latency_ms']['p50']:.2f} ms, "
            f"p99 {results['pgbench']['latency_ms']['p99']:.2f} ms)"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
