#!/usr/bin/env bash
# One-stop shop lifecycle throughput through the HTTP API (64 clients carrying dossiers through
# submit -> receive -> assign -> propose -> approve -> issue-result -> return, every write durable),
# beside the storage engine's own ceiling (single-row durable transactions per second) measured in
# the same run, on SQLite and on PostgreSQL. Writes docs/benchmarks-one-stop-shop.md.
#   bench/lifecycle.sh            (SECONDS_PER_RUN=20 CLIENTS=64 BACKENDS="sqlite postgres")
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init
LB="${LIFECYCLE_BENCH:-$REPO_DIR/build/bench/lifecycle_bench}"
[ -x "$LB" ] || die "no $LB: run scripts/build.sh"
SECS="${SECONDS_PER_RUN:-20}"
CLIENTS="${CLIENTS:-64}"
OUT="$REPO_DIR/bench/results/lifecycle.tsv"
: > "$OUT"
value() { awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$2"; }

for backend in ${BACKENDS:-sqlite postgres}; do
  wait_quiet "lifecycle $backend" || true
  free_port; port=$FREE_PORT
  extra=()
  if [ "$backend" = sqlite ]; then
    "$LB" sqlite-ceiling --file "$BENCH_TMP/ceiling.db" --seconds 5 > "$BENCH_TMP/ceiling.txt"
    ceiling=$(value sqlite_durable_tx_per_s "$BENCH_TMP/ceiling.txt")
  else
    pg_start
    pg_as_user "$PG_BIN/psql" -q -h "$PG_DIR" -p "$PG_PORT" -U postgres thanglong \
      -c "CREATE TABLE ceiling (id bigserial primary key, v text)" >/dev/null
    echo "INSERT INTO ceiling (v) VALUES ('a dossier transition');" > "$BENCH_TMP/ceiling.sql"
    chmod 644 "$BENCH_TMP/ceiling.sql"
    ceiling=$(pg_as_user "$PG_BIN/pgbench" -n -c 1 -T 5 -h "$PG_DIR" -p "$PG_PORT" -U postgres \
      -f "$BENCH_TMP/ceiling.sql" thanglong 2>/dev/null | awk '/^tps/ { printf "%.1f", $3 }')
    extra=(--database "$PG_URL")
  fi
  THANGLONG_ACCESS_LOG=false THANGLONG_PASSWORD_COST=minimum "$TL" serve --data-dir "$BENCH_TMP/var-$backend" \
    --listen "127.0.0.1:$port" --log-level warn "${extra[@]}" > "$BENCH_TMP/serve-$backend.log" 2>&1 &
  pid=$!; bench_track_pid "$pid"
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  log "lifecycle on $backend: $CLIENTS clients for $SECS s"
  "$LB" http --port "$port" --clients "$CLIENTS" --seconds "$SECS" > "$BENCH_TMP/life-$backend.txt" || true
  rss=$(rss_mib "$pid")
  stop_pid "$pid"
  [ "$backend" = postgres ] && pg_stop
  dps=$(value lifecycle_dossiers_per_s "$BENCH_TMP/life-$backend.txt")
  rps=$(value lifecycle_requests_per_s "$BENCH_TMP/life-$backend.txt")
  p99=$(value lifecycle_request_p99_ms "$BENCH_TMP/life-$backend.txt")
  p50=$(value lifecycle_request_p50_ms "$BENCH_TMP/life-$backend.txt")
  errs=$(value lifecycle_errors "$BENCH_TMP/life-$backend.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$dps" "$rps" "$p50" "$p99" "$errs" "$ceiling" "$rss" >> "$OUT"
  log "$backend: $dps dossiers/s ($rps writes/s, p50 $p50 ms, p99 $p99 ms, errors $errs); ceiling $ceiling tx/s; RSS $rss MiB"
done

# The measured part of the page, between its markers; the notes around it are written by hand and kept.
doc="$REPO_DIR/docs/benchmarks-one-stop-shop.md"
section=$(
  echo "<!-- lifecycle:begin -->"
  echo "Last run of \`bench/lifecycle.sh\`: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))."
  echo "$CLIENTS clients on keep-alive connections carry dossiers of procedure 1.001193 (birth registration, Phường"
  echo "Ba Đình) through submit → receive → assign → propose → approve → issue-result → return: 7 writes each, every"
  echo "one a durable commit, plus the authentication and the dossier answer of each request. The load"
  echo "generator (\`build/bench/lifecycle_bench\`: the connections driven by one thread with epoll, as wrk"
  echo "does, about a tenth of a core) runs on the same $(nproc) cores as the server."
  echo
  echo "| backend | complete dossiers/s | writes/s | p50 | p99 | errors | engine ceiling: single-row durable tx/s (same run) | server RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r b dps rps p50 p99 errs ceil rss; do
    echo "| $b | $dps | $rps | $p50 ms | $p99 ms | $errs | $ceil | $rss MiB |"
  done < "$OUT"
  echo
  echo "Floor (issue 3): 2,000 complete dossiers/s on the embedded store."
  echo "<!-- lifecycle:end -->"
)
if [ -f "$doc" ] && grep -q '<!-- lifecycle:begin -->' "$doc"; then
  awk -v s="$section" 'BEGIN { skip = 0 } /<!-- lifecycle:begin -->/ { print s; skip = 1; next } /<!-- lifecycle:end -->/ { skip = 0; next } !skip' "$doc" > "$doc.new"
  mv "$doc.new" "$doc"
else
  { echo "# One-stop shop benchmarks"; echo; echo "$section"; [ -f "$doc" ] && tail -n +2 "$doc"; } > "$doc.new"
  mv "$doc.new" "$doc"
fi
log "wrote docs/benchmarks-one-stop-shop.md"
