"""The one place that wires the application."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from argon2 import PasswordHasher
from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from sqlalchemy import Engine

from escrow import __version__
from escrow.api.adoptions import AdoptionController
from escrow.api.alerts import AlertController
from escrow.api.amount_changes import AmountChangeController
from escrow.api.bank import BankController
from escrow.api.bureau import BureauController
from escrow.api.deps import Runtime
from escrow.api.developer import DeveloperController
from escrow.api.edge import behind_proxies, security_headers, trusted_proxies
from escrow.api.fund_plans import FundPlanController
from escrow.api.health import health, ready
from escrow.api.methods import AllowedMethods
from escrow.api.metrics import scrape as metrics
from escrow.api.operations import operation_id
from escrow.api.paths import restore_slashes
from escrow.api.payments import PaymentController
from escrow.api.problems import EXCEPTION_HANDLERS
from escrow.api.public import LIMIT_STATE, PublicController, hide_id_suffix_in_logs
from escrow.api.releases import ReleaseController
from escrow.api.reports import RUNNER_STATE, ReportController
from escrow.api.responses import COMPONENTS as OPENAPI_COMPONENTS
from escrow.api.responses import named_schemas
from escrow.api.statements import StatementController
from escrow.api.webhooks import WebhookController
from escrow.api.wire import WireFormatPlugin
from escrow.config import Settings
from escrow.ops.requests import RequestContext
from escrow.rulebooks import RuleBooks, load_dir
from escrow.services.context import Context
from escrow.services.ratelimit import Limit
from escrow.services.reportjobs import ReportRunner
from escrow.store.db import UnitOfWork, make_engine
from escrow.web import csrf_middleware, router, static_files, template_config
from escrow.web.public.contract import ContractController
from escrow.web.public.verify import VerifyController
from escrow.web.shell.auth import SIGN_IN_LIMIT_STATE

UPLOAD_BODY_LIMIT = 32 * 1024 * 1024  # a form with several documents; each file is checked on its own


def _csrf_secret(settings: Settings) -> str:
    """ESCROW_SECRET_KEY signs the CSRF tokens. Without it (a laptop demo, the tests) a random key per
    process is used: forms then only work with the process that served them, so set it for production."""
    if settings.secret_key:
        return settings.secret_key
    import secrets

    logging.getLogger("escrow").warning("ESCROW_SECRET_KEY is not set: using a random key for this process")
    return secrets.token_hex(32)


class StartupRefused(RuntimeError):
    """The service must not start: say why in one readable message."""


def check_published_rulebooks(engine: Engine, rulebooks: RuleBooks) -> None:
    with UnitOfWork(engine, readonly=True) as uow:
        problems = rulebooks.changed_since_published(uow.rulebook_records.all())
    if problems:
        raise StartupRefused("; ".join(problems))


def build_context(
    settings: Settings,
    engine: Engine,
    today: Callable[[], date] | None = None,
    hasher: PasswordHasher | None = None,
) -> Context:
    rulebooks = load_dir(settings.rules_dir)
    check_published_rulebooks(engine, rulebooks)
    return Context(
        settings=settings, rulebooks=rulebooks, today=today or date.today, engine=engine, hasher=hasher
    )


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    today: Callable[[], date] | None = None,
    scheduler: bool = False,
    hasher: PasswordHasher | None = None,
) -> Litestar:
    """`scheduler=True` runs the scheduled jobs in-process while the app runs (`escrow serve` on SQLite);
    `hasher` replaces the argon2 password hasher (escrow.services.passwords)."""
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    app = build_app(settings, scheduler=scheduler)
    connect(app, settings, engine=engine, today=today, hasher=hasher)
    return app


def connect(
    app: Litestar,
    settings: Settings,
    *,
    engine: Engine,
    today: Callable[[], date] | None = None,
    hasher: PasswordHasher | None = None,
) -> None:
    """Point an app of `build_app` at its database: the use cases' context, the rate limits and the report
    runner, all of it the app's state, which handlers read at each request. Building the routes costs far
    more (Litestar reads ~300 handlers' signatures, ~0.3 s); the tests build an app once per process and
    connect it to each test's own database. A report runner already there is stopped first."""
    ctx = build_context(settings, engine, today, hasher)
    _stop_report_runner(app)
    app.state = State(
        {
            "runtime": Runtime(engine=engine, ctx=ctx),
            LIMIT_STATE: Limit.of(settings),
            RUNNER_STATE: ReportRunner(engine, settings),  # report jobs render in a worker process
            SIGN_IN_LIMIT_STATE: Limit.for_sign_in(settings),
        }
    )


def _stop_report_runner(app: Litestar) -> None:
    runner = app.state.get(RUNNER_STATE)
    if runner is not None:
        runner.shutdown()


def build_app(settings: Settings, *, scheduler: bool = False) -> Litestar:
    """The routes and everything around them that the code and the process's settings decide (the CSRF
    secret, the trusted proxies, an in-process scheduler), not yet connected to a database (`connect`)."""
    hide_id_suffix_in_logs()  # the public contract look-up's ID suffix travels in the query string
    lifespan = []
    if scheduler:
        from escrow.jobs.scheduler import embedded

        lifespan.append(embedded)
    # a Litestar that routes `HT%2F2026%2F0001` as one path segment (api/paths.py) and says the methods of a
    # path alike in OPTIONS, HEAD and 405 answers (api/methods.py)
    app = AllowedMethods(
        route_handlers=[
            health,
            ready,
            metrics,
            BureauController,
            BankController,
            DeveloperController,
            StatementController,
            ReleaseController,
            PaymentController,
            AlertController,
            AdoptionController,
            FundPlanController,
            AmountChangeController,
            WebhookController,
            PublicController,
            ReportController,
            ContractController,
            VerifyController,
            router(),
            static_files(),
        ],
        lifespan=lifespan,
        middleware=[restore_slashes, csrf_middleware(_csrf_secret(settings))],
        before_send=[security_headers],  # CSP, frame, referrer, nosniff, HSTS (escrow.api.edge)
        plugins=[WireFormatPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        on_shutdown=[_stop_report_runner],
        template_config=template_config(),
        request_max_body_size=UPLOAD_BODY_LIMIT,
        openapi_config=OpenAPIConfig(
            title="Pre-sale fund escrow supervision API",
            version=__version__,
            path="/schema",
            components=OPENAPI_COMPONENTS,
            operation_id_creator=operation_id,
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        debug=False,
        # logging is the process's, configured once (escrow.ops.logs, by `escrow serve` and in each worker by
        # uvicorn): Litestar's own configuration would put its handler and format on the root logger
        logging_config=None,
    )
    named_schemas(app)  # the statement upload's formats (escrow/api/responses.py)
    # around everything Litestar does (routing, not-found, the exception handlers): every answer carries its
    # request id, writes one access line and is counted (escrow.ops.requests)
    app.asgi_handler = RequestContext(app.asgi_handler)
    # outermost: the client's address and scheme as the trusted proxies forwarded them, before anything
    # (the access line, the metrics' loopback rule, the rate limits) reads them
    app.asgi_handler = behind_proxies(app.asgi_handler, trusted_proxies(settings.forwarded_allow_ips))
    return app
