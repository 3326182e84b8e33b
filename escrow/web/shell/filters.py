"""Jinja filters shared by the web pages (and usable by the report templates)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from escrow.reports.numerals import capital, money


def long_date(value: date | datetime | str | None, lang: str = "zh") -> str:
    """2026-11-22 → 2026年11月22日 (zh) or 22 Nov 2026 (en)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if lang == "en":
        return f"{value.day} {value:%b %Y}"
    return f"{value.year}年{value.month}月{value.day}日"


BUREAU_CLOCK = timezone(timedelta(hours=8), "CST")  # China Standard Time, no daylight saving


def local_time(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored timestamp (UTC; SQLite hands it back naive) as the bureau reads it: 2026-11-22 18:05."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BUREAU_CLOCK).strftime(fmt)


FILTERS = {"money": money, "capital": capital, "long_date": long_date, "local_time": local_time}
