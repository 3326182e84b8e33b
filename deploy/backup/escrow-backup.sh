#!/usr/bin/env bash
# The nightly backup of a PostgreSQL installation (docs/OPERATIONS.md, "Backups"), run by
# escrow-backup.timer as the user `escrow` with the service's settings (/etc/escrow/escrow.env):
#   1. `escrow audit anchor`: a Merkle root over every audit chain's head, recorded in the database;
#   2. `pg_dump --format=custom` of the whole database (the anchor inside it), checked by `pg_restore --list`
#      and only then given its final name, with its SHA-256 beside it;
#   3. the root written next to the dump (escrow-<time>.anchor) and printed: keep it apart from the dumps
#      too (the log, an e-mail, a ticket): `escrow audit verify --anchor ROOT` on a restored copy proves that
#      nobody rewrote the trail and its heads together before the dump was taken;
#   4. dumps older than ESCROW_BACKUP_KEEP_DAYS (35, a configured value) removed.
# Copy the directory off the host afterwards (it is the backup only once it is elsewhere).
# Settings: ESCROW_DATABASE_URL (required), ESCROW_BACKUP_DIR (/var/backups/escrow),
# ESCROW_BACKUP_KEEP_DAYS (35), ESCROW_BIN (/opt/escrow/.venv/bin/escrow).
set -euo pipefail

escrow="${ESCROW_BIN:-/opt/escrow/.venv/bin/escrow}"
dir="${ESCROW_BACKUP_DIR:-/var/backups/escrow}"
keep_days="${ESCROW_BACKUP_KEEP_DAYS:-35}"
url="${ESCROW_DATABASE_URL:-}"
case "$url" in
  postgresql+psycopg://* | postgresql://*) ;;
  *)
    echo "escrow-backup: ESCROW_DATABASE_URL is not a PostgreSQL URL; an SQLite file is copied with: sqlite3 FILE \".backup COPY\"" >&2
    exit 2
    ;;
esac
url="postgresql://${url#*://}"  # libpq's form of SQLAlchemy's URL
[[ "$keep_days" =~ ^[0-9]+$ ]] || { echo "escrow-backup: ESCROW_BACKUP_KEEP_DAYS must be a whole number of days" >&2; exit 2; }

umask 077
mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
base="$dir/escrow-$stamp"
trap 'rm -f "$base.dump.partial"' EXIT

root="$("$escrow" audit anchor | tail -n 1)"
[[ "$root" =~ ^[0-9a-f]{64}$ ]] || { echo "escrow-backup: escrow audit anchor printed no root" >&2; exit 1; }
pg_dump --format=custom --no-owner --file "$base.dump.partial" "$url"
pg_restore --list "$base.dump.partial" >/dev/null
mv "$base.dump.partial" "$base.dump"
(cd "$dir" && sha256sum "escrow-$stamp.dump" >"escrow-$stamp.dump.sha256")
echo "$root" >"$base.anchor"
find "$dir" -maxdepth 1 -name 'escrow-*' -type f -mtime +"$keep_days" -delete
echo "escrow-backup: $base.dump ($(du -h "$base.dump" | cut -f1)), anchor root $root"
