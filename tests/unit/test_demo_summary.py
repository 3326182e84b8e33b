"""What `escrow demo` prints to serve the city again: the exact command, a password never shown."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from escrow.demo.summary import serve_command


def test_the_serve_command_masks_a_password_and_names_the_installed_escrow():
    command = serve_command("postgresql+psycopg://clerk:s%40cret@db.internal:5432/escrow")
    assert "s%40cret" not in command and "cret" not in command
    words = shlex.split(command)
    assert words[0] == "ESCROW_DATABASE_URL=postgresql+psycopg://clerk:***@db.internal:5432/escrow"
    assert words[1] == str(Path(sys.executable).with_name("escrow"))  # .venv/bin/escrow: not on PATH
    assert words[2:] == ["serve", "--host", "127.0.0.1", "--port", "8000"]


def test_a_url_without_a_password_is_shown_as_it_is():
    words = shlex.split(serve_command("sqlite:////srv/escrow demo.db"))
    assert words[0] == "ESCROW_DATABASE_URL=sqlite:////srv/escrow demo.db"
