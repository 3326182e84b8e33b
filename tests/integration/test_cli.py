"""The `escrow` command: each command works, and bad input gives one readable line and a non-zero exit."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from escrow.cli import main
from escrow.store.db import UnitOfWork, make_engine
from escrow.store.models import Bank, Developer, User
from tests.conftest import REPO, project_body

VALID_CODE = "91350100M000100Y43"  # the example code of GB 32100-2015


@pytest.fixture
def cli(db_url, monkeypatch):
    """Run the CLI in-process against the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        return code, out.getvalue(), err.getvalue()

    return run


def _count(db_url, model) -> int:
    engine = make_engine(db_url)
    try:
        with UnitOfWork(engine, readonly=True) as uow:
            return uow.session.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def _one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("escrow: error: ")
    for word in words:
        assert word in lines[0]


def test_db_upgrade(cli):
    code, out, _ = cli("db", "upgrade")
    assert code == 0
    assert "latest revision" in out


def test_bank_create_and_duplicate(cli, db_url):
    assert cli("bank", "create", "--code", "HSB", "--name", "衡水银行")[0] == 0
    code, _, err = cli("bank", "create", "--code", "HSB", "--name", "Again")
    assert code == 1
    _one_line_error(err, "HSB", "already exists")
    assert _count(db_url, Bank) == 1


@pytest.mark.parametrize(
    ("credit_code", "words"),
    [
        ("91350100M000100Y44", "expected 3"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M0001O0Y43", "not allowed"),
    ],
)
def test_developer_create_checks_the_credit_code(cli, db_url, credit_code, words):
    code, _, err = cli("developer", "create", "--credit-code", credit_code, "--name", "D")
    assert code == 1
    _one_line_error(err, words)
    assert _count(db_url, Developer) == 0


def test_developer_create_accepts_a_valid_code(cli, db_url):
    code, out, _ = cli("developer", "create", "--credit-code", VALID_CODE, "--name", "衡水安居置业")
    assert code == 0
    assert VALID_CODE in out
    assert _count(db_url, Developer) == 1


def test_user_create_hashes_the_password_from_stdin(cli, db_url):
    code, _, _ = cli(
        "user",
        "create",
        "--username",
        "li.wei",
        "--role",
        "reviewer",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert code == 0
    engine = make_engine(db_url)
    with UnitOfWork(engine, readonly=True) as uow:
        user = uow.parties.user_by_name("li.wei")
    engine.dispose()
    assert user.role == "reviewer"
    assert user.password_hash.startswith("$argon2")
    assert "correct horse" not in user.password_hash


@pytest.mark.parametrize(
    ("argv", "stdin", "words"),
    [
        (("--role", "janitor"), "", None),  # argparse refuses the choice: exit 2
        (("--role", "reviewer", "--password-stdin"), "short\n", "at least 10"),
        (("--role", "reviewer", "--password-stdin"), "", "no password"),
    ],
)
def test_user_create_refuses_bad_input(cli, db_url, argv, stdin, words):
    code, _, err = cli("user", "create", "--username", "x", *argv, stdin=stdin)
    assert code != 0
    if words:
        _one_line_error(err, words)
    assert _count(db_url, User) == 0


def test_user_create_makes_bank_staff_of_a_bank(cli, db_url):
    assert cli("bank", "create", "--code", "HSB", "--name", "衡水银行")[0] == 0
    code, out, _ = cli("user", "create", "--username", "teller", "--role", "bank", "--bank", "HSB")
    assert code == 0 and "role bank" in out
    engine = make_engine(db_url)
    with UnitOfWork(engine, readonly=True) as uow:
        teller = uow.parties.user_by_name("teller")
        bank = uow.parties.bank_by_code("HSB")
    engine.dispose()
    assert teller.role == "bank" and teller.bank_id == bank.id


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--role", "bank"), "name their bank"),
        (("--role", "bank", "--bank", "NOPE"), "no bank with code NOPE"),
        (("--role", "reviewer", "--bank", "HSB"), "role bank"),
    ],
)
def test_user_create_refuses_bank_staff_without_their_bank(cli, db_url, argv, words):
    cli("bank", "create", "--code", "HSB", "--name", "衡水银行")
    code, _, err = cli("user", "create", "--username", "teller", *argv)
    assert code != 0
    _one_line_error(err, words)
    assert _count(db_url, User) == 0


