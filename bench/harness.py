"""The shared harness of the benchmark scripts in bench/: the machine they ran on and its CPU accounting,
timing and percentiles, databases (URLs, creating and dropping PostgreSQL databases, migrating, seeding the
parties every benchmark needs), servers under load (uvicorn, wrk, py-spy) and writing results. Each script
imports it and says only what it measures.

Run the scripts from the repository root (`.venv/bin/python bench/<script>.py`): Python puts bench/ first on
the path, so `import harness` finds this file. Importing it puts this checkout's escrow on the path unless
PYTHONPATH names another copy of the code to benchmark. Nothing in escrow/ imports bench/.
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RULES = REPO / "rules"
if not os.environ.get("PYTHONPATH"):  # PYTHONPATH may name another copy of escrow to benchmark
    sys.path.insert(0, str(REPO))

CLK_TCK = os.sysconf("SC_CLK_TCK")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
WRK_MISSING = "wrk is not installed (Debian/Ubuntu: apt-get install wrk)"

T = TypeVar("T")


class BenchError(Exception):
    """Something went wrong: the numbers would not be trustworthy."""


def log(msg: str = "") -> None:
    print(msg, flush=True)


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False))


# `make bench` names a file here; each benchmark appends its verdict line to it, and the Makefile prints the
# file last, so that the last lines of `make bench` are the verdicts, one a benchmark.
VERDICTS_ENV = "BENCH_VERDICTS"


def verdict(bench: str, figures: dict, targets: dict, met: bool) -> None:
    """A benchmark's one-line result: `{"bench": name, "figures": {...}, "targets": {...}, "met": bool}`,
    printed, and appended to the file $BENCH_VERDICTS names (when set). Figures are what it measured (with its
    anchor's, where it has one, measured in the same run); targets say what they are held to."""
    line = json.dumps(
        {"bench": bench, "figures": figures, "targets": targets, "met": bool(met)},
        ensure_ascii=False,
        default=str,
    )
    print(line, flush=True)
    gathered = os.environ.get(VERDICTS_ENV)
    if gathered:
        with open(gathered, "a", encoding="utf-8") as f:
            f.write(line + "\n")


# --- the machine ----------------------------------------------------------------------------------------


def _proc_line(path: str, prefix: str) -> str | None:
    """The first line of a /proc file that starts with `prefix`, or None (not Linux, or no such line)."""
    try:
        return next((line for line in Path(path).read_text().splitlines() if line.startswith(prefix)), None)
    except OSError:
        return None


def machine() -> dict[str, str]:
    """What the numbers were measured on: CPUs, RAM, kernel, Python."""
    model = _proc_line("/proc/cpuinfo", "model name")
    ram_kib = _proc_line("/proc/meminfo", "MemTotal")
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model.split(":", 1)[1].strip() if model else "unknown CPU",
        "ram": f"{int(ram_kib.split()[1]) / 1024 / 1024:.1f} GiB" if ram_kib else "unknown",
        "system": platform.system(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def describe_machine(info: dict[str, str] | None = None) -> str:
    """The machine in one line, as every script prints it first."""
    m = info or machine()
    return (
        f"{m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, {m['system']} {m['kernel']}, Python {m['python']}"
    )


def code_version() -> str:
    """The commit of the escrow package being measured, and whether escrow/ had uncommitted changes."""
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


def escrow_root() -> Path:
    """The directory holding the escrow package this process imports (a server started by the harness
    imports the same one)."""
    import escrow

    return Path(escrow.__file__).resolve().parent.parent


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- CPU accounting -------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def cmdline(pid: int) -> str:
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


def cpu_of(pids: Iterable[int]) -> dict[int, float]:
    return {p: st[1] for p in pids if (st := _stat(p)) is not None}


def postgres_pids(dbname: str) -> tuple[list[int], list[int]]:
    """The backends connected to `dbname`, and PostgreSQL's own background processes (WAL writer, …)."""
    ours, background = [], []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        cmd = cmdline(int(entry))
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

        return {
            "wall": end["t"] - self.start["t"],
            "server": delta("server"),
            "pg": delta("pg"),
            "pg_bg": delta("pg_bg"),
            "machine_busy": end["machine"][0] - self.start["machine"][0],
            "machine_total": end["machine"][1] - self.start["machine"][1],
        }


# --- timing and percentiles -----------------------------------------------------------------------------


def timed(fn: Callable[[], T], runs: int) -> tuple[list[float], T | None]:
    """The wall time of each of `runs` calls, and the last call's result."""
    times: list[float] = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def describe_times(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]  # nearest rank: a measured run
    median = statistics.median(times)
    return f"median {median:.3f} s, min {min(times):.3f} s, p90 {p90:.3f} s, max {max(times):.3f} s"


def percentiles(values: list[float], *pcts: int) -> dict[str, float]:
    """{"p50": …, "p99": …} of many samples (interpolated); zeros when there are too few to tell."""
    q = statistics.quantiles(values, n=100) if len(values) > 100 else [0.0] * 99
    return {f"p{p}": q[p - 1] for p in pcts}


# --- databases ------------------------------------------------------------------------------------------


def database_url(given: str | None, tmp: Path, filename: str) -> str:
    """The database a script measures: the one given, or a fresh SQLite file in its temporary directory."""
    return given or f"sqlite:///{tmp / filename}"


def where(url: str) -> str:
    """A database URL without its credentials, for printing."""
    return url.split("@")[-1]


def escrow_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of an escrow subprocess (a server, a CLI command) on database `url`: it imports the
    same escrow package as this process, then finds bench/ (bench.bare_litestar) in this checkout. Run it
    outside the checkout (cwd), or the checkout's escrow/ would come first. The rule books are this
    checkout's, as in `settings`."""
    env = {**os.environ, "ESCROW_DATABASE_URL": url, "ESCROW_RULES_DIR": str(RULES), **extra}
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([str(escrow_root()), str(REPO)]))
    return env


def escrow_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "escrow", *args]


