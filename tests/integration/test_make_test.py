"""`make test`'s pytest run (scripts/test.sh): with no ESCROW_TEST_POSTGRES_URL it runs the PostgreSQL half
whenever a server answers, in a database of its own dropped afterwards — also when the run fails or is
interrupted — and says in one line when it cannot. Each case runs the script on a trivial selection."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, REPO

SCRIPT = REPO / "scripts" / "test.sh"
TRIVIAL = "tests/unit/test_credit_code.py"  # quick, no database
ON_BOTH = "tests/integration/test_store.py::test_balances_are_derived_from_the_journal"  # takes db_url
needs_server = pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server given (ESCROW_TEST_POSTGRES_URL)")


def _env(**pg: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ESCROW_TEST_POSTGRES_URL" and not k.startswith("PG")}
    return {**env, "PYTHON": sys.executable, **pg}


def _server() -> dict[str, str]:
    """PGHOST, PGPORT, PGUSER of the server the suite itself runs on."""
    url = make_url(PG_URL)
    env = {"PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432), "PGUSER": url.username or ""}
    if url.password:
        env["PGPASSWORD"] = url.password
    return env


def _run(*args: str, **pg: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "-n", "0", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env=_env(**pg),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _databases() -> set[str]:
    engine = create_engine(make_url(PG_URL).set(database="postgres"))
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT datname FROM pg_database")))
    finally:
        engine.dispose()


def _scratch(stdout: str) -> str:
    (name,) = re.findall(r"^test: PostgreSQL half on \S+, database (escrow_t_\d+) ", stdout, re.MULTILINE)
    return name


def test_with_no_server_answering_one_line_says_the_postgresql_half_is_skipped():
    with socket.socket() as s:  # a port nothing listens on: bound, never listened on, then freed
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    run = _run(TRIVIAL, PGPORT=port)
    assert run.returncode == 0, run.stdout + run.stderr
    said = [line for line in run.stdout.splitlines() if "PostgreSQL" in line]
    assert len(said) == 1, run.stdout
    assert said[0].startswith("test: PostgreSQL half skipped (SQLite only): ")
    assert f"127.0.0.1:{port}" in said[0] and "refused" in said[0].lower()
    assert re.search(r"\b\d+ passed\b", run.stdout)


@needs_server
def test_with_a_server_the_run_covers_postgresql_in_a_database_dropped_afterwards():
    run = _run(ON_BOTH, "-rA", **_server())
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^PASSED \S+\[postgresql\]$", run.stdout, re.M), run.stdout
    assert re.search(r"^PASSED \S+\[sqlite\]$", run.stdout, re.M), run.stdout
    assert _scratch(run.stdout) not in _databases()


@needs_server
def test_a_failing_run_keeps_its_exit_status_and_still_drops_the_database():
    run = _run(f"{ON_BOTH}_nothing_by_this_name", **_server())
    assert run.returncode == 4, run.stdout + run.stderr  # pytest: usage error (no such test)
    assert _scratch(run.stdout) not in _databases()


@needs_server
def test_an_interrupted_run_still_drops_the_database(tmp_path: Path):
    started, release = tmp_path / "started", tmp_path / "never"
    waiting = tmp_path / "test_waits.py"
    waiting.write_text(
        "import pathlib, time\n"
        "def test_waits():\n"
        f"    pathlib.Path({str(started)!r}).write_text('')\n"
        f"    while not pathlib.Path({str(release)!r}).exists():\n"
        "        time.sleep(0.1)\n"
    )
    proc = subprocess.Popen(
        ["bash", str(SCRIPT), "-n", "0", "-q", "-p", "no:cacheprovider", str(waiting)],
        cwd=REPO,
        env=_env(**_server()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's ^C reaches
        # as a terminal's shell starts it: an xdist worker ignores SIGINT, and a signal ignored when bash
        # starts can be neither trapped nor reset by the script
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        first = proc.stdout.readline()
        name = _scratch(first)
        while not started.exists() and proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.1)
        assert name in _databases()
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=120)
    finally:
        release.write_text("")
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    assert name not in _databases()