def test_api_key_is_printed_once_as_the_last_line_and_works(cli, db_url, app, client):
    cli("user", "create", "--username", "boss", "--role", "admin")
    code, out, err = cli("api-key", "create", "--user", "boss")
    assert code == 0
    key = out.strip().splitlines()[-1]
    assert key.startswith("esk_")
    assert "shown once" in err
    r = client.get("/api/v1/stats?from=2025-01-01&to=2025-12-31", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    # the database holds only a hash of it
    engine = make_engine(db_url)
    with engine.connect() as conn:
        dump = json.dumps([list(map(str, row)) for row in conn.exec_driver_sql("SELECT * FROM api_keys")])
    engine.dispose()
    assert key not in dump
    assert key.split("_", 2)[2] not in dump


def test_api_key_for_an_unknown_principal(cli):
    code, _, err = cli("api-key", "create", "--bank", "NOPE")
    assert code == 1
    _one_line_error(err, "no bank with code NOPE")


def test_a_bank_key_acts_as_the_bank_and_not_as_the_bureau(cli, client):
    cli("bank", "create", "--code", "HSB", "--name", "衡水银行")
    key = cli("api-key", "create", "--bank", "HSB")[1].strip().splitlines()[-1]
    r = client.post(
        "/api/v1/projects",
        json=project_body(),
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "k"},
    )
    assert r.status_code == 403


def test_rules_list_show_and_check(cli):
    code, out, _ = cli("rules", "list")
    assert code == 0
    assert "hengshui@2024.1" in out
    code, out, _ = cli("rules", "show", "hengshui@2024.1")
    assert code == 0
    assert "主体结构封顶" in out and "wage_arrears_statement" in out
    code, out, _ = cli("rules", "show", "hengshui@2024.1", "--json")
    parsed = json.loads(out)
    assert parsed["id"] == "hengshui@2024.1"
    assert [n["retention"] for n in parsed["nodes"]] == ["0.70", "0.45", "0.25", "0.10", "0.00"]
    code, out, _ = cli("rules", "show", "hengshui@2026.2")
    assert "supervised by building: yes" in out and "key amount change approval: reviewer → approver" in out
    assert "beyond the plan adds director" in out and "bank_confirmation_days       5" in out
    code, out, _ = cli("rules", "show", "hengshui@2024.1")
    assert "supervised by building: no" in out and "fund plan approval: reviewer → approver\n" in out
    code, out, _ = cli("rules", "check")
    assert code == 0
    assert "ok  hengshui@2024.1" in out


def test_rules_show_an_unknown_version(cli):
    code, _, err = cli("rules", "show", "hengshui@2099.1")
    assert code == 1
    _one_line_error(err, "no rule book hengshui@2099.1", "known: hengshui@2024.1")


def test_rules_check_names_file_and_key_of_a_malformed_book(cli, tmp_path, monkeypatch):
    bad = tmp_path / "rules" / "hengshui"
    bad.mkdir(parents=True)
    text = (REPO / "rules" / "hengshui" / "2024.1.toml").read_text(encoding="utf-8")
    (bad / "2024.1.toml").write_text(text.replace('retention = "0.45"', "retention = 0.45"), encoding="utf-8")
    monkeypatch.setenv("ESCROW_RULES_DIR", str(tmp_path / "rules"))
    code, _, err = cli("rules", "check")
    assert code == 1
    _one_line_error(err, "2024.1.toml", "nodes[1].retention", "decimal written as a string")
    (bad / "2024.1.toml").write_text(text + "\n[[nodes]\n", encoding="utf-8")
    code, _, err = cli("rules", "check")
    assert code == 1
    _one_line_error(err, "malformed TOML")


