"""The shipped deployment files (deploy/, docs/OPERATIONS.md) are checked by the tools that will read them:
`systemd-analyze verify` for the unit files, `nginx -t` for the reverse proxy with a throwaway self-signed
certificate. Each tool also has to refuse a broken copy, so that a pass means something. Where the tool is
missing the test is skipped and says why (`scripts/system-deps.sh` installs nginx; systemd comes with
Debian)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
UNITS = ("escrow-web.service", "escrow-scheduler.service", "escrow-backup.service", "escrow-backup.timer")
INSTALLED_ESCROW = "/opt/escrow/.venv/bin/escrow"
INSTALLED_DEPLOY = "/opt/escrow/deploy/"
ESCROW = Path(sys.executable).parent / "escrow"  # this environment's console script

needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (package systemd)"
)
needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None or shutil.which("openssl") is None,
    reason="nginx or openssl is not installed (scripts/system-deps.sh installs nginx as root)",
)


def _units_here(tmp_path: Path) -> list[Path]:
    """Copies of the unit files whose commands point at this environment's `escrow` and this checkout's
    deploy/ (verify checks that the executables exist), everything else as shipped."""
    assert ESCROW.exists(), ESCROW
    copies = []
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        text = text.replace(INSTALLED_ESCROW, str(ESCROW)).replace(INSTALLED_DEPLOY, f"{DEPLOY}/")
        copy = tmp_path / name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


def _verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True, check=False
    )


def _findings(result: subprocess.CompletedProcess[str], units: list[Path]) -> list[str]:
    """What verify said about our units: it exits 0 on an unknown key or a value it cannot parse and only
    prints a line, so every line naming one of them counts."""
    return [line for line in result.stderr.splitlines() if any(unit.name in line for unit in units)]


@needs_systemd
def test_systemd_units_verify(tmp_path):
    units = _units_here(tmp_path)
    result = _verify(units)
    assert result.returncode == 0 and not _findings(result, units), result.stderr


@needs_systemd
def test_systemd_verify_names_a_broken_unit(tmp_path):
    units = _units_here(tmp_path)
    scheduler = units[1]
    scheduler.write_text(
        scheduler.read_text(encoding="utf-8").replace("Restart=always", "Restart=sometimes\nRestrat=always"),
        encoding="utf-8",
    )
    web = units[0]
    web.write_text(web.read_text(encoding="utf-8").replace(str(ESCROW), "/nonexistent/escrow"), "utf-8")
    result = _verify(units)
    findings = "\n".join(_findings(result, units))
    assert result.returncode != 0
    assert "Restrat" in findings and "sometimes" in findings and "/nonexistent/escrow" in findings


def test_units_run_the_documented_commands():
    """Several workers behind the proxy, the one scheduler, both on the shared settings file; the flags are
    CONTRACT §10's."""
    web = (DEPLOY / "systemd" / "escrow-web.service").read_text(encoding="utf-8")
    scheduler = (DEPLOY / "systemd" / "escrow-scheduler.service").read_text(encoding="utf-8")
    start = re.search(r"^ExecStart=(.*)$", web, re.M).group(1).split()
    assert start[:2] == [INSTALLED_ESCROW, "serve"]
    assert int(start[start.index("--workers") + 1]) > 1
    assert start[start.index("--host") + 1] == "127.0.0.1"  # only nginx reaches the workers
    assert start[start.index("--forwarded-allow-ips") + 1] == "127.0.0.1"
    assert re.search(r"^ExecStart=(.*)$", scheduler, re.M).group(1).split() == [INSTALLED_ESCROW, "scheduler"]
    for unit in (web, scheduler):
        assert "EnvironmentFile=/etc/escrow/escrow.env" in unit
        assert re.search(r"^User=escrow$", unit, re.M)


def test_environment_example_holds_no_secret_and_only_known_settings():
    example = (DEPLOY / "systemd" / "escrow.env.example").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in example.splitlines() if line.strip() and not line.startswith("#")
    )
    assert settings["ESCROW_SECRET_KEY"] == "" and settings["ESCROW_METRICS_TOKEN"] == ""
    assert ":" not in settings["ESCROW_DATABASE_URL"].split("@")[0].split("//")[1]  # no password: peer auth
    known = set(re.findall(r"ESCROW_[A-Z_]+", (REPO / "README.md").read_text(encoding="utf-8")))
    known |= {"ESCROW_LOG_FORMAT", "ESCROW_METRICS_TOKEN"}  # CONTRACT §10's operations settings
    commented = set(re.findall(r"^# (ESCROW_[A-Z_]+)=", example, re.M))
    assert set(settings) | commented <= known


def _nginx_here(tmp_path: Path, site: str) -> Path:
    """A main configuration around the site file as shipped, its certificate paths pointed at a throwaway
    self-signed certificate and its logs and temporary files at tmp_path; its path."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=escrow.example.gov.cn", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, check=True,
    )  # fmt: skip
    for shipped, here in (
        ("/etc/escrow/tls/fullchain.pem", tmp_path / "cert.pem"),
        ("/etc/escrow/tls/privkey.pem", tmp_path / "key.pem"),
        ("/var/log/nginx/", f"{tmp_path}/"),
    ):
        assert shipped in site
        site = site.replace(shipped, str(here))
    (tmp_path / "escrow.conf").write_text(site, encoding="utf-8")
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("proxy", "fastcgi", "uwsgi", "scgi"))
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body; {temp}\n  access_log {tmp_path}/access.log;\n"
        f"  include {tmp_path}/escrow.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


def _nginx_test(tmp_path: Path, main: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(main), "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@needs_nginx
def test_nginx_config_passes_nginx_t(tmp_path):
    site = (DEPLOY / "nginx" / "escrow.conf").read_text(encoding="utf-8")
    result = _nginx_test(tmp_path, _nginx_here(tmp_path, site))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@needs_nginx
def test_nginx_t_refuses_a_broken_config(tmp_path):
    site = (DEPLOY / "nginx" / "escrow.conf").read_text(encoding="utf-8")
    site = site.replace("proxy_pass", "proxy_pas", 1)
    result = _nginx_test(tmp_path, _nginx_here(tmp_path, site))
    assert result.returncode != 0 and "proxy_pas" in result.stderr


def test_nginx_config_forwards_what_the_application_reads_and_keeps_metrics_inside():
    site = (DEPLOY / "nginx" / "escrow.conf").read_text(encoding="utf-8")
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID", "Host"):
        assert f"proxy_set_header {header} " in site
    assert re.search(r"location = /metrics \{\s*return 404;", site)
    assert "return 301 https://" in site and "ssl_protocols TLSv1.2 TLSv1.3;" in site
