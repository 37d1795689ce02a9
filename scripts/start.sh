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
# The simulated city (docs/city-simulator.md) feeds the operations center in real time once the server
# answers: its sensors' observations go over MQTT like real devices'. THANGLONG_SIMULATE_CITY=0 leaves
# it out. It stops with the server (Ctrl-C reaches both); its log is ./var/simulate-city.log.
if [ "${THANGLONG_SIMULATE_CITY:-1}" != 0 ]; then
  mkdir -p ./var
  (
    for _ in $(seq 1 600); do curl -fs http://127.0.0.1:8080/readyz >/dev/null 2>&1 && break; sleep 1; done
    exec ./build/src/app/thanglong simulate city --data-dir ./var --url http://127.0.0.1:8080 --speed 1 \
      --key-file ./var/simulate-city.key --mqtt "$THANGLONG_MQTT_URL"
  ) >>./var/simulate-city.log 2>&1 &
  echo "start: the city simulator feeds the operations center (log: ./var/simulate-city.log)" >&2
fi
exec ./build/src/app/thanglong serve --data-dir ./var "$@"
