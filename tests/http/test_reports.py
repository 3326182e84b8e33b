"""PDF reports (CONTRACT.md §5) on SQLite and PostgreSQL: each PDF is read back with poppler (pdftotext,
pdffonts, pdftoppm) — the Chinese title, the amounts in figures and capital numerals, the numbers; an
embedded CJK font; the voucher's QR code decoded to its verify URL. Download links with their access rules,
report jobs rendered off the request path, the `render` interface and `escrow report` on the command line."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from escrow import reports
from escrow.catalog import gettext_for
from escrow.catalog.caps import rule_href, stored_cap_terms
from escrow.catalog.documents import rule_in_words
from escrow.cli import main
from escrow.domain.errors import InvalidInput, NotFound
from escrow.domain.principal import Principal
from escrow.rulebooks import load_dir
from escrow.services import reportjobs
from escrow.store.db import UnitOfWork
from escrow.store.models import ReportJob
from tests.conftest import REPO, project_body
from tests.http.test_api_deposits import _pay
from tests.http.test_api_releases import BOOK, release_body, site, steps  # noqa: F401 (fixtures)

PDF = "application/pdf"
ACCOUNT = "6222000011112222"  # the `project` fixture's account


# --- reading PDFs back ------------------------------------------------------------------------------------


def pdf_text(content: bytes, *, layout: bool = True) -> str:
    assert content.startswith(b"%PDF-")
    mode = ["-layout"] if layout else []
    done = subprocess.run(["pdftotext", *mode, "-", "-"], input=content, capture_output=True, check=True)
    return done.stdout.decode()


def pdf_fonts(content: bytes) -> list[dict[str, str]]:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(content)
        f.flush()
        out = subprocess.run(["pdffonts", f.name], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()[2:]  # a header and a rule
    return [{"name": line.split()[0], "embedded": line.split()[-5]} for line in lines if line.strip()]


def qr_codes(content: bytes, dpi: int = 200) -> list[str]:
    """Every QR code on the first page, decoded: poppler rasterises it, zxing-cpp reads it."""
    import zxingcpp
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "doc.pdf"
        pdf.write_bytes(content)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-f",
                "1",
                "-l",
                "1",
                "-png",
                "-singlefile",
                str(pdf),
                str(Path(tmp) / "page"),
            ],
            check=True,
        )
        png = (Path(tmp) / "page.png").read_bytes()
    image = Image.open(io.BytesIO(png))
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def assert_cjk_font_embedded(content: bytes) -> None:
    fonts = pdf_fonts(content)
    cjk = [f for f in fonts if "Noto-Sans-CJK-SC" in f["name"]]
    assert cjk, fonts
    assert all(f["embedded"] == "yes" for f in fonts), fonts


def flat(text: str) -> str:
    """pdftotext output without the spaces that letter-spacing and layout put between characters."""
    return "".join(text.split())


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture
def paid(project, flow) -> dict:
    """A contract, a 120,000.00 notice and the bank's deposit of it, with its voucher."""
    contract = flow.contract()
    notice = flow.notice(contract["contract_no"], "120000.00")
    deposit = flow.deposit(**_pay(flow, notice))
    return {"notice": notice, "deposit": deposit, "voucher": deposit["voucher"], "project": project}


@pytest.fixture
def ctx(app):
    return app.state.runtime.ctx


def get_pdf(client, path: str, headers: dict) -> bytes:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == PDF
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    return r.content


# --- the voucher --------------------------------------------------------------------------------------------


