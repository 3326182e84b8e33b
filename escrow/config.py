"""Configuration from environment variables (CONTRACT.md §1)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from escrow.errors import CliError

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """A top-level folder of the repository, or its copy inside an installed wheel."""
    installed = PACKAGE_DIR / "_shipped" / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


# The authority that issues the city report when ESCROW_BUREAU_NAME is not set, by the rule book jurisdiction.
BUREAUS = {"hengshui": "衡水市住房和城乡建设局"}


def _percent(value: str, name: str) -> int:
    if not value.isdigit() or int(value) > 100:
        raise CliError(f"{name} must be a whole number of percent from 0 to 100, not {value!r}")
    return int(value)


def _count(value: str, name: str) -> int:
    if not value.isdigit():
        raise CliError(f"{name} must be a whole number (0: one per CPU), not {value!r}")
    return int(value)


def _seconds(value: str, name: str) -> int:
    if not value.isdigit():
        raise CliError(f"{name} must be a whole number of seconds, not {value!r}")
    return int(value)


def _smtp_url(value: str) -> str:
    """The SMTP server's URL, checked at start; the message never repeats it (it may hold a password)."""
    value = value.strip()
    parts = urlsplit(value)
    if value and (parts.scheme not in ("smtp", "smtps") or not parts.hostname):
        raise CliError("ESCROW_SMTP_URL must look like smtp://host:port or smtps://user:password@host:465")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    rules_dir: Path
    reports_dir: Path
    jurisdiction: str
    public_base_url: str
    archive_workers: int = 0  # processes rendering the monthly archive; 0: one per CPU (escrow.jobs.archive)
    key_cache_seconds: int = 5  # how long a process keeps an API key's principal (0: never)
    smtp_url: str = ""  # smtp://host:port or smtps://user:password@host:465; empty: nothing is e-mailed
    mail_from: str = "escrow@localhost"  # the sender of notification e-mails
    bureau_name: str = ""  # the issuing authority on the city report (住建局)
    # an account is "near its retention floor" on the dashboard when what a node release could take is at
    # most this percentage of its required cash retention: a configured value, not one of the measures
    retention_near_percent: int = 10

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("ESCROW_DATABASE_URL") or f"sqlite:///{Path.cwd() / 'escrow.db'}",
            secret_key=env.get("ESCROW_SECRET_KEY") or "",
            rules_dir=Path(env.get("ESCROW_RULES_DIR") or _shipped("rules")),
            reports_dir=_shipped("reports"),
            jurisdiction=env.get("ESCROW_JURISDICTION") or "hengshui",
            public_base_url=(env.get("ESCROW_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            archive_workers=_count(env.get("ESCROW_ARCHIVE_WORKERS") or "0", "ESCROW_ARCHIVE_WORKERS"),
            key_cache_seconds=_seconds(
                env.get("ESCROW_KEY_CACHE_SECONDS") or "5", "ESCROW_KEY_CACHE_SECONDS"
            ),
            smtp_url=_smtp_url(env.get("ESCROW_SMTP_URL") or ""),
            mail_from=env.get("ESCROW_MAIL_FROM") or "escrow@localhost",
            bureau_name=env.get("ESCROW_BUREAU_NAME")
            or BUREAUS.get(env.get("ESCROW_JURISDICTION") or "hengshui", ""),
            retention_near_percent=_percent(
                env.get("ESCROW_RETENTION_NEAR_PERCENT") or "10", "ESCROW_RETENTION_NEAR_PERCENT"
            ),
        )
