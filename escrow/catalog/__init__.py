"""The one message catalog: English message ids and their translations, for every edge that speaks to people
(the web pages, the PDFs). The Babel catalogs live under escrow/web/locale (one `*.po` per area, all merged);
English is the message ids themselves. `outcomes` says the domain's coded outcomes (field errors, deposit
checks) in these words; `words` names the codes the PDFs and the pages share; `caps` says a release cap's
terms.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[1] / "web" / "locale"
CATALOG_LOCALES = {"zh": "zh_CN"}  # English is the message ids themselves

Gettext = Callable[..., str]


def N_(message: str) -> str:
    """Marks a message id for the catalog where it is translated later (at rendering)."""
    return message


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


def gettext_for(lang: str) -> Gettext:
    """`_` for one language: translate, then fill `%(name)s` placeholders from keyword arguments."""
    lookup = translations(lang).gettext

    def _(message: str, **values: object) -> str:
        text = lookup(message)
        return text % values if values else text

    return _
