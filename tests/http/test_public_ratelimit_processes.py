"""The look-up limit holds across server processes: two uvicorn processes, started as `escrow serve` starts
one, share one database (the same SQLite file, or the same PostgreSQL database), and a client that spreads
its look-ups over both is refused after the limit, counted once, by whichever process it reaches."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import REPO
from tests.http.test_public_vouchers import voucher  # noqa: F401 (fixture)
from tests.live import free_port

LIMIT = 10


@contextmanager
def servers(db_url: str, count: int = 2) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "ESCROW_DATABASE_URL": db_url,
        "ESCROW_RULES_DIR": str(REPO / "rules"),
        "ESCROW_LOOKUPS_PER_MINUTE": str(LIMIT),
        "ESCROW_FAILED_LOOKUPS_PER_MINUTE": "1000",
    }
    ports = [free_port() for _ in range(count)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "escrow.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 90
        for proc, base in zip(procs, bases, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the servers did not start")
                time.sleep(0.1)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr:
                proc.stderr.close()


def test_the_limit_holds_across_two_server_processes(db_url, voucher):  # noqa: F811
    path = f"/api/v1/public/vouchers/{voucher['voucher_no']}?code={voucher['verification_code']}"
    with servers(db_url) as (first, second), httpx.Client(timeout=30) as http:
        if time.time() % 60 > 50:  # all requests in one window of the fixed-window count
            time.sleep(61 - time.time() % 60)
        answers = []
        for i in range(LIMIT + 4):
            base = (first, second)[i % 2]
            r = http.get(base + path)
            answers.append((base, r.status_code))
        page = http.get(f"{second}/verify/{voucher['voucher_no']}?code={voucher['verification_code']}")

    assert [status for _, status in answers] == [200] * LIMIT + [429] * 4, answers
    # each process had served only LIMIT / 2 look-ups itself when it refused: it counted the other's too
    assert {base for base, status in answers if status == 429} == {first, second}
    assert page.status_code == 429 and "查询过于频繁" in page.text
