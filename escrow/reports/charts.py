"""Charts as server-rendered SVG: one renderer for the dashboard (inlined in the page) and the city report
(WeasyPrint draws SVG natively), so both show the same picture, no JavaScript runs and a bureau intranet
without internet access sees it too.

Pure functions: amounts come in as `Decimal` and become coordinates only where a bar is drawn (a ratio to
the largest amount, then a float); every text is escaped (project and bank names come from people). Each
chart carries its figures as rows too, for a table beside it that screen readers read (the SVG itself is
`role="img"` with a <title> and an aria-label).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from escrow.catalog import N_
from escrow.reports.numerals import money

WIDTH = 640
FONT = 11  # px; the texts' widths below are estimated from it
COLOURS = ("#2f6f9f", "#c8782a", "#5d8a3a")  # deposits/held, releases/required, a third series
ZERO = Decimal(0)


@dataclass(frozen=True)
class Chart:
    """An SVG picture and the same figures as a table: `columns` headings, `rows` of texts."""

    key: str
    title: str
    svg: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[Decimal, ...]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: str) -> Markup:
    """A text for the SVG: characters XML cannot carry dropped, runs of white space one space, escaped."""
    return escape(" ".join(_NOT_XML.sub("", value).split()))


def _ratio(value: Decimal, top: Decimal) -> float:
    """value / top as a float in [0, 1]: the one place an amount becomes a coordinate."""
    if top <= ZERO or value <= ZERO:
        return 0.0
    return float(min(value / top, Decimal(1)))


def _text_width(text: str) -> float:
    """Estimated width in px: CJK characters are square, the rest about 0.6 em."""
    return sum(FONT if ord(c) > 0x2E80 else FONT * 0.6 for c in text)


def _shorten(label: str, room: float) -> str:
    """The label cut to fit `room` px, with an ellipsis (the full name stays in the bar's tooltip and the
    table beside the chart)."""
    if _text_width(label) <= room:
        return label
    while label and _text_width(label) + FONT > room:
        label = label[:-1]
    return label + "…"


def _svg(key: str, title: str, height: float, body: list[str]) -> Markup:
    t = text(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{t}" '
        f'aria-labelledby="chart-{key}-title" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'font-size="{FONT}" font-family="Noto Sans CJK SC, sans-serif">'
        f'<title id="chart-{key}-title">{t}</title>{"".join(body)}</svg>'
    )


def _legend(series_labels: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, label in enumerate(series_labels):
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{COLOURS[i % 3]}"/>')
        out.append(f'<text x="{x + 14:.1f}" y="{y:.1f}">{text(label)}</text>')
        x += 14 + _text_width(label) + 16
    return out


def bar_chart(key: str, title: str, categories: Sequence[str], series: Sequence[Series]) -> Chart:
    """Vertical bars side by side per category (a month): e.g. deposits against releases."""
    top = max((v for s in series for v in s.values), default=ZERO)
    scale = money(top)
    left = 12 + _text_width(scale)
    plot_top, plot_h, height = 28.0, 180.0, 240.0
    plot_w = WIDTH - left - 8
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    base = plot_top + plot_h
    body = _legend([s.label for s in series], left, 14)
    body.append(f'<line x1="{left:.1f}" y1="{base:.1f}" x2="{WIDTH - 8}" y2="{base:.1f}" stroke="#555"/>')
    top_line = f'x1="{left:.1f}" y1="{plot_top:.1f}" x2="{WIDTH - 8}" y2="{plot_top:.1f}"'
    body.append(f'<line {top_line} stroke="#ccc"/>')
    body.append(f'<text x="{left - 4:.1f}" y="{plot_top + 4:.1f}" text-anchor="end">{text(scale)}</text>')
    body.append(f'<text x="{left - 4:.1f}" y="{base + 4:.1f}" text-anchor="end">0</text>')
    for i, category in enumerate(categories):
        x0 = left + i * slot + slot * 0.1
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * _ratio(value, top)
            body.append(
                f'<rect class="bar s{j}" x="{x0 + j * bar_w:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[j % 3]}"><title>{text(category)} {text(s.label)} '
                f"¥{text(money(value))}</title></rect>"
            )
        body.append(
            f'<text x="{x0 + slot * 0.4:.1f}" y="{base + 16:.1f}" text-anchor="middle" font-size="9">'
            f"{text(category)}</text>"
        )
    rows = tuple((c, *(money(s.values[i]) for s in series)) for i, c in enumerate(categories))
    return Chart(key, title, _svg(key, title, height, body), ("", *(s.label for s in series)), rows)


def _labelled_rows(
    key: str, title: str, labels: Sequence[str], series: Sequence[Series], *, overlay: bool
) -> Chart:
    """Horizontal bars, one row per label; `overlay` draws the second series as an outline over the first
    (held against required), else the series stack as thin bars under each other."""
    top = max((v for s in series for v in s.values), default=ZERO)
    room = 200.0  # px for the labels at most; longer ones are cut
    left = 8 + min(max((_text_width(x) for x in labels), default=0.0), room) + 8
    value_room = 12 + _text_width(money(top)) + 8
    plot_w = WIDTH - left - value_room
    row_h = 26.0 if overlay or len(series) == 1 else 14.0 * len(series) + 10
    first = 30.0
    height = first + row_h * max(len(labels), 1) + 6
    body = _legend([s.label for s in series], left, 14)
    for i, label in enumerate(labels):
        y = first + i * row_h
        shown = text(_shorten(label, room))
        body.append(f'<text x="{left - 6:.1f}" y="{y + 13:.1f}" text-anchor="end">{shown}</text>')
        for j, s in enumerate(series):
            value = s.values[i]
            w = plot_w * _ratio(value, top)
            bar_y, bar_h = (y + 3, 16.0) if overlay or len(series) == 1 else (y + 2 + 14 * j, 12.0)
            shape = (
                f'fill="none" stroke="{COLOURS[j % 3]}" stroke-width="2" stroke-dasharray="4 2"'
                if overlay and j
                else f'fill="{COLOURS[j % 3]}"'
            )
            body.append(
                f'<rect class="bar s{j}" x="{left:.1f}" y="{bar_y:.1f}" width="{w:.1f}" height="{bar_h:.1f}" '
                f"{shape}><title>{text(label)} {text(s.label)} ¥{text(money(value))}</title></rect>"
            )
        amount = money(series[0].values[i])
        body.append(f'<text x="{WIDTH - value_room + 12:.1f}" y="{y + 15:.1f}">¥{text(amount)}</text>')
    rows = tuple((label, *(money(s.values[i]) for s in series)) for i, label in enumerate(labels))
    return Chart(key, title, _svg(key, title, height, body), ("", *(s.label for s in series)), rows)


def hbar_chart(key: str, title: str, labels: Sequence[str], values: Series) -> Chart:
    """One horizontal bar per label (a bank's balance), its amount written beside it."""
    return _labelled_rows(key, title, labels, [values], overlay=False)


def coverage_chart(key: str, title: str, labels: Sequence[str], held: Series, required: Series) -> Chart:
    """Per label (a bank): the balance held as a bar, the required retention as a dashed outline over it —
    a bar that stops short of its outline holds less than it must keep."""
    return _labelled_rows(key, title, labels, [held, required], overlay=True)


# --- the city's three charts, for the dashboard and the city report alike ---------------------------------

# message ids of the catalog (escrow.catalog): the edge passes its `_`, so a page and a PDF say the same
MONTHLY_TITLE = N_("Deposits and releases by month")
BANKS_TITLE = N_("Balances by supervising bank at the period's end")
COVERAGE_TITLE = N_("Retention coverage by supervising bank, now")
DEPOSITS = N_("Money received")
RELEASES = N_("Money released")
BALANCE = N_("Balance at the period's end")
HELD = N_("Balance held")
REQUIRED = N_("Required cash retention")


def city_charts(figures: Any, _: Callable[..., str]) -> list[Chart]:
    """The monthly, bank and coverage charts of `figures` (escrow.services.overview.Charts), in the
    language of `_`."""
    months = figures.months
    banks_ = figures.banks
    banks = [b.bank for b in banks_]
    covered = [b for b in figures.banks if b.required > ZERO or b.held > ZERO]
    return [
        bar_chart(
            "monthly",
            _(MONTHLY_TITLE),
            [m.month for m in months],
            [
                Series(_(DEPOSITS), tuple(m.deposits for m in months)),
                Series(_(RELEASES), tuple(m.releases for m in months)),
            ],
        ),
        hbar_chart("banks", _(BANKS_TITLE), banks, Series(_(BALANCE), tuple(b.balance for b in banks_))),
        coverage_chart(
            "coverage",
            _(COVERAGE_TITLE),
            [b.bank for b in covered],
            Series(_(HELD), tuple(b.held for b in covered)),
            Series(_(REQUIRED), tuple(b.required for b in covered)),
        ),
    ]
