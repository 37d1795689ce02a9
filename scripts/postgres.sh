#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL server on loopback, as an unprivileged user.
#   scripts/postgres.sh start DIR   -> prints the URL postgresql://thanglong@127.0.0.1:PORT/thanglong
#   scripts/postgres.sh stop DIR
# Used by scripts/test.sh and the benchmarks; nothing is left outside DIR.
set -euo pipefail
cmd="${1:?start|stop}"
dir="${2:?directory}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bindir/initdb" ] || { echo "postgres.sh: PostgreSQL is not installed (run scripts/setup.sh)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -A trust -U thanglong -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    port="$(free_port)"
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${THANGLONG_PG_FSYNC:-off} -c synchronous_commit=${THANGLONG_PG_SYNC_COMMIT:-off} -c full_page_writes=off" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U thanglong thanglong
    echo "$port" > "$dir/port"
    echo "postgresql://thanglong@127.0.0.1:$port/thanglong"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
