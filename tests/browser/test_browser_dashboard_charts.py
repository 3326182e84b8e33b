"""The dashboard's charts and risk panel in a real browser, in Chinese (the default) and English: the period
defaults to the last 12 months, a quick range is a link that keeps its period in the URL, the charts are SVG
images with accessible names whose figures open in a table, and the risk panel counts each kind of risk."""

from __future__ import annotations

from datetime import date


def _months_back_11(today: date) -> str:
    months = today.year * 12 + today.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1).isoformat()


def test_the_dashboard_charts_in_chinese_and_english(live, page_as, shot):
    project = live.open_project()
    live.pay(project, "1200000.00")

    page = page_as("director")
    page.goto("/")
    assert page.input_value("#f-from") == _months_back_11(live.today)
    assert page.input_value("#f-to") == live.today.isoformat()
    charts = page.locator("#charts svg[role=img]")
    assert charts.count() == 3
    assert charts.nth(0).get_attribute("aria-label") == "按月入账与拨付"
    assert page.locator("#chart-monthly rect.bar.s0").count() == 12  # one bar of money in per month
    assert page.locator("#risks [data-risk-count]").count() == 4
    assert page.inner_text("#risk-near_floor h3").startswith("接近留存底线的监管账户")
    # the figures behind a chart, for a screen reader or a curious clerk
    page.click("#chart-banks summary")
    assert "1,200,000.00" in page.inner_text("#chart-banks table")
    shot(page, "dash-dashboard-zh")

    page.click("a:text('近三个月')")
    page.wait_for_url("**from=**")
    assert "to=" + live.today.isoformat() in page.url
    assert page.locator("#chart-monthly rect.bar.s0").count() == 3

    page.goto("/?lang=en")
    assert page.locator("#charts svg[role=img]").nth(0).get_attribute("aria-label") == (
        "Deposits and releases by month"
    )
    assert page.inner_text("#risk-overdue h3").startswith("Approved payments not executed in time")
    page.click("#chart-monthly summary")
    assert "Money received" in page.inner_text("#chart-monthly table")
    shot(page, "dash-dashboard-en")
