#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and starts ThangLong with demo data on
# the embedded store in ./var (http://127.0.0.1:8080). Extra arguments go to `thanglong serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec ./build/src/app/thanglong serve --data-dir ./var "$@"
