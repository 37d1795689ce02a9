#!/usr/bin/env bash
# Telemetry history (issue 5 §3, floors of §8), on the embedded SQLite store and on PostgreSQL:
#   1. ingestion through TelemetryStore::AppendBatch: 10,000 simulator-like series (street-light power,
#      traffic speed and intensity, PM2.5 and NO2, parking, river level), each reporting once a minute,
#      one day, batches of 10,000 measurements, every batch durable before the next (one thread; then
#      again from 2 threads into a fresh store);
#   2. bytes on disk per measurement after that (SQLite: the database file once closed; PostgreSQL:
#      pg_total_relation_size of the telemetry tables, before and after a plain VACUUM);
#   3. aggregation of 1,000 sensors × 30 days (one sample a minute: 43.2 million) into 1-hour periods.
# Each beside raw SQLite in the same run: the same samples as plain (series, t, v) rows inserted in one
# transaction with a prepared statement, the file that makes, and the same aggregation as one GROUP BY.
# The program is build/bench/telemetry_bench (bench/telemetry_bench.cc); extra arguments go to it.
# Writes bench/results/telemetry.tsv and docs/benchmarks-telemetry.md.
#
#   bench/telemetry.sh                        # about 10 minutes on 2 cores
#   PG=0 bench/telemetry.sh                   # SQLite only
#   bench/telemetry.sh --ticks 360 --agg-days 7   # smaller
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BENCH_TMP="$(mktemp -d /tmp/thanglong-bench.XXXXXX)"
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
PG="${PG:-1}"
OUT="$BENCH_DIR/results/telemetry.tsv"
TB="${TELEMETRY_BENCH:-$REPO_DIR/build/bench/telemetry_bench}"
[ -x "$TB" ] || die "no $TB: run scripts/build.sh (or set TELEMETRY_BENCH)"
cp "$TB" "$BENCH_TMP/telemetry_bench"  # a rebuild during the run cannot change it

if [ "$PG" != 0 ]; then
  pg_start
  export THANGLONG_BENCH_POSTGRES_URL="$PG_URL"
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') on $PG_URL (fsync on)"
fi
wait_quiet "telemetry" || true
busy_before=$BUSY_PCT
log "running telemetry_bench $* (this takes a while: 14.4 + 43.2 million measurements per backend)"
t0=$(now_ms)
"$BENCH_TMP/telemetry_bench" --dir "$BENCH_TMP/data" "$@" > "$BENCH_TMP/figures.tsv" 2> "$BENCH_TMP/bench.log" \
  || { tail -20 "$BENCH_TMP/bench.log" >&2; die "telemetry_bench failed"; }
elapsed_s=$(( ($(now_ms) - t0) / 1000 ))
cat "$BENCH_TMP/figures.tsv" >&2

get() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$BENCH_TMP/figures.tsv"; }
while IFS=$'\t' read -r name value unit; do
  case "$name" in
    sqlite.*) record "$OUT" telemetry sqlite "${name#sqlite.}" "$value" "$unit" ;;
    postgres.*) record "$OUT" telemetry postgres "${name#postgres.}" "$value" "$unit" ;;
    raw_sqlite.*) record "$OUT" telemetry raw_sqlite "${name#raw_sqlite.}" "$value" "$unit" ;;
    *) record "$OUT" telemetry setup "$name" "$value" "$unit" ;;
  esac
done < "$BENCH_TMP/figures.tsv"

int() { awk -v v="$1" 'BEGIN { if (v == "") print "–"; else printf "%.0f", v }'; }
dec() { awk -v v="$1" -v d="${2:-2}" 'BEGIN { if (v == "") print "–"; else printf "%.*f", d, v }'; }
met() {
  [ -n "$1" ] || { echo "–"; return; }
  awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == "le") ? (a <= b) : (a >= b); print ok ? "met" : "**not met**" }'
}
pg() { [ "$PG" != 0 ] && echo "$1" || echo "not run"; }

