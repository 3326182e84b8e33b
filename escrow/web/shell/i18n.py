"""Language of a page: Chinese by default; `?lang=en` (or `?lang=zh`) switches it and a cookie (and, once
signed in, the session) keeps the choice for the following pages.

Texts of the signed-in pages are English message ids marked with `_("…")` in templates and Python, and
translated by Babel message catalogs: every `*.po` file under `escrow/web/locale/zh_CN/LC_MESSAGES/` (one per
area of the UI) is read and compiled in memory by `escrow.catalog`, which the PDFs share. `make messages`
extracts new ids into `locale/messages.pot`; tests/unit/test_web_i18n.py fails while any id lacks its Chinese
translation.
`_("Paid %(amount)s", amount=x)` formats after translating (Jinja's new-style gettext).
"""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request
from litestar.datastructures import Cookie

from escrow.catalog import catalog_files as catalog_files  # the pages and their tests reach the catalog here
from escrow.catalog import gettext_for
from escrow.catalog import read_catalog as read_catalog

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "lang"


def pick(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    if value.startswith("en"):
        return "en"
    if value.startswith("zh"):
        return "zh"
    return None


def language(request: Request) -> str:
    """?lang= first, then the cookie, then Chinese."""
    return pick(request.query_params.get("lang")) or pick(request.cookies.get(COOKIE)) or DEFAULT


def remember(request: Request) -> list[Cookie]:
    """The cookie to set when the page was asked for in a language explicitly."""
    chosen = pick(request.query_params.get("lang"))
    if chosen is None:
        return []
    return [Cookie(key=COOKIE, value=chosen, max_age=365 * 24 * 3600, httponly=True, samesite="lax")]


def switch_url(request: Request, lang: str) -> str:
    """This page in the other language: the same path and query with `lang` replaced."""
    other = "en" if lang == "zh" else "zh"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", other))
    return f"{request.url.path}?{urlencode(params)}"


def page_context(request: Request, **context: object) -> dict[str, object]:
    """What base.html needs (lang, t, switch_url) plus the page's own values."""
    lang = context.pop("lang", None) or language(request)
    return {
        "lang": lang,
        "_": gettext_for(lang),
        "switch_url": switch_url(request, lang),
        **context,
    }
