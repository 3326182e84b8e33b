"""Benchmark: PDF reports with WeasyPrint — a voucher warm, a month of 1,000 deposits, the demo city.

    .venv/bin/python bench/reports_pdf.py                           # everything, temporary SQLite files
    .venv/bin/python bench/reports_pdf.py --only voucher,monthly    # skip seeding the demo city
    .venv/bin/python bench/reports_pdf.py --city-db escrow-demo.db  # a city already seeded by `make demo`

Targets (issue 5): voucher PDF ≤ 0.3 s warm; monthly statement with 1,000 deposits ≤ 5 s; city report for
the demo city (`escrow demo --scale city`) ≤ 10 s.

What it does:
1. voucher — seeds (through the real API, in-process) one account with --deposits paid notices in the current
   month, each with its voucher; renders one voucher `--warm` times to warm up (fonts, stylesheet, templates)
   and then `--runs` times with `escrow.reports.render`, and as many more through
   `GET /api/v1/vouchers/{voucher_no}/pdf` (in-process ASGI client), each time a different voucher;
2. monthly — `render("monthly", …)` of that account's current month: --deposits movements in the listing;
3. city — `escrow demo --scale city` into a fresh SQLite file (or --city-db), then `render("city", …)` for
   2025-01-01 – 2025-12-31 (191 accounts); and the same report as a job through `POST /api/v1/reports`
   until done (the worker process renders it; the first job also starts the worker);
4. checks every PDF (pdftotext finds the title and numbers; pdffonts finds Noto Sans CJK SC embedded) and
   prints the timings (median of --runs) against the targets, with the load average before and after.

Exits non-zero only on errors (a PDF without its title, a failed set-up), never because a target was missed.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import harness
from harness import describe_times, loadavg, log, timed
from public_lookup import seed

TARGETS = {"voucher": 0.3, "monthly": 5.0, "city": 10.0}
FIGURES: dict[str, float] = {}  # what `verdict` reports: the medians, in seconds


def check_pdf(content: bytes, *words: str) -> int:
    """The number of pages; raises if a word is missing or no CJK font is embedded."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(content)
        f.flush()
        text = subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True, text=True).stdout
        fonts = subprocess.run(["pdffonts", f.name], capture_output=True, text=True).stdout
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True).stdout
    squeezed = "".join(text.split())
    for word in words:
        if "".join(word.split()) not in squeezed:
            raise SystemExit(f"the PDF lacks {word!r}")
    if "Noto-Sans-CJK-SC" not in fonts:
        raise SystemExit(f"no embedded Noto Sans CJK SC:\n{fonts}")
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def measure_account(args: argparse.Namespace, only: set[str], tmp: Path, results: dict[str, str]) -> None:
    """The voucher (render and HTTP download) and the monthly statement of one account with --deposits."""
    from litestar.testing import TestClient

    from escrow import reports
    from escrow.app import build_context, create_app
    from escrow.domain.principal import SYSTEM
    from escrow.services import parties
    from escrow.store.db import UnitOfWork, make_engine

    url = f"sqlite:///{tmp / 'account.db'}"
    started = time.perf_counter()
    seed(url, args.deposits, tmp / "vouchers.txt")
    log(f"seeded one account with {args.deposits} deposits in {time.perf_counter() - started:.1f} s")
    vouchers = [line.split("|")[0] for line in (tmp / "vouchers.txt").read_text().split()]
    settings = harness.settings(url)
    engine = make_engine(url)
    ctx = build_context(settings, engine)

    def render(kind: str, **params):
        with UnitOfWork(engine, readonly=True) as uow:
            return reports.render(kind, uow, ctx, **params)

    if "voucher" in only:
        first = time.perf_counter()
        _, content = render("voucher", voucher_no=vouchers[0])
        log(
            f"voucher: first render in the process {time.perf_counter() - first:.3f} s (cold: fonts, imports)"
        )
        check_pdf(content, "商品房预售资金缴款凭证", vouchers[0], "¥265,950.00", "贰拾陆万伍仟玖佰伍拾元整")
        for i in range(args.warm):
            render("voucher", voucher_no=vouchers[i % len(vouchers)])
        n = iter(range(10**9))
        times, _ = timed(lambda: render("voucher", voucher_no=vouchers[next(n) % len(vouchers)]), args.runs)
        log(f"voucher, render(): {describe_times(times)}")
        results["voucher"] = f"{statistics.median(times):.3f} s (render), "
        FIGURES["voucher_render_s"] = round(statistics.median(times), 3)
        app = create_app(settings, engine=engine)
        from escrow.domain.principal import SYSTEM
        from escrow.services import parties

        with UnitOfWork(engine) as uow:
            key = parties.create_api_key(uow, bank_code="HSB", actor=SYSTEM).plaintext
            uow.commit()
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {key}"}
            client.get(f"/api/v1/vouchers/{vouchers[0]}/pdf", headers=headers)

            def download():
                r = client.get(f"/api/v1/vouchers/{vouchers[next(n) % len(vouchers)]}/pdf", headers=headers)
                if r.status_code != 200:
                    raise SystemExit(f"download failed: {r.status_code} {r.text}")

            times, _ = timed(download, args.runs)
        log(f"voucher, GET /api/v1/vouchers/…/pdf: {describe_times(times)}")
        results["voucher"] += f"{statistics.median(times):.3f} s (HTTP download)"
        FIGURES["voucher_http_s"] = round(statistics.median(times), 3)
    if "monthly" in only:
        today = date.today()
        render("voucher", voucher_no=vouchers[0])  # warm
        times, (_, content) = timed(
            lambda: render("monthly", account_no="6222000011112222", year=today.year, month=today.month),
            3,
        )
        pages = check_pdf(
            content, "预售资金监管账户月度对账单", f"收支明细（{args.deposits} 笔）", vouchers[-1]
        )
        log(f"monthly, {args.deposits} deposits, {pages} pages: {describe_times(times)}")
        results["monthly"] = f"{statistics.median(times):.2f} s ({pages} pages)"
        FIGURES["monthly_s"] = round(statistics.median(times), 2)
        FIGURES["monthly_deposits"] = args.deposits
    engine.dispose()


