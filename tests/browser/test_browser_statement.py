"""A statement discrepancy explained in a real browser (Debian's chromium driven by Playwright), on both
engines, in Chinese and in English: the bank sends a statement with a line the books lack, a line whose
amount differs and without a deposit the books have; a reviewer follows the project page's link from its
reconciliation to the statement page and reads each line explained and that releases are paused."""

from __future__ import annotations

from tests.browser.conftest import Live


def test_a_reviewer_reads_a_discrepancy_line_by_line(live: Live, page_as, shot):
    project = live.open_project()
    first = live.pay(project, "120000.00")
    live.pay(project, "80000.00")  # in the books, not in the statement
    bank_reference = first["bank_reference"]
    day = live.today.isoformat()

    def line(ref: str, amount: str) -> dict:
        return {
            "bank_reference": ref,
            "booked_on": day,
            "amount": amount,
            "direction": "credit",
            "counterparty_name": "张伟",
        }

    statement = {
        "account_no": project["account_no"],
        "statement_date": day,
        "opening_balance": "0.00",
        "closing_balance": "135000.00",
        "lines": [line(bank_reference, "125000.00"), line("HSB-UNKNOWN-1", "10000.00")],
    }
    r = live.api.post("/api/v1/statements", json=statement, headers=live.key("bank"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "discrepancy", r.json()

    page = page_as("reviewer")
    page.goto(f"/projects/{project['project_id']}#statements")
    page.click("#statements a:has-text('查看差异说明')")
    page.wait_for_url(f"**/statements/{r.json()['statement_id']}")
    assert "金额相差 ¥5,000.00" in page.inner_text("#line-1")
    assert "银行对账单有、账簿无" in page.inner_text("#line-2")
    assert "账簿有、银行对账单无" in page.inner_text("#books-only")
    assert "本项目的拨付已暂停" in page.inner_text("#releases-paused")
    shot(page, "docs-statement-zh")

    english = page_as("reviewer", locale="en-US")
    english.goto(f"/statements/{r.json()['statement_id']}?lang=en")
    assert "The amount differs by ¥5,000.00" in english.inner_text("#line-1")
    assert "In the bank's statement, not in our books" in english.inner_text("#line-2")
    assert "In our books, not in the statement" in english.inner_text("#books-only")
    assert "Releases of this project are paused" in english.inner_text("#releases-paused")
    shot(english, "docs-statement-en")
