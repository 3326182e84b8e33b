"""scripts/system-deps.sh waits for the package manager instead of failing: while another apt or dpkg (on a
fresh machine: unattended-upgrades) holds one of its locks it prints one line and waits, at most
SYSTEM_DEPS_LOCK_TIMEOUT seconds. dpkg and apt lock with fcntl record locks, so the tests hold a scratch lock
file the same way (fcntl.lockf, in this process; the script checks from its own) and name it in
SYSTEM_DEPS_LOCKS."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "system-deps.sh"


def _wait(locks: list[Path], timeout: int) -> subprocess.Popen[str]:
    env = dict(os.environ, SYSTEM_DEPS_LOCKS=" ".join(map(str, locks)), SYSTEM_DEPS_LOCK_TIMEOUT=str(timeout))
    return subprocess.Popen(
        ["bash", "-c", f'source "{SCRIPT}" && wait_for_package_manager'],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def _held(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)  # what dpkg and apt do to /var/lib/dpkg/lock-frontend and the rest
        yield
    finally:
        os.close(fd)  # closing lets go of the lock


def test_free_locks_pass_without_a_word(tmp_path):
    locks = [tmp_path / "lock-frontend", tmp_path / "missing-lock"]
    locks[0].touch()
    proc = _wait(locks, 600)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err == ""
    assert 0 < int(out) <= 600  # the seconds left, handed to apt-get as DPkg::Lock::Timeout


def test_a_held_lock_is_waited_for_with_one_line(tmp_path):
    locks = [tmp_path / "lock-frontend", tmp_path / "lock"]
    locks[0].touch()
    with _held(locks[1]):
        proc = _wait(locks, 600)
        first = proc.stderr.readline()  # blocks until the script says it waits
        assert "waiting for the package manager" in first and str(locks[1]) in first
        assert proc.poll() is None  # still waiting: the lock is still held
    out, err = proc.communicate(timeout=60)  # let go: it goes on
    assert proc.returncode == 0
    assert err == ""  # the one line only, however long it waited
    assert 0 < int(out) <= 600


def test_waiting_ends_with_one_readable_line_when_the_time_is_up(tmp_path):
    lock = tmp_path / "lock-frontend"
    with _held(lock):
        proc = _wait([lock], 1)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert "waiting for the package manager" in lines[0]
    assert lines[1].startswith("system-deps: the package manager is still busy after 1 s")
    assert str(lock) in lines[1]


def test_apt_get_is_given_the_time_left_as_its_own_lock_timeout(tmp_path):
    """Between the check and apt-get's own locking another apt may start: apt-get then waits as well, for
    the time left. A stand-in apt-get on the PATH writes down how it was called."""
    fake = tmp_path / "bin" / "apt-get"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\n', encoding="utf-8")
    fake.chmod(0o755)
    lock = tmp_path / "lock-frontend"
    lock.touch()
    env = dict(
        os.environ,
        PATH=f"{fake.parent}:{os.environ['PATH']}",
        SYSTEM_DEPS_LOCKS=str(lock),
        SYSTEM_DEPS_LOCK_TIMEOUT="600",
    )
    subprocess.run(
        ["bash", "-c", f'source "{SCRIPT}" && missing=(fonts-noto-cjk) && install_packages'],
        env=env,
        check=True,
    )
    update, install = (tmp_path / "calls").read_text(encoding="utf-8").splitlines()
    for call in (update, install):
        option, value = call.split()[:2]
        assert option == "-o" and value.startswith("DPkg::Lock::Timeout=")
        assert 0 < int(value.split("=")[1]) <= 600
    assert update.split()[2] == "update"
    assert install.split()[2:] == ["install", "-y", "-qq", "--no-install-recommends", "fonts-noto-cjk"]