def test_the_voucher_pdf_reads_back_with_its_qr_code(client, world, ctx, paid):
    voucher = paid["voucher"]
    content = get_pdf(client, f"/api/v1/vouchers/{voucher['voucher_no']}/pdf", world.headers("bank"))
    text = pdf_text(content)
    squeezed = flat(text)
    assert "商品房预售资金缴款凭证" in squeezed
    assert voucher["voucher_no"] in text
    assert "¥120,000.00" in text
    assert "人民币壹拾贰万元整" in squeezed
    assert voucher["verification_code"] in squeezed
    for words in (
        "桃城·安居花园一期",
        "衡水银行",
        "6222000011112222",
        "张伟",
        "首付款",
        paid["notice"]["notice_no"],
    ):
        assert words in squeezed, words
    assert_cjk_font_embedded(content)

    url = f"{ctx.settings.public_base_url}/verify/{voucher['voucher_no']}?code={voucher['verification_code']}"
    assert qr_codes(content) == [url]
    # and the QR code leads to the buyer's page, which confirms the payment
    parts = urlsplit(url)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200 and "¥120,000.00" in page.text


def test_a_voucher_is_downloaded_by_its_bank_developer_and_the_bureau(client, world, paid):
    for who, status in [
        ("bank", 200),
        ("developer", 200),
        ("auditor", 200),
        ("other_bank", 404),
        ("other_developer", 404),
    ]:
        r = client.get(f"/api/v1/vouchers/{paid['voucher']['voucher_no']}/pdf", headers=world.headers(who))
        assert r.status_code == status, (who, r.text)


def test_download_links_need_a_key_and_an_existing_subject(client, world, paid):
    assert client.get(f"/api/v1/vouchers/{paid['voucher']['voucher_no']}/pdf").status_code == 401
    for path in (
        "/api/v1/vouchers/PZ0000/pdf",
        "/api/v1/notices/TZ0000/pdf",
        "/api/v1/releases/999/pdf",
        "/api/v1/vouchers/" + "X" * 200 + "/pdf",
        "/api/v1/releases/99999999999/pdf",
    ):
        r = client.get(path, headers=world.headers("admin"))
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


# --- the notice ---------------------------------------------------------------------------------------------


def test_the_notice_pdf_names_the_account_to_pay_into(client, world, paid):
    notice = paid["notice"]
    content = get_pdf(client, f"/api/v1/notices/{notice['notice_no']}/pdf", world.headers("developer"))
    text = pdf_text(content)
    squeezed = flat(text)
    assert "商品房预售资金缴款通知书" in squeezed
    assert notice["notice_no"] in text
    assert "¥120,000.00" in text and "人民币壹拾贰万元整" in squeezed
    assert "6222000011112222" in squeezed and "衡水安居置业有限公司预售资金监管账户" in squeezed
    assert "HT-2025-0001" in text
    assert_cjk_font_embedded(content)
    assert (
        client.get(f"/api/v1/notices/{notice['notice_no']}/pdf", headers=world.headers("bank")).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/notices/{notice['notice_no']}/pdf", headers=world.headers("other_developer")
        ).status_code
        == 404
    )


# --- the release approval form ------------------------------------------------------------------------------


def test_the_release_form_shows_the_cap_and_every_approval_step(client, world, site, steps):  # noqa: F811
    applied = steps.applied(release_body(site["project_id"]))
    release_id = applied["release_id"]
    pending = get_pdf(client, f"/api/v1/releases/{release_id}/pdf", world.headers("developer"))
    assert "待审批" in flat(pdf_text(pending))

    steps.approve_all(release_id)
    instruction = steps.pending()[0]
    assert steps.execute(instruction["instruction_id"], ref="PAY-REL-1").status_code == 201
    content = get_pdf(client, f"/api/v1/releases/{release_id}/pdf", world.headers("reviewer"))
    text = pdf_text(content)
    squeezed = flat(text)
    assert "商品房预售资金拨付审批表" in squeezed
    assert "¥3,000,000.00" in text and "人民币叁佰万元整" in squeezed
    assert "主体结构完成二分之一" in squeezed
    # the cap at application, term by term with the rules behind it
    assert "可拨付额度说明" in squeezed
    for words in (
        "监管账户余额",
        "¥12,000,000.00",
        "应留存的重点监管资金",
        "¥7,000,000.00",
        "¥5,000,000.00",
        "衡水市商品房预售资金监督管理办法（2024.1版）",
    ):
        assert words in squeezed, words
    # every step: who, what, when
    assert "1.初审" in squeezed and "2.审批" in squeezed
    assert squeezed.count("同意") >= 2
    assert "审核人" in squeezed and "审批人" in squeezed  # the approvers' roles in words
    assert "衡水建工集团有限公司" in squeezed and "河北冀钢建材有限公司" in squeezed
    assert "农民工工资无拖欠情况说明" in squeezed
    assert "已拨付" in squeezed and "PAY-REL-1" in text
    assert_cjk_font_embedded(content)