def measure_city(args: argparse.Namespace, tmp: Path, results: dict[str, str]) -> None:
    """The city report of the demo city, rendered directly and as a report job."""
    from litestar.testing import TestClient

    from escrow import reports
    from escrow.app import build_context, create_app
    from escrow.domain.principal import SYSTEM
    from escrow.services import parties
    from escrow.store.db import UnitOfWork, make_engine

    if args.city_db:
        city_url = f"sqlite:///{Path(args.city_db).resolve()}"
    else:
        city_url = f"sqlite:///{tmp / 'city.db'}"
        started = time.perf_counter()
        subprocess.run(
            harness.escrow_command("demo", "--scale", "city"),
            env=harness.escrow_env(city_url),
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        log(f"seeded the demo city in {time.perf_counter() - started:.1f} s")
    settings = harness.settings(city_url)
    engine = make_engine(city_url)
    ctx = build_context(settings, engine, today=lambda: date(2026, 11, 22))

    def city():
        with UnitOfWork(engine, readonly=True) as uow:
            return reports.render("city", uow, ctx, start=date(2025, 1, 1), end=date(2025, 12, 31))

    city()  # warm: fonts and templates
    times, (_, content) = timed(city, 3)
    pages = check_pdf(content, "商品房预售资金监管情况", "全市新开商品房预售资金监管账户191个")
    log(f"city, 191 accounts, {pages} pages: {describe_times(times)}")
    results["city"] = f"{statistics.median(times):.2f} s ({pages} pages)"
    FIGURES["city_s"] = round(statistics.median(times), 2)

    with UnitOfWork(engine) as uow:
        parties.create_user(uow, username="bench-admin", role="admin", password=None, actor=SYSTEM)
        key = parties.create_api_key(uow, username="bench-admin", actor=SYSTEM).plaintext
        uow.commit()
    app = create_app(settings, engine=engine, today=lambda: date(2026, 11, 22))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}
        for n, attempt in enumerate(("first job (starts the worker)", "second job")):
            started = time.perf_counter()
            body = {"kind": "city", "from": "2025-01-01", "to": "2025-12-31"}
            r = client.post(
                "/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": f"bench-{n}"}
            )
            if r.status_code != 202:
                raise SystemExit(f"job refused: {r.status_code} {r.text}")
            answered = time.perf_counter() - started
            job_id = r.json()["job_id"]
            poll = f"/api/v1/reports/{job_id}"
            while (job := client.get(poll, headers=headers).json())["status"] not in ("done", "failed"):
                time.sleep(0.05)
            if job["status"] != "done":
                raise SystemExit(f"the job failed: {job}")
            log(
                f"city as a job, {attempt}: 202 in {answered * 1000:.0f} ms, done after "
                f"{time.perf_counter() - started:.2f} s"
            )
    engine.dispose()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="voucher,monthly,city")
    p.add_argument("--deposits", type=int, default=1000, help="deposits of the account in its month")
    p.add_argument("--runs", type=int, default=20, help="timed renders of the voucher (the others: 3)")
    p.add_argument("--warm", type=int, default=3)
    p.add_argument("--city-db", help="an SQLite file with the demo city (default: seed a fresh one)")
    args = p.parse_args()
    only = set(args.only.split(","))
    logging.getLogger("httpx").setLevel(logging.WARNING)

    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    log(f"machine: {harness.describe_machine()}")
    log(f"load average at the start: {loadavg()}")
    results: dict[str, str] = {}
    if only & {"voucher", "monthly"}:
        measure_account(args, only, tmp, results)
    if "city" in only:
        measure_city(args, tmp, results)
    shutil.rmtree(tmp, ignore_errors=True)
    log()
    for kind, text in results.items():
        log(f"{kind:8} {text}   target ≤ {TARGETS[kind]} s")
    log(f"load average at the end: {loadavg()}")
    limits = {
        "voucher_render_s": "voucher",
        "voucher_http_s": "voucher",
        "monthly_s": "monthly",
        "city_s": "city",
    }
    held = {name: TARGETS[kind] for name, kind in limits.items() if name in FIGURES}
    harness.verdict(
        "reports_pdf",
        FIGURES,
        {f"{name}_max": limit for name, limit in held.items()},
        all(FIGURES[name] <= limit for name, limit in held.items()),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
