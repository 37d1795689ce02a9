#!/usr/bin/env bash
# MQTT end to end (issue 5 §8): devices publish → entity updated → alert raised, on the embedded SQLite
# store, then PostgreSQL beside it. For each backend: a private Mosquitto broker, `thanglong serve
# --mqtt`, an API key and a city administrator, then build/bench/mqtt_bench at each rate of RATES
# (messages/s, for DURATION seconds): 10,000 flood gauges publishing compact measurements (QoS 1),
# every 100th message a spike on a gauge of its own that the seeded rule raises as a critical alert.
# Per spike: the broker's own latency (a plain subscriber, the baseline of the same run), publish →
# entity notification, publish → Alert entity notification; and the server's CPU per message. The
# load generator and the broker share the machine's cores with the server.
# Writes bench/results/mqtt.tsv and docs/benchmarks-mqtt.md.
#
#   bench/mqtt.sh                                  # RATES="5000 10000" DURATION=10 BACKENDS="sqlite postgres"
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init
RATES="${RATES:-5000 10000}"
DURATION="${DURATION:-10}"
MB="${MQTT_BENCH:-$REPO_DIR/build/bench/mqtt_bench}"
[ -x "$MB" ] || die "no $MB: run scripts/build.sh (it is built with the tests)"
OUT="$BENCH_DIR/results/mqtt.tsv"
: > "$OUT"
value() { awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$2"; }
PASSWORD='Bench-pass-2026!'

for backend in ${BACKENDS:-sqlite postgres}; do
  for rate in $RATES; do
    # A fresh store and broker per run: the same starting point for every rate.
    extra=()
    if [ "$backend" = postgres ]; then pg_start; extra=(--database "$PG_URL"); fi
    broker_dir="$BENCH_TMP/mqtt-$backend-$rate"
    url=$("$REPO_DIR/scripts/mosquitto.sh" start "$broker_dir")
    free_port; port=$FREE_PORT
    store="$BENCH_TMP/store-$backend-$rate"
    tl_start "$store" "$port" --mqtt "$url" "${extra[@]}"
    key=$("$TL" keys create --data-dir "$store" "${extra[@]}" --name bench --agency VP01 \
            --scope ngsild.read --scope ngsild.write 2>/dev/null | tail -n1)
    [ -n "$key" ] || die "could not create an API key"
    echo "$PASSWORD" | "$TL" users create --data-dir "$store" "${extra[@]}" --username benchadmin \
      --role city_admin >/dev/null 2>&1 || die "could not create the bench administrator"
    token=$(curl -s "$TL_URL/api/v1/auth/login" -H 'Content-Type: application/json' \
      -d "{\"username\":\"benchadmin\",\"password\":\"$PASSWORD\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || die "could not log in as the bench administrator"

    wait_quiet "mqtt $backend $rate" || true
    log "$backend: $rate messages/s for $DURATION s"
    res="$BENCH_TMP/mqtt-$backend-$rate.txt"
    "$MB" --port "$port" --key "$key" --token "$token" --mqtt "$url" --rate "$rate" --seconds "$DURATION" \
      --server-pid "$TL_PID" > "$res" || log "warning: mqtt_bench reported lost samples or a server that did not drain"
    rss=$(rss_mib "$TL_PID")
    stop_pid "$TL_PID"
    "$REPO_DIR/scripts/mosquitto.sh" stop "$broker_dir" >/dev/null 2>&1 || true
    [ "$backend" = postgres ] && pg_stop
    row=("$backend" "$rate")
    for k in publish_rate_per_s server_applied_per_s server_drain_after_last_publish_ms server_cpu_us_per_message \
             spikes mqtt_p50_ms mqtt_p99_ms entity_p50_ms entity_p95_ms entity_p99_ms entity_lost \
             alert_p50_ms alert_p95_ms alert_p99_ms alert_lost; do
      row+=("$(value "$k" "$res")")
    done
    row+=("$rss")
    (IFS=$'\t'; echo "${row[*]}") >> "$OUT"
    log "$backend $rate/s: applied $(value server_applied_per_s "$res")/s, $(value server_cpu_us_per_message "$res") µs CPU/message; p99 mqtt $(value mqtt_p99_ms "$res") ms, entity $(value entity_p99_ms "$res") ms, alert $(value alert_p99_ms "$res") ms"
  done
done

{
  echo "# MQTT end to end"
  echo
  echo "Last run of \`bench/mqtt.sh\`: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores. Each run: a fresh store and"
  echo "Mosquitto broker, 10,000 registered flood gauges (FloodMonitoring, alert level 5 m) publishing compact"
  echo "measurements \`{\"t\", \"currentLevel\"}\` with QoS 1 to \`devices/<id>/measurements\`, paced every millisecond"
  echo "for $DURATION s; every 100th message is a 6 m spike on a gauge of its own, which the seeded rule"
  echo "\`flood-above-alert-level\` raises as a critical alert. Before the measured seconds every gauge, the spike"
  echo "gauges included, reports a normal level once and the server applies it all (a warm-up: history series"
  echo "made and entities cached, as for gauges that reported before). Latencies are measured per spike from the moment the"
  echo "message is handed to the MQTT client: **mqtt** = a plain subscriber of the same broker received it (the"
  echo "baseline of the same run); **entity** = the webhook got the NGSI-LD notification of the gauge's entity"
  echo "with the new level (stored, then notified: an upper bound of \"entity updated\"); **alert** = the webhook"
  echo "got the notification of the \`Alert\` entity whose \`alertSource\` is the gauge (raised in the measurement's"
  echo "transaction, mirrored as an entity, then notified). The load generator (\`build/bench/mqtt_bench\`) and"
  echo "the broker run on the same cores as the server; CPU per message is the server's (all threads) from the"
  echo "first publish until it had applied the last message."
  echo
  echo "| backend | offered | published | applied by the server | drained after the last publish | server CPU / message | mqtt p50 / p99 | entity p50 / p95 / p99 | alert p50 / p95 / p99 | lost | RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r b rate pub app drain cpu spikes mp50 mp99 ep50 ep95 ep99 elost ap50 ap95 ap99 alost rss; do
    echo "| $b | $rate/s | $pub/s | **$app/s** | $drain ms | $cpu µs | $mp50 / $mp99 ms | $ep50 / $ep95 / **$ep99 ms** | $ap50 / $ap95 / **$ap99 ms** | $elost + $alost of $spikes | $rss MiB |"
  done < "$OUT"
  echo
  echo "Floor (issue 5 §8): publish → entity updated → alert raised p99 ≤ 100 ms at 10,000 messages/s."
  echo
  echo "Where the tail comes from (SQLite, 10,000 msg/s, 2026-11-23; \`mqtt_bench --timeline FILE\` writes each"
  echo "spike's latencies in publish order): without the warm-up the first second averaged 217 ms (every series"
  echo "created, every spike its gauge's first message); with it, the seconds of the telemetry fold, which every"
  echo "5 s re-encodes the open head of every series written since (10,000 here) within about a second and holds"
  echo "both cores meanwhile: p99 270-333 ms, against 115-118 ms with the fold held off. Pacing it (one of the"
  echo "log's 16 shards every 5/16 s) gave 172-217 ms but made the 1-hour aggregation of bench/telemetry.sh 2.6"
  echo "times slower (64 -> 166 ms, median), for a reason not yet found, so it was not kept (see the closing"
  echo "note of 2026-11-23). Since the next stop the fold runs at background priority (nice +10), and a"
  echo "subscription's q or geo filter renders only the attributes it reads instead of the whole entity: over"
  echo "5 alternating pairs of runs of the two binaries, the alert p99 went from 292/334/790/275/464 ms to"
  echo "171/251/136/283/210 ms and the worst second's mean from 155-549 to 83-114 ms. Tried and not kept: the"
  echo "WAL checkpointer at background priority too (3 of 4 runs better, not conclusive, and a starved"
  echo "checkpointer lets the writer checkpoint inline), 2 or 3 MQTT workers (more CPU, worse), larger"
  echo "checkpoint thresholds (no clear change). At 10,000 msg/s the server uses ~90 µs of CPU per message:"
  echo "the writer about half (entity upsert, alerts, history, subscriptions), libmosquitto's network thread a"
  echo "quarter (a read per packet and a PUBACK write per message), the ingester's worker a sixth; with the"
  echo "broker and the generator the two cores are ~90% busy, so any other work shows in the tail (the mqtt"
  echo "column, the broker's own latency in the same run, tells a disturbed run: 3.5-16 ms in undisturbed ones)."
  echo "Later the same day, three more: entity history appends a write's readings once instead of one log row"
  echo "per entity (CPU per message ~102 -> ~88 us; alert p99 386-567 -> 114-128 ms in alternating runs); the"
  echo "fold writes its heads in transactions of at most 2,048 series (one of 10,400 heads held the writer ~70"
  echo "ms); the notification worker is woken by commits instead of polling every 20 ms (at 5,000 msg/s entity"
  echo "p50 21 -> 10 ms). With them, this page's run gave an alert p99 of 93.9 ms at 10,000 msg/s; three more"
  echo "runs of the same binary gave 127, 99 and 93 ms, so the floor is met in most runs, not all."
  echo
  echo "Reproduce: \`scripts/build.sh && bench/mqtt.sh\` (RATES, DURATION, BACKENDS override the defaults)."
} > "$REPO_DIR/docs/benchmarks-mqtt.md"
log "wrote docs/benchmarks-mqtt.md"
