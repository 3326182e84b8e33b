"""HTML → PDF with WeasyPrint: the report templates (reports/<kind>.html, Jinja) and their shared
stylesheet (reports/style.css), set in Noto Sans CJK SC, which WeasyPrint embeds as a subset.

The stylesheet and the font configuration are parsed once per process and reused. Rendering holds a process
lock: WeasyPrint's font machinery (Pango, fontconfig) is not documented as thread-safe, and the work is
CPU-bound under the GIL anyway, so serialising loses nothing. Slow reports run in a separate process
(`escrow.services.reportjobs`), so they never hold this lock in a server process.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from escrow.reports.numerals import capital, money

log = logging.getLogger("escrow.reports")
_lock = threading.Lock()
_setups: dict[Path, tuple[jinja2.Environment, Any, Any]] = {}

# WeasyPrint and fontTools log every font they subset at INFO/WARNING; keep the server log readable.
for noisy in ("weasyprint", "fontTools"):
    logging.getLogger(noisy).setLevel(logging.ERROR)


def big_yuan(value: Decimal | None) -> str:
    """An amount for a sentence: 7,285,623,257.00 → 72.86 亿元; 120,000.00 → 12.00 万元."""
    if value is None:
        return ""
    value = Decimal(value)
    if abs(value) >= 100_000_000:
        return f"{value / 100_000_000:,.2f} 亿元"
    return f"{value / 10_000:,.2f} 万元"


def zh_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def zh_time(value: datetime | None) -> str:
    """A timestamp in Beijing time (UTC+8), as people in the bureau read it."""
    if value is None:
        return ""
    from datetime import UTC, timedelta, timezone

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(timezone(timedelta(hours=8)))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _setup(reports_dir: Path) -> tuple[jinja2.Environment, Any, Any]:
    found = _setups.get(reports_dir)
    if found is not None:
        return found
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(reports_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, capital=capital, big_yuan=big_yuan, zh_date=zh_date, zh_time=zh_time)
    fonts = FontConfiguration()
    stylesheet = CSS(filename=str(reports_dir / "style.css"), font_config=fonts)
    _setups[reports_dir] = (env, fonts, stylesheet)
    return env, fonts, stylesheet


def html(reports_dir: Path, template: str, values: dict[str, Any]) -> str:
    with _lock:
        env, _, _ = _setup(reports_dir)
        return env.get_template(template).render(**values)


def render(reports_dir: Path, template: str, values: dict[str, Any]) -> bytes:
    """The template filled with `values`, as PDF bytes."""
    from weasyprint import HTML

    with _lock:
        env, fonts, stylesheet = _setup(reports_dir)
        markup = env.get_template(template).render(**values)
        document = HTML(string=markup, base_url=str(reports_dir))
        return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)


def qr_svg(url: str) -> str:
    """A QR code for `url` as an SVG data URI (vector: sharp at any print size)."""
    import segno

    return segno.make(url, error="m", micro=False).svg_data_uri(border=2, dark="#000", light="#fff")
