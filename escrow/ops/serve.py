"""`escrow serve` and `escrow scheduler` as operators start them: the secret key rule, the log format, the
metrics directory of several workers, and uvicorn's options (workers, the proxies it believes)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version

from escrow import __version__
from escrow.config import Settings
from escrow.errors import CliError
from escrow.ops import logs
from escrow.ops.metrics import MULTIPROC_ENV
from escrow.services.database import is_embedded

FORWARDED_ALLOW_IPS = "ESCROW_FORWARDED_ALLOW_IPS"  # what --forwarded-allow-ips sets for every worker

WORKER_HEALTHCHECK_SECONDS = 60
SECRET_KEY_MIN = 32  # characters: 192 bits and more from any generator of printable secrets

log = logging.getLogger("escrow")


def package_version() -> str:
    """The installed distribution's version (`escrow --version`), else the source tree's."""
    try:
        return version("escrow")
    except PackageNotFoundError:
        return __version__


def check_secret_key(settings: Settings, command: str) -> None:
    """On PostgreSQL (production: several workers behind a proxy) the service refuses to start without an
    ESCROW_SECRET_KEY of at least 32 characters: it signs the CSRF tokens, and a random key per process would
    break forms across workers while a short one can be guessed. The embedded SQLite deployment (a laptop
    demo, one process) starts with a warning instead."""
    key = settings.secret_key.strip()
    if len(key) >= SECRET_KEY_MIN:
        return
    said = "is not set" if not key else f"has {len(key)} characters"
    if not is_embedded(settings.database_url):
        raise CliError(
            f"ESCROW_SECRET_KEY {said}; `escrow {command}` on PostgreSQL needs at least {SECRET_KEY_MIN} "
            "characters, e.g. from: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if key:  # not set: escrow.app warns that it uses a random key for the process
        log.warning("ESCROW_SECRET_KEY %s; use at least %d characters", said, SECRET_KEY_MIN)


@contextmanager
def metrics_directory(workers: int) -> Iterator[str | None]:
    """PROMETHEUS_MULTIPROC_DIR for the workers (escrow.ops.metrics): the operator's directory, emptied of
    the files of an earlier run; with several workers and none given, a temporary one removed at exit; one
    process without it keeps its counters in memory."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        yield given
        return
    if workers == 1:
        yield None
        return
    made = tempfile.mkdtemp(prefix="escrow-metrics-")
    os.environ[MULTIPROC_ENV] = made  # before uvicorn spawns the workers, which inherit it
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)


def serve(settings: Settings, *, host: str, port: int, workers: int, forwarded_allow_ips: str | None) -> None:
    import uvicorn

    from escrow.app import create_app
    from escrow.services.database import migrated

    if workers < 1:
        raise CliError("--workers must be at least 1")
    if workers > 1 and is_embedded(settings.database_url):
        # SQLite has one writer and its scheduled jobs run in the serving process: one process only
        raise CliError("--workers above 1 needs PostgreSQL (SQLite has one writer; its jobs run in-process)")
    check_secret_key(settings, "serve")
    config = logs.configure(settings.log_format)
    engine = migrated(settings.database_url)
    options = dict(
        host=host,
        port=port,
        log_config=config,  # uvicorn applies it in each worker too
        access_log=False,  # escrow.access writes the one access line, with the request id
        # the app resolves forwarded addresses itself (escrow.api.edge, one place for every process), from
        # the setting each worker reads from the environment
        proxy_headers=False,
    )
    if forwarded_allow_ips:
        os.environ[FORWARDED_ALLOW_IPS] = forwarded_allow_ips
        settings = replace(settings, forwarded_allow_ips=forwarded_allow_ips)
    with metrics_directory(workers):
        if workers > 1:  # each worker process builds its app from the environment, as `escrow serve` would
            engine.dispose()
            uvicorn.run(
                "escrow.app:create_app",
                factory=True,
                workers=workers,
                # a worker imports the whole service before it answers the supervisor's pings; on a
                # busy machine that takes longer than uvicorn's 5 s and the supervisor would kill it
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
                **options,
            )  # type: ignore[arg-type]
            return
        # the embedded deployment runs the scheduled jobs in-process; with PostgreSQL run `escrow scheduler`
        app = create_app(settings, engine=engine, scheduler=is_embedded(settings.database_url))
        uvicorn.run(app, workers=1, **options)  # type: ignore[arg-type]
