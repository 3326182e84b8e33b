"""Configuration from environment variables (CONTRACT.md §1)."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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


def _at_least_one(value: str, name: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise CliError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


def _smtp_url(value: str) -> str:
    """The SMTP server's URL, checked at start; the message never repeats it (it may hold a password)."""
    value = value.strip()
    parts = urlsplit(value)
    if value and (parts.scheme not in ("smtp", "smtps") or not parts.hostname):
        raise CliError("ESCROW_SMTP_URL must look like smtp://host:port or smtps://user:password@host:465")
    return value


def _one_of(value: str, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise CliError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


PREFIX = "ESCROW_"
LOG_FORMATS = ("text", "json")
# the environment read by `Settings.from_env` (os.environ, or the mapping a test passes)
_GIVEN: ContextVar[Mapping[str, str] | None] = ContextVar("escrow_settings_env", default=None)


class _Given(PydanticBaseSettingsSource):
    """Every field from `ESCROW_<NAME>` of the mapping in `_GIVEN`; an empty value counts as unset (the
    default applies), as it always has."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raw = (_GIVEN.get() or {}).get(PREFIX + field_name.upper(), "")
        return (raw if raw != "" else None), field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name, field in self.settings_cls.model_fields.items():
            value = self.get_field_value(field, name)[0]
            if value is not None:
                found[name] = value
        return found


class Environment(BaseSettings):
    """The environment variables, read and checked in one place (pydantic-settings). Every value is read
    as the text it is and checked by a validator that names the variable: a bad value stops the command with
    one readable line (escrow.cli) before anything starts."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, case_sensitive=False, extra="ignore", frozen=True
    )

    database_url: str = ""  # default: an SQLite file in the working directory
    secret_key: str = ""
    rules_dir: str = ""  # default: the shipped rules/
    jurisdiction: str = "hengshui"
    public_url: str = "http://127.0.0.1:8000"
    archive_workers: int = 0
    key_cache_seconds: int = 5
    smtp_url: str = ""
    mail_from: str = "escrow@localhost"
    bureau_name: str = ""  # default: by jurisdiction (BUREAUS)
    retention_near_percent: int = 10
    lookups_per_minute: int = 60
    failed_lookups_per_minute: int = 10
    signin_failures: int = 20
    signin_window_seconds: int = 900
    metrics_token: str = ""
    log_format: str = "text"
    forwarded_allow_ips: str = "127.0.0.1"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The process's environment (pydantic-settings' own source), or the mapping a caller passed to
        `Settings.from_env` (tests, a probe): never both, and no .env file."""
        return (env_settings,) if _GIVEN.get(None) is None else (_Given(settings_cls),)

    @field_validator("*", mode="before")
    @classmethod
    def _checked(cls, value: Any, info: ValidationInfo) -> Any:
        name = PREFIX + str(info.field_name).upper()
        if not isinstance(value, str):
            return value
        check = {
            "archive_workers": _count,
            "key_cache_seconds": _seconds,
            "retention_near_percent": _percent,
            "lookups_per_minute": _at_least_one,
            "failed_lookups_per_minute": _at_least_one,
            "signin_failures": _at_least_one,
            "signin_window_seconds": _at_least_one,
        }.get(str(info.field_name))
        if check is not None:
            return check(value.strip(), name)
        if info.field_name == "smtp_url":
            return _smtp_url(value)
        if info.field_name == "log_format":
            return _one_of(value.strip().lower(), name, LOG_FORMATS)
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

    # public voucher look-ups per client and minute, and of which failed (escrow.services.ratelimit)
    lookups_per_minute: int = 60
    failed_lookups_per_minute: int = 10
    # failed sign-ins per client address in each window of so many seconds (configured values, chosen so that
    # an office behind one address is not locked out by a few mistyped passwords while password spraying
    # stops after 20; escrow.services.ratelimit.Limit.for_sign_in)
    signin_failures: int = 20
    signin_window_seconds: int = 900
    # the bearer token of a `GET /metrics` scraper not on the loopback address (empty: loopback only)
    metrics_token: str = ""
    log_format: str = "text"  # text | json: one JSON object per log line (escrow.ops.logs)
    # the proxies whose X-Forwarded-For/-Proto `escrow serve` believes (uvicorn's forwarded_allow_ips)
    forwarded_allow_ips: str = "127.0.0.1"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from the environment (or `env`); a bad value raises CliError naming the variable."""
        token = _GIVEN.set(None if env is None else dict(env))
        try:
            e = Environment()
        except ValidationError as exc:
            first = exc.errors()[0]
            name = PREFIX + str(first["loc"][0]).upper() if first["loc"] else "a setting"
            raise CliError(f"{name}: {first['msg']}") from None
        finally:
            _GIVEN.reset(token)
        return cls(
            database_url=e.database_url or f"sqlite:///{Path.cwd() / 'escrow.db'}",
            secret_key=e.secret_key,
            rules_dir=Path(e.rules_dir or _shipped("rules")),
            reports_dir=_shipped("reports"),
            jurisdiction=e.jurisdiction,
            public_base_url=e.public_url.rstrip("/"),
            archive_workers=e.archive_workers,
            key_cache_seconds=e.key_cache_seconds,
            smtp_url=e.smtp_url,
            mail_from=e.mail_from,
            bureau_name=e.bureau_name or BUREAUS.get(e.jurisdiction, ""),
            retention_near_percent=e.retention_near_percent,
            lookups_per_minute=e.lookups_per_minute,
            failed_lookups_per_minute=e.failed_lookups_per_minute,
            signin_failures=e.signin_failures,
            signin_window_seconds=e.signin_window_seconds,
            metrics_token=e.metrics_token,
            log_format=e.log_format,
            forwarded_allow_ips=e.forwarded_allow_ips,
        )
