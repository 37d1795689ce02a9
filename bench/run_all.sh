#!/usr/bin/env bash
# Runs every ThangLong benchmark and rewrites docs/benchmarks.md from the figures of this run.
#
#   bench/run_all.sh                 # ~2.5 min on 2 cores (plus any wait for the machine to be idle)
#   bench/run_all.sh --render-only   # rewrite the page from bench/results/latest.* without measuring
#
# Environment settings are passed through to the benchmarks (see bench/http_read.sh). The figures
# also go to bench/results/latest.tsv (one tab-separated line per figure) and the full log of the
# run to bench/results/latest.log.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
OUT_DOC="${OUT_DOC:-$REPO/docs/benchmarks.md}"
RES_DIR="$REPO/bench/results"
mkdir -p "$RES_DIR" "$(dirname "$OUT_DOC")"

RUN_TMP="$(mktemp -d /tmp/thanglong-runall.XXXXXX)"
trap 'rm -rf "$RUN_TMP"' EXIT
RESULTS="$RUN_TMP/results.tsv"
LOG="$RUN_TMP/run.log"

COMMAND="bench/run_all.sh"
START_UTC="$(date -u '+%Y-%m-%d %H:%M UTC')"
T0=$(date +%s)

if [ "${1:-}" = "--render-only" ]; then
  # Rewrite the page from the last run's figures (bench/results/latest.*) without measuring again.
  cp "$RES_DIR/latest.tsv" "$RESULTS"; cp "$RES_DIR/latest.log" "$LOG"
  START_UTC=$(awk '/^# started / { sub(/^# started /, ""); print }' "$LOG")
  ELAPSED=$(awk '/^# elapsed / { print $3 }' "$LOG")
else
  export RESULTS
  BIN="${THANGLONG_BIN:-$REPO/build/src/app/thanglong}"
  { echo "# started $START_UTC"; echo "# command $COMMAND"
    echo "# binary $BIN, modified $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo unknown)"; } >"$LOG"
  bench/http_read.sh 2>&1 | tee -a "$LOG"
  ELAPSED=$(( $(date +%s) - T0 ))
  echo "# elapsed $ELAPSED s" >>"$LOG"
  cp "$LOG" "$RES_DIR/latest.log"
  # Keep figures of other benchmarks already in latest.tsv; replace this run's.
  touch "$RES_DIR/latest.tsv"
  { awk -F'\t' 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$RESULTS" "$RES_DIR/latest.tsv"; cat "$RESULTS"; } \
    >"$RUN_TMP/merged.tsv"
  mv "$RUN_TMP/merged.tsv" "$RES_DIR/latest.tsv"
fi

# --- render docs/benchmarks.md -------------------------------------------------------------------
source bench/lib.sh   # for lookup(); defines functions only
get() { lookup "$RESULTS" http_read "$1" "$2"; }
# check VALUE OP LIMIT -> "met" / "**not met**" ("n/a" when the figure is missing)
check() {
  [ -n "$1" ] || { echo "n/a"; return; }
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print ok ? "met" : "**not met**" }'
}
fmt_int() { if [ -n "$1" ]; then echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; else echo n/a; fi; }

BACKENDS_RUN=$(cut -f2 "$RESULTS" | awk '!seen[$0]++' | tr '\n' ' ')
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
KERNEL=$(uname -r)
OS=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || echo unknown)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$( [ -n "$(git status --porcelain -- src 2>/dev/null)" ] && echo " (with uncommitted changes in src/)" || true)
BIN_INFO=$(awk '/^# binary / { sub(/^# binary /, ""); print; exit }' "$LOG")
TL_VERSION=$(awk '/server binary:/ { sub(/.*\(/, ""); sub(/\); results.*/, ""); print; exit }' "$LOG")
WRK_VERSION=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $2 }')
NGINX_VERSION=$(nginx -v 2>&1 | sed 's/.*nginx\///')
PG_VERSION=$(/usr/lib/postgresql/15/bin/postgres --version 2>/dev/null | awk '{ print $3 }')
SQLITE_VERSION=$(sqlite3 --version 2>/dev/null | awk '{ print $1 }')
THREADS="${THREADS:-2}"; CONNS="${CONNS:-64}"; DURATION="${DURATION:-10s}"

