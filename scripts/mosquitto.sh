#!/usr/bin/env bash
# Starts or stops a private Mosquitto MQTT broker on loopback, with its persistence in DIR.
#   scripts/mosquitto.sh start DIR   -> prints the URL mqtt://127.0.0.1:PORT
#   scripts/mosquitto.sh stop DIR
# Used by scripts/test.sh (THANGLONG_TEST_MQTT_URL) and scripts/start.sh (the demo's broker, data in
# ./var/mqtt); nothing is left outside DIR. Starting again on the same DIR reuses its port when free,
# so the demo's devices keep their URL, and its persisted sessions and queued messages.
set -euo pipefail
cmd="${1:?start|stop}"
dir="${2:?directory}"
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] ||
  { echo "mosquitto.sh: mosquitto is not installed (run scripts/setup.sh)" >&2; exit 1; }
bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

port_free() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the broker binds: TIME_WAIT does not count
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
s.close()
PY
}

listening() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(); s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
s.close()
PY
}

running() { [ -f "$dir/mosquitto.pid" ] && kill -0 "$(cat "$dir/mosquitto.pid")" 2>/dev/null; }

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if running && [ -f "$dir/port" ]; then
      echo "mqtt://127.0.0.1:$(cat "$dir/port")"
      exit 0
    fi
    port=""
    if [ -f "$dir/port" ] && port_free "$(cat "$dir/port")"; then port="$(cat "$dir/port")"; fi
    [ -n "$port" ] || port="$(free_port)"
    # As root the broker drops to this user; it must own DIR to write its persistence there.
    user="$(id -un)"
    cat >"$dir/mosquitto.conf" <<EOF
# Written by scripts/mosquitto.sh: a private broker for ThangLong on loopback.
listener $port 127.0.0.1
allow_anonymous true
user $user
persistence true
persistence_location $dir/
autosave_interval 5
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
connection_messages true
# Persistent sessions of stopped ingesters keep up to this many QoS 1 messages each.
max_queued_messages 200000
max_inflight_messages 100


EOF
    echo "$port" >"$dir/port"
    "$bin" -c "$dir/mosquitto.conf" -d 2>>"$dir/stderr.log"
    for _ in $(seq 1 100); do
      if listening "$port"; then
        echo "mqtt://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "mosquitto.sh: the broker did not start; its log:" >&2
    cat "$dir/mosquitto.log" >&2 2>/dev/null || true
    exit 1
    ;;
  stop)
    if running; then
      pid="$(cat "$dir/mosquitto.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    ;;
  *) echo "usage: mosquitto.sh start|stop DIR" >&2; exit 2 ;;
esac
