#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything, starts a throwaway
# PostgreSQL server, and runs every test (unit, API on both backends, CLI, browser end-to-end) with
# CTest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
start=$(date +%s)
bash scripts/build.sh
echo "test: build took $(( $(date +%s) - start )) s" >&2

pgdir="$(mktemp -d /tmp/thanglong-pg.XXXXXX)"
mqttdir="$(mktemp -d /tmp/thanglong-mqtt.XXXXXX)"
cleanup() {
  bash scripts/postgres.sh stop "$pgdir"; rm -rf "$pgdir"
  bash scripts/mosquitto.sh stop "$mqttdir"; rm -rf "$mqttdir"
}
trap cleanup EXIT
THANGLONG_TEST_POSTGRES_URL="$(bash scripts/postgres.sh start "$pgdir")"
export THANGLONG_TEST_POSTGRES_URL
echo "test: PostgreSQL for the tests at $THANGLONG_TEST_POSTGRES_URL" >&2
THANGLONG_TEST_MQTT_URL="$(bash scripts/mosquitto.sh start "$mqttdir")"
export THANGLONG_TEST_MQTT_URL
echo "test: MQTT broker for the tests at $THANGLONG_TEST_MQTT_URL" >&2

ctest --preset "${THANGLONG_PRESET:-release}" -j "${THANGLONG_TEST_JOBS:-2}" "$@"
echo "test: everything took $(( $(date +%s) - start )) s" >&2
