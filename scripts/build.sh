#!/usr/bin/env bash
# Builds the thanglong binary (CMake preset "release", Ninja) and the web front end (Vite).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${THANGLONG_PRESET:-release}"
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET"
if [ -f web/package.json ]; then
  (cd web && npm run --silent build >/dev/null)
  echo "build: web front end built into web/dist" >&2
fi
