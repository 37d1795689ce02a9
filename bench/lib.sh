#!/usr/bin/env bash
# Shared helpers for ThangLong's benchmark scripts. Source it; do not run it.
#
#   source "$(dirname "$0")/lib.sh"
#   bench_init                       # temp dir + cleanup trap (kills every process started here)
#   free_port; port=$FREE_PORT
#   tl_start "$BENCH_TMP/store" "$port" [extra serve args...]   # sets TL_PID, TL_URL
#   pg_start                         # throwaway PostgreSQL; sets PG_URL
#   nginx_start BODY_FILE PORT URI   # serves BODY_FILE at URI; sets NGINX_PID
#   wrk_run NAME URL THREADS CONNS DURATION   # sets WRK_RPS, WRK_P99_MS, WRK_ERRORS
#
# Everything listens on 127.0.0.1 only. Requires: bash, curl, wrk, nginx, PostgreSQL 15 binaries
# (for pg_start), runuser (util-linux) when running as root, awk, sort, mktemp.

# shellcheck disable=SC2034  # sets globals (TL_PID, PG_URL, WRK_*...) for the scripts that source it
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
THANGLONG_BIN="${THANGLONG_BIN:-$REPO_DIR/build/src/app/thanglong}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_USER="${PG_USER:-postgres}"     # unprivileged OS account PostgreSQL runs as when we are root

BENCH_TMP=""
BENCH_PIDS=()          # every background process we started, stopped in reverse order on exit
BENCH_PG_DATA=()       # PostgreSQL clusters to stop with pg_ctl on exit
BENCH_TMP_DIRS=()      # extra temp dirs (PostgreSQL's, owned by PG_USER) to remove on exit
BENCH_USED_PORTS=" "

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- set-up and clean-up -----------------------------------------------------------------------

bench_init() {
  BENCH_TMP="$(mktemp -d /tmp/thanglong-bench.XXXXXX)"
  # nginx workers run as "nobody": they must be able to traverse to the body file.
  chmod 711 "$BENCH_TMP"
  trap bench_cleanup EXIT
  # bench/results/ is not in git (a fresh clone has none): every script writes its figures there.
  mkdir -p "$BENCH_DIR/results"
  trap 'exit 130' INT
  trap 'exit 143' TERM
  for tool in curl wrk awk sort; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
  bench_copy_binary
}

# Copy the server binary into the temp dir so a rebuild of build/ mid-run cannot change it.
bench_copy_binary() {
  local waited=0
  while [ ! -x "$THANGLONG_BIN" ]; do
    [ "$waited" -ge 180 ] && die "no server binary at $THANGLONG_BIN (run scripts/build.sh, or set THANGLONG_BIN)"
    log "waiting for $THANGLONG_BIN to appear (being rebuilt?)"
    sleep 10; waited=$((waited + 10))
  done
  # A binary being linked right now may be truncated; copy until two copies agree.
  local i
  for i in 1 2 3 4 5 6; do
    cp "$THANGLONG_BIN" "$BENCH_TMP/thanglong"
    sleep 1
    if cmp -s "$THANGLONG_BIN" "$BENCH_TMP/thanglong" && "$BENCH_TMP/thanglong" version >/dev/null 2>&1; then
      TL="$BENCH_TMP/thanglong"
      TL_VERSION="$("$TL" version 2>/dev/null | head -n1)"
      return 0
    fi
    sleep 10
  done
  die "could not take a stable copy of $THANGLONG_BIN"
}

