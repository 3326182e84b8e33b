"""The SVG chart renderer (escrow.reports.charts): any non-negative amounts give well-formed SVG without NaN,
bars grow with their amounts, every text is escaped, and each chart is accessible (role, aria-label,
<title>, the figures as table rows)."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from escrow.catalog import gettext_for
from escrow.domain.risks import is_near_floor
from escrow.reports import charts
from escrow.reports.charts import Series, bar_chart, coverage_chart, hbar_chart
from escrow.services.overview import months_between

SVG = "{http://www.w3.org/2000/svg}"
COORDINATES = {"x", "y", "x1", "x2", "y1", "y2", "width", "height"}
amounts = st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2, allow_nan=False)
# names as people type them: any letters, marks, punctuation and symbols, single spaces between words
labels = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn")), min_size=1, max_size=12)
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)


def parsed(chart: charts.Chart) -> ET.Element:
    root = ET.fromstring(str(chart.svg))  # raises on anything not well-formed
    assert root.tag == f"{SVG}svg"
    for element in root.iter():  # every coordinate a finite number: no NaN, no infinity
        for name in COORDINATES.intersection(element.attrib) if element.tag != f"{SVG}svg" else ():
            assert math.isfinite(float(element.get(name))), (element.tag, name, element.get(name))
    return root


def bars(root: ET.Element, series: int = 0) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if f"s{series}" in r.get("class", "").split()]


@given(st.lists(amounts, min_size=1, max_size=14))
def test_any_non_negative_amounts_give_well_formed_svg_with_bars_monotone_in_the_amounts(values):
    chart = bar_chart("m", "By month", [f"M{i}" for i in range(len(values))], [Series("In", tuple(values))])
    heights = [float(r.get("height")) for r in bars(parsed(chart))]
    assert len(heights) == len(values) and all(h >= 0 for h in heights)
    for (a, ha), (b, hb) in itertools.pairwise(sorted(zip(values, heights, strict=True))):
        assert a <= b and ha <= hb
    if max(values) > 0:
        assert max(heights) == 180.0  # the largest amount fills the plot


@settings(max_examples=50)
@given(st.lists(st.tuples(labels, amounts), min_size=1, max_size=10))
def test_horizontal_bars_grow_with_the_amounts_and_keep_every_label(rows):
    chart = hbar_chart("b", "Banks", [r[0] for r in rows], Series("Balance", tuple(r[1] for r in rows)))
    root = parsed(chart)
    widths = [float(r.get("width")) for r in bars(root)]
    pairs = sorted(zip([r[1] for r in rows], widths, strict=True))
    assert all(wa <= wb for (_, wa), (_, wb) in itertools.pairwise(pairs))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert all(label in texts for label, _ in rows)


def test_every_text_is_escaped():
    name = '<script>"x"</script> & 银\'s'
    chart = hbar_chart("b", 'Title <b>"&"</b>', [name], Series("A & B", (Decimal("1.00"),)))
    root = parsed(chart)
    assert "<script>" not in str(chart.svg)
    assert name in [t.text for t in root.iter(f"{SVG}text")]
    assert root.find(f"{SVG}title").text == 'Title <b>"&"</b>'
    assert root.get("aria-label") == 'Title <b>"&"</b>'


def test_characters_xml_cannot_carry_are_dropped_and_white_space_folded():
    chart = hbar_chart("b", "T", ["衡水\x01银行\r\n  一\x0b支行"], Series("A", (Decimal(1),)))
    assert "衡水银行 一支行" in [t.text for t in parsed(chart).iter(f"{SVG}text")]


def test_a_long_name_is_cut_to_its_room_and_kept_whole_in_the_tooltip_and_the_table():
    name = "衡水市某某农村商业银行股份有限公司桃城区中心支行营业部"
    root = parsed(hbar_chart("b", "T", [name], Series("A", (Decimal(1),))))
    (label,) = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.startswith("衡水")]
    assert label.endswith("…") and len(label) < len(name)
    assert any(name in (t.text or "") for t in root.iter(f"{SVG}title"))


def test_a_chart_is_accessible_and_carries_its_figures_as_rows():
    chart = bar_chart(
        "monthly",
        "Deposits and releases",
        ["2026-10", "2026-11"],
        [Series("In", (Decimal("1200000.00"), Decimal("0"))), Series("Out", (Decimal("0"), Decimal("5.5")))],
    )
    root = parsed(chart)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-monthly-title"
    assert root.find(f"{SVG}title").get("id") == "chart-monthly-title"
    assert chart.columns == ("", "In", "Out")
    assert chart.rows == (("2026-10", "1,200,000.00", "0.00"), ("2026-11", "0.00", "5.50"))
    assert any("¥1,200,000.00" in (t.text or "") for t in root.iter(f"{SVG}title"))  # each bar's tooltip


def test_nothing_at_all_draws_empty_bars_not_nan():
    chart = bar_chart("m", "Empty", ["2026-01", "2026-02"], [Series("In", (Decimal(0), Decimal(0)))])
    assert [float(r.get("height")) for r in bars(parsed(chart))] == [0.0, 0.0]
    assert parsed(bar_chart("m", "None", [], [Series("In", ())])) is not None


def test_coverage_draws_the_required_retention_as_an_outline_over_the_balance_held():
    chart = coverage_chart(
        "c", "Coverage", ["HSB", "ICBC"], Series("Held", (Decimal(50), Decimal(100))),
        Series("Required", (Decimal(100), Decimal(40))),
    )  # fmt: skip
    root = parsed(chart)
    held, required = bars(root, 0), bars(root, 1)
    assert float(held[0].get("width")) * 2 == float(required[0].get("width"))
    assert all(r.get("fill") == "none" and r.get("stroke-dasharray") for r in required)
    assert chart.rows == (("HSB", "50.00", "100.00"), ("ICBC", "100.00", "40.00"))


def test_the_city_charts_speak_the_language_of_the_catalog():
    figures = SimpleNamespace(
        months=[SimpleNamespace(month="2026-11", deposits=Decimal("10.00"), releases=Decimal("2.00"))],
        banks=[SimpleNamespace(bank="衡水银行", balance=Decimal(8), held=Decimal(8), required=Decimal(6))],
    )
    zh = charts.city_charts(figures, gettext_for("zh"))
    en = charts.city_charts(figures, gettext_for("en"))
    assert [c.title for c in zh] == [
        "按月入账与拨付",
        "期末各监管银行监管余额",
        "各监管银行留存资金覆盖情况（当前）",
    ]
    assert en[0].title == "Deposits and releases by month"
    assert zh[0].columns == ("", "入账资金", "拨付资金") and zh[2].rows == (("衡水银行", "8.00", "6.00"),)


def test_near_the_floor_is_a_configured_share_of_the_required_retention():
    assert is_near_floor(Decimal("21000000.00"), Decimal("2100000.00"), 10)
    assert not is_near_floor(Decimal("21000000.00"), Decimal("2100000.01"), 10)
    assert is_near_floor(Decimal("100.00"), Decimal("0"), 0)
    assert not is_near_floor(Decimal("0"), Decimal("0"), 10)  # nothing to retain: no floor to be near


def test_the_months_of_a_period_cross_the_year():
    from datetime import date

    assert months_between(date(2025, 12, 1), date(2026, 2, 3)) == [(2025, 12), (2026, 1), (2026, 2)]
    assert months_between(date(2026, 5, 9), date(2026, 5, 10)) == [(2026, 5)]
    assert len(months_between(date(2016, 12, 1), date(2026, 11, 30))) == 120
    assert months_between(date(2016, 11, 30), date(2026, 11, 1)) == []  # 121 months: no monthly chart
    assert months_between(date(1, 1, 1), date(9999, 12, 31)) == []
