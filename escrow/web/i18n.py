"""Language of a page: Chinese by default; `?lang=en` (or `?lang=zh`) switches it and a cookie keeps the
choice for the following pages. Each page module adds its texts to MESSAGES under both languages."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from litestar import Request
from litestar.datastructures import Cookie

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "lang"

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "site_name": "商品房预售资金监管",
        "switch_language": "English",
        "footer": "商品房预售资金监管服务",
    },
    "en": {
        "site_name": "Pre-sale Fund Supervision",
        "switch_language": "中文",
        "footer": "Supervision of housing pre-sale funds",
    },
}


def _pick(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    if value.startswith("en"):
        return "en"
    if value.startswith("zh"):
        return "zh"
    return None


def language(request: Request) -> str:
    """?lang= first, then the cookie, then Chinese."""
    return _pick(request.query_params.get("lang")) or _pick(request.cookies.get(COOKIE)) or DEFAULT


def remember(request: Request) -> list[Cookie]:
    """The cookie to set when the page was asked for in a language explicitly."""
    chosen = _pick(request.query_params.get("lang"))
    if chosen is None:
        return []
    return [Cookie(key=COOKIE, value=chosen, max_age=365 * 24 * 3600, httponly=True, samesite="lax")]


def translator(lang: str) -> Callable[[str], str]:
    table = MESSAGES.get(lang, MESSAGES[DEFAULT])
    fallback = MESSAGES[DEFAULT]
    return lambda key: table.get(key) or fallback.get(key) or key


def switch_url(request: Request, lang: str) -> str:
    """This page in the other language: the same path and query with `lang` replaced."""
    other = "en" if lang == "zh" else "zh"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", other))
    return f"{request.url.path}?{urlencode(params)}"


def page_context(request: Request, **context: object) -> dict[str, object]:
    """What base.html needs (lang, t, switch_url) plus the page's own values."""
    lang = language(request)
    return {"lang": lang, "t": translator(lang), "switch_url": switch_url(request, lang), **context}