MAX_BG=$(awk -F'\t' '$3 == "background_busy_pct" && $4 + 0 > m { m = $4 + 0 } END { print m + 0 }' "$RESULTS")
BANNER=""
if [ "$MAX_BG" -ge "${QUIET_PCT:-10}" ]; then
  BANNER="> **Caution: other work was using up to $MAX_BG % of the CPU during this run** (a build or a test
> suite, not part of the benchmark), so the figures below understate the server and are noisy.
> Rerun \`bench/run_all.sh\` on an idle machine before drawing conclusions from them.
"
fi

{
cat <<EOF
# Benchmarks

$BANNER
Figures of the last run of \`$COMMAND\`: $START_UTC, $ELAPSED s in all. Regenerate this page with
that command (see [How to reproduce](#how-to-reproduce)); every figure below comes from that one run,
on one machine. Machine-readable figures: \`bench/results/latest.tsv\`; full log: \`bench/results/latest.log\`.

## Machine

| | |
|---|---|
| CPU | $(nproc) cores, $CPU_MODEL |
| Memory | $MEM_GIB GiB |
| OS | $OS, Linux $KERNEL |
| Server | \`$TL_VERSION\` (\`${BIN_INFO:-unknown}\`; tree at commit $GIT_REV$GIT_DIRTY), default workers (one per core but one, at least 2) |
| Tools | wrk $WRK_VERSION, nginx $NGINX_VERSION, PostgreSQL $PG_VERSION, SQLite $SQLITE_VERSION |
| Load generator | wrk on the same machine: \`wrk -t$THREADS -c$CONNS -d$DURATION --latency\`; single search \`wrk -t1 -c1 -d$DURATION --latency\` |

EOF

for b in $BACKENDS_RUN; do
  rr=$(get "$b" read_rps); rp=$(get "$b" read_p99_ms); nr=$(get "$b" nginx_rps); np=$(get "$b" nginx_p99_ms)
  ratio=$(get "$b" read_ratio); sp=$(get "$b" search_p99_ms); sr=$(get "$b" search_rps); s50=$(get "$b" search_p50_ms)
  s1=$(get "$b" search_c1_p99_ms); s1r=$(get "$b" search_c1_rps); st=$(get "$b" startup_ms); stmax=$(get "$b" startup_max_ms)
  rss=$(get "$b" idle_rss_mib); frss=$(get "$b" fresh_rss_mib); first=$(get "$b" first_start_ms)
  busy=$(get "$b" background_busy_pct); probs=$(get "$b" server_log_problems)
  rerr=$(get "$b" read_errors); serr=$(get "$b" search_errors)
  rb=$(get "$b" read_body_bytes); sb=$(get "$b" search_body_bytes)
  case "$b" in
    sqlite) title="Embedded SQLite store" ;;
    postgres) title="PostgreSQL $PG_VERSION (throwaway cluster on the same machine, fsync on)" ;;
    *) title="$b" ;;
  esac
  cat <<EOF
## $title

| Figure | Measured | Floor | |
|---|---:|---:|---|
| ThangLong \`GET /api/v1/procedures/1.001193\` ($rb B body), req/s at $CONNS connections | $(fmt_int "$rr") | | |
| ThangLong same request, p99 at $CONNS connections | $rp ms | ≤ 5 ms | $(check "$rp" "<=" 5) |
| nginx, same body and headers from a static file, req/s at $CONNS connections | $(fmt_int "$nr") | | |
| nginx, p99 at $CONNS connections | $np ms | | |
| Ratio ThangLong / nginx (req/s) | $ratio | ≥ 0.5 | $(check "$ratio" ">=" 0.5) |
| Catalogue search \`?q=dang+ky+khai+sinh\` ($sb B), p99 at $CONNS connections ($(fmt_int "$sr") req/s, p50 $s50 ms) | $sp ms | ≤ 5 ms | $(check "$sp" "<=" 5) |
| Catalogue search, p99 of a single search (1 connection, $(fmt_int "$s1r") req/s) | $s1 ms | ≤ 5 ms | $(check "$s1" "<=" 5) |
| Start-up to ready on an existing store (median of ${STARTUP_RUNS:-5}; max $stmax ms) | $st ms | ≤ 1,000 ms | $(check "$st" "<=" 1000) |
| Idle RSS after the load (VmRSS) | $rss MiB | ≤ 100 MiB | $(check "$rss" "<=" 100) |

Also measured: first start on an empty store (imports 34 provinces, 3,321 communes, 1,601 procedures)
$(fmt_int "$first") ms; RSS right after a restart $frss MiB; wrk socket errors or non-2xx answers: $rerr (read),
$serr (search); server log lines at warn level or above: $probs; other work on the machine before
the measurements: at most $busy % of the CPU (the script waits for < 10 %).

EOF
  # Plain-arithmetic notes on the floors this run missed.
  notes=""
  if [ "$(check "$sp" "<=" 5)" != met ] && [ -n "$sr" ]; then
    need=$(awk -v c="$CONNS" 'BEGIN { printf "%.0f", c / 0.005 }')
    mean=$(awk -v c="$CONNS" -v r="$sr" 'BEGIN { printf "%.1f", 1000 * c / r }')
    notes+="- Search at $CONNS connections: with $CONNS requests always in flight, the mean latency is $CONNS / throughput"
    notes+=" = $mean ms (Little's law), so p99 ≤ 5 ms at $CONNS connections needs at least $(fmt_int "$need") searches/s"
    notes+=" on this machine; it served $(fmt_int "$sr"). The single-search p99 ($s1 ms) is the service time of one search."$'\n'
  fi
  if [ "$(check "$rp" "<=" 5)" != met ] && [ -n "$rr" ]; then
    mean=$(awk -v c="$CONNS" -v r="$rr" 'BEGIN { printf "%.1f", 1000 * c / r }')
    notes+="- Read p99 at $CONNS connections: mean latency is $CONNS / $(fmt_int "$rr") req/s = $mean ms."$'\n'
  fi
  if [ "$(check "$ratio" ">=" 0.5)" != met ] && [ -n "$rr" ]; then
    notes+="- Read ratio: ThangLong served $(fmt_int "$rr") req/s against nginx's $(fmt_int "$nr") from the same body."$'\n'
  fi
  if [ -n "$notes" ]; then printf 'Floors missed in this run:\n\n%s\n' "$notes"; fi
done

cat <<EOF
## Method

- **Same run, same machine.** For each backend the script starts ThangLong on a fresh temporary
  store (and, for PostgreSQL, a throwaway cluster initialised for the run: data directory and unix
  socket in a temp dir, TCP on 127.0.0.1 on a free port, \`fsync=on\`, run as the unprivileged
  \`postgres\` user), waits for \`/readyz\`, then measures in this order: procedure by code;
  nginx serving the same bytes; search at $CONNS connections; a single search; idle RSS; start-up.
  Everything listens on 127.0.0.1 only.
- **wrk and the server share the $(nproc) cores.** wrk runs on the same machine with
  \`-t$THREADS -c$CONNS\` (one connection and \`-t1\` for the single search), so the load generator
  takes CPU the server could otherwise use, for ThangLong and nginx alike; with PostgreSQL, the
  database takes its share too. Absolute figures are therefore lower than on a dedicated server;
  the ratio to nginx is the comparable figure.
- **Server settings.** \`thanglong serve --no-demo --log-level warn\` with
  \`THANGLONG_ACCESS_LOG=false\`, default worker count (one per core but one, at least 2). Each wrk measurement of
  $DURATION follows an unmeasured warm-up of ${WARMUP:-2s}.
- **nginx baseline.** nginx $NGINX_VERSION with \`worker_processes $(nproc)\`, access log off, keep-alive,
  serving the body ThangLong returned for \`1.001193\` (fetched in the same run, checked byte for byte)
  from a static file with \`default_type application/json\` and ThangLong's fixed response headers
  (security headers, \`Cache-Control\`), so both put about the same bytes on the wire.
- **Latency** is wrk's p99 (\`--latency\`, the "99%" line), converted to ms.
- **Start-up to ready**: stop the server (SIGTERM), start it again on the same store, and time from
  the fork to the first \`200\` from \`GET /readyz\` (polled every 10 ms with curl, so the figure
  includes up to ~15 ms of polling); five times, median reported.
- **Idle RSS**: \`VmRSS\` of the server process from \`/proc/PID/status\`, 3 s after the last load.
- **Other work on the machine.** Before each measurement the script samples \`/proc/stat\` for 2 s and
  waits until the CPU is less than 10 % busy (at most 60 s per measurement, 2 min per run, so a
  run stays bounded); the highest reading is reported above. Figures taken while something else
  ran (a build, a test suite) are low and noisy.
- **Tail latency and the shared cores.** At equal priority, wrk and the server preempt each other;
  the p99 of a CPU-bound request at $CONNS connections (the search) is very sensitive to this.
  \`WRK_NICE=19 bench/run_all.sh\` runs wrk at the lowest priority to show how much of the tail is
  that competition. This run: $( [ -n "${WRK_NICE:-}" ] && echo "wrk at niceness $WRK_NICE" || echo "wrk and server at equal priority").

## How to reproduce

\`\`\`sh
cmake --preset release && cmake --build build --target thanglong   # or use an existing build
THANGLONG_BIN=/path/to/thanglong bench/run_all.sh               # default: build/src/app/thanglong
\`\`\`

Needs \`wrk\`, \`nginx\` (nginx-light is enough), PostgreSQL 15 server binaries in
\`/usr/lib/postgresql/15/bin\`, \`curl\` and \`runuser\` (when run as root: PostgreSQL runs as
\`postgres\`). One backend only: \`BACKENDS=sqlite bench/http_read.sh\`. Shorter runs:
\`DURATION=5s STARTUP_RUNS=3 bench/http_read.sh\`. Every process and temp dir the scripts start is
cleaned up on exit, including on Ctrl-C.

## The one-stop shop

Lifecycle throughput (\`bench/lifecycle.sh\`) and a simulated year at scale (\`bench/scale.sh\`: bulk
load of 4 million dossiers, the service index over the year, public look-ups beside nginx, RSS) are
in [benchmarks-one-stop-shop.md](benchmarks-one-stop-shop.md). The population registry's (\`bench/registry.sh\`: loading
10 million people, officials' look-ups with their access-log entries, on SQLite and PostgreSQL) are in
[benchmarks-registry.md](benchmarks-registry.md).

SQLite's commit with its default page cache against the tracked one (\`storage/sqlite/page_cache.h\`):
\`build/bench/page_cache_bench DIR [MIB]\`, alternating child processes in one run; figures in the
notes of [benchmarks-one-stop-shop.md](benchmarks-one-stop-shop.md) (2026-11-25).

## The operations center

Telemetry history (\`bench/telemetry.sh\`: ingestion through \`TelemetryStore::AppendBatch\` beside raw
SQLite rows, bytes on disk per measurement, aggregation of 1,000 sensors × 30 days at 1-hour periods,
on SQLite and PostgreSQL) is in [benchmarks-telemetry.md](benchmarks-telemetry.md). The chunk codec on
its own: \`build/src/modules/telemetry/telemetry_codec_bench [PM25_CSV]\` (bytes per sample and
encode/decode rates per kind of series).

The NGSI-LD broker (\`bench/ngsild.sh\`: loading 100,000 entities, batch upserts through the HTTP API,
GET by id beside nginx, geo-query near, notifications to a local webhook that restarts mid-run, on
SQLite and PostgreSQL) is in [benchmarks-ngsild.md](benchmarks-ngsild.md).

MQTT end to end (\`bench/mqtt.sh\`: 10,000 flood gauges publishing compact measurements through a real
Mosquitto broker at 5,000 and 10,000 messages/s, every 100th a spike that raises an alert; per spike
the broker's own delivery latency as the baseline, publish → entity notification and publish →
\`Alert\` entity notification, and the server's CPU per message, on SQLite and PostgreSQL) is in
[benchmarks-mqtt.md](benchmarks-mqtt.md).
EOF
} >"$OUT_DOC"

echo "wrote $OUT_DOC and $RES_DIR/latest.tsv (run took ${ELAPSED}s)"