def test_the_release_form_says_the_cap_as_the_review_page_does(client, world, web, site, steps):  # noqa: F811
    """Both say each term of the cap kept at application from escrow.catalog.caps: its name, what it is or
    how the retention was reached; the page cites the rule-book key behind the retention, the form says it
    in words (escrow.catalog.documents)."""
    applied = steps.applied(release_body(site["project_id"]))
    release_id = applied["release_id"]
    book = load_dir(REPO / "rules").get(BOOK)
    said = stored_cap_terms(gettext_for("zh"), applied["cap"], book, "zh")
    assert [t.term for t in said] == ["balance", "suspense", "required_retention", "frozen", "pending_out"]
    page = web("reviewer").get(f"/releases/{release_id}").text
    content = get_pdf(client, f"/api/v1/releases/{release_id}/pdf", world.headers("reviewer"))
    form = flat(pdf_text(content, layout=False))  # a wrapped cell's lines in reading order
    zh = gettext_for("zh")
    for term in said:
        for words in (term.name, term.words):
            assert words in page, words
            assert flat(words) in form, words
        for rule in term.rules:  # the page links each to its row of the rule book's page
            book_id, _sp, key = rule.partition(" ")
            assert f'href="{rule_href(book_id, key)}"' in page, rule
            assert flat(rule_in_words(zh, rule, book, "zh")) in form, rule
    assert "重点监管资金 ¥10,000,000.00 × 留存比例 70%（“主体结构完成二分之一”节点已确认）" in page


def test_a_rejected_release_shows_where_the_chain_stopped(client, world, site, steps):  # noqa: F811
    release_id = steps.applied(release_body(site["project_id"]))["release_id"]
    r = steps.decide(release_id, "reviewer", "reject", comment="工资说明未盖章")
    assert r.status_code == 201, r.text
    squeezed = flat(
        pdf_text(get_pdf(client, f"/api/v1/releases/{release_id}/pdf", world.headers("developer")))
    )
    assert "未批准" in squeezed and "不同意：工资说明未盖章" in squeezed
    assert "审批已终止" in squeezed and "待审批" not in squeezed


def test_a_release_form_is_for_the_applicant_and_the_bureau(client, world, site, steps):  # noqa: F811
    release_id = steps.applied(release_body(site["project_id"]))["release_id"]
    for who, status in [("developer", 200), ("director", 200), ("bank", 404), ("other_developer", 404)]:
        r = client.get(f"/api/v1/releases/{release_id}/pdf", headers=world.headers(who))
        assert r.status_code == status, (who, r.text)


# --- who may see which report ------------------------------------------------------------------------------


