"""Log lines in one of two formats, `ESCROW_LOG_FORMAT=text` (the default) or `json`, each line carrying the
request id of the request it was written for.

We use the standard library's logging with a small JSON formatter rather than structlog: every library the
service runs on (uvicorn, Litestar, Alembic, APScheduler, WeasyPrint) already logs through `logging`, so one
formatter on the root handler turns all of their lines into JSON, with no second pipeline to bridge and no
dependency; structlog would only add its own API on top of the same handler.

The request id lives in a context variable set by `escrow.ops.requests` for the length of a request (a
handler running in a worker thread sees it too: the thread runs in a copy of the request's context).
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
NO_REQUEST = "-"

request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)

# The access line's own fields (escrow.ops.requests passes them as `extra`).
ACCESS_FIELDS = ("method", "route", "path", "status", "duration_ms", "client")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the current request's, else "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, request_id, the access
    line's fields where present, and the exception's traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"


def log_config(fmt: LogFormat = "text", level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the service (also given to uvicorn, whose workers apply it): one
    handler on stderr with the chosen formatter; uvicorn's own access log is off (`escrow.access` writes
    the access line, with the request id), its error log goes through the same handler."""
    formatter: dict[str, Any] = (
        {"()": "escrow.ops.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": TEXT_FORMAT}
    )  # fmt: skip
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "escrow.ops.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "alembic": {"level": "WARNING"},
            "apscheduler": {"level": "WARNING"},  # every run is logged by escrow.jobs
        },
    }


def configure(fmt: LogFormat = "text", level: str = "INFO") -> dict[str, Any]:
    """Apply the configuration in this process; returns it (for uvicorn's workers)."""
    config = log_config(fmt, level)
    logging.config.dictConfig(config)
    return config
