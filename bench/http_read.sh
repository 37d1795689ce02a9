#!/usr/bin/env bash
# ThangLong read-path benchmark: procedure by code vs nginx serving the same body, catalogue search
# at 64 connections and at 1, start-up to ready on an existing store, idle RSS after load.
# Runs against the embedded SQLite store and against a throwaway PostgreSQL 15 started here.
#
#   bench/http_read.sh                      # both backends, ~2.5 min on 2 cores
#   BACKENDS=sqlite bench/http_read.sh      # one backend
#
# Settings (environment): BACKENDS ("sqlite postgres"), DURATION (10s), THREADS (2), CONNS (64),
# WARMUP (2s), STARTUP_RUNS (5), RESULTS (bench/results/latest.tsv), THANGLONG_BIN
# (build/src/app/thanglong), BENCH_VERBOSE=1 to echo raw wrk output, BENCH_KEEP_TMP=1.
#
# wrk and the server (and PostgreSQL) share the machine's cores: wrk runs with -t$THREADS at
# -c$CONNS and -t1 at -c1; the server runs with its default workers (one per core but one, at least 2).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BACKENDS="${BACKENDS:-sqlite postgres}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARMUP="${WARMUP:-2s}"
STARTUP_RUNS="${STARTUP_RUNS:-5}"
RESULTS="${RESULTS:-$BENCH_DIR/results/latest.tsv}"
CODE="1.001193"
READ_PATH="/api/v1/procedures/$CODE"
SEARCH_PATH="/api/v1/procedures?q=dang+ky+khai+sinh"
B="http_read"

bench_init
log "server binary: $THANGLONG_BIN ($TL_VERSION); results: $RESULTS"
log "wrk -t$THREADS -c$CONNS -d$DURATION --latency (and -t1 -c1 for single search); nproc=$(nproc)"

rec() { record "$RESULTS" "$B" "$@"; printf 'RESULT %s %s %s %s %s\n' "$B" "$@"; }

# wrk_run after waiting for the machine to be quiet; the busiest reading seen before any measurement
# of the backend is recorded as background_busy_pct (what else was using the CPU).
MAX_BUSY=0
measure() {
  wait_quiet "$1"
  [ "$BUSY_PCT" -gt "$MAX_BUSY" ] && MAX_BUSY=$BUSY_PCT
  wrk_run "$@"
}

check_alive() {
  tl_alive || { log "thanglong ($1) died during $2; last log lines:"; tail -n 40 "$TL_LOG" >&2; exit 1; }
}

