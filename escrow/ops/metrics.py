"""Prometheus metrics (prometheus-client). Two sources:

- the process's own events — requests by route template and status with their latency, deposits posted,
  statements imported by result — counted where they happen (`escrow.ops.requests`, the deposit and
  statement services after their commit);
- the database's state — open alerts by rule and severity, the scheduled jobs' runs by status, the webhook
  backlog — read at scrape time (`escrow.services.operations.figures`), so the answer is the same whichever
  worker serves the scrape and the scheduler process (which has no HTTP port) is counted too.

Several workers (`escrow serve --workers N`): a scrape reaches one process, yet the counters of all N must
add up. We use prometheus-client's multiprocess mode rather than deriving the events from the database: a
count of deposits or requests in the database would cost a scan of the busiest tables on every scrape (two
million deposits at province scale), and requests are not in the database at all. `escrow serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh directory (the operator's, emptied, or a temporary one) before the
workers start; each worker writes its counters to memory-mapped files there and the scrape sums them
(`MultiProcessCollector`). One process without that variable keeps its counters in memory. Only counters
and histograms are process metrics (their sums are meaningful); the gauges come from the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own variable
CONTENT_TYPE = CONTENT_TYPE_LATEST

# The process's metrics live in a registry of their own (the tests build many apps in one process).
PROCESS = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "escrow_http_requests",
    "HTTP requests answered, by method, route template (never the raw path) and status",
    ["method", "route", "status"],
    registry=PROCESS,
)
LATENCY = Histogram(
    "escrow_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=PROCESS,
)
DEPOSITS_POSTED = Counter(
    "escrow_deposits_posted", "Deposits booked (a repeated bank reference is not counted)", registry=PROCESS
)
STATEMENTS_IMPORTED = Counter(
    "escrow_statements_imported",
    "Bank statements imported, by result: reconciled, discrepancy, duplicate (imported before), refused",
    ["result"],
    registry=PROCESS,
)


def request_answered(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def deposit_posted() -> None:
    DEPOSITS_POSTED.inc()


def statement_imported(result: str) -> None:
    STATEMENTS_IMPORTED.labels(result).inc()


class _Process(Collector):
    """This process's counters (one process, no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return PROCESS.collect()


class _Database(Collector):
    def __init__(
        self,
        open_alerts: list[tuple[str, str, int]],
        job_runs: list[tuple[str, str, int]],
        webhook_backlog: int,
    ):
        self.open_alerts, self.job_runs, self.webhook_backlog = open_alerts, job_runs, webhook_backlog

    def collect(self) -> Iterator[Metric]:
        alerts = GaugeMetricFamily(
            "escrow_open_alerts", "Alerts not resolved (open or acknowledged), by rule and severity",
            labels=["rule", "severity"],
        )  # fmt: skip
        for rule, severity, n in self.open_alerts:
            alerts.add_metric([rule, severity], n)
        yield alerts
        runs = GaugeMetricFamily(
            "escrow_job_runs", "Scheduled job runs recorded, by job and status (running, done, failed)",
            labels=["job", "status"],
        )  # fmt: skip
        for job, status, n in self.job_runs:
            runs.add_metric([job, status], n)
        yield runs
        yield GaugeMetricFamily(
            "escrow_webhook_backlog", "Webhook deliveries waiting to be sent", value=self.webhook_backlog
        )


def multiproc_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition(
    open_alerts: list[tuple[str, str, int]],
    job_runs: list[tuple[str, str, int]],
    webhook_backlog: int,
) -> bytes:
    """The Prometheus text format: every worker's counters (summed in multiprocess mode) and the database's
    figures."""
    registry = CollectorRegistry(auto_describe=False)
    path = multiproc_dir()
    if path:
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(_Process())
    registry.register(_Database(open_alerts, job_runs, webhook_backlog))
    return generate_latest(registry)
