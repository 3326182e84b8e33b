"""The bureau's statement page (`/statements/{id}`) on SQLite and PostgreSQL, in Chinese and English: one
imported statement explained line by line — a line matched to a deposit, a line only at the bank (booked to
suspense), a line whose amount differs from the books — the deposits only in our books, the balances
compared, the difference, and that releases are paused because of it and what resolves that. Linked from the
project page and the dashboard's discrepancies."""

from __future__ import annotations

import html
import re

import pytest

from tests.http.test_statements import TODAY, _line, _send, _statement


def row(page: str, row_id: str) -> str:
    """One table row of the page by its id, its tags taken out and its text unescaped."""
    found = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, row_id
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def row_with(page: str, section_id: str, text: str) -> str:
    """The one row of a section that names `text` (a bank reference), as `row` gives it."""
    found = re.search(rf'<section class="block" id="{section_id}">(.*?)</section>', page, re.S)
    assert found, section_id
    rows = [r for r in re.findall(r'<tr id="([^"]+)"', found.group(1)) if text in row(page, r)]
    assert len(rows) == 1, (text, rows)
    return row(page, rows[0])


def section(page: str, section_id: str) -> str:
    found = re.search(rf'<section class="block" id="{section_id}">(.*?)</section>', page, re.S)
    assert found, section_id
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


@pytest.fixture
def discrepancy(client, world, project, flow) -> dict:
    """Three deposits in the books (HSB-0001 265,950.00; HSB-0002 120,000.00; HSB-0003 50,000.00) and a
    statement that shows HSB-0001, HSB-0003 at 55,000.00 and an unknown HSB-9999 of 10,000.00, closing at
    330,950.00: the books hold 445,950.00 with the suspense booked from it."""
    vouchers = {}
    for n, (ref, amount) in enumerate(
        [("HSB-0001", "265950.00"), ("HSB-0002", "120000.00"), ("HSB-0003", "50000.00")], start=1
    ):
        contract = flow.contract(contract_no=f"HT-S-{n}", unit=f"S-{n}")
        notice = flow.notice(contract["contract_no"], amount)
        deposit = flow.deposit(
            account_no=notice["account_no"],
            bank_reference=ref,
            amount=amount,
            payer_name="张伟",
            notice_no=notice["notice_no"],
            kind="down_payment",
            channel="transfer",
            value_date=TODAY,
        )
        vouchers[ref] = deposit["voucher"]["voucher_no"]
    lines = [_line("HSB-0001", "265950.00"), _line("HSB-0003", "55000.00"), _line("HSB-9999", "10000.00")]
    r = _send(client, world, _statement(project["account_no"], lines, "330950.00"))
    assert r.status_code == 201, r.text
    result = r.json()
    assert (result["status"], result["matched"], result["bank_only"], result["books_only"]) == (
        "discrepancy",
        1,
        2,
        2,
    )
    return {"statement_id": result["statement_id"], "project": project, "vouchers": vouchers}


def test_each_line_of_a_statement_is_explained_in_chinese(web, discrepancy):
    page = web("reviewer").get(f"/statements/{discrepancy['statement_id']}")
    assert page.status_code == 200, page.text
    text = page.text
    assert f"已与账簿中缴款凭证 {discrepancy['vouchers']['HSB-0001']} 的入账匹配。" in row(text, "line-1")
    assert "金额相差 ¥5,000.00：同一流水号，对账单为 ¥55,000.00，账簿为 ¥50,000.00。" in row(text, "line-2")
    assert "银行对账单有、账簿无：已按待认领资金入账" in row(text, "line-3")
    books_only = section(text, "books-only")
    assert "HSB-0002" in books_only and "HSB-0003" in books_only and "HSB-0001" not in books_only
    assert books_only.count("账簿有、银行对账单无。") == 2
    assert "金额不同" not in row_with(text, "books-only", "HSB-0002")
    assert "对账单第 2 行有同一流水号，金额不同。" in row_with(text, "books-only", "HSB-0003")
    assert row(text, "closing") == "期末余额 330,950.00 445,950.00 -115,000.00"
    assert row(text, "opening") == "期初余额 0.00 0.00 0.00"
    assert "由此产生的差额：¥-115,000.00" in section(text, "balances")
    paused = section(text, "releases-paused")
    assert "本项目的拨付已暂停" in paused and "银行此后的对账单与账簿相符时恢复拨付" in paused


def test_each_line_of_a_statement_is_explained_in_english(web, discrepancy):
    page = web("reviewer").get(f"/statements/{discrepancy['statement_id']}?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    assert f"Matched the deposit with voucher {discrepancy['vouchers']['HSB-0001']} in our books." in row(
        text, "line-1"
    )
    assert (
        "The amount differs by ¥5,000.00: the statement says ¥55,000.00, our books ¥50,000.00 under the same"
        " reference." in row(text, "line-2")
    )
    assert "In the bank's statement, not in our books: booked to suspense" in row(text, "line-3")
    assert section(text, "books-only").count("In our books, not in the statement.") == 2
    differs = row_with(text, "books-only", "HSB-0003")
    assert "The statement shows its reference with another amount, on line 2." in differs
    assert row(text, "closing") == "Closing balance 330,950.00 445,950.00 -115,000.00"
    paused = section(text, "releases-paused")
    assert "Releases of this project are paused" in paused and "They resume when a later statement" in paused


def test_a_later_statement_that_reconciles_lifts_the_pause(client, world, web, discrepancy):
    """Once the bank's next statement reconciles (it shows the two deposits, HSB-0003 at the books' amount),
    the first one's page says releases follow that one."""
    account_no = discrepancy["project"]["account_no"]
    lines = [_line("HSB-0002", "120000.00"), _line("HSB-0003", "50000.00")]
    later = _statement(account_no, lines, "445950.00", opening="330950.00")
    later["statement_date"] = "2026-11-22"
    r = _send(client, world, later, key="s2")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "reconciled", r.json()
    paused = section(
        web("reviewer").get(f"/statements/{discrepancy['statement_id']}").text, "releases-paused"
    )
    assert "本项目的拨付已暂停" not in paused
    assert "拨付以其后 2026年11月22日 的对账单为准，该对账单：对账相符。" in paused
    reconciled = web("reviewer").get(f"/statements/{r.json()['statement_id']}").text
    assert "该对账单与账簿相符，不因此暂停拨付。" in section(reconciled, "releases-paused")


def test_the_page_is_linked_where_the_discrepancy_shows(web, discrepancy):
    link = f'href="/statements/{discrepancy["statement_id"]}"'
    project_page = web("reviewer").get(f"/projects/{discrepancy['project']['project_id']}").text
    statements = project_page.split('id="statements"', 1)[1].split("</section>", 1)[0]
    assert link in statements and "查看差异说明" in statements
    assert link in web("reviewer").get("/").text.split('id="discrepancies"', 1)[1]


def test_the_page_is_for_the_bureau_and_an_unknown_statement_is_not_found(web, discrepancy):
    assert web("dev-staff").get(f"/statements/{discrepancy['statement_id']}").status_code == 403
    assert web("auditor").get(f"/statements/{discrepancy['statement_id']}").status_code == 200
    assert web("reviewer").get("/statements/999999").status_code == 404