s_rate=$(get sqlite.append_rate); p_rate=$(get postgres.append_rate)
s_rate_m=$(get sqlite.append_and_maintain_rate); p_rate_m=$(get postgres.append_and_maintain_rate)
s_rate2=$(get sqlite.append_rate_2_threads); p_rate2=$(get postgres.append_rate_2_threads)
s_bytes=$(get sqlite.bytes_per_measurement); s_live=$(get sqlite.live_bytes_per_measurement)
p_bytes=$(get postgres.bytes_per_measurement); p_vac=$(get postgres.bytes_per_measurement_after_vacuum)
s_agg=$(get sqlite.aggregate.median_ms); s_agg1=$(get sqlite.aggregate.first_ms)
p_agg=$(get postgres.aggregate.median_ms); p_agg1=$(get postgres.aggregate.first_ms)
raw_rate=$(get raw_sqlite.insert_rate); raw_bytes=$(get raw_sqlite.bytes_per_row)
raw_agg=$(get raw_sqlite.aggregate.group_by_ms)
measurements=$(get sqlite.measurements); [ -n "$measurements" ] || measurements=$(get postgres.measurements)
agg_samples=$(get sqlite.aggregate.samples); [ -n "$agg_samples" ] || agg_samples=$(get postgres.aggregate.samples)

cat > "$REPO_DIR/docs/benchmarks-telemetry.md" <<EOF
# Telemetry history benchmarks

Last run of \`bench/telemetry.sh${*:+ $*}\`: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), ${elapsed_s} s; the machine was ${busy_before}% busy with other work just before it started.
$(int "$(get series)") series × $(int "$(get ticks)") minutes ($(int "$measurements") measurements) for ingestion and bytes; $(int "$(get aggregate.sensors)") sensors × $(int "$(get aggregate.days)") days, one sample every $(int "$(get aggregate.interval)") s ($(int "$agg_samples") measurements), for the aggregation.
Every batch is durable when AppendBatch returns (SQLite: WAL, flushed before the acknowledgement; PostgreSQL: fsync on, synchronous_commit on). See [telemetry.md](telemetry.md) for the layout.

| figure | SQLite store | PostgreSQL store | raw SQLite, same run | floor (issue 5 §8) | |
|---|---:|---:|---:|---|---|
| ingestion through AppendBatch, batches of $(int "$(get batch)"), one thread (measurements/s) | $(int "$s_rate") | $(pg "$(int "$p_rate")") | $(int "$raw_rate") rows/s (plain rows, one transaction) | ≥ 500,000/s | $(met "$s_rate" 500000 ge) / $(pg "$(met "$p_rate" 500000 ge)") |
| the same with the Maintain() after it (fold, seal, 1-hour rollups) | $(int "$s_rate_m") | $(pg "$(int "$p_rate_m")") | | | |
| ingestion from 2 threads (wall time, generating values included) | $(int "$s_rate2") | $(pg "$(int "$p_rate2")") | | | |
| bytes on disk per measurement | $(dec "$s_bytes") (file; $(dec "$s_live") in pages in use) | $(pg "$(dec "$p_bytes") ($(dec "$p_vac") after VACUUM)") | $(dec "$raw_bytes") | ≤ 4 | $(met "$s_bytes" 4 le) / $(pg "$(met "$p_bytes" 4 le) before, $(met "$p_vac" 4 le) after VACUUM") |
| aggregation of $(int "$(get aggregate.sensors)") sensors × $(int "$(get aggregate.days)") days into 1-hour periods (ms, median of 5; first run) | $(dec "$s_agg" 1) ($(dec "$s_agg1" 1)) | $(pg "$(dec "$p_agg" 1) ($(dec "$p_agg1" 1))") | $(dec "$raw_agg" 0) (GROUP BY over the plain rows) | ≤ 200 ms | $(met "$s_agg" 200 le) / $(pg "$(met "$p_agg" 200 le)") |

Notes:
- Bytes include everything the store keeps for those measurements: the series catalogue, sealed chunks
  and their summary columns and indexes, the open heads, the 1-hour rollups, and (SQLite) free pages the
  folded log left in the file. The series catalogue and the open heads cost a few hundred bytes per
  series whatever its length, so the figure falls as the history gets longer. On PostgreSQL, rows the fold deletes
  or rewrites (log, pending rollups, heads) stay as dead tuples until (auto)vacuum; both figures are given.
- 1-minute rollups are made when raw chunks expire (30 days by default), so they are not in these
  figures; until then the raw chunks answer minute-aligned queries.
- The aggregation answers from 1-hour rollup rows plus the open heads, decoded (a query returns
  $(int "$(get sqlite.aggregate.periods)") periods with count, sum, min, max; avg and stddev follow).
  The raw SQLite GROUP BY reads every sample.
- telemetry_bench is linked with mimalloc, as the server binary is.

Figures: bench/results/telemetry.tsv. Reproduce: \`scripts/build.sh && bench/telemetry.sh\` (PG=0 for SQLite only).
EOF
log "wrote docs/benchmarks-telemetry.md"
