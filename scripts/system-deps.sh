#!/usr/bin/env bash
# Installs the system packages WeasyPrint and the report tests need (Pango, HarfBuzz subsetting, a CJK font,
# poppler's pdftotext), the browser the web UI tests drive (Debian's chromium; tests/browser) and nginx, with
# which tests/integration/test_deploy_files.py checks deploy/nginx/escrow.conf (`nginx -t`; its service is kept from
# starting, see install_packages). As root with apt it installs what is missing; otherwise it prints one
# instruction.
#
# On a machine that has just booted, unattended-upgrades (apt-daily) holds the package manager's locks for
# minutes, and another install may be running: the script then prints ONE line saying it waits and waits for
# the locks to be free, at most SYSTEM_DEPS_LOCK_TIMEOUT seconds (600, a configured value), before it fails
# with one line. SYSTEM_DEPS_LOCKS (space-separated paths) names the locks; the default is apt's and dpkg's.
set -euo pipefail

LOCK_TIMEOUT="${SYSTEM_DEPS_LOCK_TIMEOUT:-600}"
LOCKS="${SYSTEM_DEPS_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}"

# Waits until none of LOCKS is held, at most LOCK_TIMEOUT seconds; prints one line when it has to wait.
# dpkg and apt hold their locks with fcntl (POSIX record locks), which flock(1) does not see, so the check is
# Python's fcntl.lockf (the same kind of lock), taken and let go at once. apt-get is given the rest of the time
# as DPkg::Lock::Timeout besides, for the moment between this check and its own locking.
# Prints the seconds left on success; exits 1 with one line on stderr when the time is up.
wait_for_package_manager() {
  python3 - "$LOCK_TIMEOUT" $LOCKS <<'PY'
import fcntl, os, sys, time

timeout, paths = int(sys.argv[1]), sys.argv[2:]
deadline = time.monotonic() + timeout


def held():
    for path in paths:
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:  # no such lock file (nothing uses it) or not ours to open
            continue
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return path
        else:
            fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    return None


said = False
while (path := held()) is not None:
    if time.monotonic() >= deadline:
        print(
            f"system-deps: the package manager is still busy after {timeout} s ({path} is held, e.g. by "
            "unattended-upgrades); run make again when it has finished",
            file=sys.stderr,
        )
        sys.exit(1)
    if not said:
        print(
            f"system-deps: waiting for the package manager ({path} is held by another apt or dpkg), "
            f"at most {timeout} s …",
            file=sys.stderr,
            flush=True,
        )
        said = True
    time.sleep(1)
print(max(1, int(deadline - time.monotonic())))
PY
}

install_packages() {
  local left
  left="$(wait_for_package_manager)"
  export DEBIAN_FRONTEND=noninteractive
  # nginx is here for `nginx -t` in the tests only: Debian starts a package's service when it is installed,
  # which policy-rc.d (exit 101) forbids, as container images do; and it is not enabled for the next boot.
  local guard=""
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    guard=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get -o DPkg::Lock::Timeout="$left" update -qq >/dev/null
  left="$(wait_for_package_manager)"
  apt-get -o DPkg::Lock::Timeout="$left" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$guard" ] && [ -d /run/systemd/system ]; then
    systemctl disable --quiet nginx 2>/dev/null || true
  fi
}

main() {
  packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils chromium nginx)
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
    install_packages
  else
    echo "system-deps: PDF reports and browser tests need these packages; run: sudo apt-get install ${missing[*]}" >&2
  fi
}

# Sourced (the tests call wait_for_package_manager), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