def test_who_may_see_which_report(client, world, engine, site, steps):  # noqa: F811
    """The access matrix of the PDFs and report jobs (tests/http/test_access_matrix.py leaves them to this
    test): a voucher, a notice and an account's month — its bank, its developer, the bureau; a release form —
    the applicant and the bureau; the city — the bureau; a job — whoever asked for it. To anyone else the
    subject does not exist (404), except the city report, refused by role (403); without a key: 401."""
    from escrow.store.models import PaymentNotice, Voucher

    with UnitOfWork(engine, readonly=True) as uow:
        voucher_no = uow.session.scalar(select(Voucher.voucher_no))
        notice_no = uow.session.scalar(select(PaymentNotice.notice_no))
    release_id = steps.applied(release_body(site["project_id"]))["release_id"]
    bureau = ("admin", "auditor")
    everyone = ("none", "bank", "other_bank", "developer", "other_developer", *bureau)

    def expect(allowed: set[str], ok: int, refused: int = 404) -> dict[str, int]:
        return {who: 401 if who == "none" else ok if who in allowed else refused for who in everyone}

    parties = {"bank", "developer", *bureau}
    reads = {
        f"/api/v1/vouchers/{voucher_no}/pdf": expect(parties, 200),
        f"/api/v1/notices/{notice_no}/pdf": expect(parties, 200),
        f"/api/v1/releases/{release_id}/pdf": expect({"developer", *bureau}, 200),
    }
    for url, expected in reads.items():
        for who, status in expected.items():
            r = client.get(url, headers={} if who == "none" else world.headers(who))
            assert r.status_code == status, (url, who, r.text)

    asks = [
        ({"kind": "monthly", "account_no": site["account_no"], "month": "2026-11"}, expect(parties, 202)),
        ({"kind": "city", "from": "2025-01-01", "to": "2025-12-31"}, expect(set(bureau), 202, refused=403)),
    ]
    jobs = {}
    for n, (body, expected) in enumerate(asks):
        for who, status in expected.items():
            headers = {"Idempotency-Key": f"ask-{n}"} | ({} if who == "none" else world.headers(who))
            r = client.post("/api/v1/reports", json=body, headers=headers)
            assert r.status_code == status, (body, who, r.text)
            if status == 202:
                jobs[(n, who)] = r.json()["job_id"]
    for (_, owner), job_id in jobs.items():
        for who in everyone:
            status = 401 if who == "none" else 200 if who == owner else 404
            r = client.get(f"/api/v1/reports/{job_id}", headers={} if who == "none" else world.headers(who))
            assert r.status_code == status, (job_id, owner, who, r.text)
            r = client.get(
                f"/api/v1/reports/{job_id}/file", headers={} if who == "none" else world.headers(who)
            )
            assert r.status_code == (status if status != 200 else r.status_code), (job_id, who)
            assert r.status_code in ({200, 409} if status == 200 else {status})


# --- render(): the interface other modules use ----------------------------------------------------------


def test_render_monthly_statement(engine, ctx, paid, flow):
    second = flow.contract(contract_no="HT-2025-0002", unit="3-2-1802")
    notice = flow.notice(second["contract_no"], "265950.00")
    flow.deposit(**_pay(flow, notice, bank_reference="HSB20261122000002", payer_name="李娜"))
    with UnitOfWork(engine, readonly=True) as uow:
        name, content = reports.render(
            "monthly", uow, ctx, account_no=paid["project"]["account_no"], year=2026, month=11
        )
    assert name == "monthly-6222000011112222-2026-11.pdf"
    text = pdf_text(content)
    squeezed = flat(text)
    assert "预售资金监管账户月度对账单" in squeezed
    assert "期初余额¥0.00" in squeezed and "期末余额¥385,950.00" in squeezed
    assert paid["voucher"]["voucher_no"] in text and "李娜" in squeezed
    assert "120,000.00" in text and "265,950.00" in text
    assert "收支明细（2笔）" in squeezed
    assert "主体结构完成二分之一" in squeezed and "未达到" in squeezed
    assert "待对账" in squeezed
    assert_cjk_font_embedded(content)