run_backend() {
  local backend="$1" store="$BENCH_TMP/store-$1" args=()
  MAX_BUSY=0
  log "=== backend: $backend ==="
  if [ "$backend" = postgres ]; then
    pg_start
    log "PostgreSQL on 127.0.0.1:$PG_PORT (socket dir $PG_DIR)"
    args=(--database "$PG_URL")
  elif [ "$backend" != sqlite ]; then
    die "unknown backend $backend (sqlite or postgres)"
  fi

  free_port; local port=$FREE_PORT
  log "first start on an empty store (imports the reference data)"
  tl_start "$store" "$port" "${args[@]}"
  rec "$backend" first_start_ms "$TL_READY_MS" ms
  local read_url="$TL_URL$READ_PATH" search_url="$TL_URL$SEARCH_PATH"

  # Sanity: the bodies we are about to measure are the real ones.
  local body="$BENCH_TMP/body-$backend.json" hdrs="$BENCH_TMP/headers-$backend.txt"
  local status
  status=$(curl -s -D "$hdrs" -o "$body" -w '%{http_code}' "$read_url")
  [ "$status" = 200 ] || die "GET $READ_PATH answered $status"
  grep -q "\"code\":\"$CODE\"" "$body" || die "GET $READ_PATH did not return procedure $CODE"
  local body_bytes; body_bytes=$(wc -c <"$body")
  status=$(curl -s -o "$BENCH_TMP/search-$backend.json" -w '%{http_code}' "$search_url")
  [ "$status" = 200 ] || die "GET $SEARCH_PATH answered $status"
  grep -q "\"code\":\"$CODE\"" "$BENCH_TMP/search-$backend.json" \
    || die "the search for 'dang ky khai sinh' did not find procedure $CODE"
  grep -q "^{\"items\":\[{\"code\":\"$CODE\"" "$BENCH_TMP/search-$backend.json" \
    || log "warning: the search for 'dang ky khai sinh' does not rank procedure $CODE first"
  local search_bytes; search_bytes=$(wc -c <"$BENCH_TMP/search-$backend.json")
  log "read body $body_bytes B; search body $search_bytes B"
  rec "$backend" read_body_bytes "$body_bytes" B
  rec "$backend" search_body_bytes "$search_bytes" B

  # nginx adds ThangLong's fixed response headers too, so both put about the same bytes on the wire.
  local nghdrs="$BENCH_TMP/nginx-headers-$backend.txt"
  tr -d '\r' <"$hdrs" | grep -iE '^(x-request-id|x-content-type-options|content-security-policy|x-frame-options|referrer-policy|cross-origin-opener-policy|cache-control):' >"$nghdrs" || true

  # Warm-up (caches, connection pools, page cache); not measured.
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$read_url" >/dev/null 2>&1
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$search_url" >/dev/null 2>&1
  check_alive "$backend" warm-up

  # (a) procedure by code
  measure "$backend-read" "$read_url" "$THREADS" "$CONNS" "$DURATION"
  check_alive "$backend" "read load"
  rec "$backend" read_rps "$WRK_RPS" req/s
  rec "$backend" read_p99_ms "$WRK_P99_MS" ms
  rec "$backend" read_errors "$WRK_ERRORS" count
  local tl_rps="$WRK_RPS"

  # (b) nginx, same body, same wrk settings, same run
  free_port; local nport=$FREE_PORT
  nginx_start "$body" "$nport" "$READ_PATH" "$nghdrs"
  curl -s -o "$BENCH_TMP/nginx-body.json" "$NGINX_URL"
  cmp -s "$body" "$BENCH_TMP/nginx-body.json" || die "nginx does not serve the same body"
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$NGINX_URL" >/dev/null 2>&1
  measure "$backend-nginx" "$NGINX_URL" "$THREADS" "$CONNS" "$DURATION"
  nginx_stop
  rec "$backend" nginx_rps "$WRK_RPS" req/s
  rec "$backend" nginx_p99_ms "$WRK_P99_MS" ms
  rec "$backend" read_ratio "$(awk -v a="$tl_rps" -v b="$WRK_RPS" 'BEGIN { printf "%.2f", a / b }')" ratio

  # (c) catalogue search, loaded and single-connection
  measure "$backend-search-c$CONNS" "$search_url" "$THREADS" "$CONNS" "$DURATION"
  check_alive "$backend" "search load"
  rec "$backend" search_rps "$WRK_RPS" req/s
  rec "$backend" search_p50_ms "$WRK_P50_MS" ms
  rec "$backend" search_p99_ms "$WRK_P99_MS" ms
  rec "$backend" search_errors "$WRK_ERRORS" count
  measure "$backend-search-c1" "$search_url" 1 1 "$DURATION"
  check_alive "$backend" "single search"
  rec "$backend" search_c1_rps "$WRK_RPS" req/s
  rec "$backend" search_c1_p50_ms "$WRK_P50_MS" ms
  rec "$backend" search_c1_p99_ms "$WRK_P99_MS" ms

  # (e) idle RSS after the load
  sleep 3
  rec "$backend" idle_rss_mib "$(rss_mib "$TL_PID")" MiB

  # (d) start-up to ready on the existing store: stop, start, time fork -> /readyz 200
  local i times=()
  for i in $(seq 1 "$STARTUP_RUNS"); do
    tl_stop
    wait_quiet "start-up $i"
    [ "$BUSY_PCT" -gt "$MAX_BUSY" ] && MAX_BUSY=$BUSY_PCT
    tl_start "$store" "$port" "${args[@]}"
    times+=("$TL_READY_MS")
  done
  log "start-up to ready (ms): ${times[*]}"
  rec "$backend" startup_ms "$(printf '%s\n' "${times[@]}" | median)" ms
  rec "$backend" startup_max_ms "$(printf '%s\n' "${times[@]}" | sort -n | tail -n1)" ms
  sleep 1
  rec "$backend" fresh_rss_mib "$(rss_mib "$TL_PID")" MiB
  tl_stop

  if [ "$backend" = postgres ]; then pg_stop; fi
  rec "$backend" background_busy_pct "$MAX_BUSY" %

  # Anything the server logged at warn level or above during the whole run.
  local problems
  problems=$(grep -ciE 'warn|error|fatal|crit|abort|exception' "$BENCH_TMP/thanglong-$port.log" || true)
  rec "$backend" server_log_problems "$problems" lines
  if [ "$problems" -gt 0 ]; then
    log "server log lines at warn level or above ($backend):"
    grep -iE 'warn|error|fatal|crit|abort|exception' "$BENCH_TMP"/thanglong-"$port".log | sort | uniq -c | sort -rn | head -n 20 >&2
  fi
}

for backend in $BACKENDS; do run_backend "$backend"; done

# Results table
printf '\n%-28s' "figure"; for b in $BACKENDS; do printf '%14s' "$b"; done; printf '\n'
for f in read_rps:req/s read_p99_ms:ms nginx_rps:req/s nginx_p99_ms:ms read_ratio: \
         search_rps:req/s search_p99_ms:ms search_c1_p99_ms:ms startup_ms:ms idle_rss_mib:MiB \
         first_start_ms:ms server_log_problems: background_busy_pct:%; do
  printf '%-28s' "${f%%:*} ${f#*:}"
  for b in $BACKENDS; do printf '%14s' "$(lookup "$RESULTS" "$B" "$b" "${f%%:*}")"; done
  printf '\n'
done
