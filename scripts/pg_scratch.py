"""A scratch database on the local PostgreSQL server for `make test` (scripts/test.sh), through psycopg (a
project dependency) so that no PostgreSQL client programs are needed.

    pg_scratch.py create NAME   create NAME (dropped first if a stale one is left); exit 1 with ONE line
                                saying why when no server answers or it refuses
    pg_scratch.py drop NAME     drop NAME, closing its sessions (WITH (FORCE)); quiet, exit 0 regardless

The server is PGHOST:PGPORT as PGUSER (defaults 127.0.0.1, 5432, postgres); libpq reads PGPASSWORD and
~/.pgpass itself. The connection attempt gives up after PGCONNECT_TIMEOUT seconds (default 3).
"""

from __future__ import annotations

import os
import re
import sys

import psycopg
from psycopg import sql

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def server() -> dict[str, str]:
    return {
        "host": os.environ.get("PGHOST") or "127.0.0.1",
        "port": os.environ.get("PGPORT") or "5432",
        "user": os.environ.get("PGUSER") or "postgres",
    }


def reason(exc: BaseException) -> str:
    """The server's or libpq's words, on one line (libpq's message runs over several)."""
    words = " ".join(str(exc).split())
    # "connection failed: connection to server at "127.0.0.1", port 5433 failed: Connection refused Is the …"
    return words.rsplit("failed: ", 1)[-1] or type(exc).__name__


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("create", "drop") or not NAME.match(argv[1]):
        print("usage: pg_scratch.py create|drop NAME (lower-case letters, digits, _)", file=sys.stderr)
        return 2
    action, name = argv
    where = server()
    timeout = int(os.environ.get("PGCONNECT_TIMEOUT") or 3)
    try:
        with psycopg.connect(dbname="postgres", connect_timeout=timeout, autocommit=True, **where) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if action == "create":
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        if action == "drop":
            return 0
        at = f"{where['host']}:{where['port']} as {where['user']}"
        print(f"no usable PostgreSQL server on {at}: {reason(exc)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
