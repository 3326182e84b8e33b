"""Language of a page: Chinese by default; `?lang=en` (or `?lang=zh`) switches it and a cookie (and, once
signed in, the session) keeps the choice for the following pages.

Texts of the signed-in pages are English message ids marked with `_("…")` in templates and Python, and
translated by Babel message catalogs: every `*.po` file under `escrow/web/locale/zh_CN/LC_MESSAGES/` (one per
area of the UI) is read at start-up and compiled in memory. `make messages` extracts new ids into
`locale/messages.pot`; tests/unit/test_web_i18n.py fails while any id lacks its Chinese translation.
`_("Paid %(amount)s", amount=x)` formats after translating (Jinja's new-style gettext).
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path
from urllib.parse import urlencode

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from litestar import Request
from litestar.datastructures import Cookie

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "lang"

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"  # escrow/web/locale: one set for every room
CATALOG_LOCALES = {"zh": "zh_CN"}  # English is the message ids themselves


def catalog_files(lang: str = "zh") -> list[Path]:
    return sorted((LOCALE_DIR / CATALOG_LOCALES[lang] / "LC_MESSAGES").glob("*.po"))


def read_catalog(lang: str = "zh") -> Catalog:
    """Every area's catalog of one language merged into one (an id translated twice: the first wins)."""
    merged = Catalog(locale=CATALOG_LOCALES[lang])
    for path in catalog_files(lang):
        with path.open("rb") as f:
            for message in read_po(f, locale=CATALOG_LOCALES[lang]):
                if message.id and message.string and not message.fuzzy and message.id not in merged:
                    merged.add(message.id, message.string, context=message.context)
    return merged


@cache
def translations(lang: str) -> gettext_module.NullTranslations:
    if lang not in CATALOG_LOCALES:
        return gettext_module.NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, read_catalog(lang))
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def gettext_for(lang: str) -> Callable[..., str]:
    """`_` for one language: translate, then fill `%(name)s` placeholders from keyword arguments."""
    lookup = translations(lang).gettext

    def _(message: str, **values: object) -> str:
        text = lookup(message)
        return text % values if values else text

    return _


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
