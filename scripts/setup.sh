#!/usr/bin/env bash
# Installs everything ThangLong needs to build, run and test, from Debian's packages and npm.
# Idempotent: packages already present are skipped; safe to run on every start.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  librestinio-dev libasio-dev libhttp-parser-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libvalijson-dev
  libcurl4-openssl-dev libsqlite3-dev sqlite3 libpq-dev libsodium-dev libmimalloc-dev libcli11-dev libtomlplusplus-dev libutf8proc-dev
  libqrencode-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core fonts-dejavu-extra libgtest-dev libgmock-dev libbenchmark-dev
  poppler-utils zbar-tools
  postgresql postgresql-contrib wrk nginx-light chromium curl ca-certificates
  mosquitto mosquitto-clients libmosquitto-dev
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # nginx and postgresql packages start system services; the project runs its own throwaway ones.
  for svc in nginx postgresql mosquitto; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

if ! command -v node >/dev/null 2>&1; then
  echo "setup: node is missing; installing Debian's nodejs and npm" >&2
  apt-get install -y -q nodejs npm >/dev/null
fi

if [ -f web/package.json ]; then
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages for web/" >&2
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "setup: done" >&2
