"""Operations on the command line (CONTRACT.md §10): `--version`, the settings checked at start, the secret
key rule of a PostgreSQL deployment, `escrow demo` migrating an empty database, and `escrow serve` as
operators run it — JSON log lines with the request id, several workers whose counters add up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from escrow.cli import main
from escrow.demo.plan import REFERENCE_DAY
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import Project
from tests.conftest import PG_URL, REPO, _pg_admin
from tests.live import free_port

KEY = "k" * 32
BIN = os.path.join(os.path.dirname(sys.executable), "escrow")


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str, *words: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("escrow: error: "), err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_version(capsys):
    code, out, _ = _run(["--version"], capsys)
    assert (code, out.strip()) == (0, f"escrow {version('escrow')}")
    shown = subprocess.run(
        [sys.executable, "-m", "escrow", "--version"], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert (shown.returncode, shown.stdout.strip()) == (0, f"escrow {version('escrow')}")


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("ESCROW_LOG_FORMAT", "xml", ("ESCROW_LOG_FORMAT", "text, json", "'xml'")),
        ("ESCROW_KEY_CACHE_SECONDS", "soon", ("ESCROW_KEY_CACHE_SECONDS", "whole number")),
        ("ESCROW_LOOKUPS_PER_MINUTE", "0", ("ESCROW_LOOKUPS_PER_MINUTE", "at least 1")),
        ("ESCROW_RETENTION_NEAR_PERCENT", "150", ("ESCROW_RETENTION_NEAR_PERCENT", "0 to 100")),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch, capsys, name, value, words):
    monkeypatch.setenv(name, value)
    code, _, err = _run(["rules", "list"], capsys)
    assert code == 1
    _one_line(err, *words)


def test_settings_keep_their_names_and_defaults():
    from escrow.config import Settings

    s = Settings.from_env({})
    assert (s.jurisdiction, s.public_base_url, s.key_cache_seconds, s.archive_workers) == (
        "hengshui", "http://127.0.0.1:8000", 5, 0,
    )  # fmt: skip
    assert (s.log_format, s.metrics_token, s.forwarded_allow_ips) == ("text", "", "127.0.0.1")
    assert (s.lookups_per_minute, s.failed_lookups_per_minute, s.retention_near_percent) == (60, 10, 10)
    s = Settings.from_env(
        {"ESCROW_PUBLIC_URL": "https://escrow.example.cn/", "ESCROW_LOG_FORMAT": "JSON",
         "ESCROW_MAIL_FROM": "", "ESCROW_FORWARDED_ALLOW_IPS": "10.0.0.5"}
    )  # fmt: skip
    assert (s.public_base_url, s.log_format, s.mail_from, s.forwarded_allow_ips) == (
        "https://escrow.example.cn", "json", "escrow@localhost", "10.0.0.5",
    )  # fmt: skip


# --- the secret key -----------------------------------------------------------------------------------------


@pytest.mark.only_backend("postgresql")
@pytest.mark.parametrize("command", [["serve"], ["scheduler", "--once"]])
@pytest.mark.parametrize("key", ["", "x", "k" * 31])
def test_postgresql_refuses_to_start_without_a_long_secret_key(db_url, monkeypatch, capsys, command, key):
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_SECRET_KEY", key)
    code, _, err = _run(command, capsys)
    assert code == 1
    _one_line(err, "ESCROW_SECRET_KEY", "at least 32 characters", f"escrow {command[0]}")


def test_sqlite_starts_with_a_warning_about_a_short_key(caplog):
    from escrow.config import Settings
    from escrow.ops.serve import check_secret_key

    check_secret_key(Settings.from_env({"ESCROW_SECRET_KEY": "x"}), "serve")  # SQLite: no refusal
    assert "ESCROW_SECRET_KEY has 1 characters" in caplog.text
    check_secret_key(Settings.from_env({"ESCROW_SECRET_KEY": KEY}), "serve")
    check_secret_key(
        Settings.from_env({"ESCROW_SECRET_KEY": KEY, "ESCROW_DATABASE_URL": "postgresql+psycopg://h/db"}),
        "serve",
    )


# --- escrow demo on an empty database -----------------------------------------------------------------------


@contextmanager
def empty_postgres() -> Iterator[str]:
    name = f"escrow_empty_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.skipif(not PG_URL, reason="needs ESCROW_TEST_POSTGRES_URL")
def test_demo_migrates_an_empty_postgresql_database(monkeypatch, capsys):
    with empty_postgres() as url:
        monkeypatch.setenv("ESCROW_DATABASE_URL", url)
        monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))
        code, out, err = _run(["demo", "--scale", "small", "--as-of", REFERENCE_DAY.isoformat()], capsys)
        assert code == 0, err
        assert "export " in out
        engine = make_engine(url)
        try:
            with UnitOfWork(engine, readonly=True) as uow:
                assert uow.session.scalar(select(func.count()).select_from(Project)) > 0
        finally:
            engine.dispose()


# --- escrow serve -------------------------------------------------------------------------------------------


@contextmanager
def served(db_url: str, *args: str, **env: str) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`escrow serve` in a process of its own on a free loopback port, its output in a file (a pipe nobody
    reads would fill and stop the server); stopped (SIGTERM) on leaving."""
    port = free_port()
    output = Path(tempfile.mkdtemp(prefix="escrow-serve-")) / "output.log"
    sink = output.open("w")
    proc = subprocess.Popen(
        [BIN, "serve", "--port", str(port), *args],
        cwd=REPO,
        env={
            **os.environ,
            "ESCROW_DATABASE_URL": db_url,
            "ESCROW_RULES_DIR": str(REPO / "rules"),
            "ESCROW_SECRET_KEY": KEY,
            **env,
        },
        stdout=sink,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a busy machine imports slowly
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"escrow serve exited: {output.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("escrow serve did not get ready")
            time.sleep(0.2)
        yield base, proc, output
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sink.close()


def test_json_logs_one_object_a_line_with_the_request_id(db_url):
    with served(db_url, ESCROW_LOG_FORMAT="json") as (base, proc, output):
        r = httpx.get(f"{base}/health", headers={"X-Request-ID": "corr-42"})
        assert r.headers["x-request-id"] == "corr-42"
        r = httpx.get(f"{base}/api/v1/projects/1")  # 401: an error has its id and its line too
        made = r.headers["x-request-id"]
        proc.terminate()
        proc.wait(timeout=30)
    lines = [line for line in output.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line, uvicorn's own included, is one JSON object
    for record in records:
        assert {"timestamp", "level", "logger", "message", "request_id"} <= record.keys()
    access = [r for r in records if r["logger"] == "escrow.access"]
    health = [r for r in access if r["request_id"] == "corr-42"]
    assert len(health) == 1  # one access line per request: uvicorn's access log is off
    assert health[0] | {"duration_ms": 0, "timestamp": ""} == health[0] | {
        "level": "INFO", "method": "GET", "route": "/health", "path": "/health", "status": 200,
        "duration_ms": 0, "timestamp": "", "client": "127.0.0.1",
    }  # fmt: skip
    assert [r["status"] for r in access if r["request_id"] == made] == [401]
    assert any(r["logger"].startswith("uvicorn") for r in records)  # the server's own lines, as JSON


@pytest.mark.only_backend("postgresql")
def test_two_workers_serve_and_their_counters_add_up(db_url):
    with (
        served(db_url, "--workers", "2", "--forwarded-allow-ips", "127.0.0.1", ESCROW_LOG_FORMAT="json") as (
            base,
            _proc,
            output,
        ),
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        for _ in range(20):
            assert http.get("/health", headers={"Connection": "close"}).status_code == 200  # new connections
        # the proxy option: a client forwarded by a trusted proxy is not the loopback address, not a scraper
        assert http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
        exposition = http.get("/metrics").text
    line = r'^escrow_http_requests_total\{method="GET",route="/health",status="200"\} (\S+)$'
    found = re.search(line, exposition, re.M)
    assert found and float(found.group(1)) == 20  # summed over both workers, whichever served the scrape
    records = [
        json.loads(line) for line in output.read_text().splitlines() if line.strip()
    ]  # JSON in workers too
    health = [r for r in records if r["logger"] == "escrow.access" and r["route"] == "/health"]
    assert len(health) == 20 and len({r["request_id"] for r in health}) == 20
