#!/usr/bin/env bash
# Runs a browser end-to-end test (headless Chromium via playwright-core) against a real thanglong
# server with demo data on a fresh embedded store.
#   run_e2e.sh BIN [TEST_SCRIPT (default foundation.e2e.mjs)] [DEMO_DOSSIERS (default 0)]
set -uo pipefail
BIN="${1:?path to thanglong}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SCRIPT="${2:-foundation.e2e.mjs}"
WORK="$(mktemp -d /tmp/thanglong-e2e.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
THANGLONG_PASSWORD_COST=minimum THANGLONG_ACCESS_LOG=false THANGLONG_DEMO_DOSSIERS="${3:-0}" \
  "$BIN" serve --data-dir "$WORK/var" --listen "127.0.0.1:$PORT" --web-root "$ROOT/web/dist" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 1200); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
THANGLONG_BASE_URL="http://127.0.0.1:$PORT" THANGLONG_SCREENSHOT_DIR="${THANGLONG_SCREENSHOT_DIR:-$ROOT/build/e2e-screenshots}" \
  node "$ROOT/tests/e2e/$SCRIPT"
