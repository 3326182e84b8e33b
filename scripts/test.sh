#!/usr/bin/env bash
# `make test`'s pytest run (arguments go to pytest), on SQLite and — whenever a PostgreSQL server answers —
# on PostgreSQL too. ESCROW_TEST_POSTGRES_URL already set (as .ci/run does): used as it is. Otherwise, when
# a server answers on PGHOST:PGPORT as PGUSER (default 127.0.0.1:5432, postgres), a fresh database
# escrow_t_<pid> is created for the run and dropped afterwards, also when the tests fail or are interrupted;
# when none answers, one line says the PostgreSQL half is skipped and why, and the SQLite half runs alone.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

if [ -n "${ESCROW_TEST_POSTGRES_URL:-}" ]; then
  exec "$PYTHON" -m pytest "$@"
fi

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
db="escrow_t_$$"
if ! why=$("$PYTHON" scripts/pg_scratch.py create "$db"); then
  echo "test: PostgreSQL half skipped (SQLite only): ${why:-the scratch database could not be created}"
  exec "$PYTHON" -m pytest "$@"
fi
drop() { "$PYTHON" scripts/pg_scratch.py drop "$db" || true; }
trap drop EXIT
trap 'exit 130' INT  # pytest stops on the same ^C; then the EXIT trap drops the database
trap 'exit 143' TERM
export ESCROW_TEST_POSTGRES_URL="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$db"
echo "test: PostgreSQL half on $PGHOST:$PGPORT, database $db (dropped afterwards)"
"$PYTHON" -m pytest "$@"