def test_the_installed_command_runs(db_url):
    """The console script itself (not only main()) exits non-zero with one line on bad input."""
    exe = Path(sys.executable).parent / "escrow"
    result = subprocess.run(
        [str(exe), "developer", "create", "--credit-code", "123", "--name", "x"],
        capture_output=True,
        text=True,
        env={"ESCROW_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 1
    _one_line_error(result.stderr, "18 characters")


def test_python_dash_m_escrow_shows_help():
    result = subprocess.run(
        [sys.executable, "-m", "escrow", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("serve", "demo", "db", "bank", "developer", "user", "api-key", "rules"):
        assert command in result.stdout


def test_shipped_files_are_found_from_an_installed_wheel(tmp_path):
    """`pip install .` outside the repository must still find the rule books and report templates."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    target = tmp_path / "site"
    wheel = next(wheel_dir.glob("escrow-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    probe = (
        "import escrow.config as c, json; s = c.Settings.from_env({});"
        "print(json.dumps([c.__file__, str(s.rules_dir), str(s.reports_dir)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=outside,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=True,
    )
    module, rules_dir, reports_dir = json.loads(result.stdout)
    assert module.startswith(str(target))
    assert rules_dir.startswith(str(target)) and reports_dir.startswith(str(target))
    assert (Path(rules_dir) / "hengshui" / "2024.1.toml").is_file()
    assert any(Path(reports_dir).iterdir())
    shutil.rmtree(target)


@pytest.mark.parametrize("today", [date(2026, 12, 6)])  # the app's clock for the funding (hengshui@2026.1)
def test_guarantee_register_and_release(cli, client, world, flow, db_url):
    """Registered through the services like the API (the command's clock is the real one, so the guarantee
    runs to a far day); bad input is one line and exit 1, nothing kept."""
    from escrow.store.models import Guarantee
    from tests.http.test_money_flows import fund, open_project

    project = open_project(client, world)
    pid = str(project["project_id"])
    args = ("guarantee", "register", "--project", pid, "--no", "BH-CLI-1", "--issuer", "衡水银行")
    code, _out, err = cli(*args, "--amount", "100.00", "--from", "2026-12-01", "--until", "2099-12-31")
    assert code == 1
    _one_line_error(err, "guarantee.requires_full_amount")
    fund(flow, "12000000.00")
    code, _out, err = cli(*args, "--amount", "1.5.0", "--from", "2026-12-01", "--until", "2099-12-31")
    assert code == 1
    _one_line_error(err, "--amount")
    code, _out, err = cli(*args, "--amount", "100.00", "--from", "2026-12-01", "--until", "31.12.2099")
    assert code == 1
    _one_line_error(err, "--until")
    assert _count(db_url, Guarantee) == 0
    code, out, err = cli(*args, "--amount", "2000000.00", "--from", "2026-12-01", "--until", "2099-12-31")
    assert code == 0, err
    assert "BH-CLI-1 of 2000000.00" in out and ": active;" in out
    guarantee_id = out.split()[1]
    code, _out, err = cli(*args, "--amount", "2000000.00", "--from", "2026-12-01", "--until", "2099-12-31")
    assert code == 1
    _one_line_error(err, "already registered")
    code, out, err = cli("guarantee", "release", guarantee_id)
    assert code == 0, err
    assert ": released;" in out
    code, _out, err = cli("guarantee", "release", guarantee_id)
    assert code == 1
    _one_line_error(err, "already released")


def test_serve_refuses_bad_worker_counts(cli, db_url):
    code, _, err = cli("serve", "--workers", "0")
    assert code == 1
    _one_line_error(err, "--workers must be at least 1")
    if db_url.startswith("sqlite"):  # one writer: the embedded deployment serves from one process
        code, _, err = cli("serve", "--workers", "2")
        assert code == 1
        _one_line_error(err, "needs PostgreSQL")