def settings(url: str) -> Any:
    """escrow's Settings for database `url` and this checkout's rule books."""
    from escrow.config import Settings

    return Settings.from_env({"ESCROW_DATABASE_URL": url, "ESCROW_RULES_DIR": str(RULES)})


def migrated_engine(url: str) -> Any:
    """An engine on database `url`, migrated to the newest schema."""
    from escrow.store.db import make_engine
    from escrow.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine


def create_bank_and_developer(
    uow: Any, code_stem: str = "91131100MA0CXK7T4", name: str = "衡水安居置业有限公司"
) -> Any:
    """The bank HSB and one developer (credit code: `code_stem` and its check character), through the
    services; returns the developer."""
    from escrow.domain import credit_code
    from escrow.domain.principal import SYSTEM
    from escrow.services import parties

    parties.create_bank(uow, code="HSB", name="衡水银行", actor=SYSTEM)
    return parties.create_developer(
        uow, credit_code_value=credit_code.complete(code_stem), name=name, actor=SYSTEM
    )


def pg_urls(admin_url: str, dbname: str) -> tuple[str, str]:
    """(SQLAlchemy URL, libpq URL) of database `dbname` on the server of `admin_url`."""
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(database=dbname)
    sa = url.render_as_string(hide_password=False)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return sa, libpq


def is_loopback(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(url).host in LOOPBACK


def _admin(admin_url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


def create_database(admin_url: str, dbname: str) -> None:
    _admin(admin_url, f'CREATE DATABASE "{dbname}"')


def drop_database(admin_url: str, dbname: str) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def postgres_server(admin_url: str) -> tuple[str, dict[str, str]]:
    """The server's version and the settings that bear on commit throughput."""
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(pg_urls(admin_url, make_url(admin_url).database or "postgres")[1]) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('shared_buffers', 'synchronous_commit', "
                "'fsync', 'max_connections', 'commit_delay', 'wal_sync_method')"
            ).fetchall()
        )
    return version, settings


class ActivitySampler(threading.Thread):
    """Samples pg_stat_activity of a database every `interval` seconds: what the client connections are
    doing (active and running, waiting on a lock, on WAL flush, idle in transaction, idle); and pg_locks: how
    often a transaction holds an advisory lock, i.e. how busy that serialisation point is; and the locks the
    connections wait for (`granted = false`), split into waits for a supervised account's row — the row the
    waiting transaction locks itself, so another transaction on the same account holds it — and any other
    wait (`waits_other`: a transaction held up by one on another account; issue 13 wants none)."""

    def __init__(self, url: str, dbname: str, interval: float = 0.05):
        super().__init__(daemon=True)
        self.url, self.dbname, self.interval = url, dbname, interval
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self.lock_held = 0
        self.waits_own = 0  # samples with a connection waiting for its own account's row lock
        self.waits_other = 0  # samples with a connection waiting for anything else
        self.other_waits: Counter[str] = Counter()  # what those other waits were for
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
                # a row lock wait holds (or queues for) the heavyweight tuple lock of the row it waits for
                waits = conn.execute(
                    "SELECT w.locktype, coalesce(w.relation::regclass::text, ''), w.mode, "
                    "  w.relation = 'supervised_accounts'::regclass OR EXISTS (SELECT 1 FROM pg_locks t "
                    "    WHERE t.pid = w.pid AND t.locktype = 'tuple' "
                    "    AND t.relation = 'supervised_accounts'::regclass) "
                    "FROM pg_locks w JOIN pg_stat_activity a ON a.pid = w.pid "
                    "WHERE NOT w.granted AND a.datname = %s AND a.backend_type = 'client backend'",
                    (self.dbname,),
                ).fetchall()
                own = [w for w in waits if w[3]]
                other = [w for w in waits if not w[3]]
                self.waits_own += 1 if own else 0
                self.waits_other += 1 if other else 0
                self.other_waits.update(" ".join(filter(None, w[:3])) for w in other)
                self.samples += 1
                self.stop.wait(self.interval)

    def summary(self) -> dict[str, float]:
        """Average number of connections in each state."""
        n = max(self.samples, 1)
        return {k: v / n for k, v in self.counts.most_common()}


# --- servers --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uvicorn_command(
    target: str, port: int, *, workers: int = 1, factory: bool = False, log_level: str = "warning"
) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", target, *(["--factory"] if factory else []),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", log_level,
    ]  # fmt: skip


