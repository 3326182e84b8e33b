"""The browser side, in four rooms whose templates mirror them under `templates/`:

- `shell/`: what every page shares — sign-in and sessions (`auth`, `sessions`), the role × action table
  (`permissions`), rendering and forms (`pages`), error pages (`errors`), languages (`i18n`), code names
  (`labels`), refusals in words (`refusals`), filters and uploads. Templates `shell/base.html` (public),
  `shell/app.html` (signed in), `shell/macros.html`.
- `bureau/`: the housing bureau's pages — dashboard and alerts, projects, node confirmation, releases,
  refunds and suspense, the rule-book what-if.
- `portal/`: the developer's pages — overview, contracts and payment notices, release applications.
- `public/`: the buyer's voucher check (no sign-in).
- `admin/`: users and API keys, for the admin role. `bank/`: the read-only bank portal for bank staff.

Each page module has a `CONTROLLERS` list that `router()` collects. Texts are English message ids in
`_("…")`, translated by the catalogs in `locale/`. Filters: `money` (1,234.50), `capital`
(壹仟贰佰叁拾肆元伍角整), `long_date` (2026年11月22日 or 22 Nov 2026), `local_time`; the global
`static('site.css')`. Static files are served under /static.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from escrow.web.shell import filters

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_PATH = "/static"


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(filters.FILTERS)
    env.globals["static"] = lambda name: f"{STATIC_PATH}/{name}"


def template_config() -> TemplateConfig[Any]:
    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=_configure)


def static_files() -> Router:
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=3600, public=True),
        include_in_schema=False,
    )


def csrf_middleware(secret: str):
    """CSRF on every form of the browser UI, the token bound to the session (escrow.web.shell.csrf): the
    form's `_csrf_token` field or the `X-CSRFToken` header HTMX sends. The API authenticates with bearer
    keys, not cookies, and the buyer's page only reads: both are left out."""
    from litestar.middleware import DefineMiddleware

    from escrow.web.shell.csrf import CSRFMiddleware

    return DefineMiddleware(CSRFMiddleware, secret=secret)


def router() -> Router:
    """Every signed-in page, with HTML error pages instead of problem+json."""
    from escrow.web import admin, bank
    from escrow.web.bureau import (
        amount_changes,
        dashboard,
        fund_plans,
        nodes,
        projects,
        refunds,
        rules,
        statements,
        suspense,
        whatif,
    )
    from escrow.web.portal import overview
    from escrow.web.shell import auth, inbox
    from escrow.web.shell.errors import EXCEPTION_HANDLERS

    controllers: list = [auth.AuthController]
    areas = (
        dashboard,
        projects,
        amount_changes,
        nodes,
        refunds,
        suspense,
        statements,
        overview,
        whatif,
        fund_plans,
        rules,
        admin,
        bank,
    )
    for area in areas:
        controllers.extend(area.CONTROLLERS)
    controllers.extend(inbox.CONTROLLERS)  # every signed-in user's notifications
    return Router(
        path="/",
        route_handlers=controllers,
        exception_handlers=dict(EXCEPTION_HANDLERS),
        include_in_schema=False,
    )
