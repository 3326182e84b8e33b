"""Every visible string of the web UI is a message id with a Chinese translation in the Babel catalogs, and
each translation keeps the id's placeholders (a missing `%(amount)s` would break the page at run time)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from escrow.web.shell import i18n

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
METHODS = [
    ("escrow/web/**.py", "python"),
    ("escrow/catalog/**.py", "python"),
    ("escrow/reports/**.py", "python"),
    ("escrow/web/templates/**.html", "jinja2"),
]
OPTIONS = {"escrow/web/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "N_": None}


def extracted() -> dict[str, str]:
    """message id → where it was found (the same extraction `make messages` runs)."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_the_ui_has_message_ids_in_templates_and_python():
    ids = extracted()
    assert "Sign in" in ids and "The user name or the password is not right." in ids
    assert any(".py:" in where for where in ids.values()) and any(".html:" in w for w in ids.values())


def test_every_message_id_has_a_chinese_translation():
    catalog = i18n.read_catalog("zh")
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in extracted().items() if msgid not in catalog)
    assert not missing, "untranslated (add them to a catalog in escrow/web/locale/zh_CN):\n" + "\n".join(
        missing
    )


def test_translations_keep_the_placeholders_of_their_ids():
    wrong = []
    for message in i18n.read_catalog("zh"):
        ids = sorted(PLACEHOLDER.findall(message.id)) if message.id else []
        if ids and message.string and ids != sorted(PLACEHOLDER.findall(message.string)):
            wrong.append(f"{message.id!r} → {message.string!r}")
    assert not wrong, "\n".join(wrong)


def test_catalogs_have_no_fuzzy_or_empty_entries():
    from babel.messages.pofile import read_po

    problems = []
    for path in i18n.catalog_files("zh"):
        with path.open("rb") as f:
            for message in read_po(f):
                if message.id and (message.fuzzy or not message.string):
                    problems.append(f"{path.name}: {message.id!r}")
    assert not problems, "\n".join(problems)


def test_chinese_is_the_default_and_english_is_the_id():
    zh, en = i18n.gettext_for("zh"), i18n.gettext_for("en")
    assert zh("Sign in") == "登录" and en("Sign in") == "Sign in"
    assert zh("Confirm node %(value)s first.", value="roof") == "请先确认节点 roof。"


def test_an_alerts_severity_has_one_word_per_language():
    """The API's severities in words: the English word names the value (critical, warning, info as a
    notice) and the Chinese one says the same (严重, 警告, 提示) — not "Medium" beside "警告"."""
    from escrow.web.bureau.dashboard import SEVERITIES

    zh = i18n.gettext_for("zh")
    words = {value: (word, zh(word)) for value, word in SEVERITIES.items()}
    assert words == {
        "critical": ("Critical", "严重"),
        "warning": ("Warning", "警告"),
        "info": ("Notice", "提示"),
    }
