#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and starts ThangLong with demo data on
# the embedded store in ./var (http://127.0.0.1:8080). Extra arguments go to `thanglong serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# A private MQTT broker for the devices (docs/mqtt.md), its sessions kept in ./var/mqtt; it keeps
# running after the server stops (scripts/mosquitto.sh stop ./var/mqtt ends it).
THANGLONG_MQTT_URL="${THANGLONG_MQTT_URL:-$(bash scripts/mosquitto.sh start ./var/mqtt)}"
export THANGLONG_MQTT_URL
echo "start: MQTT broker at $THANGLONG_MQTT_URL (mosquitto_pub -p ${THANGLONG_MQTT_URL##*:} -t devices/<id>/measurements -m '{...}')" >&2
exec ./build/src/app/thanglong serve --data-dir ./var "$@"
