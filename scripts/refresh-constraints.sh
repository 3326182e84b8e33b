#!/usr/bin/env bash
# Writes constraints.txt: the exact version of every package a fresh `make install-test` resolves to today,
# in a scratch virtual environment (so nothing left over in .venv creeps in), without the project itself.
# `make install` and `make install-test` install with `-c constraints.txt`, so that two machines get the same
# packages; run `make constraints` after changing the dependencies in pyproject.toml, review the diff of
# constraints.txt and commit both. Use the oldest Python the project supports (3.11), where a version
# chosen works on the newer ones too more often than the other way round.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --upgrade pip
"$scratch/venv/bin/pip" install --quiet -e '.[test]'
{
  echo "# Every package \`make install-test\` installs, at the version it resolved to: pip installs with"
  echo "# \`-c constraints.txt\` (Makefile). Written by \`make constraints\` (scripts/refresh-constraints.sh) with"
  echo "# $("$scratch/venv/bin/python" --version) on $(uname -m); do not edit by hand."
  # pip itself is pinned too (the first install step upgrades it); setuptools comes with the venv and is
  # not used (the build backend is hatchling)
  "$scratch/venv/bin/pip" freeze --all --exclude-editable | grep -v -E '^(setuptools|escrow)=='
} >constraints.txt.new
mv constraints.txt.new constraints.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) packages pinned"