def start_server(
    cmd: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    ready_url: str,
    logfile: Path,
    any_answer: bool = False,
    settle: float = 0.0,
    timeout: float = 60.0,
) -> subprocess.Popen:
    """Starts a server in its own process group and waits until `ready_url` answers 200 (or anything at all,
    with `any_answer`), then `settle` seconds more (other workers finishing their start)."""
    with logfile.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"the server exited with {proc.returncode}; see {logfile}:\n{logfile.read_text()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(ready_url, timeout=2) as r:
                ready = r.status == 200 or any_answer
        except urllib.error.HTTPError:
            ready = any_answer
        except OSError:
            ready = False
        if ready:
            time.sleep(settle)
            return proc
        time.sleep(0.2)
    stop_server(proc)
    raise BenchError(f"the server did not answer {ready_url} within {timeout:g} s; see {logfile}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)  # the process group start_server started
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# --- load (wrk) and profiles (py-spy) -------------------------------------------------------------------


def run_wrk(
    url: str,
    *,
    lua: Path,
    threads: int,
    connections: int,
    duration: float,
    env: dict[str, str],
    output: Path,
    flags: Iterable[str] = (),
    wrk: str = "wrk",
) -> tuple[dict[str, Any], float]:
    """One wrk run driven by `lua`, which prints a line "BENCH_RESULT {json}" when done (bench/harness.lua).
    Returns that result and wrk's own CPU seconds."""
    cmd = [
        wrk, "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s", *flags,
        "-s", str(lua), url,
    ]  # fmt: skip
    with output.open("wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
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
    text = output.read_text(errors="replace")
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{text[-2000:]}")
    match = re.search(r"^BENCH_RESULT (.*)$", text, re.M)
    if not match:
        raise BenchError(f"wrk printed no result:\n{text[-2000:]}")
    return json.loads(match.group(1)), usage.ru_utime + usage.ru_stime


def start_profilers(py_spy: str, pids: Iterable[int], seconds: float, out_dir: Path, prefix: str) -> list:
    """py-spy on each process for `seconds`, twice: samples holding the GIL, and all samples. Raw collapsed
    stacks go to `out_dir`/`prefix`-<pid>-{gil,all}.txt."""
    spies = []
    for pid in pids:
        for mode in ("gil", "all"):
            cmd = [
                py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
                "--format", "raw", "--nonblocking", "--output", str(out_dir / f"{prefix}-{pid}-{mode}.txt"),
                *(["--gil"] if mode == "gil" else []),
            ]  # fmt: skip
            spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return spies


def wait_for(procs: Iterable[subprocess.Popen], timeout: float) -> None:
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


LIBRARIES = (
    "sqlalchemy", "psycopg", "sqlmodel", "litestar", "pydantic", "msgspec", "uvicorn", "h11", "httptools",
    "anyio", "asyncio", "concurrent", "threading", "json", "hashlib", "logging", "decimal", "secrets", "uuid",
)  # fmt: skip


def profile_summary(
    raw: Path, stages: Iterable[tuple[str, str]], top: int = 25, libraries: Iterable[str] = LIBRARIES
) -> dict[str, Any]:
    """py-spy's collapsed stacks → samples, self and inclusive time per function, time per library (of the
    innermost frame) and per stage: the first of `stages` (name, marker) whose marker is on the stack; the
    last one's marker should be "" to catch the rest."""
    stages, libraries = list(stages), list(libraries)
    selfs: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    libs: Counter[str] = Counter()
    by_stage: Counter[str] = Counter()
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
        lib = next((name for name in libraries if f"/{name}/" in path or f"/{name}.py" in path), lib)
        libs[lib] += count
        joined = ";".join(frames)
        by_stage[next(name for name, marker in stages if marker in joined)] += count
    return {
        "samples": total,
        "libraries": libs.most_common(),
        "stages": by_stage.most_common(),
        "self": selfs.most_common(top),
        "inclusive": incl.most_common(top),
    }
