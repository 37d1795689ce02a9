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

{
  echo "# One-stop shop benchmarks"
  echo
  echo "Last run of \`bench/lifecycle.sh\`: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))."
  echo "$CLIENTS clients on keep-alive connections carry dossiers of procedure 1.001193 (birth registration, Phường"
  echo "Ba Đình) through submit → receive → assign → propose → approve → issue-result → return: 7 writes each, every"
  echo "one a durable commit, plus the authentication and the dossier read-back of each request. The load"
  echo "generator (\`build/bench/lifecycle_bench\`: the 64 connections driven by one thread with epoll, as wrk"
  echo "does, about a tenth of a core) runs on the same 2 cores as the server."
  echo
  echo "| backend | complete dossiers/s | writes/s | p50 | p99 | errors | engine ceiling: single-row durable tx/s (same run) | server RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r b dps rps p50 p99 errs ceil rss; do
    echo "| $b | $dps | $rps | $p50 ms | $p99 ms | $errs | $ceil | $rss MiB |"
  done < "$OUT"
  echo
  echo "Floor (issue 3): 2,000 complete dossiers/s on the embedded store. **Not met** yet; see the notes below."
  echo
  echo "Notes:"
  echo "- The engine ceiling is one writer committing one single-row transaction at a time. A dossier write is"
  echo "  about eight statements (dossier, timeline, notification, audit chain) and concurrent writes share one"
  echo "  transaction and one fsync (group commit, each write in its own savepoint). Since 2026-11-23 the"
  echo "  fsync happens behind the writer: a syncer thread flushes the WAL and acknowledges the batches it"
  echo "  covers while the writer runs the next batch (before, the writer sat out every flush). With that"
  echo "  and the writer's larger page cache, SQLite went from 497.5 to 613.3 dossiers/s in this script's"
  echo "  runs (02:39 and 05:34 UTC); alternating 15 s runs of the two binaries gave 499/511 against 526/562."
  echo "- Where the time goes (SQLite, measured 2026-11-22 07:40 UTC with the group commit and every"
  echo "  statement timed): the single writer runs about **200 µs of SQL per write** and a COMMIT (fsync) of"
  echo "  1.2-1.9 ms per batch of ~16 writes, and is busy ~76% of the wall time. Per write: UPDATE dossiers"
  echo "  47 µs (8 indexes), two reads of the dossier row 2×14 µs, audit chain head 18 µs, notification"
  echo "  16 µs, timeline read-back 16 µs, audit row 14 µs, timeline row 13 µs, savepoint release 7 µs,"
  echo "  attachments 6 µs, next event number 6 µs; INSERT INTO dossiers 56 µs per submission. Parsing"
  echo "  BEGIN/SAVEPOINT/RELEASE/COMMIT took another ~20 µs per write until they were prepared once (done)."
  echo "- Budget: 2,000 dossiers/s is 14,000 durable writes/s. At ~200 µs of serial SQL per write one writer"
  echo "  tops out near 5,000 writes/s even with a free fsync, and the HTTP side (parsing, token check, JSON,"
  echo "  ~70 µs of CPU per request) needs a whole core for 14,000 requests/s on a machine that also runs the"
  echo "  load generator. Reaching the floor needs a different write path: fewer indexes and statements per"
  echo "  write (one row per transition, timeline and audit folded together), a per-batch audit chain"
  echo "  update, and several writers (dossiers sharded over files by agency). That is a redesign, not a"
  echo "  tweak, and is left for a later change."
  echo "- 2026-11-23, later: three changes took a share of the shared cores off each request: the load"
  echo "  generator (64 blocking threads each parsing every answer took a third of a core; one epoll thread"
  echo "  reading only the version now takes a tenth), the principal cache (the token's read was ~12% of the"
  echo "  request threads' CPU; docs/architecture.md) and the form check (valijson compiled a regular"
  echo "  expression for every date on every submission). 15 s runs went from ~500-570 to ~700-760 dossiers/s."
  echo "  What bounds it now is not one saturated part: the server and generator leave ~27% of the two cores"
  echo "  idle, the writer is busy ~58% of the time, and 32 or 128 request threads give the same rate. Each"
  echo "  dossier write makes the server write ~28 KB (/proc/PID/io write_bytes over a run: whole 4 KiB pages"
  echo "  in the WAL for every index and table page it touches, then again when they are checkpointed), and"
  echo "  the WAL flush that every answer waits for grows with it (2.9 ms at 64 clients, 4.8 ms with 128"
  echo "  request threads); writing only the columns an action changes (so fewer index entries move) did not"
  echo "  change the bytes. Fewer pages per write is the lever: fewer indexes on \`dossiers\`, timeline and"
  echo "  audit rows folded into one, a smaller page size for the hot tables."
  echo "- PostgreSQL (2026-11-23): every audited write used to move the audit chain's head row inside its"
  echo "  transaction, and the unit's daily-counts row and the agency's dossier-number row early in it. All"
  echo "  three stay locked until the commit, so nearly every session waited on them (pg_stat_activity:"
  echo "  \`Lock:transactionid\`), at 62-68 dossiers/s. Now the audit entries are chained off the writers' path"
  echo "  (\`audit_pending\`, see docs/architecture.md), the daily counts are the last statement, and a"
  echo "  submission takes its number in a short transaction of its own. No session waits on a lock any more;"
  echo "  the machine's two cores are busy (server, PostgreSQL backends and the load generator)."
  echo
  echo "Reproduce: \`scripts/build.sh && bench/lifecycle.sh\` (SECONDS_PER_RUN, CLIENTS and BACKENDS may be set)."
  # bench/scale.sh's section, kept across runs of this script.
  if [ -f "$REPO_DIR/docs/benchmarks-one-stop-shop.md" ]; then
    echo
    sed -n '/<!-- scale:begin -->/,/<!-- scale:end -->/p' "$REPO_DIR/docs/benchmarks-one-stop-shop.md"
  fi
} > "$BENCH_TMP/benchmarks-one-stop-shop.md"
mv "$BENCH_TMP/benchmarks-one-stop-shop.md" "$REPO_DIR/docs/benchmarks-one-stop-shop.md"
log "wrote docs/benchmarks-one-stop-shop.md"