def test_render_city_report(engine, ctx, paid):
    with UnitOfWork(engine, readonly=True) as uow:
        name, content = reports.render("city", uow, ctx, start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert name == "city-2025-01-01-to-2025-12-31.pdf"
    squeezed = flat(pdf_text(content))
    assert "商品房预售资金监管情况" in squeezed
    assert "全市新开商品房预售资金监管账户1个" in squeezed and "新增预售面积1.20万平方米" in squeezed
    assert "12,000.50m²" in squeezed
    assert "衡水银行" in squeezed and "6222000011112222" in squeezed
    with UnitOfWork(engine, readonly=True) as uow:  # the deposit was paid in 2026
        squeezed = flat(pdf_text(reports.render("city", uow, ctx, start="2026-01-01", end="2026-12-31")[1]))
    assert "监管账户入账资金12.00万元" in squeezed and "¥120,000.00" in squeezed
    assert "数据截至2026年11月22日" in squeezed  # the period has not ended


REFUSALS = [
    ("voucher", {"voucher_no": "PZ0000"}, NotFound, "no voucher PZ0000"),
    ("notice", {"notice_no": "TZ0000"}, NotFound, "no payment notice TZ0000"),
    ("release", {"release_id": 999}, NotFound, "no release 999"),
    ("monthly", {"account_no": "999", "year": 2026, "month": 11}, NotFound, "no supervised account 999"),
    (
        "monthly",
        {"account_no": ACCOUNT, "year": 2024, "month": 12},
        InvalidInput,
        "was opened on 2025-03-05: nothing to report for 2024-12",
    ),
    ("monthly", {"account_no": ACCOUNT, "year": 2027, "month": 1}, InvalidInput, "has not begun"),
    ("monthly", {"account_no": ACCOUNT, "year": 2026, "month": 13}, InvalidInput, "between 1 and 12"),
    ("monthly", {"account_no": ACCOUNT, "month": "2026-1x"}, InvalidInput, "YYYY-MM"),
    ("city", {"start": "2025-12-31", "end": "2025-01-01"}, InvalidInput, "before it starts"),
    ("city", {"start": "2020-01-01", "end": "2020-12-31"}, InvalidInput, "2020-01-01 – 2020-12-31 is empty"),
    ("city", {"start": "2027-01-01", "end": "2027-12-31"}, InvalidInput, "starts after today"),
    ("city", {"start": "yesterday", "end": "2025-12-31"}, InvalidInput, "start: must be a date"),
    ("city", {"start": "2025-01-01"}, InvalidInput, "end: required"),
    ("monthly", {"account_no": ACCOUNT, "year": 2026, "month": 11, "day": 3}, InvalidInput, "not day"),
    ("annual", {}, InvalidInput, "unknown report kind 'annual'"),
]


def test_render_refuses_with_a_clear_message(engine, ctx, paid):
    for kind, params, error, words in REFUSALS:
        with UnitOfWork(engine, readonly=True) as uow, pytest.raises(error) as raised:
            reports.render(kind, uow, ctx, **params)
        assert words in raised.value.detail, (kind, params, raised.value.detail)


def test_render_takes_parameters_as_text_too(engine, ctx, paid):
    with UnitOfWork(engine, readonly=True) as uow:
        name, _ = reports.render("monthly", uow, ctx, account_no="6222000011112222", month="2026-11")
        assert (
            name
            == reports.render("monthly", uow, ctx, account_no="6222000011112222", year="2026", month="11")[0]
        )
        with pytest.raises(NotFound):
            reports.render("release", uow, ctx, release_id="1")


# --- report jobs --------------------------------------------------------------------------------------------


def wait_for(client, job_id: int, headers: dict, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/api/v1/reports/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_slow_reports_render_off_the_request_path(client, world, paid):
    bank = world.headers("bank", "monthly-1")
    r = client.post(
        "/api/v1/reports",
        json={"kind": "monthly", "account_no": "6222000011112222", "month": "2026-11"},
        headers=bank,
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["file_url"] is None
    assert job["params"] == {"account_no": "6222000011112222", "year": 2026, "month": 11}
    # the server keeps answering while the worker renders
    assert client.get("/health").status_code == 200

    admin = world.headers("admin", "city-1")
    city = client.post(
        "/api/v1/reports", json={"kind": "city", "from": "2025-01-01", "to": "2025-12-31"}, headers=admin
    )
    assert city.status_code == 202, city.text

    done = wait_for(client, job["job_id"], world.headers("bank"))
    assert done["status"] == "done", done
    assert done["filename"] == "monthly-6222000011112222-2026-11.pdf"
    assert done["file_url"] == f"/api/v1/reports/{job['job_id']}/file"
    content = get_pdf(client, done["file_url"], world.headers("bank"))
    assert "预售资金监管账户月度对账单" in flat(pdf_text(content))
    assert paid["voucher"]["voucher_no"] in pdf_text(content)

    city_done = wait_for(client, city.json()["job_id"], world.headers("admin"))
    assert city_done["status"] == "done", city_done
    assert "商品房预售资金监管情况" in flat(
        pdf_text(get_pdf(client, city_done["file_url"], world.headers("admin")))
    )

    # a job is its requester's: to anyone else it does not exist
    for who in ("other_bank", "admin", "developer"):
        assert client.get(f"/api/v1/reports/{job['job_id']}", headers=world.headers(who)).status_code == 404
        assert client.get(done["file_url"], headers=world.headers(who)).status_code == 404
    # the same request again is the same job
    again = client.post(
        "/api/v1/reports",
        json={"kind": "monthly", "account_no": "6222000011112222", "month": "2026-11"},
        headers=bank,
    )
    assert again.status_code == 202 and again.json()["job_id"] == job["job_id"]
    assert again.headers.get("idempotent-replayed") == "true"


BAD_REQUESTS = [
    ("bank", {"kind": "city", "from": "2025-01-01", "to": "2025-12-31"}, 403, "bureau"),
    (
        "other_bank",
        {"kind": "monthly", "account_no": ACCOUNT, "month": "2026-11"},
        404,
        "no supervised account",
    ),
    ("admin", {"kind": "monthly", "account_no": "999", "month": "2026-11"}, 404, "no supervised account 999"),
    (
        "admin",
        {"kind": "monthly", "account_no": ACCOUNT, "month": "2024-01"},
        422,
        "nothing to report for 2024-01",
    ),
    ("admin", {"kind": "city", "from": "2019-01-01", "to": "2019-12-31"}, 422, "is empty"),
    ("admin", {"kind": "city", "from": "2025-12-31", "to": "2025-01-01"}, 422, "before it starts"),
    ("admin", {"kind": "monthly", "account_no": ACCOUNT}, 422, "month: required"),
    (
        "admin",
        {"kind": "city", "from": "2025-01-01", "to": "2025-12-31", "account_no": "1"},
        422,
        "not account_no",
    ),
    ("admin", {"kind": "annual"}, 422, "kind"),
    ("admin", {"kind": "city", "form": "2025-01-01"}, 422, "form"),
    ("developer", {"kind": "voucher", "voucher_no": "PZ0"}, 404, "no voucher"),
]


def test_report_requests_are_checked_before_they_are_queued(client, world, engine, paid):
    for n, (who, body, status, words) in enumerate(BAD_REQUESTS):
        r = client.post("/api/v1/reports", json=body, headers=world.headers(who, f"job-{n}"))
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert words in r.text, (body, r.text)
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalars(select(ReportJob)).all() == []


def test_a_job_not_yet_done_says_so_and_a_stale_one_fails(client, world, engine, ctx, paid):
    bank = Principal(kind="bank", id=1, name="衡水银行", bank_id=1)
    job = reportjobs.request(ctx, bank, "voucher", {"voucher_no": paid["voucher"]["voucher_no"]})
    headers = world.headers("bank")
    r = client.get(f"/api/v1/reports/{job.job_id}/file", headers=headers)
    assert r.status_code == 409 and r.headers["retry-after"] == "2"
    assert "queued" in r.json()["detail"]
    # rendered by whoever picks up queued jobs (the scheduler, say), in this process
    assert reportjobs.run_pending(engine, ctx) == 1
    assert reportjobs.run(engine, ctx, job.job_id) == "skipped"  # never twice
    assert client.get(f"/api/v1/reports/{job.job_id}", headers=headers).json()["status"] == "done"
    assert client.get(f"/api/v1/reports/{job.job_id}/file", headers=headers).status_code == 200

    stale = reportjobs.request(ctx, bank, "voucher", {"voucher_no": paid["voucher"]["voucher_no"]})
    with UnitOfWork(engine) as uow:
        row = uow.session.get(ReportJob, stale.job_id)
        row.status = "running"
        row.created_at = row.created_at.replace(year=2020)
        uow.commit()
    failed = client.get(f"/api/v1/reports/{stale.job_id}", headers=headers).json()
    assert failed["status"] == "failed" and "interrupted" in failed["error"]
    r = client.get(f"/api/v1/reports/{stale.job_id}/file", headers=headers)
    assert r.status_code == 409 and "failed" in r.json()["detail"]


def test_report_endpoints_are_documented(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert PDF in paths["/api/v1/vouchers/{voucher_no}/pdf"]["get"]["responses"]["200"]["content"]
    assert "202" in paths["/api/v1/reports"]["post"]["responses"]
    assert {
        "/api/v1/reports/{job_id}",
        "/api/v1/reports/{job_id}/file",
        "/api/v1/releases/{release_id}/pdf",
        "/api/v1/notices/{notice_no}/pdf",
    } <= set(paths)


# --- the command line ---------------------------------------------------------------------------------------


@pytest.fixture
def cli(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code
        return code, out.getvalue(), err.getvalue()

    return run


def test_escrow_report_writes_the_pdf(cli, paid, tmp_path):
    voucher_no = paid["voucher"]["voucher_no"]
    code, out, err = cli("report", "voucher", voucher_no, "-o", str(tmp_path / "v.pdf"))
    assert code == 0, err
    assert "v.pdf" in out
    assert voucher_no in pdf_text((tmp_path / "v.pdf").read_bytes())
    code, out, err = cli("report", "monthly", "6222000011112222", "2026-11")
    assert code == 0, err
    assert (tmp_path / "monthly-6222000011112222-2026-11.pdf").is_file()


CLI_REFUSALS = [
    (("report", "monthly", "999", "2026-11"), "no supervised account 999"),
    (("report", "monthly", "6222000011112222", "2026-13"), "month"),
    (("report", "city", "2019-01-01", "2019-12-31"), "is empty"),
    (("report", "city", "2025-12-31", "2025-01-01"), "before it starts"),
    (("report", "release", "abc"), "release_id"),
    (("report", "voucher", "PZ0", "-o", "/nonexistent-dir/v.pdf"), "no voucher PZ0"),
]


def test_escrow_report_refuses_in_one_line(cli, paid):
    for argv, words in CLI_REFUSALS:
        code, _, err = cli(*argv)
        assert code == 1, argv
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("escrow: error: ") and words in lines[0], (argv, err)


def test_escrow_report_says_when_it_cannot_write(cli, paid):
    code, _, err = cli("report", "voucher", paid["voucher"]["voucher_no"], "-o", "/nonexistent-dir/v.pdf")
    assert (
        code == 1
        and err.startswith("escrow: error: cannot write /nonexistent-dir/v.pdf")
        and err.count("\n") == 1
    )


# --- the report templates ---------------------------------------------------------------------------------


def test_one_template_per_report_sharing_one_stylesheet():
    templates = sorted(p.stem for p in (REPO / "reports").glob("*.html"))
    assert templates == sorted(reports.KINDS)
    for kind in reports.KINDS:
        assert "<style" not in (REPO / "reports" / f"{kind}.html").read_text()  # the shared style.css only


def test_a_second_project_in_another_bank_is_not_in_the_first_banks_reach(client, world, paid):
    body = project_body(
        permit_no="衡预售2025-002", account_no="6222000099990000", bank_code="OTB", name="二号项目"
    )
    assert client.post("/api/v1/projects", json=body, headers=world.headers("admin", "p2")).status_code == 201
    r = client.post(
        "/api/v1/reports",
        json={"kind": "monthly", "account_no": "6222000099990000", "month": "2026-11"},
        headers=world.headers("bank", "m2"),
    )
    assert r.status_code == 404