bench_cleanup() {
  local rc=$?
  set +e
  local i pid d
  for (( i=${#BENCH_PIDS[@]}-1; i>=0; i-- )); do
    pid="${BENCH_PIDS[$i]}"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  for d in "${BENCH_PG_DATA[@]}"; do
    [ -f "$d/postmaster.pid" ] && pg_as_user "$PG_BIN/pg_ctl" -D "$d" -m immediate -w -t 30 stop >/dev/null 2>&1
  done
  for d in "${BENCH_TMP_DIRS[@]}"; do rm -rf "$d"; done
  if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
    if [ -n "${BENCH_KEEP_TMP:-}" ]; then log "kept $BENCH_TMP"; else rm -rf "$BENCH_TMP"; fi
  fi
  exit "$rc"
}

bench_track_pid() { BENCH_PIDS+=("$1"); }
bench_untrack_pid() {
  local keep=() p
  for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

# Stop one process we started: TERM, wait up to 10 s, then KILL.
stop_pid() {
  local pid="$1" i
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "pid $pid ignored TERM for 10 s; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  bench_untrack_pid "$pid"
}

# --- background load -----------------------------------------------------------------------------

# Machine-wide CPU busy over SECONDS (default 1), as a percentage of ALL cores (100 = every core busy).
cpu_busy_pct() {
  local s="${1:-1}" a b
  a=$(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat)
  sleep "$s"
  b=$(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; i = y[2] - x[2];
    printf "%.0f\n", (t > 0 ? 100 * (t - i) / t : 0) }'
}

# "PID TICKS COMM" (utime + stime) for every process.
proc_ticks() {
  local f line pid comm rest
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    pid=${line%% *}; comm=${line#*(}; comm=${comm%)*}; rest=${line##*) }
    # shellcheck disable=SC2086  # split the fields on purpose
    set -- $rest
    echo "$pid $(( ${12} + ${13} )) ${comm// /_}"
  done
}

# The three busiest processes over the next second, as "comm(pid) N%", so a warning about a busy
# machine says what was busy.
top_cpu_users() {
  local a b
  a=$(proc_ticks); sleep 1; b=$(proc_ticks)
  awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { t[$1] = $2; next }
    ($1 in t) && $2 > t[$1] { printf "%d %s(%s)\n", 100 * ($2 - t[$1]) / hz, $3, $1 }' <(echo "$a") <(echo "$b") |
    sort -rn | head -n 3 | awk '{ printf "%s%s %s%%", (NR > 1 ? ", " : ""), $2, $1 } END { print "" }'
}

# wait_quiet LABEL -> BUSY_PCT. Benchmarks share the machine with whatever else runs (builds, tests):
# wait for the CPU to be idle (busy below QUIET_PCT, default 10 %, over 2 s), at most QUIET_TIMEOUT
# seconds per call (default 60) and QUIET_BUDGET seconds per script run (default 120, so a run stays
# bounded), then go on either way, leaving the last reading in BUSY_PCT for the caller to record.
BENCH_QUIET_SPENT=0
wait_quiet() {
  local label="$1" t0 left
  t0=$(date +%s)
  left=$(( ${QUIET_BUDGET:-120} - BENCH_QUIET_SPENT ))
  [ "$left" -gt "${QUIET_TIMEOUT:-60}" ] && left=${QUIET_TIMEOUT:-60}
  local deadline=$(( t0 + left )) warned=""
  while :; do
    BUSY_PCT=$(cpu_busy_pct 2)
    [ "$BUSY_PCT" -lt "${QUIET_PCT:-10}" ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "warning: machine still ${BUSY_PCT}% busy with other work before $label; measuring anyway (figures will be low)"
      log "busiest processes: $(top_cpu_users)"
      break
    fi
    if [ -z "$warned" ]; then
      log "machine is ${BUSY_PCT}% busy with other work; waiting up to $left s before $label"
      log "busiest processes: $(top_cpu_users)"
      warned=1
    fi
    sleep 3
  done
  BENCH_QUIET_SPENT=$(( BENCH_QUIET_SPENT + $(date +%s) - t0 ))
}

# --- ports -------------------------------------------------------------------------------------

port_in_use() {
  # Listening TCP sockets on any address, from the kernel's tables (no extra tools needed).
  local hex
  hex=$(printf '%04X' "$1")
  awk -v h=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == h { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port -> FREE_PORT: a TCP port nothing listens on and not handed out earlier by this script.
# (Sets a variable rather than printing, so the record of ports handed out survives: $(...) would
# run it in a subshell.)
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    case "$BENCH_USED_PORTS" in *" $p "*) continue ;; esac
    port_in_use "$p" && continue
    BENCH_USED_PORTS+="$p "
    FREE_PORT="$p"; return 0
  done
  die "no free port found"
}

# Wait until URL answers 200; print the elapsed ms since START_MS. Fails after TIMEOUT_S seconds
# or as soon as PID exits.
wait_http_200() {
  local url="$1" start_ms="$2" timeout_s="$3" pid="${4:-}"
  local deadline=$(( start_ms + timeout_s * 1000 ))
  while :; do
    if curl -fs -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      echo $(( $(now_ms) - start_ms )); return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
    [ "$(now_ms)" -gt "$deadline" ] && return 1
    sleep 0.01
  done
}

# --- ThangLong -----------------------------------------------------------------------------------

# tl_start DATA_DIR PORT [extra serve args...]  -> TL_PID, TL_URL, TL_READY_MS, TL_LOG
# Access log off, warn-level log, no demo accounts. Extra args go to `serve` (e.g. --database URL).
tl_start() {
  local data_dir="$1" port="$2"; shift 2
  TL_URL="http://127.0.0.1:$port"
  TL_LOG="$BENCH_TMP/thanglong-$port.log"
  mkdir -p "$data_dir"
  local t0; t0=$(now_ms)
  THANGLONG_ACCESS_LOG=false "$TL" serve --data-dir "$data_dir" --listen "127.0.0.1:$port" \
    --no-demo --log-level warn "$@" >>"$TL_LOG" 2>&1 &
  TL_PID=$!
  bench_track_pid "$TL_PID"
  local rc=0
  TL_READY_MS=$(wait_http_200 "$TL_URL/readyz" "$t0" "${TL_START_TIMEOUT:-180}" "$TL_PID") || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "thanglong did not become ready (rc=$rc); last lines of $TL_LOG:"
    tail -n 30 "$TL_LOG" >&2 || true
    return 1
  fi
}

tl_stop() {
  [ -n "${TL_PID:-}" ] || return 0
  stop_pid "$TL_PID"
  TL_PID=""
}

tl_alive() { [ -n "${TL_PID:-}" ] && kill -0 "$TL_PID" 2>/dev/null; }

# Resident set size of PID in MiB (VmRSS from /proc), one decimal.
rss_mib() {
  awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"
}

# --- PostgreSQL --------------------------------------------------------------------------------

pg_as_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

# pg_start -> PG_URL, PG_PORT, PG_DIR. A throwaway cluster: data dir and unix socket in a temp dir,
# TCP on 127.0.0.1 only, trust auth (loopback only), fsync on.
pg_start() {
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL binaries not found in $PG_BIN"
  if [ "$(id -u)" -eq 0 ]; then
    id "$PG_USER" >/dev/null 2>&1 || die "user $PG_USER does not exist (needed to run PostgreSQL as non-root)"
    command -v runuser >/dev/null || die "runuser (util-linux) is needed to run PostgreSQL as $PG_USER"
  fi
  PG_DIR="$(mktemp -d /tmp/thanglong-bench-pg.XXXXXX)"
  BENCH_TMP_DIRS+=("$PG_DIR")
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$PG_DIR"
  free_port; PG_PORT=$FREE_PORT
  pg_as_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  BENCH_PG_DATA+=("$PG_DIR/data")
  pg_as_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-k $PG_DIR -p $PG_PORT -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  pg_as_user "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U postgres thanglong
  PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/thanglong"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_as_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# Server-side PID of the postmaster (for RSS reporting).
pg_postmaster_pid() { head -n1 "$PG_DIR/data/postmaster.pid"; }

# --- nginx -------------------------------------------------------------------------------------

# nginx_start BODY_FILE PORT URI [HEADERS_FILE]  -> NGINX_PID, NGINX_URL
# Serves BODY_FILE verbatim at URI with Content-Type application/json. HEADERS_FILE (optional)
# holds "Name: value" lines added to the response, so the bytes on the wire match the server's.
nginx_start() {
  local body="$1" port="$2" uri="$3" headers="${4:-}"
  command -v nginx >/dev/null || die "nginx is not installed"
  local dir="$BENCH_TMP/nginx-$port"
  mkdir -p "$dir/www" "$dir/tmp"
  chmod 755 "$dir" "$dir/www"
  cp "$body" "$dir/www/body.json"
  chmod 644 "$dir/www/body.json"
  local add_headers=""
  if [ -n "$headers" ] && [ -f "$headers" ]; then
    local name value
    while IFS= read -r line; do
      name="${line%%:*}"; value="${line#*: }"
      [ -n "$name" ] && add_headers+="      add_header $name \"${value//\"/\\\"}\" always;"$'\n'
    done <"$headers"
  fi
  cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes ${NGINX_WORKERS:-$(nproc)};
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  types { }
  default_type application/json;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 65;
  server_tokens off;
  server {
    listen 127.0.0.1:$port;
    location = $uri {
$add_headers      alias $dir/www/body.json;
    }
  }
}
EOF
  local t0; t0=$(now_ms)
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  bench_track_pid "$NGINX_PID"
  NGINX_URL="http://127.0.0.1:$port$uri"
  wait_http_200 "$NGINX_URL" "$t0" 30 "$NGINX_PID" >/dev/null \
    || { cat "$dir/error.log" "$dir/stdout.log" >&2; die "nginx did not start"; }
}

nginx_stop() {
  [ -n "${NGINX_PID:-}" ] || return 0
  stop_pid "$NGINX_PID"   # TERM on the master: fast shutdown, it takes its workers down
  NGINX_PID=""
}

# --- wrk -----------------------------------------------------------------------------------------

# Convert a wrk latency ("812.00us", "3.36ms", "1.11s", "2.00m") to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v; u = v; sub(/[a-z]+$/, "", n); sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    else if (u != "ms") { print "NaN"; exit 1 }
    printf "%.3f\n", n }'
}

# wrk_run NAME URL THREADS CONNS DURATION [LUA_SCRIPT]  -> WRK_RPS, WRK_P99_MS, WRK_P50_MS, WRK_ERRORS, WRK_REQUESTS
# Raw output is kept in $BENCH_TMP/wrk-NAME.txt (and echoed to stderr when BENCH_VERBOSE is set).
# WRK_ERRORS counts socket errors plus non-2xx/3xx responses; any error is reported by the caller.
# WRK_NICE=N runs wrk at that niceness (default: same priority as the server), to see how much of
# the tail latency comes from wrk and the server competing for the same cores.
wrk_run() {
  local name="$1" url="$2" threads="$3" conns="$4" duration="$5" script="${6:-}"
  local out="$BENCH_TMP/wrk-$name.txt"
  ${WRK_NICE:+nice -n "$WRK_NICE"} wrk -t"$threads" -c"$conns" -d"$duration" --timeout 10s --latency \
    ${script:+-s "$script"} "$url" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk failed for $name"; }
  [ -n "${BENCH_VERBOSE:-}" ] && cat "$out" >&2
  WRK_RPS=$(awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$out")
  WRK_P99_MS=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  WRK_P50_MS=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  WRK_REQUESTS=$(awk '/requests in/ { print $1 }' "$out")
  WRK_ERRORS=$(awk '
    /Socket errors:/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { s += $NF }
    END { print s + 0 }' "$out")
  [ -n "$WRK_RPS" ] && [ -n "$WRK_P99_MS" ] || { cat "$out" >&2; die "could not parse wrk output for $name"; }
  log "$(printf '%-28s %9s req/s  p50 %8s ms  p99 %8s ms  errors %s' "$name" "$WRK_RPS" "$WRK_P50_MS" "$WRK_P99_MS" "$WRK_ERRORS")"
  if [ "$WRK_ERRORS" -gt 0 ]; then
    log "warning: $name had $WRK_ERRORS socket errors / non-2xx responses:"
    grep -E 'Socket errors|Non-2xx' "$out" >&2 || true
  fi
}

# --- results -------------------------------------------------------------------------------------

# record FILE BENCH BACKEND FIGURE VALUE UNIT
# One tab-separated line per figure: bench, backend, figure, value, unit, UTC time. A new value
# replaces the previous line with the same (bench, backend, figure), so FILE always holds the latest.
record() {
  local file="$1" bench="$2" backend="$3" figure="$4" value="$5" unit="$6"
  mkdir -p "$(dirname "$file")"
  touch "$file"
  local tmp="$file.tmp.$$"
  awk -F'\t' -v b="$bench" -v k="$backend" -v f="$figure" '!($1 == b && $2 == k && $3 == f)' "$file" >"$tmp"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$backend" "$figure" "$value" "$unit" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$tmp"
  mv "$tmp" "$file"
}

# lookup FILE BENCH BACKEND FIGURE -> value (empty if missing)
lookup() {
  awk -F'\t' -v b="$2" -v k="$3" -v f="$4" '$1 == b && $2 == k && $3 == f { v = $4 } END { print v }' "$1"
}

# hand_notes PAGE SCRIPT: the hand-written notes of a results page (from its "<!-- notes:" marker line
# to the end), to append when SCRIPT rewrites PAGE; the bare marker line when PAGE has none yet.
hand_notes() {
  local notes=""
  [ -f "$1" ] && notes=$(sed -n '/^<!-- notes:/,$p' "$1")
  [ -n "$notes" ] || notes="<!-- notes: everything below this line is written by hand and kept by $2 -->"
  printf '%s\n' "$notes"
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
