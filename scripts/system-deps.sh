#!/usr/bin/env bash
# Installs the system packages WeasyPrint and the report tests need (Pango, HarfBuzz subsetting, a CJK font,
# poppler's pdftotext) and the browser the web UI tests drive (Debian's chromium; tests/browser). As root with
# apt it installs what is missing; otherwise it prints one instruction.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils chromium)
# `system-deps.sh bench` (make bench) adds the load generator and pgbench the benchmarks drive.
[ "${1:-}" = "bench" ] && packages+=(wrk postgresql-client)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  echo "system-deps: not a Debian/Ubuntu system; install Pango, HarfBuzz (subset), Noto Sans CJK SC and Chromium yourself." >&2
  exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "system-deps: PDF reports and browser tests need these packages; run: sudo apt-get install ${missing[*]}" >&2
fi
